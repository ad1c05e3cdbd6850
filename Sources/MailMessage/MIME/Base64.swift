/// Base64 (RFC 4648 4): the one codec of the package, for SASL (RFC 4954 4), MIME bodies
/// (RFC 2045 6.8, with `Base64LineEncoder`), encoded words (RFC 2047 4.1) and HTTP proxy
/// credentials.
public enum Base64 {
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let reverse: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int8(i) }
        return table
    }()

    /// Encodes bytes as base64 text with padding, no line breaks.
    public static func encode<C: Collection>(_ data: C) -> String where C.Element == UInt8 {
        String(decoding: encodeBytes(data), as: UTF8.self)
    }

    /// Encodes bytes as base64 (ASCII bytes) with padding, no line breaks.
    public static func encodeBytes<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity((data.count + 2) / 3 * 4)
        Array(data).withUnsafeBytes { append($0, to: &out) }
        return out
    }

    /// Appends the base64 of `input` (padding at the end) to `out`.
    static func append(_ input: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        var i = 0
        while i + 3 <= input.count {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out.append(alphabet[Int(n >> 18)]); out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)]); out.append(alphabet[Int(n & 63)])
            i += 3
        }
        switch input.count - i {
        case 1:
            let n = UInt32(input[i]) << 16
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], 61, 61]
        case 2:
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], 61]
        default:
            break
        }
    }

    /// Decodes strict base64 (padding optional, no white space); nil when malformed.
    public static func decode(_ text: String) -> [UInt8]? { decode(bytes: Array(text.utf8), skippingWhiteSpace: false) }

    /// Decodes base64 bytes; with `skippingWhiteSpace`, CR, LF, space and tab are ignored (a
    /// MIME body's lines). Nil when malformed.
    public static func decode(bytes: [UInt8], skippingWhiteSpace: Bool) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 4 * 3)
        var acc: UInt32 = 0
        var bits = 0
        var padding = 0
        for c in bytes {
            if skippingWhiteSpace, c == 13 || c == 10 || c == 32 || c == 9 { continue }
            if c == 61 { padding += 1; continue }
            if padding > 0 { return nil }
            let v = reverse[Int(c)]
            if v < 0 { return nil }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(acc >> UInt32(bits) & 0xFF))
            }
        }
        if padding > 2 || bits >= 6 { return nil }
        return out
    }
}

/// Streaming base64 for MIME bodies (RFC 2045 6.8): lines of 76 characters, each ended by
/// CRLF, the last one included. Feed any number of chunks, then `finish`; memory stays at
/// one line whatever the size of the input.
public struct Base64LineEncoder: BodyEncoder {
    /// Input bytes per output line (76 characters).
    static let lineInput = 57
    private var carry: [UInt8] = []

    public init() { carry.reserveCapacity(Self.lineInput) }

    /// Encodes `chunk`, appending whole lines to `out`; a remainder waits for the next chunk.
    public mutating func encode(_ chunk: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        out.reserveCapacity(out.count + (chunk.count + carry.count) / Self.lineInput * 78 + 78)
        var index = 0
        if !carry.isEmpty {
            let take = min(Self.lineInput - carry.count, chunk.count)
            carry += chunk[0..<take]
            index = take
            guard carry.count == Self.lineInput else { return }
            carry.withUnsafeBytes { Self.line($0, into: &out) }
            carry.removeAll(keepingCapacity: true)
        }
        while chunk.count - index >= Self.lineInput {
            Self.line(UnsafeRawBufferPointer(rebasing: chunk[index..<(index + Self.lineInput)]), into: &out)
            index += Self.lineInput
        }
        carry += chunk[index...]
    }

    /// Ends the input: the last, shorter line (if any) with its padding and CRLF.
    public mutating func finish(into out: inout [UInt8]) {
        guard !carry.isEmpty else { return }
        carry.withUnsafeBytes { Self.line($0, into: &out) }
        carry.removeAll()
    }

    /// A whole buffer as CRLF-ended lines.
    public static func encode<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var e = Base64LineEncoder()
        var out: [UInt8] = []
        e.encode(Array(bytes), into: &out)
        e.finish(into: &out)
        return out
    }

    private static func line(_ input: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        Base64.append(input, to: &out)
        out.append(13); out.append(10)
    }
}
