/// An RFC 3463 enhanced status code, `class.subject.detail` (e.g. 5.1.1).
public struct EnhancedStatusCode: Hashable, Sendable, CustomStringConvertible {
    /// The class: 2 success, 4 persistent transient failure, 5 permanent failure (RFC 3463 3.1).
    public var klass: Int
    /// The subject (RFC 3463 3.2), 0...999.
    public var subject: Int
    /// The detail (RFC 3463 3.3), 0...999.
    public var detail: Int

    /// Creates a code from its three parts.
    public init(_ klass: Int, _ subject: Int, _ detail: Int) {
        self.klass = klass
        self.subject = subject
        self.detail = detail
    }

    /// Parses `class.subject.detail` at the start of `text` (RFC 3463 2 syntax; class 2, 4 or 5,
    /// subject and detail 1-3 digits). Returns the code and the number of bytes it took.
    public static func parse(prefixOf text: ArraySlice<UInt8>) -> (EnhancedStatusCode, Int)? {
        var i = text.startIndex
        func number(maxDigits: Int) -> Int? {
            var value = 0
            var digits = 0
            while i < text.endIndex, digits < maxDigits, text[i] >= 0x30, text[i] <= 0x39 {
                value = value * 10 + Int(text[i] - 0x30)
                digits += 1
                i += 1
            }
            return digits == 0 ? nil : value
        }
        guard let k = number(maxDigits: 1), k == 2 || k == 4 || k == 5 else { return nil }
        guard i < text.endIndex, text[i] == 0x2E else { return nil }
        i += 1
        guard let s = number(maxDigits: 3), i < text.endIndex, text[i] == 0x2E else { return nil }
        i += 1
        guard let d = number(maxDigits: 3) else { return nil }
        // The code must end the token.
        if i < text.endIndex, text[i] != 0x20, text[i] != 0x09 { return nil }
        return (EnhancedStatusCode(k, s, d), i - text.startIndex)
    }

    /// `class.subject.detail`.
    public var description: String { "\(klass).\(subject).\(detail)" }
}

/// One complete SMTP reply, possibly multi-line (RFC 5321 4.2).
public struct SMTPReply: Hashable, Sendable, CustomStringConvertible {
    /// The three-digit reply code (RFC 5321 4.2.1), 200...599.
    public var code: Int
    /// The enhanced status code of the first line, when present and of the same class as
    /// `code` (RFC 3463, RFC 2034 3).
    public var enhancedStatus: EnhancedStatusCode?
    /// The text of each line after the code and separator, enhanced code included, decoded as
    /// UTF-8 with replacement (server text is never trusted to be UTF-8).
    public var lines: [String]

    /// Creates a reply.
    public init(code: Int, enhancedStatus: EnhancedStatusCode? = nil, lines: [String]) {
        self.code = code
        self.enhancedStatus = enhancedStatus
        self.lines = lines.isEmpty ? [""] : lines
    }

    /// 2yz: positive completion (RFC 5321 4.2.1).
    public var isPositive: Bool { code >= 200 && code < 300 }
    /// 3yz: positive intermediate (RFC 5321 4.2.1), e.g. 354 or 334.
    public var isIntermediate: Bool { code >= 300 && code < 400 }
    /// 4yz: transient negative completion (RFC 5321 4.2.1).
    public var isTransient: Bool { code >= 400 && code < 500 }
    /// 5yz: permanent negative completion (RFC 5321 4.2.1).
    public var isPermanent: Bool { code >= 500 && code < 600 }

    /// The reply as the server sent it, one line per line, CRLF removed, joined by "\n".
    public var verbatim: String {
        lines.enumerated().map { index, line in
            "\(code)\(index == lines.count - 1 ? " " : "-")\(line)"
        }.joined(separator: "\n")
    }

    /// The text of the reply on one line (lines joined by a space), without the enhanced
    /// code prefix of the first line, for log lines such as Postfix's `status=sent (...)`.
    public var text: String { lines.joined(separator: " ") }

    /// The enhanced status to report: the server's, or one derived from the code class
    /// (X.0.0, RFC 3463 3.1) when the server sent none.
    public var effectiveStatus: EnhancedStatusCode {
        enhancedStatus ?? EnhancedStatusCode(code / 100, 0, 0)
    }

    /// `verbatim`.
    public var description: String { verbatim }
}
