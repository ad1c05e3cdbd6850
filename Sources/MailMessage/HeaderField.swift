/// One header field (RFC 5322 2.2): a name and its raw body, folding included.
///
/// The body is kept as the bytes that arrived (without the trailing CRLF, with interior
/// line breaks normalised to CRLF), so an untouched field is written back byte for byte.
public struct HeaderField: Equatable, Sendable {
    /// The field name as written (case preserved); compare with `is(_:)`.
    public var name: String
    /// The raw field body after the colon, including folding CRLFs and leading white space.
    public var rawValue: [UInt8]

    public init(name: String, rawValue: [UInt8]) {
        self.name = name
        self.rawValue = rawValue
    }

    /// A field built by us from a value that must not contain CR, LF or NUL (house rule 3).
    /// - Throws: `HeaderError.invalidValue` when `value` holds a line break or NUL.
    public init(name: String, value: String) throws {
        guard HeaderField.isValidName(name) else { throw HeaderError.invalidName(name) }
        let bytes = Array(value.utf8)
        if bytes.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
            throw HeaderError.invalidValue(name: name)
        }
        self.name = name
        self.rawValue = [32] + bytes
    }

    /// Case-insensitive name comparison (RFC 5322 1.2.2).
    public func `is`(_ other: String) -> Bool {
        name.utf8.count == other.utf8.count && asciiLowercased(name) == asciiLowercased(other)
    }

    /// The lowercased name, for lookups.
    public var lowercasedName: String { asciiLowercased(name) }

    /// The body unfolded (RFC 5322 2.2.3: CRLF followed by WSP becomes the WSP), with
    /// leading and trailing white space removed.
    public var unfoldedValue: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rawValue.count)
        var i = 0
        let v = rawValue
        while i < v.count {
            if v[i] == 13, i + 1 < v.count, v[i + 1] == 10 { i += 2; continue }
            if v[i] == 10 { i += 1; continue }
            out.append(v[i])
            i += 1
        }
        return trimWhitespace(out)
    }

    /// The unfolded body as text (invalid UTF-8 repaired), for display and matching.
    public var value: String { String(decoding: unfoldedValue, as: UTF8.self) }

    /// The field as it goes on the wire: `Name:` + body + CRLF.
    public var wireBytes: [UInt8] {
        var out = Array(name.utf8)
        out.append(58)  // ':'
        out.append(contentsOf: rawValue)
        out.append(13); out.append(10)
        return out
    }

    /// RFC 5322 3.6.8: a field name is one or more printable US-ASCII characters except colon.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 >= 33 && $0 <= 126 && $0 != 58 }
    }
}

/// Errors from building header fields ourselves (parsing never throws).
public enum HeaderError: Error, Equatable, Sendable {
    case invalidName(String)
    case invalidValue(name: String)
}

func asciiLowercased(_ s: String) -> String {
    var bytes = Array(s.utf8)
    for i in bytes.indices where bytes[i] >= 65 && bytes[i] <= 90 { bytes[i] += 32 }
    return String(decoding: bytes, as: UTF8.self)
}

func trimWhitespace(_ bytes: [UInt8]) -> [UInt8] {
    var start = 0, end = bytes.count
    while start < end, bytes[start] == 32 || bytes[start] == 9 { start += 1 }
    while end > start, bytes[end - 1] == 32 || bytes[end - 1] == 9 { end -= 1 }
    return Array(bytes[start..<end])
}
