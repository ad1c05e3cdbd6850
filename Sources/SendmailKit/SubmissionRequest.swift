#if canImport(Glibc)
import Glibc
#endif

/// One message to submit, as the submission pipeline needs it: the envelope's parts that the
/// submitter chooses, whoever asks (sendmail's argv, an SMTP transaction of `-bs`, an
/// application). The rest comes from `Runtime` (config, identity, clock, queue).
public struct SubmissionRequest: Sendable {
    /// The envelope sender as given (`-f`, MAIL FROM); "" for the null sender; nil for the
    /// submitting user.
    public var sender: String?
    /// Recipient words (each may be an address list), before aliases and qualification.
    public var recipients: [String]
    /// Also take recipients from the header (`-t`).
    public var extractRecipients = false
    /// A lone `.` does not end the input (`-i`); always so for data that is already framed.
    public var ignoreDots = false
    /// The full name for an added From (`-F`).
    public var fullName: String?
    /// The name used when `fullName` is nil: sendmail takes `$NAME`; nil falls back to the
    /// user's GECOS name.
    public var defaultName: String?
    /// RFC 3461 NOTIFY, RET and ENVID (`-N`, `-R`, `-V`).
    public var notify: SendmailOptions.Notify?
    public var ret: String?
    public var envid: String?
    /// `-B 8BITMIME` or `7BIT`.
    public var bodyType: String?
    /// No alias expansion (`-n`).
    public var noAliases = false

    public init(sender: String? = nil, recipients: [String] = [], extractRecipients: Bool = false, ignoreDots: Bool = false) {
        self.sender = sender
        self.recipients = recipients
        self.extractRecipients = extractRecipients
        self.ignoreDots = ignoreDots
    }

    /// What sendmail's command line asks for; `$NAME` is the default name, as sendmail reads it.
    public init(_ options: SendmailOptions) {
        self.init(sender: options.sender, recipients: options.recipients,
                  extractRecipients: options.extractRecipients, ignoreDots: options.ignoreDots)
        fullName = options.fullName
        if let n = getenv("NAME"), n.pointee != 0 { defaultName = String(cString: n) }
        notify = options.notify
        ret = options.ret
        envid = options.envid
        bodyType = options.bodyType
        noAliases = options.noAliases
    }
}
