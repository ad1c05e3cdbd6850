#if canImport(Glibc)
import Glibc
#endif

// Streaming transfer encoders (RFC 2045 6.7, 6.8) that write CRLF lines into a BIOWriter.

private let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
private let crlf: [UInt8] = [0x0D, 0x0A]

/// Copies bytes, turning bare LF into CRLF.
struct CRLFCopier {
    private var lastWasCR = false

    mutating func feed(_ chunk: UnsafeRawBufferPointer, to out: BIOWriter) throws {
        let base = chunk.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var from = 0
        while from < chunk.count, let nl = memchr(base + from, 0x0A, chunk.count - from) {
            let at = UnsafeRawPointer(nl) - UnsafeRawPointer(base)
            let precededByCR = at > 0 ? base[at - 1] == 0x0D : lastWasCR
            if !precededByCR {
                try out.write(UnsafeRawBufferPointer(rebasing: chunk[from..<at]))
                try out.write(crlf)
                from = at + 1
            } else {
                try out.write(UnsafeRawBufferPointer(rebasing: chunk[from...at]))
                from = at + 1
            }
        }
        if from < chunk.count { try out.write(UnsafeRawBufferPointer(rebasing: chunk[from...])) }
        if chunk.count > 0 { lastWasCR = base[chunk.count - 1] == 0x0D }
    }
}

/// Quoted-printable encoder for text (RFC 2045 6.7): CRLF or LF in the input are hard line
/// breaks; soft breaks keep lines at 76 characters; trailing white space, `=`, controls and
/// 8-bit bytes are encoded, and so are an `F` or `.` starting an output line (so no line begins
/// with `From ` or is a lone `.`: RFC 8551 3.1.4).
struct QuotedPrintableEncoder {
    private var line: [UInt8] = []
    private var pendingCR = false
    private var out: [UInt8] = []

    init() { line.reserveCapacity(80); out.reserveCapacity(1 << 16) }

    mutating func feed(_ chunk: UnsafeRawBufferPointer, to writer: BIOWriter) throws {
        for byte in chunk {
            if pendingCR {
                pendingCR = false
                if byte == 0x0A { hardBreak(); continue }
                literalOrEncoded(0x0D)
            }
            if byte == 0x0D { pendingCR = true; continue }
            if byte == 0x0A { hardBreak(); continue }
            literalOrEncoded(byte)
            if out.count >= 1 << 16 { try writer.write(out); out.removeAll(keepingCapacity: true) }
        }
        if out.count >= 1 << 15 { try writer.write(out); out.removeAll(keepingCapacity: true) }
    }

    /// Ends the input; the last line gets no line break unless the input ended with one.
    mutating func finish(to writer: BIOWriter) throws {
        if pendingCR { pendingCR = false; literalOrEncoded(0x0D) }
        flushLine(final: true)
        try writer.write(out)
        out.removeAll()
    }

    private mutating func literalOrEncoded(_ byte: UInt8) {
        let atStart = line.isEmpty
        let plain = (byte >= 33 && byte <= 126 && byte != 61) || byte == 0x20 || byte == 0x09
        let encode = !plain || (atStart && (byte == UInt8(ascii: "F") || byte == UInt8(ascii: ".")))
        let width = encode ? 3 : 1
        if line.count + width > 75 { softBreak() }
        if encode {
            line += [61, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 15)]]
        } else {
            line.append(byte)
        }
    }

    private mutating func softBreak() {
        out += line
        out += [61, 0x0D, 0x0A]
        line.removeAll(keepingCapacity: true)
    }

    private mutating func hardBreak() {
        flushLine(final: false)
        out += crlf
    }

    /// Moves the current line to `out`, encoding a trailing space or tab.
    private mutating func flushLine(final: Bool) {
        if let last = line.last, last == 0x20 || last == 0x09 {
            line.removeLast()
            if line.count + 3 > 75 { softBreak() }
            line += [61, hexDigits[Int(last >> 4)], hexDigits[Int(last & 15)]]
        }
        out += line
        line.removeAll(keepingCapacity: true)
    }
}

/// Re-protects a part that is already quoted-printable: encodes 8-bit bytes, an `F`/`.` at the
/// start of a line and trailing white space (equivalent QP, same decoded content).
struct QuotedPrintableFixup {
    private var line: [UInt8] = []
    private var pendingCR = false

    mutating func feed(_ chunk: UnsafeRawBufferPointer, to writer: BIOWriter) throws {
        var out: [UInt8] = []
        out.reserveCapacity(chunk.count + 64)
        for byte in chunk {
            if pendingCR {
                pendingCR = false
                if byte == 0x0A { endLine(into: &out); continue }
                append(0x0D)
            }
            if byte == 0x0D { pendingCR = true; continue }
            if byte == 0x0A { endLine(into: &out); continue }
            append(byte)
        }
        try writer.write(out)
    }

    mutating func finish(to writer: BIOWriter) throws {
        if pendingCR { pendingCR = false; append(0x0D) }
        var out: [UInt8] = []
        protectTrailingSpace()
        out += line
        line.removeAll()
        try writer.write(out)
    }

    private mutating func append(_ byte: UInt8) {
        let atStart = line.isEmpty
        if byte >= 0x80 || byte == 0x0D || (atStart && (byte == UInt8(ascii: "F") || byte == UInt8(ascii: "."))) {
            line += [61, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 15)]]
        } else {
            line.append(byte)
        }
    }

    private mutating func protectTrailingSpace() {
        if let last = line.last, last == 0x20 || last == 0x09 {
            line.removeLast()
            line += [61, hexDigits[Int(last >> 4)], hexDigits[Int(last & 15)]]
        }
    }

    private mutating func endLine(into out: inout [UInt8]) {
        protectTrailingSpace()
        out += line
        out += crlf
        line.removeAll(keepingCapacity: true)
    }
}

/// Base64 encoder (RFC 2045 6.8): 76-character lines, each ended by CRLF.
struct Base64LineEncoder {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private var carry: [UInt8] = []

    mutating func feed(_ chunk: UnsafeRawBufferPointer, to writer: BIOWriter) throws {
        var out: [UInt8] = []
        out.reserveCapacity((chunk.count + carry.count) / 57 * 78 + 78)
        var index = 0
        if !carry.isEmpty {
            let take = min(57 - carry.count, chunk.count)
            carry += chunk[0..<take]
            index = take
            guard carry.count == 57 else { return }
            carry.withUnsafeBytes { Self.encodeLine($0, into: &out) }
            carry.removeAll(keepingCapacity: true)
        }
        while chunk.count - index >= 57 {
            Self.encodeLine(UnsafeRawBufferPointer(rebasing: chunk[index..<(index + 57)]), into: &out)
            index += 57
        }
        carry += chunk[index...]
        try writer.write(out)
    }

    mutating func finish(to writer: BIOWriter) throws {
        guard !carry.isEmpty else { return }
        var out: [UInt8] = []
        carry.withUnsafeBytes { Self.encodeLine($0, into: &out) }
        carry.removeAll()
        try writer.write(out)
    }

    /// Encodes a whole buffer into CRLF lines.
    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        bytes.withUnsafeBytes { raw in
            var index = 0
            while index < raw.count {
                let end = min(index + 57, raw.count)
                encodeLine(UnsafeRawBufferPointer(rebasing: raw[index..<end]), into: &out)
                index = end
            }
        }
        return out
    }

    private static func encodeLine(_ input: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        var i = 0
        while i + 3 <= input.count {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = input.count - i
        if rest == 1 {
            let n = UInt32(input[i]) << 16
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], 61, 61]
        } else if rest == 2 {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], 61]
        }
        out += crlf
    }
}
