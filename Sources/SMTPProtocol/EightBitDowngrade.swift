import MailMessage

/// Converts an 8-bit MIME message to 7bit for a relay without 8BITMIME (RFC 6152 3, the
/// conversion RFC 1652 describes): the body of every text/* leaf with 8-bit octets becomes
/// quoted-printable (RFC 2045 6.7), every other such leaf base64 (RFC 2045 6.8); multipart/*
/// (RFC 2046 5.1) and message/rfc822 entities are converted recursively; a message without
/// MIME headers is treated as text/plain (charset unknown-8bit, RFC 1428, or us-ascii) and
/// gets them. Line ends come out as CRLF. Header fields are left as they are (as Postfix does).
///
/// The same conversion serves a second reason (`Reasons.longLines`): a leaf with a line over
/// 998 octets (RFC 5321 4.5.3.1.6) is encoded the same way, so its text reaches the recipient
/// intact instead of broken. For that reason alone a leaf already quoted-printable or base64,
/// and the parts of multipart/signed and multipart/encrypted (RFC 1847: re-encoding would break
/// the signature), are left as they are; `MessageConversion.breakLongLines` breaks what is left.
///
/// And a third (`Reasons.nul`): NUL octets, which neither 7bit nor 8bit data may hold (RFC
/// 2045 2.7, 2.8). A leaf with NUL is encoded the same way (quoted-printable writes `=00`);
/// NUL in a header, in a leaf already quoted-printable or base64, or inside multipart/signed
/// or multipart/encrypted cannot be encoded without changing what was signed or declared, so
/// the conversion fails and the message is refused rather than sent with NUL.
public enum EightBitDowngrade {
    /// Why an entity is converted.
    public struct Reasons: OptionSet, Hashable, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// 8-bit octets, for a relay without 8BITMIME (RFC 6152 3).
        public static let eightBit = Reasons(rawValue: 1)
        /// Lines over 998 octets (RFC 5321 4.5.3.1.6).
        public static let longLines = Reasons(rawValue: 2)
        /// NUL octets (RFC 2045 2.7, 2.8).
        public static let nul = Reasons(rawValue: 4)
    }

    /// The converted message, or nil when it cannot be converted (an entity already declared
    /// quoted-printable/base64 that still holds 8-bit octets or NUL, a multipart without
    /// boundary, NUL in a header or inside multipart/signed or multipart/encrypted).
    public static func convert(_ message: [UInt8], for reasons: Reasons = .eightBit) -> [UInt8]? {
        var encoder = DataEncoder(stuffDots: false)
        var normalized = encoder.encode(message)
        encoder.finish(into: &normalized)
        return convertEntity(normalized[...], topLevel: true, reasons: reasons)
    }

    /// True when any octet has the high bit set.
    public static func has8Bit<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        bytes.contains { $0 >= 0x80 }
    }

    static func needsConversion(_ body: ArraySlice<UInt8>, _ reasons: Reasons) -> Bool {
        (reasons.contains(.eightBit) && has8Bit(body)) || (reasons.contains(.longLines) && LineLimit.hasLongLine(body))
            || (reasons.contains(.nul) && body.contains(0))
    }

    static func convertEntity(_ entity: ArraySlice<UInt8>, topLevel: Bool, reasons: Reasons) -> [UInt8]? {
        let (header, body) = splitHeader(entity)
        // A header field cannot be re-encoded to lose a NUL.
        if reasons.contains(.nul), header.contains(0) { return nil }
        guard needsConversion(body, reasons) else { return Array(entity) }
        let fields = MIMEHeader(header)
        let type = fields.contentType
        let encoding = fields.value(of: "content-transfer-encoding")?.trimmed.lowercased() ?? "7bit"
        let eightBitNeeded = reasons.contains(.eightBit) && has8Bit(body)
        // What must change, not merely what would be nicer (long lines): failing it fails the message.
        let mustConvert = eightBitNeeded || (reasons.contains(.nul) && body.contains(0))
        if type.mediaType == "multipart/signed" || type.mediaType == "multipart/encrypted" {
            if reasons.contains(.nul), body.contains(0) { return nil }
            if !eightBitNeeded { return Array(entity) }
        }
        if type.mediaType.hasPrefix("multipart/") {
            guard let boundary = type.boundary,
                  let converted = convertMultipart(body, boundary: boundary, reasons: reasons) else {
                return mustConvert ? nil : Array(entity)
            }
            return Array(header) + converted
        }
        if type.mediaType == "message/rfc822" || type.mediaType == "message/global" {
            guard let inner = convertEntity(body, topLevel: false, reasons: reasons) else { return nil }
            return Array(header) + inner
        }
        guard encoding == "7bit" || encoding == "8bit" || encoding == "binary" else {
            return mustConvert ? nil : Array(entity)
        }
        let isText = type.mediaType.hasPrefix("text/")
        var newHeader = fields.removing("content-transfer-encoding")
        if topLevel, !fields.isMIME {
            let charset = has8Bit(body) ? "unknown-8bit" : "us-ascii"
            newHeader += Array("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\(charset)\r\n".utf8)
        }
        newHeader += Array("Content-Transfer-Encoding: \(isText ? "quoted-printable" : "base64")\r\n\r\n".utf8)
        return newHeader + (isText ? QuotedPrintable.encode(body) : base64Lines(body))
    }

    /// Header block without the empty line, and the body after it.
    static func splitHeader(_ entity: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, ArraySlice<UInt8>) {
        var i = entity.startIndex
        if entity.starts(with: [0x0D, 0x0A]) { return (entity[i..<i], entity[(i + 2)...]) }
        while i + 3 < entity.endIndex {
            if entity[i] == 0x0D, entity[i + 1] == 0x0A, entity[i + 2] == 0x0D, entity[i + 3] == 0x0A {
                return (entity[entity.startIndex..<(i + 2)], entity[(i + 4)...])
            }
            i += 1
        }
        return (entity, entity[entity.endIndex...])
    }

    private static func convertMultipart(_ body: ArraySlice<UInt8>, boundary: String, reasons: Reasons) -> [UInt8]? {
        let delimiter = Array("--\(boundary)".utf8)
        var out: [UInt8] = []
        var partStart: Int?
        var lineStart = body.startIndex
        var closed = false
        while lineStart < body.endIndex {
            let lineEnd = body[lineStart...].firstIndex(of: 0x0A).map { $0 + 1 } ?? body.endIndex
            let line = body[lineStart..<lineEnd]
            let rest = line.dropFirst(delimiter.count).filter { $0 != 0x0D && $0 != 0x0A && $0 != 0x20 && $0 != 0x09 }
            if !closed, line.starts(with: delimiter), rest.isEmpty || rest == [0x2D, 0x2D] {
                let isClose = !rest.isEmpty
                if let start = partStart {
                    // The CRLF before the delimiter belongs to the delimiter (RFC 2046 5.1.1).
                    let end = max(start, lineStart - 2)
                    guard let part = convertEntity(body[start..<end], topLevel: false, reasons: reasons) else { return nil }
                    out += part
                    out += [0x0D, 0x0A]
                }
                out += line
                partStart = isClose ? nil : lineEnd
                closed = isClose
            } else if partStart == nil {
                out += line  // preamble or epilogue
            }
            lineStart = lineEnd
        }
        if let start = partStart {
            guard let part = convertEntity(body[start...], topLevel: false, reasons: reasons) else { return nil }
            out += part
        }
        return out
    }

    /// Base64 in lines of 76 (RFC 2045 6.8), without a line end after the last.
    private static func base64Lines(_ body: ArraySlice<UInt8>) -> [UInt8] {
        let encoded = Base64.encodeBytes(body)
        var out: [UInt8] = []
        var i = 0
        while i < encoded.count {
            if i > 0 { out += [0x0D, 0x0A] }
            out += encoded[i..<min(i + 76, encoded.count)]
            i += 76
        }
        return out
    }
}

/// Quoted-printable encoding (RFC 2045 6.7) of CRLF text: hard line breaks kept, lines at
/// most 76 characters with soft breaks, trailing space and tab encoded.
public enum QuotedPrintable {
    /// Encodes CRLF-terminated text.
    public static func encode<C: Collection>(_ text: C) -> [UInt8] where C.Element == UInt8 {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        var lineLength = 0
        let bytes = Array(text)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 0x0D, i + 1 < bytes.count, bytes[i + 1] == 0x0A {
                out += [0x0D, 0x0A]
                lineLength = 0
                i += 2
                continue
            }
            let atLineEnd = i + 1 == bytes.count || (bytes[i + 1] == 0x0D && i + 2 < bytes.count && bytes[i + 2] == 0x0A)
            let literal = (byte >= 33 && byte <= 126 && byte != 0x3D) || ((byte == 0x20 || byte == 0x09) && !atLineEnd)
            let token: [UInt8] = literal ? [byte] : [0x3D, hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            if lineLength + token.count > 75 {
                out += [0x3D, 0x0D, 0x0A]
                lineLength = 0
            }
            out += token
            lineLength += token.count
            i += 1
        }
        return out
    }
}

/// The few header fields the downgrade needs (RFC 5322 2.2, RFC 2045).
struct MIMEHeader {
    private var fields: [(name: String, raw: ArraySlice<UInt8>, value: String)] = []

    init(_ header: ArraySlice<UInt8>) {
        var i = header.startIndex
        while i < header.endIndex {
            var end = i
            // A field runs until a line that does not start with SP/HT (unfolding).
            repeat {
                end = header[end...].firstIndex(of: 0x0A).map { $0 + 1 } ?? header.endIndex
            } while end < header.endIndex && (header[end] == 0x20 || header[end] == 0x09)
            let raw = header[i..<end]
            if let colon = raw.firstIndex(of: 0x3A) {
                let name = String(decoding: raw[i..<colon], as: UTF8.self).trimmed.lowercased()
                let value = String(decoding: raw[(colon + 1)...].filter { $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
                fields.append((name, raw, value))
            } else {
                fields.append(("", raw, ""))
            }
            i = end
        }
    }

    func value(of name: String) -> String? { fields.first { $0.name == name }?.value }

    var isMIME: Bool { value(of: "mime-version") != nil || value(of: "content-type") != nil }

    /// The raw header without the named fields.
    func removing(_ name: String) -> [UInt8] {
        fields.filter { $0.name != name }.flatMap { Array($0.raw) }
    }

    /// Media type (lower-cased, default text/plain, RFC 2045 5.2) and boundary parameter.
    var contentType: (mediaType: String, boundary: String?) {
        guard let value = value(of: "content-type") else { return ("text/plain", nil) }
        var parts: [String] = []
        var current = ""
        var quoted = false
        for ch in value {
            if ch == "\"" { quoted.toggle() }
            if ch == ";", !quoted { parts.append(current); current = ""; continue }
            current.append(ch)
        }
        parts.append(current)
        let media = parts[0].trimmed.lowercased()
        var boundary: String?
        for parameter in parts.dropFirst() {
            let pieces = parameter.split(separator: "=", maxSplits: 1).map { String($0).trimmed }
            if pieces.count == 2, pieces[0].lowercased() == "boundary" {
                var b = pieces[1]
                if b.hasPrefix("\""), b.hasSuffix("\""), b.count >= 2 { b = String(b.dropFirst().dropLast()) }
                boundary = b.isEmpty ? nil : b
            }
        }
        return (media.isEmpty ? "text/plain" : media, boundary)
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
