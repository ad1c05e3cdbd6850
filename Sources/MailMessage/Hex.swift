/// Hexadecimal text of bytes (fingerprints, MIME boundaries, SASL digests, protocol bytes in
/// error messages): the one place for it, without Foundation's String(format:), which pulls
/// the whole of Foundation and ICU into the binary.
public enum Hex {
    @inlinable
    public static func string<C: Collection>(_ bytes: C, uppercase: Bool = false, separator: String = "") -> String
    where C.Element == UInt8 {
        let digits = Array((uppercase ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * (2 + separator.utf8.count))
        for (i, b) in bytes.enumerated() {
            if i > 0 { out += separator.utf8 }
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Uppercase hex digits, for `=XX` (quoted-printable, RFC 2045 6.7; Q words, RFC 2047 4.2)
    /// and `%XX` (RFC 2231 4).
    public static let upperDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// The bytes of a fingerprint written in hex, with or without ':' between bytes
    /// (`AB:CD:...`, as openssl prints it, or `abcd...`); nil unless it is exactly `count`
    /// bytes of ASCII hex digits. Read as bytes: a fullwidth digit or a combining mark is no
    /// hex digit.
    public static func fingerprint(_ text: String, count: Int = 32) -> [UInt8]? {
        let digits = text.utf8.filter { $0 != UInt8(ascii: ":") }
        guard digits.count == 2 * count else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var i = 0
        while i < digits.count {
            guard let high = value(digits[i]), let low = value(digits[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    /// The value of a hex digit (either case); nil for any other byte.
    public static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 48...57: return digit - 48
        case 65...70: return digit - 55
        case 97...102: return digit - 87
        default: return nil
        }
    }
}
