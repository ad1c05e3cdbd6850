/// A MIME field value of the form `value *(";" attribute "=" value)`: Content-Type
/// (RFC 2045 5.1) and Content-Disposition (RFC 2183 2). The one parser and renderer of
/// parameters in the package, with RFC 2231 (continuations `name*0`, `name*1`, and
/// charset-tagged values `name*=utf-8''%E2%82%AC`) in both directions.
///
/// Parsing is lenient (comments and white space skipped, a malformed parameter skipped, the
/// next one still read); names are lower-cased; values are decoded to text (RFC 2231
/// values from their charset; unknown charsets keep their bytes, invalid UTF-8 repaired).
public struct MIMEParameterizedValue: Equatable, Sendable {
    /// The value before the first `;`, lower-cased (`text/plain`, `attachment`).
    public var value: String
    /// Parameters in order, names lower-cased, values decoded.
    public var parameters: [MIMEParameter]

    public init(value: String, parameters: [MIMEParameter] = []) {
        self.value = value
        self.parameters = parameters
    }

    /// The decoded value of the first parameter with this (lower-case) name.
    public func parameter(_ name: String) -> String? {
        parameters.first { $0.name == name }?.value
    }

    /// Sets (or adds) a parameter.
    public mutating func setParameter(_ name: String, _ value: String) {
        if let i = parameters.firstIndex(where: { $0.name == name }) {
            parameters[i].value = value
        } else {
            parameters.append(MIMEParameter(name, value))
        }
    }

    // MARK: parsing

    /// Parses a field body (unfolded or not); the leading value must be a token or
    /// `token/token`, else nil.
    public init?<C: Collection>(parsing body: C, slashed: Bool) where C.Element == UInt8 {
        var s = MIMEScanner(Array(body).filter { $0 != 13 && $0 != 10 })
        guard var v = s.token() else { return nil }
        if slashed {
            guard s.skip(UInt8(ascii: "/")), let sub = s.token() else { return nil }
            v += "/" + sub
        }
        value = asciiLowercased(v)
        var raw: [(name: String, value: [UInt8], quoted: Bool)] = []
        while s.skipToParameter() {
            guard let name = s.token(), s.skip(UInt8(ascii: "=")) else { continue }
            if let q = s.quotedString() {
                raw.append((asciiLowercased(name), q, true))
            } else if let t = s.token() {
                raw.append((asciiLowercased(name), Array(t.utf8), false))
            }
        }
        parameters = Self.joinRFC2231(raw)
    }

    /// Joins `name*0`, `name*1*`... into one parameter and decodes `name*` values
    /// (RFC 2231 3, 4); plain parameters pass through.
    static func joinRFC2231(_ raw: [(name: String, value: [UInt8], quoted: Bool)]) -> [MIMEParameter] {
        var out: [MIMEParameter] = []
        var sections: [String: [(index: Int, value: [UInt8], encoded: Bool)]] = [:]
        var order: [String] = []
        for p in raw {
            let nameBytes = Array(p.name.utf8)
            guard let star = nameBytes.firstIndex(of: 42) else {
                out.append(MIMEParameter(p.name, String(decoding: p.value, as: UTF8.self)))
                continue
            }
            let base = String(decoding: nameBytes[..<star], as: UTF8.self)
            let rest = nameBytes[(star + 1)...]
            var index = 0
            var encoded = false
            if rest.isEmpty {
                encoded = true                      // name*=charset'lang'value
            } else {
                let digits = rest.prefix { $0 >= 48 && $0 <= 57 }
                guard !digits.isEmpty, let n = Int(String(decoding: digits, as: UTF8.self)) else { continue }
                index = n
                let after = rest.dropFirst(digits.count)
                if after.elementsEqual([42]) { encoded = true } else if !after.isEmpty { continue }
            }
            if sections[base] == nil { order.append(base) }
            sections[base, default: []].append((index, p.value, encoded && !p.quoted))
        }
        for base in order {
            let parts = sections[base]!.sorted { $0.index < $1.index }
            var charset: EncodedWordCharset? = .utf8
            var bytes: [UInt8] = []
            for (k, part) in parts.enumerated() {
                var v = part.value[...]
                if part.encoded {
                    if k == 0 {
                        // charset'language'value (RFC 2231 4): only in the first section.
                        let q1 = v.firstIndex(of: 39)
                        let q2 = q1.flatMap { v[($0 + 1)...].firstIndex(of: 39) }
                        if let q1, let q2 {
                            charset = EncodedWordCharset(name: Array(v[v.startIndex..<q1]))
                            v = v[(q2 + 1)...]
                        }
                    }
                    bytes += percentDecoded(v)
                } else {
                    bytes += v
                }
            }
            let text = charset.map { String(decoding: $0.utf8(bytes), as: UTF8.self) } ?? String(decoding: bytes, as: UTF8.self)
            // RFC 2231 values replace plain ones of the same name (RFC 2231 4.1's advice).
            out.removeAll { $0.name == base }
            out.append(MIMEParameter(base, text))
        }
        return out
    }

    static func percentDecoded(_ v: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        var i = v.startIndex
        while i < v.endIndex {
            if v[i] == 37, i + 2 < v.endIndex, let hi = Hex.value(v[i + 1]),
               let lo = Hex.value(v[i + 2]) {
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(v[i])
                i += 1
            }
        }
        return out
    }

    // MARK: rendering

    /// The field body as it is written (unfolded): `value; name=token; name="quoted"`; a
    /// value that is not ASCII (or has control characters) is written per RFC 2231
    /// (`name*=utf-8''...`, split into `name*0*`, `name*1*`... when long), so that the field
    /// can be folded at the spaces after each `;`.
    public var rendered: String {
        var out = value
        for p in parameters {
            out += "; " + Self.render(p)
        }
        return out
    }

    static func render(_ p: MIMEParameter) -> String {
        let bytes = Array(p.value.utf8)
        let printable = bytes.allSatisfy { $0 >= 32 && $0 < 127 }
        if printable && bytes.count <= 900 {
            if !bytes.isEmpty, bytes.allSatisfy(MIMEScanner.isTokenByte) { return "\(p.name)=\(p.value)" }
            var q = "\""
            for b in bytes {
                if b == 34 || b == 92 { q += "\\" }
                q += String(UnicodeScalar(b))
            }
            return "\(p.name)=\(q)\""
        }
        // RFC 2231: percent-encoded UTF-8, in sections of at most 60 characters.
        var sections: [String] = []
        var current = "utf-8''"
        for b in bytes {
            let piece: String
            if MIMEScanner.isAttributeChar(b) { piece = String(UnicodeScalar(b)) } else {
                piece = "%" + Hex.string([b], uppercase: true)
            }
            if current.utf8.count + piece.utf8.count > 60 { sections.append(current); current = "" }
            current += piece
        }
        sections.append(current)
        if sections.count == 1 { return "\(p.name)*=\(sections[0])" }
        return sections.enumerated().map { "\(p.name)*\($0.offset)*=\($0.element)" }.joined(separator: "; ")
    }
}

/// One parameter of a MIME field (RFC 2045 5.1).
public struct MIMEParameter: Equatable, Sendable {
    /// Lower-case name (`charset`, `boundary`, `filename`).
    public var name: String
    /// The decoded value.
    public var value: String
    public init(_ name: String, _ value: String) { self.name = asciiLowercased(name); self.value = value }
}

/// The media type of an entity (RFC 2045 5, RFC 2046): `type/subtype` and parameters.
public struct ContentType: Equatable, Sendable {
    public var field: MIMEParameterizedValue

    /// `text/plain; charset=us-ascii`, the default of a MIME entity without Content-Type
    /// (RFC 2045 5.2).
    public static let defaultText = ContentType("text/plain", ["charset": "us-ascii"])

    /// A media type (lower-cased) with parameters in the order given (sorted by name for a
    /// dictionary).
    public init(_ mediaType: String, _ parameters: KeyValuePairs<String, String> = [:]) {
        field = MIMEParameterizedValue(value: asciiLowercased(mediaType),
                                       parameters: parameters.map { MIMEParameter($0.key, $0.value) })
    }

    /// Parses a Content-Type field body; nil without `type/subtype`.
    public init?<C: Collection>(parsing body: C) where C.Element == UInt8 {
        guard let f = MIMEParameterizedValue(parsing: body, slashed: true) else { return nil }
        field = f
    }

    /// The content type of a header block: its Content-Type field, or the default
    /// (`defaultText`; RFC 2046 5.1.5: `message/rfc822` inside multipart/digest) when it is
    /// absent or unreadable.
    public init(of header: HeaderBlock, default fallback: ContentType = .defaultText) {
        self = header.first("Content-Type").flatMap { ContentType(parsing: $0.rawValue) } ?? fallback
    }

    /// `type/subtype`, lower-case.
    public var mediaType: String { field.value }
    public var type: String { String(mediaType.prefix { $0 != "/" }) }
    public var subtype: String { String(mediaType.drop { $0 != "/" }.dropFirst()) }
    public func parameter(_ name: String) -> String? { field.parameter(name) }
    public var boundary: String? { parameter("boundary").flatMap { $0.isEmpty ? nil : $0 } }
    public var charset: String? { parameter("charset") }
    public var isMultipart: Bool { type == "multipart" }
    public var isText: Bool { type == "text" }
    /// message/rfc822 or message/global (RFC 6532 3.7): an encapsulated message.
    public var isMessage: Bool { mediaType == "message/rfc822" || mediaType == "message/global" }
    /// The field body to write.
    public var rendered: String { field.rendered }
}

/// Content-Disposition (RFC 2183): `inline` or `attachment`, with `filename` and the rest.
public struct ContentDisposition: Equatable, Sendable {
    public var field: MIMEParameterizedValue

    public init(_ disposition: String, filename: String? = nil) {
        field = MIMEParameterizedValue(value: asciiLowercased(disposition))
        if let filename { field.setParameter("filename", filename) }
    }

    public init?<C: Collection>(parsing body: C) where C.Element == UInt8 {
        guard let f = MIMEParameterizedValue(parsing: body, slashed: false) else { return nil }
        field = f
    }

    public var disposition: String { field.value }
    public var filename: String? { field.parameter("filename") }
    public var rendered: String { field.rendered }
}

/// RFC 2045 tokens and quoted strings over bytes, skipping white space and comments.
struct MIMEScanner {
    let bytes: [UInt8]
    var at = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// RFC 2045 5.1 token characters.
    static func isTokenByte(_ b: UInt8) -> Bool {
        b > 32 && b < 127 && !"()<>@,;:\\\"/[]?=".utf8.contains(b)
    }

    /// RFC 2231 7 attribute-char: a token character other than `*`, `'` and `%`.
    static func isAttributeChar(_ b: UInt8) -> Bool {
        isTokenByte(b) && b != 42 && b != 39 && b != 37
    }

    mutating func skipSpace() {
        while at < bytes.count {
            if bytes[at] == 32 || bytes[at] == 9 { at += 1; continue }
            if bytes[at] == 40 {
                var depth = 0
                while at < bytes.count {
                    if bytes[at] == 40 { depth += 1 }
                    if bytes[at] == 41 { depth -= 1; if depth == 0 { at += 1; break } }
                    if bytes[at] == 92 { at += 1 }
                    at += 1
                }
                continue
            }
            break
        }
    }

    mutating func skip(_ byte: UInt8) -> Bool {
        skipSpace()
        guard at < bytes.count, bytes[at] == byte else { return false }
        at += 1
        return true
    }

    /// Moves past the next `;` (skipping whatever malformed text comes before it).
    mutating func skipToParameter() -> Bool {
        skipSpace()
        while at < bytes.count, bytes[at] != 59 {
            if bytes[at] == 34 { _ = quotedString(); continue }
            at += 1
        }
        guard at < bytes.count else { return false }
        at += 1
        return true
    }

    mutating func token() -> String? {
        skipSpace()
        let start = at
        while at < bytes.count, Self.isTokenByte(bytes[at]) { at += 1 }
        return at > start ? String(decoding: bytes[start..<at], as: UTF8.self) : nil
    }

    /// A quoted string's content (escapes removed), or nil when none starts here.
    mutating func quotedString() -> [UInt8]? {
        skipSpace()
        guard at < bytes.count, bytes[at] == 34 else { return nil }
        at += 1
        var out: [UInt8] = []
        while at < bytes.count, bytes[at] != 34 {
            if bytes[at] == 92, at + 1 < bytes.count { at += 1 }
            out.append(bytes[at])
            at += 1
        }
        at += 1
        return out
    }
}
