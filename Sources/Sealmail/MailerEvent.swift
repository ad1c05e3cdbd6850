/// What a `Mailer` reports while it works (the seed component's events), through the one
/// observer closure given to it. The observer is called on the mailer's worker threads:
/// keep it quick, and hop to your own actor if it touches shared state.
public enum MailerEvent: Sendable {
    /// ConnectionStatus: connecting, connected, TLS, authenticated, ready, disconnected.
    case connectionStatus(SMTPConnectionStatus)
    /// StartTransfer: the message data of this copy starts.
    case startTransfer(messageID: String, recipients: [String])
    /// Transfer: octets of the message sent so far, of the total.
    case transfer(bytes: Int64, total: Int64)
    /// EndTransfer: the relay answered the end of the data.
    case endTransfer(messageID: String)
    /// PITrail: every protocol line in and out, the message data and AUTH secrets excepted
    /// (AUTH lines show `<redacted>`).
    case trace(SMTPTraceDirection, String)
    /// Error: something went wrong (the call that failed also throws or reports it).
    case error(MailError)
}

/// What became of one recipient.
public enum RecipientStatus: String, Sendable {
    /// The relay took responsibility for the message (2xx).
    case accepted
    /// A temporary failure (4xx, or the session broke): try again later.
    case deferred
    /// A permanent refusal (5xx).
    case refused
}

/// One recipient's result.
public struct RecipientResult: Sendable {
    public var address: String
    public var status: RecipientStatus
    /// The relay's reply verbatim (`250 2.1.5 Ok`), or our reason when the relay said nothing.
    public var reply: String
    /// RFC 3463 enhanced status (`2.1.5`).
    public var enhancedStatus: String
}

/// The result of `Mailer.send`.
public struct DeliveryReport: Sendable {
    /// The Message-ID the message was sent with (without angle brackets).
    public var messageID: String
    /// Every recipient, To and Cc first, then Bcc.
    public var recipients: [RecipientResult]
    /// Whether every recipient was accepted.
    public var allAccepted: Bool { recipients.allSatisfy { $0.status == .accepted } }
}
