#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A message to compose and send (the seed component's message properties): addresses,
/// subject, text and/or HTML, attachments and inline parts, the RFC 2156 indications, a read
/// receipt, DSN, a return path, extra header fields, and S/MIME.
///
/// Nothing is checked or read when a property is set, except where a method says `throws`;
/// `Mailer.send` and `MailSpool.enqueue` validate the whole message first and throw a
/// `MailError` naming every problem, before anything is sent or queued.
public struct Mail: Sendable {
    /// The author (`From`), an address with an optional display name: `Alice <a@example.com>`.
    public var from: String
    /// The subject; any Unicode (RFC 2047 encoded when not ASCII).
    public var subject: String
    /// Recipients shown in `To`.
    public var to: [String] = []
    /// Recipients shown in `Cc`.
    public var cc: [String] = []
    /// Hidden recipients: never in any header. With encryption each gets a copy of its own.
    public var bcc: [String] = []
    /// `Reply-To`.
    public var replyTo: [String] = []
    /// The plain text body.
    public var text: String?
    /// The HTML body; with `text` as well, the two are sent as multipart/alternative.
    public var html: String?
    /// `Importance` (RFC 2156 5.3.4).
    public var importance: Importance?
    /// `Priority` (RFC 2156 5.3.6) and the `X-Priority` most clients show.
    public var priority: Priority?
    /// `Sensitivity` (RFC 2156 5.3.5).
    public var sensitivity: Sensitivity?
    /// Where a read receipt goes (`Disposition-Notification-To`, RFC 8098 2.1).
    public var readReceiptTo: String?
    /// DSN NOTIFY on every RCPT (RFC 3461 4.1); empty: the relay's default.
    public var deliveryNotification: DSNNotify = []
    /// DSN RET (RFC 3461 4.3): the whole message or its header in a failure report.
    public var deliveryNotificationReturn: DSNReturn?
    /// The envelope sender (`MAIL FROM`, where bounces go); default: the `from` address.
    public var returnPath: String?
    /// `Date`; default: the time it is sent or queued.
    public var date: Date?
    /// `Message-ID` without angle brackets; default: a new unique one.
    public var messageID: String?
    /// The key that signs the message (RFC 8551 3.5); nil: not signed.
    public var signer: SigningIdentity?
    /// Certificates to encrypt to (RFC 8551 3.3): one must match each recipient (the email
    /// address in its subjectAltName); those that match no recipient are added to every copy
    /// (encrypt-to-self). Empty: not encrypted.
    public var encryptionCertificates: [Certificate] = []
    /// What certificates must chain to. Nil: the certificates given here are trusted as the
    /// caller's choice (their address, purpose and validity are still checked).
    public var trust: TrustSettings?
    /// Signing and encryption parameters (digest, cipher, header protection...).
    public var smime = MailSMIMEOptions()

    /// Extra header fields, in order.
    public private(set) var extraHeaders: [HeaderField] = []
    /// Attachments and inline parts, in the order added.
    public private(set) var attachments: [MailAttachment] = []

    /// A message from `from` with `subject`.
    public init(from: String, subject: String = "") {
        self.from = from
        self.subject = subject
    }

    /// Adds a header field. Fields that the message builds itself (From, To, Cc, Bcc,
    /// Subject, Date, Message-ID, MIME-Version, Content-*) cannot be added this way.
    /// - Throws: `MailError` when the name is not a field name or is reserved, or the value
    ///   holds CR, LF or NUL (header injection).
    public mutating func addHeader(_ name: String, _ value: String) throws {
        guard HeaderField.isValidName(name) else { throw MailError(.invalidHeader, "\"\(name)\" is not a header field name") }
        let lower = name.lowercased()
        guard !Self.reservedFields.contains(lower), !lower.hasPrefix("content-") else {
            throw MailError(.invalidHeader, "\(name) is set by the message itself, not by addHeader")
        }
        guard !value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) else {
            throw MailError(.invalidHeader, "the value of \(name) holds a line break or NUL")
        }
        let encoded = EncodedWord.encodeUnstructuredIfNeeded(value) ?? value
        extraHeaders.append(HeaderField.folded(name: name, value: Array(encoded.utf8)))
    }

    static let reservedFields: Set<String> = [
        "from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version", "reply-to", "sender",
        "return-path", "importance", "priority", "x-priority", "sensitivity", "disposition-notification-to",
    ]

    /// Attaches a file, read in pieces when the message is written (never whole in memory).
    /// - Parameters:
    ///   - filename: the name the recipient sees; default the file's last path component.
    ///   - contentType: default from the file name's extension (application/octet-stream
    ///     when unknown).
    /// - Throws: `MailError` when the file cannot be opened now.
    public mutating func attach(file path: String, filename: String? = nil, contentType: String? = nil) throws {
        try MailAttachment.checkReadable(path)
        let name = filename ?? MailAttachment.lastComponent(path)
        attachments.append(MailAttachment(filename: name, contentType: contentType ?? MediaTypes.guess(name),
                                          content: .file(path), inline: false, contentID: nil))
    }

    /// Attaches bytes.
    public mutating func attach(_ data: [UInt8], filename: String, contentType: String) {
        attachments.append(MailAttachment(filename: filename, contentType: contentType, content: .bytes(data),
                                          inline: false, contentID: nil))
    }

    /// Adds an inline part (an image the HTML shows with `cid:`), read when written.
    /// - Returns: its Content-ID, to use as `<img src="cid:ID">` (RFC 2392).
    @discardableResult
    public mutating func embed(file path: String, contentType: String? = nil) throws -> String {
        try MailAttachment.checkReadable(path)
        let name = MailAttachment.lastComponent(path)
        let id = MailAttachment.contentID(for: name, index: attachments.count)
        attachments.append(MailAttachment(filename: name, contentType: contentType ?? MediaTypes.guess(name),
                                          content: .file(path), inline: true, contentID: id))
        return id
    }

    /// Adds inline bytes; returns their Content-ID.
    @discardableResult
    public mutating func embed(_ data: [UInt8], filename: String, contentType: String) -> String {
        let id = MailAttachment.contentID(for: filename, index: attachments.count)
        attachments.append(MailAttachment(filename: filename, contentType: contentType, content: .bytes(data),
                                          inline: true, contentID: id))
        return id
    }
}

/// `Importance` values (RFC 2156 5.3.4).
public enum Importance: String, Sendable { case low, normal, high }

/// `Priority` values (RFC 2156 5.3.6); `X-Priority` is 5, 3 and 1.
public enum Priority: String, Sendable {
    case nonUrgent = "non-urgent", normal, urgent
    var xPriority: String {
        switch self {
        case .nonUrgent: return "5 (Lowest)"
        case .normal: return "3 (Normal)"
        case .urgent: return "1 (Highest)"
        }
    }
}

/// `Sensitivity` values (RFC 2156 5.3.5).
public enum Sensitivity: String, Sendable {
    case personal = "Personal", `private` = "Private", companyConfidential = "Company-Confidential"
}

/// S/MIME parameters of a `Mail`.
public struct MailSMIMEOptions: Sendable {
    public var digest: DigestAlgorithm = .sha256
    public var signatureForm: SignatureForm = .detached
    public var cipher: ContentCipher = .aes256CBC
    /// RFC 9788 header protection. Encrypted mail then shows `Subject: [...]` outside, and
    /// its main text parts begin with the real Subject (the legacy display of RFC 9788 4.5.3,
    /// `Protection.legacyDisplay`) for mail programs that do not read protected headers.
    public var headerProtection = false
    /// Include the signer's chain (`SigningIdentity.chain`) with the signature.
    public var includeChain = true
    public init() {}
}

/// An attachment or inline part.
public struct MailAttachment: Sendable {
    public enum Content: Sendable {
        case file(String)
        case bytes([UInt8])
    }
    public var filename: String
    public var contentType: String
    public var content: Content
    /// Inline (shown in the HTML) rather than an attachment.
    public var inline: Bool
    /// The Content-ID of an inline part, without angle brackets.
    public var contentID: String?

    static func checkReadable(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw MailError(.attachmentUnreadable, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        var st = stat()
        defer { close(fd) }
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw MailError(.attachmentUnreadable, "\(path) is not a regular file")
        }
    }

    static func lastComponent(_ path: String) -> String {
        // Split at the byte '/': a name starting with a combining mark joined the '/' before
        // it, and the folder's name went into the attachment's name.
        String(decoding: path.utf8.split(separator: UInt8(ascii: "/")).last ?? path.utf8[...], as: UTF8.self)
    }

    /// A Content-ID unique to this message: the part's index and random bits, and the name's
    /// safe characters to help a reader of the source.
    static func contentID(for name: String, index: Int) -> String {
        let safe = String(decoding: name.utf8.filter { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 46 || $0 == 45 }.prefix(40), as: UTF8.self)
        let random = Hex.string((0..<8).map { _ in UInt8.random(in: 0...255) })
        return "part\(index).\(random).\(safe.isEmpty ? "inline" : safe)@sealmail"
    }
}
