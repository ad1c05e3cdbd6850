// A small header-block reader for the S/MIME transform (RFC 5322 2.2, RFC 2045 5.1). It was
// written before MailMessage's parser landed and is to be swapped for it (MailMessage's
// HeaderBlock / HeaderField); until then it stays internal (no name clash: SMIME does not import
// MailMessage's HeaderField into these files); it works on bytes and keeps each field's raw form so a
// copied field is byte-identical except for line endings (made CRLF).

/// One header field: its name, raw lines (CRLF-terminated, folding kept) and unfolded value.
struct HeaderField {
    /// The field name as written.
    let name: String
    /// The raw field, every line ending in CRLF.
    let raw: [UInt8]

    init(raw: [UInt8]) {
        self.raw = raw
        let colon = raw.firstIndex(of: UInt8(ascii: ":")) ?? raw.count
        name = String(decoding: raw[..<colon], as: UTF8.self).trimmingSpaces()
    }

    /// A field built from a name and an unfolded value (the caller guarantees no CR/LF/NUL).
    init(name: String, value: String) {
        self.init(raw: Array("\(name): \(value)\r\n".utf8))
    }

    /// The lower-cased name.
    var lowercasedName: String { name.lowercased() }

    /// The value with folding removed and surrounding white space trimmed.
    var value: String {
        let colon = raw.firstIndex(of: UInt8(ascii: ":")).map { $0 + 1 } ?? raw.count
        let unfolded = raw[colon...].filter { $0 != 0x0D && $0 != 0x0A }
        return String(decoding: unfolded, as: UTF8.self).trimmingSpaces()
    }

    /// Whether the field belongs in the MIME entity (RFC 8551 3.1): Content-*.
    var isContentField: Bool { lowercasedName.hasPrefix("content-") }
}

/// Splits a header block (bytes up to, not including, the empty line) into fields.
/// Bare LF line ends become CRLF. A leading line that is not a field (no colon) is kept as a
/// field of its own so nothing is lost.
func parseHeaderFields(_ block: ArraySlice<UInt8>) -> [HeaderField] {
    var fields: [HeaderField] = []
    var current: [UInt8] = []
    var index = block.startIndex
    while index < block.endIndex {
        let lineEnd = block[index...].firstIndex(of: 0x0A) ?? block.endIndex
        var line = Array(block[index..<lineEnd])
        if line.last == 0x0D { line.removeLast() }
        index = lineEnd < block.endIndex ? lineEnd + 1 : lineEnd
        let isContinuation = line.first == 0x20 || line.first == 0x09
        if !isContinuation && !current.isEmpty {
            fields.append(HeaderField(raw: current))
            current = []
        }
        current += line + [0x0D, 0x0A]
    }
    if !current.isEmpty { fields.append(HeaderField(raw: current)) }
    return fields
}

/// A parsed Content-Type value (RFC 2045 5.1): media type and parameters (names lower-cased).
struct ContentType {
    var type: String
    var subtype: String
    var parameters: [(name: String, value: String)]

    /// text/plain; charset=us-ascii (RFC 2045 5.2 default).
    static let defaultText = ContentType(type: "text", subtype: "plain", parameters: [("charset", "us-ascii")])

    var mediaType: String { "\(type)/\(subtype)" }

    func parameter(_ name: String) -> String? {
        parameters.first { $0.name == name }?.value
    }

    /// Parses a field value; nil when there is no type/subtype.
    init?(_ value: String) {
        var scanner = ParamScanner(Array(value.utf8))
        guard let type = scanner.token(), scanner.skip(UInt8(ascii: "/")), let subtype = scanner.token() else { return nil }
        self.type = type.lowercased()
        self.subtype = subtype.lowercased()
        parameters = []
        while scanner.skip(UInt8(ascii: ";")) {
            guard let name = scanner.token(), scanner.skip(UInt8(ascii: "=")) else { continue }
            let value = scanner.quotedString() ?? scanner.token() ?? ""
            parameters.append((name.lowercased(), value))
        }
    }

    init(type: String, subtype: String, parameters: [(name: String, value: String)]) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }
}

/// RFC 2045 token / quoted-string scanner over bytes, skipping white space and comments.
private struct ParamScanner {
    let bytes: [UInt8]
    var at = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private static let specials = Set("()<>@,;:\\\"/[]?=".utf8)

    mutating func skipSpace() {
        while at < bytes.count {
            if bytes[at] == 0x20 || bytes[at] == 0x09 { at += 1; continue }
            if bytes[at] == UInt8(ascii: "(") {
                var depth = 0
                while at < bytes.count {
                    if bytes[at] == UInt8(ascii: "(") { depth += 1 }
                    if bytes[at] == UInt8(ascii: ")") { depth -= 1; if depth == 0 { at += 1; break } }
                    if bytes[at] == UInt8(ascii: "\\") { at += 1 }
                    at += 1
                }
                continue
            }
            break
        }
    }

    mutating func skip(_ byte: UInt8) -> Bool {
        skipSpace()
        guard at < bytes.count, bytes[at] == byte else {
            // Resynchronise on the next ';' so one bad parameter does not hide the others.
            if byte == UInt8(ascii: ";") {
                while at < bytes.count && bytes[at] != byte { at += 1 }
                if at < bytes.count { at += 1; return true }
            }
            return false
        }
        at += 1
        return true
    }

    mutating func token() -> String? {
        skipSpace()
        let start = at
        while at < bytes.count, bytes[at] > 0x20, bytes[at] < 0x7F, !Self.specials.contains(bytes[at]) { at += 1 }
        return at > start ? String(decoding: bytes[start..<at], as: UTF8.self) : nil
    }

    mutating func quotedString() -> String? {
        skipSpace()
        guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { return nil }
        at += 1
        var out: [UInt8] = []
        while at < bytes.count && bytes[at] != UInt8(ascii: "\"") {
            if bytes[at] == UInt8(ascii: "\\") && at + 1 < bytes.count { at += 1 }
            out.append(bytes[at])
            at += 1
        }
        at += 1
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }
}
