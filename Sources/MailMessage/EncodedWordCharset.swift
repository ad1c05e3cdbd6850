// The charsets RFC 2047 encoded words are decoded from: the ones mail actually uses.

/// A charset (RFC 2047 2, IANA names and common aliases) that encoded words can be decoded from.
enum EncodedWordCharset: Equatable {
    case utf8, usASCII, latin1, latin9, windows1252

    /// Recognises a charset name, case-insensitively, ignoring an RFC 2231 5 `*language` suffix.
    init?(name: [UInt8]) {
        var lower: [UInt8] = []
        for b in name {
            if b == UInt8(ascii: "*") { break }
            lower.append(b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b)
        }
        switch String(decoding: lower, as: UTF8.self) {
        case "utf-8", "utf8": self = .utf8
        case "us-ascii", "ascii", "ansi_x3.4-1968": self = .usASCII
        case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819": self = .latin1
        case "iso-8859-15", "iso8859-15", "iso_8859-15", "latin-9", "latin9": self = .latin9
        case "windows-1252", "cp1252", "x-cp1252": self = .windows1252
        default: return nil
        }
    }

    /// The text as UTF-8; bytes that have no character become U+FFFD.
    func utf8(_ bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .utf8:
            return Array(String(decoding: bytes, as: UTF8.self).utf8)
        case .usASCII:
            return singleByte(bytes) { $0 < 0x80 ? UInt32($0) : 0xFFFD }
        case .latin1:
            return singleByte(bytes) { UInt32($0) }
        case .latin9:
            return singleByte(bytes) { Self.latin9Differences[$0] ?? UInt32($0) }
        case .windows1252:
            return singleByte(bytes) { b in
                guard (0x80...0x9F).contains(b) else { return UInt32(b) }
                return Self.windows1252High[Int(b - 0x80)]
            }
        }
    }

    private func singleByte(_ bytes: [UInt8], _ map: (UInt8) -> UInt32) -> [UInt8] {
        var scalars = String.UnicodeScalarView()
        for b in bytes {
            scalars.append(Unicode.Scalar(map(b)) ?? "\u{FFFD}")
        }
        return Array(String(scalars).utf8)
    }

    /// ISO-8859-15 differs from ISO-8859-1 in eight positions.
    private static let latin9Differences: [UInt8: UInt32] = [
        0xA4: 0x20AC, 0xA6: 0x0160, 0xA8: 0x0161, 0xB4: 0x017D,
        0xB8: 0x017E, 0xBC: 0x0152, 0xBD: 0x0153, 0xBE: 0x0178,
    ]

    /// Windows-1252 0x80...0x9F (unassigned positions give U+FFFD).
    private static let windows1252High: [UInt32] = [
        0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
        0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
    ]
}
