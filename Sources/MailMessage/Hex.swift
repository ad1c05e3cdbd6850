/// Hexadecimal text of bytes (fingerprints, MIME boundaries, SASL digests, protocol bytes in
/// error messages): the one place for it, without Foundation's String(format:), which pulls
/// the whole of Foundation and ICU into the binary.
public enum Hex {
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
}
