/// An argument that cannot be put on the wire (house rule 3: rejected where it is built).
public struct SMTPArgumentError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Which argument.
    public var argument: String
    /// Why it was refused.
    public var reason: String
    /// `argument: reason`.
    public var description: String { "invalid SMTP \(argument): \(reason)" }
}

/// The message body type of MAIL FROM's BODY= parameter (RFC 6152 2, RFC 3030 3).
public enum SMTPBodyType: String, Hashable, Sendable {
    /// 7-bit US-ASCII lines (no BODY= parameter is sent).
    case sevenBit = "7BIT"
    /// 8-bit lines of at most 998 octets (RFC 6152).
    case eightBitMIME = "8BITMIME"
    /// Arbitrary octets, only with BDAT (RFC 3030 3).
    case binaryMIME = "BINARYMIME"
}

/// What a DSN should return, RET= (RFC 3461 4.3).
public enum DSNReturn: String, Hashable, Sendable {
    /// RET=FULL: the whole message.
    case full = "FULL"
    /// RET=HDRS: the headers only.
    case headers = "HDRS"
}

/// When to send a DSN, NOTIFY= (RFC 3461 4.1): NEVER, or a set of SUCCESS, FAILURE, DELAY.
public struct DSNNotify: OptionSet, Hashable, Sendable {
    /// Raw bits.
    public let rawValue: UInt8
    /// Creates from raw bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// SUCCESS.
    public static let success = DSNNotify(rawValue: 1)
    /// FAILURE.
    public static let failure = DSNNotify(rawValue: 2)
    /// DELAY.
    public static let delay = DSNNotify(rawValue: 4)
    /// NEVER (the empty set).
    public static let never: DSNNotify = []

    /// The parameter value: `NEVER` or a comma list (RFC 3461 4.1).
    public var parameterValue: String {
        if isEmpty { return "NEVER" }
        var parts: [String] = []
        if contains(.success) { parts.append("SUCCESS") }
        if contains(.failure) { parts.append("FAILURE") }
        if contains(.delay) { parts.append("DELAY") }
        return parts.joined(separator: ",")
    }
}

/// The parameters of MAIL FROM (RFC 5321 4.1.1.2 and the extensions that add to it).
public struct MailParameters: Hashable, Sendable {
    /// SIZE= (RFC 1870), sent only when the server advertises SIZE.
    public var size: Int?
    /// BODY= (RFC 6152, RFC 3030); `.sevenBit` sends nothing.
    public var body: SMTPBodyType = .sevenBit
    /// SMTPUTF8 (RFC 6531 3.4).
    public var smtpUTF8 = false
    /// RET= (RFC 3461 4.3).
    public var ret: DSNReturn?
    /// ENVID= (RFC 3461 4.4), xtext-encoded on the wire; printable ASCII, at most 100 chars.
    public var envelopeID: String?
    /// Creates empty parameters.
    public init(size: Int? = nil, body: SMTPBodyType = .sevenBit, smtpUTF8: Bool = false,
                ret: DSNReturn? = nil, envelopeID: String? = nil) {
        self.size = size
        self.body = body
        self.smtpUTF8 = smtpUTF8
        self.ret = ret
        self.envelopeID = envelopeID
    }
}

/// The parameters of RCPT TO (RFC 3461 4.1, 4.2).
public struct RecipientParameters: Hashable, Sendable {
    /// NOTIFY= (RFC 3461 4.1).
    public var notify: DSNNotify?
    /// ORCPT=rfc822;<xtext> (RFC 3461 4.2): the original recipient address.
    public var originalRecipient: String?
    /// Creates parameters.
    public init(notify: DSNNotify? = nil, originalRecipient: String? = nil) {
        self.notify = notify
        self.originalRecipient = originalRecipient
    }
}

/// The SMTP command encoder (RFC 5321 4.1). Each function returns the command line with its
/// CRLF, or throws `SMTPArgumentError` when an argument could not be put on the wire.
public enum SMTPCommand {
    /// `EHLO domain` (RFC 5321 4.1.1.1).
    public static func ehlo(_ domain: String) throws -> [UInt8] {
        line("EHLO ", try checkDomain(domain))
    }

    /// `HELO domain` (RFC 5321 4.1.1.1).
    public static func helo(_ domain: String) throws -> [UInt8] {
        line("HELO ", try checkDomain(domain))
    }

    /// `MAIL FROM:<path> [params]` (RFC 5321 4.1.1.2); `nil` sender is the null path `<>`.
    public static func mail(from sender: String?, _ p: MailParameters = MailParameters()) throws -> [UInt8] {
        var text = "MAIL FROM:<" + (try checkPath(sender ?? "", what: "sender", allowUTF8: p.smtpUTF8)) + ">"
        if let size = p.size {
            guard size >= 0 else { throw SMTPArgumentError(argument: "SIZE", reason: "negative") }
            text += " SIZE=\(size)"
        }
        if p.body != .sevenBit { text += " BODY=" + p.body.rawValue }
        if p.smtpUTF8 { text += " SMTPUTF8" }
        if let ret = p.ret { text += " RET=" + ret.rawValue }
        if let envid = p.envelopeID {
            guard envid.utf8.count <= 100, !envid.isEmpty,
                  envid.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
                throw SMTPArgumentError(argument: "ENVID", reason: "must be 1-100 printable US-ASCII characters")
            }
            text += " ENVID=" + xtext(envid)
        }
        return line(text, "")
    }

    /// `RCPT TO:<path> [params]` (RFC 5321 4.1.1.3, RFC 3461 4.1-4.2).
    public static func rcpt(to recipient: String, _ p: RecipientParameters = RecipientParameters(),
                            smtpUTF8: Bool = false) throws -> [UInt8] {
        let path = try checkPath(recipient, what: "recipient", allowUTF8: smtpUTF8)
        guard !path.isEmpty else { throw SMTPArgumentError(argument: "recipient", reason: "empty") }
        var text = "RCPT TO:<" + path + ">"
        if let notify = p.notify { text += " NOTIFY=" + notify.parameterValue }
        if let orcpt = p.originalRecipient {
            guard !orcpt.isEmpty, orcpt.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else {
                throw SMTPArgumentError(argument: "ORCPT", reason: "empty or contains control characters")
            }
            if orcpt.utf8.contains(where: { $0 >= 0x80 }) {
                // RFC 6533 utf-8-addr-xtext would be needed; refuse rather than mis-encode.
                throw SMTPArgumentError(argument: "ORCPT", reason: "non-ASCII original recipient")
            }
            text += " ORCPT=rfc822;" + xtext(orcpt)
        }
        return line(text, "")
    }

    /// `DATA` (RFC 5321 4.1.1.4).
    public static let data = Array("DATA\r\n".utf8)
    /// `RSET` (RFC 5321 4.1.1.5).
    public static let rset = Array("RSET\r\n".utf8)
    /// `NOOP` (RFC 5321 4.1.1.9).
    public static let noop = Array("NOOP\r\n".utf8)
    /// `QUIT` (RFC 5321 4.1.1.10).
    public static let quit = Array("QUIT\r\n".utf8)
    /// `STARTTLS` (RFC 3207 4).
    public static let startTLS = Array("STARTTLS\r\n".utf8)

    /// `BDAT size [LAST]` (RFC 3030 2); the chunk bytes follow it directly.
    public static func bdat(size: Int, last: Bool) -> [UInt8] {
        Array("BDAT \(max(0, size))\(last ? " LAST" : "")\r\n".utf8)
    }

    /// `VRFY string` (RFC 5321 4.1.1.6).
    public static func vrfy(_ string: String) throws -> [UInt8] {
        line("VRFY ", try checkText(string, what: "VRFY argument"))
    }

    /// `EXPN string` (RFC 5321 4.1.1.7).
    public static func expn(_ string: String) throws -> [UInt8] {
        line("EXPN ", try checkText(string, what: "EXPN argument"))
    }

    /// `AUTH mechanism [initial-response]` (RFC 4954 4); the response is already base64 or "=".
    public static func auth(_ mechanism: String, initialResponse: String?) throws -> [UInt8] {
        guard !mechanism.isEmpty, mechanism.utf8.allSatisfy(isMechanismChar) else {
            throw SMTPArgumentError(argument: "AUTH mechanism", reason: "not a SASL mechanism name")
        }
        guard let response = initialResponse else { return line("AUTH ", mechanism) }
        return line("AUTH \(mechanism) ", try checkText(response, what: "AUTH initial response"))
    }

    /// A SASL response line (RFC 4954 4): base64 text, or `*` to cancel.
    public static func saslResponse(_ base64: String) throws -> [UInt8] {
        line("", try checkText(base64, what: "SASL response", allowEmpty: true))
    }

    /// An arbitrary command line for `rawCommand` (RFC 5321 2.4): printable text, no CR/LF/NUL.
    public static func raw(_ command: String) throws -> [UInt8] {
        line("", try checkText(command, what: "command"))
    }

    /// xtext encoding (RFC 3461 4): `!`...`~` except `+` and `=` as is, all else `+HH`.
    public static func xtext(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if byte >= 0x21, byte <= 0x7E, byte != 0x2B, byte != 0x3D {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                out += "+"
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 15)]))
            }
        }
        return out
    }

    /// True when `address` holds non-ASCII bytes and so needs SMTPUTF8 (RFC 6531 3.3).
    public static func needsSMTPUTF8(_ address: String) -> Bool {
        address.utf8.contains { $0 >= 0x80 }
    }

    // MARK: checks

    private static func line(_ prefix: String, _ argument: String) -> [UInt8] {
        var bytes = Array(prefix.utf8)
        bytes.append(contentsOf: argument.utf8)
        bytes.append(0x0D)
        bytes.append(0x0A)
        return bytes
    }

    private static func isMechanismChar(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x5F
    }

    /// A domain or address literal for EHLO/HELO: printable ASCII, no spaces.
    static func checkDomain(_ domain: String) throws -> String {
        guard !domain.isEmpty, domain.utf8.count <= 255,
              domain.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw SMTPArgumentError(argument: "EHLO/HELO name", reason: "must be printable US-ASCII without spaces")
        }
        return domain
    }

    /// A reverse- or forward-path without its angle brackets (RFC 5321 4.1.2). Refuses
    /// controls (CR, LF, NUL, all < 0x20 and DEL), angle brackets, and non-ASCII unless
    /// SMTPUTF8 is in use.
    static func checkPath(_ path: String, what: String, allowUTF8: Bool) throws -> String {
        guard path.utf8.count <= 512 else {
            throw SMTPArgumentError(argument: what, reason: "longer than 512 octets")
        }
        for byte in path.utf8 {
            if byte < 0x20 || byte == 0x7F {
                throw SMTPArgumentError(argument: what, reason: "contains a control character (CR, LF, NUL or other)")
            }
            if byte == 0x3C || byte == 0x3E {
                throw SMTPArgumentError(argument: what, reason: "contains an angle bracket")
            }
            if byte >= 0x80, !allowUTF8 {
                throw SMTPArgumentError(argument: what, reason: "non-ASCII address without SMTPUTF8")
            }
        }
        return path
    }

    /// Free text on a command line: no controls except TAB, at most 12288 octets (RFC 4954 4).
    static func checkText(_ text: String, what: String, allowEmpty: Bool = false) throws -> String {
        guard allowEmpty || !text.isEmpty else {
            throw SMTPArgumentError(argument: what, reason: "empty")
        }
        guard text.utf8.count <= 12288 else {
            throw SMTPArgumentError(argument: what, reason: "too long")
        }
        guard text.utf8.allSatisfy({ ($0 >= 0x20 && $0 != 0x7F) || $0 == 0x09 }) else {
            throw SMTPArgumentError(argument: what, reason: "contains CR, LF, NUL or another control character")
        }
        return text
    }
}
