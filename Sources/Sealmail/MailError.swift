/// The one error of the Sealmail library: what went wrong (an extensible code), in words,
/// whether trying again later may succeed, and the underlying error when there is one
/// (`SMTPError`, `SMIMEError`, `QueueError` keep their meaning, with the relay's reply).
public struct MailError: Error, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// An address that cannot be used (syntax, no domain, a line break).
        public static let invalidAddress = Code(rawValue: "invalid address")
        /// No recipient at all.
        public static let noRecipients = Code(rawValue: "no recipients")
        /// A header field that cannot be added (name, reserved, CR/LF/NUL in the value).
        public static let invalidHeader = Code(rawValue: "invalid header")
        /// An attachment that cannot be read.
        public static let attachmentUnreadable = Code(rawValue: "attachment unreadable")
        /// Recipients without a usable encryption certificate (each one named).
        public static let missingCertificates = Code(rawValue: "missing certificates")
        /// Signing or encryption failed (the S/MIME error is the cause).
        public static let protectionFailed = Code(rawValue: "protection failed")
        /// The relay could not be reached or the session failed (the SMTP error is the cause).
        public static let delivery = Code(rawValue: "delivery")
        /// The queue could not be written or read.
        public static let queue = Code(rawValue: "queue")
        /// A local file operation failed (temporary files).
        public static let io = Code(rawValue: "io")
    }

    public var code: Code
    public var message: String
    /// True when the same call may succeed later (the relay was down, the disk was full).
    public var isTransient: Bool
    /// The error this one reports, when there is one.
    public var underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, transient: Bool = false, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.isTransient = transient
        self.underlying = underlying
    }

    /// Permanent: the same call will fail again until something is changed.
    public var isPermanent: Bool { !isTransient }

    public var description: String { message }
}
