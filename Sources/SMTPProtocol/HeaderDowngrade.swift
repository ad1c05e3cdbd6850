import MailMessage

/// A header block made 7-bit for a relay without SMTPUTF8 (RFC 6531 3.5: a message with raw
/// 8-bit header fields may not be sent to it as it is). The rule: no 8-bit octet of the header
/// leaves without SMTPUTF8. Each field with one is re-encoded where RFC 2047 allows it, and
/// reported where it does not (`SevenBitHeader` does the encoding):
///
/// - address fields (From, To, Cc, Reply-To, Sender, Resent-*, ... RFC 5322 3.6.2, 3.6.3, 3.6.6,
///   and List-Id, RFC 2919): display names and comments become encoded words (RFC 2047 5(2),
///   5(3)); an 8-bit address is unencodable;
/// - other structured fields (Received, Message-ID, References, Date, Return-Path, the MIME
///   fields, signatures...): unencodable, since RFC 2047 5 allows encoded words in none of
///   their tokens;
/// - every other field is unstructured (RFC 5322 3.6.5 Subject and Comments, 3.6.8 optional
///   fields, RFC 2045 Content-Description): its 8-bit words become encoded words, in UTF-8 when
///   they are UTF-8, else `unknown-8bit` (RFC 1428), so a reader gets the same octets back;
/// - a field name with an 8-bit octet, or a line that is not a field, is unencodable.
///
/// Fields without 8-bit octets, and fields holding NUL (refused for that, see
/// `SMTPEnvelope.hasNUL`), are left byte for byte. The fields are read with MailMessage's
/// header parser (`HeaderBlock.spans`), every line given, also after one that is not a field.
public enum HeaderDowngrade {
    /// The re-encoded header and what could not be re-encoded.
    public struct Result: Equatable, Sendable {
        /// The header block, every encodable field re-encoded, the rest byte for byte.
        public var header: [UInt8]
        /// The names of the fields whose 8-bit octets cannot be encoded (in order, once each):
        /// when not empty the message needs SMTPUTF8 and must not go to this relay.
        public var unencodable: [String]
    }

    /// Address fields (phrases and comments encodable, addresses not).
    static let addressNames: Set<String> = [
        "from", "sender", "reply-to", "to", "cc", "bcc", "resent-from", "resent-sender", "resent-reply-to",
        "resent-to", "resent-cc", "resent-bcc", "disposition-notification-to", "return-receipt-to",
        "mail-followup-to", "mail-reply-to", "errors-to", "list-id",
    ]

    /// Structured fields with no token that RFC 2047 allows to encode.
    static let structuredNames: Set<String> = [
        "return-path", "received", "date", "resent-date", "message-id", "resent-message-id", "in-reply-to",
        "references", "mime-version", "content-type", "content-transfer-encoding", "content-id",
        "content-disposition", "content-language", "content-location", "content-md5", "content-base",
        "dkim-signature", "domainkey-signature", "arc-seal", "arc-message-signature",
        "arc-authentication-results", "authentication-results", "received-spf", "list-help",
        "list-unsubscribe", "list-unsubscribe-post", "list-subscribe", "list-post", "list-owner",
        "list-archive", "original-recipient", "final-recipient", "auto-submitted",
    ]

    /// Whether a field (lower-cased name) is unstructured text, whose words may all be encoded.
    public static func isUnstructured(_ lowercasedName: String) -> Bool {
        !addressNames.contains(lowercasedName) && !structuredNames.contains(lowercasedName)
    }

    /// A header block, from its first field through the empty line that ends it (or the
    /// whole message when it has no body), with every encodable 8-bit field re-encoded.
    public static func downgrade(_ header: [UInt8]) -> Result {
        var result = Result(header: [], unencodable: [])
        result.header.reserveCapacity(header.count + 64)
        for span in HeaderBlock.spans(header) {
            let raw = header[span.range]
            switch encodedField(raw, span.field) {
            case .unchanged:
                result.header += raw
            case .encoded(let bytes):
                result.header += bytes
            case .unencodable(let name):
                result.header += raw
                if !result.unencodable.contains(name) { result.unencodable.append(name) }
            }
        }
        return result
    }

    /// Whether the header of `message` (through its first empty line, or all of it) holds an
    /// 8-bit octet, for a message given as bytes without the submission's flag.
    public static func headerHasEightBit(_ message: [UInt8]) -> Bool {
        var previous: UInt8 = 10
        var i = 0
        while i < message.count {
            let b = message[i]
            if previous == 10, b == 10 || (b == 13 && i + 1 < message.count && message[i + 1] == 10) { return false }
            if b >= 0x80 { return true }
            previous = b
            i += 1
        }
        return false
    }

    enum FieldOutcome: Equatable {
        case unchanged
        case encoded([UInt8])
        case unencodable(String)
    }

    /// What becomes of a field (`raw` its lines, `field` as parsed; nil for a line that is not
    /// part of a field).
    static func encodedField(_ raw: ArraySlice<UInt8>, _ field: HeaderField?) -> FieldOutcome {
        guard raw.contains(where: { $0 >= 0x80 }), !raw.contains(0) else { return .unchanged }
        guard let field else {
            let line = raw.prefix { $0 != 13 && $0 != 10 }
            let name = line.firstIndex(of: 58).map { String(decoding: line[line.startIndex..<$0], as: UTF8.self) }
            return .unencodable(name.map { "a field named \($0)" } ?? "a header line that is not a field")
        }
        let lowercased = field.lowercasedName
        let value = field.unfoldedValue
        let encoded: [UInt8]
        if addressNames.contains(lowercased) {
            guard let bytes = SevenBitHeader.encodeAddressField(value) else { return .unencodable(field.name) }
            encoded = bytes
        } else if structuredNames.contains(lowercased) {
            return .unencodable(field.name)
        } else {
            encoded = SevenBitHeader.encodeUnstructured(value)
        }
        guard !encoded.contains(where: { $0 >= 0x80 }) else { return .unencodable(field.name) }
        return .encoded(HeaderField.folded(name: field.name, value: encoded).wireBytes)
    }
}
