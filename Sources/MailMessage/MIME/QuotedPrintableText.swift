/// Streaming quoted-printable (RFC 2045 6.7) for MIME bodies: lines of at most 76
/// characters (soft breaks `=` CRLF), `=`, controls and 8-bit octets as `=XX`, a space or tab
/// before a line end encoded. Feed any number of chunks, then `finish`.
///
/// Text mode (the default): CRLF, or a bare LF, in the input is a line break of the text and
/// comes out as CRLF; a bare CR is encoded. Binary mode: CR and LF are data, encoded as
/// `=0D` `=0A`, so the decoded bytes are exactly the input (RFC 2045 6.7 rule 4).
///
/// With `protectingLineStarts`, an `F` or a `.` that would begin an output line is encoded
/// too, so no line of the result starts with `From ` or is a lone `.` (RFC 8551 3.1.4,
/// RFC 3676 4.4): the text survives mbox storage and gateways unchanged, which a signature
/// over it needs.
///
/// `reprotecting()` takes a body that is quoted-printable already and makes it safe in the
/// same way without decoding it (RFC 8551 3.1.4, before signing): an 8-bit octet, a bare CR,
/// an `F` or `.` beginning a line and a space or tab ending one become `=XX`; the rest, its
/// `=XX` and soft breaks included, is kept, and lines are not broken again.
public struct QuotedPrintableEncoder: BodyEncoder {
    private var line: [UInt8] = []
    private var pendingCR = false
    private let binary: Bool
    private let protectingLineStarts: Bool
    /// The input is quoted-printable already (`reprotecting()`).
    private var inputIsEncoded = false

    public init(binary: Bool = false, protectingLineStarts: Bool = true) {
        self.binary = binary
        self.protectingLineStarts = protectingLineStarts
        line.reserveCapacity(80)
    }

    /// An encoder for a body that is quoted-printable already (see above).
    public static func reprotecting() -> QuotedPrintableEncoder {
        var e = QuotedPrintableEncoder(binary: false, protectingLineStarts: true)
        e.inputIsEncoded = true
        return e
    }

    /// Encodes `chunk`, appending finished lines to `out`.
    public mutating func encode(_ chunk: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        for byte in chunk {
            if binary { put(byte, into: &out); continue }
            if pendingCR {
                pendingCR = false
                if byte == 10 { hardBreak(into: &out); continue }
                put(13, into: &out)
            }
            if byte == 13 { pendingCR = true; continue }
            if byte == 10 { hardBreak(into: &out); continue }
            put(byte, into: &out)
        }
    }

    /// Ends the input. The last line gets no line break unless the input ended with one.
    public mutating func finish(into out: inout [UInt8]) {
        if pendingCR { pendingCR = false; put(13, into: &out) }
        flushLine(into: &out)
    }

    /// A whole buffer, text mode.
    public static func encode<C: Collection>(_ bytes: C, protectingLineStarts: Bool = true) -> [UInt8] where C.Element == UInt8 {
        var e = QuotedPrintableEncoder(protectingLineStarts: protectingLineStarts)
        var out: [UInt8] = []
        e.encode(Array(bytes), into: &out)
        e.finish(into: &out)
        return out
    }

    private mutating func put(_ byte: UInt8, into out: inout [UInt8]) {
        let lineStart = protectingLineStarts && line.isEmpty && (byte == 70 || byte == 46)
        if inputIsEncoded {
            if byte >= 0x80 || byte == 13 || lineStart { appendEncoded(byte) } else { line.append(byte) }
            return
        }
        let plain = (byte >= 33 && byte <= 126 && byte != 61) || byte == 32 || byte == 9
        let encode = !plain || lineStart
        if line.count + (encode ? 3 : 1) > 75 { softBreak(into: &out) }
        if encode { appendEncoded(byte) } else { line.append(byte) }
    }

    private mutating func appendEncoded(_ byte: UInt8) {
        line += [61, Hex.upperDigits[Int(byte >> 4)], Hex.upperDigits[Int(byte & 15)]]
    }

    private mutating func softBreak(into out: inout [UInt8]) {
        out += line
        out += [61, 13, 10]
        line.removeAll(keepingCapacity: true)
    }

    private mutating func hardBreak(into out: inout [UInt8]) {
        flushLine(into: &out)
        out.append(13); out.append(10)
    }

    /// Moves the current line to `out`, a trailing space or tab encoded.
    private mutating func flushLine(into out: inout [UInt8]) {
        if let last = line.last, last == 32 || last == 9 {
            line.removeLast()
            if !inputIsEncoded, line.count + 3 > 75 { softBreak(into: &out) }
            appendEncoded(last)
        }
        out += line
        line.removeAll(keepingCapacity: true)
    }
}

/// Quoted-printable decoding (RFC 2045 6.7), lenient as RFC 2045 6.7 (note 1) suggests: a
/// malformed `=` sequence is kept as it is; trailing white space on a line is dropped; line
/// breaks come out as CRLF.
public enum QuotedPrintableDecoder {
    public static func decode<C: Collection>(_ text: C) -> [UInt8] where C.Element == UInt8 {
        let b = Array(text)
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var lineStart = 0
        while lineStart <= b.count {
            var end = lineStart
            while end < b.count, b[end] != 10 { end += 1 }
            var contentEnd = end
            if contentEnd > lineStart, b[contentEnd - 1] == 13 { contentEnd -= 1 }
            while contentEnd > lineStart, b[contentEnd - 1] == 32 || b[contentEnd - 1] == 9 { contentEnd -= 1 }
            var soft = false
            var i = lineStart
            while i < contentEnd {
                let c = b[i]
                if c == 61 {
                    if i + 1 == contentEnd { soft = true; break }
                    if i + 2 < contentEnd, let hi = Hex.value(b[i + 1]), let lo = Hex.value(b[i + 2]) {
                        out.append(hi << 4 | lo)
                        i += 3
                        continue
                    }
                }
                out.append(c)
                i += 1
            }
            if end >= b.count { break }
            if !soft { out.append(13); out.append(10) }
            lineStart = end + 1
        }
        return out
    }
}
