import MailMessage

/// The service extensions a server announced in its EHLO reply (RFC 5321 4.1.1.1: the first
/// line is the greeting, each further line `keyword [params]`). Keywords are case-insensitive.
public struct SMTPCapabilities: Hashable, Sendable {
    /// Every keyword (upper-cased) with its parameters, as announced.
    public var keywords: [String: [String]] = [:]
    /// True when the reply came from EHLO; false after a HELO fallback (no extensions).
    public var isExtended = false

    /// No extensions (after HELO).
    public init() {}

    /// Parses an EHLO reply (RFC 5321 4.1.1.1); lines after the first are keywords.
    public init(ehloReply reply: SMTPReply) {
        isExtended = true
        for line in reply.lines.dropFirst() {
            // Words split at space and tab bytes, keywords' ASCII case folded (as Characters,
            // a blank with a combining mark after it is no blank).
            let parts = line.utf8.split(whereSeparator: { $0 == 32 || $0 == 9 }).map { Array($0) }
            guard let first = parts.first else { continue }
            var keyword = String(decoding: first.map(TextLines.asciiUppercased), as: UTF8.self)
            var params = parts.dropFirst().map { String(decoding: $0, as: UTF8.self) }
            // The obsolete "AUTH=LOGIN PLAIN" form (pre-RFC 4954 servers).
            if keyword.utf8.starts(with: "AUTH=".utf8) {
                params.insert(String(decoding: keyword.utf8.dropFirst(5), as: UTF8.self), at: 0)
                keyword = "AUTH"
            }
            keywords[keyword, default: []].append(contentsOf: params)
        }
    }

    /// True when `keyword` was announced.
    public func has(_ keyword: String) -> Bool { keywords[keyword.uppercased()] != nil }

    /// PIPELINING (RFC 2920).
    public var pipelining: Bool { has("PIPELINING") }
    /// 8BITMIME (RFC 6152).
    public var eightBitMIME: Bool { has("8BITMIME") }
    /// SMTPUTF8 (RFC 6531).
    public var smtpUTF8: Bool { has("SMTPUTF8") }
    /// DSN (RFC 3461).
    public var dsn: Bool { has("DSN") }
    /// CHUNKING (RFC 3030).
    public var chunking: Bool { has("CHUNKING") }
    /// BINARYMIME (RFC 3030 3); meaningful only with CHUNKING.
    public var binaryMIME: Bool { has("BINARYMIME") }
    /// STARTTLS (RFC 3207).
    public var startTLS: Bool { has("STARTTLS") }
    /// ENHANCEDSTATUSCODES (RFC 2034).
    public var enhancedStatusCodes: Bool { has("ENHANCEDSTATUSCODES") }
    /// SIZE: true when announced (RFC 1870).
    public var announcesSize: Bool { has("SIZE") }
    /// The SIZE limit in octets; nil when none is announced or it is 0 (no fixed limit,
    /// RFC 1870 4).
    public var sizeLimit: Int? {
        guard let value = keywords["SIZE"]?.first, let n = Int(value), n > 0 else { return nil }
        return n
    }
    /// The SASL mechanisms from AUTH (RFC 4954 3), upper-cased, in announced order.
    public var authMechanisms: [String] {
        var seen = Set<String>()
        return (keywords["AUTH"] ?? []).map { $0.uppercased() }.filter { seen.insert($0).inserted }
    }
}
