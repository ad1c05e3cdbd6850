/// One envelope recipient with its DSN parameters (RFC 5321 4.1.1.3, RFC 3461 4.1-4.2).
public struct SMTPRecipient: Hashable, Sendable {
    /// The forward-path without angle brackets.
    public var address: String
    /// NOTIFY= (RFC 3461 4.1), sent only when the relay announces DSN.
    public var notify: DSNNotify?
    /// ORCPT= address (RFC 3461 4.2, type rfc822), sent only when the relay announces DSN.
    public var originalRecipient: String?

    /// Creates a recipient.
    public init(_ address: String, notify: DSNNotify? = nil, originalRecipient: String? = nil) {
        self.address = address
        self.notify = notify
        self.originalRecipient = originalRecipient
    }
}

/// The SMTP envelope of one message (RFC 5321 2.3.1): what MAIL FROM and RCPT TO carry.
public struct SMTPEnvelope: Hashable, Sendable {
    /// The reverse-path without angle brackets; nil is the null sender `<>` (bounces).
    public var sender: String?
    /// The recipients, in order.
    public var recipients: [SMTPRecipient]
    /// RET= (RFC 3461 4.3), sent only when the relay announces DSN.
    public var ret: DSNReturn?
    /// ENVID= (RFC 3461 4.4), sent only when the relay announces DSN.
    public var envelopeID: String?
    /// The body type (RFC 6152, RFC 3030).
    public var body: SMTPBodyType
    /// True when the message needs SMTPUTF8 (RFC 6531) even if the addresses are ASCII: a relay
    /// without it gets nothing (RFC 6531 3.3); non-ASCII addresses need it in any case.
    public var requiresSMTPUTF8: Bool
    /// Why the message needs SMTPUTF8 when its addresses are ASCII (`requiresSMTPUTF8`), for
    /// the refusal: e.g. the header fields whose 8-bit octets cannot be encoded.
    public var smtpUTF8Reason: String?
    /// True when the header has raw 8-bit fields (RFC 6532): SMTPUTF8 is requested when the
    /// relay offers it (RFC 6531 3.4: such a message needs it); without it the fields are
    /// RFC 2047-encoded (`HeaderDowngrade`), and the message is refused when one cannot be.
    /// The client looks for them itself in a message given as bytes.
    public var prefersSMTPUTF8: Bool
    /// True when the data may have lines over 998 octets (RFC 5321 4.5.3.1.6): they are
    /// re-encoded or broken before sending (`MessageConversion`). The client finds long
    /// lines itself only in a message given as bytes; a streamed one is trusted to this flag.
    public var hasLongLines: Bool
    /// True when the data may hold NUL octets, which 7bit and 8bit data may not (RFC 2045 2.7,
    /// 2.8; RFC 6152 3): the entities holding them are re-encoded before sending
    /// (`MessageConversion`), and a message where that is impossible is refused, never sent
    /// with NUL. As for `hasLongLines`, the client looks for NUL itself only in a message
    /// given as bytes.
    public var hasNUL: Bool
    /// The message size in octets, for SIZE= and the early size check (RFC 1870).
    public var messageSize: Int?

    /// Creates an envelope.
    public init(sender: String?, recipients: [SMTPRecipient], ret: DSNReturn? = nil,
                envelopeID: String? = nil, body: SMTPBodyType = .sevenBit,
                requiresSMTPUTF8: Bool = false, prefersSMTPUTF8: Bool = false,
                hasLongLines: Bool = false, hasNUL: Bool = false, messageSize: Int? = nil) {
        self.sender = sender
        self.recipients = recipients
        self.ret = ret
        self.envelopeID = envelopeID
        self.body = body
        self.requiresSMTPUTF8 = requiresSMTPUTF8
        self.prefersSMTPUTF8 = prefersSMTPUTF8
        self.hasLongLines = hasLongLines
        self.hasNUL = hasNUL
        self.messageSize = messageSize
    }

    /// True when SMTPUTF8 is needed: flagged, or some address is not ASCII (RFC 6531 3.3).
    public var needsSMTPUTF8: Bool {
        requiresSMTPUTF8 || SMTPCommand.needsSMTPUTF8(sender ?? "")
            || recipients.contains { SMTPCommand.needsSMTPUTF8($0.address) }
    }

    /// Whether MAIL FROM asks for SMTPUTF8 with a relay that does (`offered`) or does not
    /// announce it: when needed, or preferred and offered.
    public func requestsSMTPUTF8(offered: Bool) -> Bool {
        needsSMTPUTF8 || (prefersSMTPUTF8 && offered)
    }
}

/// The outcome of a recipient or a message: accepted, transient or permanent failure
/// (RFC 5321 4.2.1 reply classes 2, 4 and 5).
public enum SMTPOutcomeKind: Hashable, Sendable {
    /// Accepted by the relay (2yz after the data).
    case accepted
    /// Transient failure (4yz or a local condition that may clear): retry later.
    case transient
    /// Permanent failure (5yz or a local condition that will not clear): bounce.
    case permanent
}

/// An outcome with the reply or local reason behind it.
public struct SMTPOutcome: Hashable, Sendable {
    /// Accepted, transient or permanent.
    public var kind: SMTPOutcomeKind
    /// The server's reply that decided it, verbatim; nil for a local decision.
    public var reply: SMTPReply?
    /// The enhanced status code (RFC 3463): the server's, derived from the reply class, or
    /// ours for local decisions.
    public var enhancedStatus: EnhancedStatusCode
    /// One line for logs and bounces: `250 2.0.0 Ok` for a reply, or the local reason.
    public var diagnostic: String

    /// An outcome from a server reply.
    public init(reply: SMTPReply) {
        self.kind = reply.isPositive ? .accepted : (reply.isTransient ? .transient : .permanent)
        self.reply = reply
        self.enhancedStatus = reply.effectiveStatus
        self.diagnostic = "\(reply.code) \(reply.text)"
    }

    /// An outcome decided locally, with our own status and reason.
    public init(kind: SMTPOutcomeKind, status: EnhancedStatusCode, reason: String) {
        self.kind = kind
        self.reply = nil
        self.enhancedStatus = status
        self.diagnostic = reason
    }
}

/// What happened to one recipient in a transaction.
public struct SMTPRecipientResult: Hashable, Sendable {
    /// The recipient as given in the envelope.
    public var recipient: SMTPRecipient
    /// Its outcome: the RCPT reply when refused, else the reply to the data.
    public var outcome: SMTPOutcome
}

/// The result of one mail transaction (RFC 5321 3.3).
public struct SMTPTransactionResult: Hashable, Sendable {
    /// One result per envelope recipient, in envelope order.
    public var recipients: [SMTPRecipientResult]
    /// The message as a whole: accepted when the data was accepted for at least one
    /// recipient; otherwise transient if any recipient may be retried, else permanent.
    public var message: SMTPOutcome
}
