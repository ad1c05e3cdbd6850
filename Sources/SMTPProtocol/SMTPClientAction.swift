/// How the session protects itself with TLS (RFC 3207, RFC 8314). Each case states its
/// security consequence.
public enum SMTPTLSMode: String, Hashable, Sendable {
    /// No TLS: everything, including the message, crosses the network in clear; AUTH is
    /// refused unless plaintext authentication is explicitly allowed.
    case none
    /// STARTTLS (RFC 3207) is required: a relay that does not offer it, or refuses it, is a
    /// failure; the session never continues in clear.
    case startTLS = "starttls"
    /// Implicit TLS from the first byte (RFC 8314 3.3, port 465).
    case implicit = "tls"
}

/// The fixed parameters of one SMTP session.
public struct SMTPSessionConfiguration: Sendable {
    /// The EHLO/HELO name (RFC 5321 4.1.1.1).
    public var heloName: String
    /// The TLS mode; `.implicit` means the connection is encrypted before the greeting.
    public var tls: SMTPTLSMode
    /// How to authenticate (RFC 4954).
    public var auth: SMTPAuthMode
    /// Credentials for AUTH; required unless `auth` is `.none`.
    public var credentials: SASLCredentials?
    /// Allow AUTH over an unencrypted connection (loopback included). Off by default.
    public var allowPlaintextAuth: Bool
    /// Use PIPELINING when offered (RFC 2920).
    public var usePipelining: Bool
    /// Use BDAT when CHUNKING is offered (RFC 3030); BINARYMIME needs it regardless.
    public var useChunking: Bool
    /// How many pipelined commands go out before their replies are read (RFC 2920 3.1).
    public var pipeliningWindow: SMTPPipeliningWindow

    /// Creates a configuration.
    public init(heloName: String, tls: SMTPTLSMode = .startTLS, auth: SMTPAuthMode = .none,
                credentials: SASLCredentials? = nil, allowPlaintextAuth: Bool = false,
                usePipelining: Bool = true, useChunking: Bool = true,
                pipeliningWindow: SMTPPipeliningWindow = SMTPPipeliningWindow()) {
        self.heloName = heloName
        self.tls = tls
        self.auth = auth
        self.credentials = credentials
        self.allowPlaintextAuth = allowPlaintextAuth
        self.usePipelining = usePipelining
        self.useChunking = useChunking
        self.pipeliningWindow = pipeliningWindow
    }
}

/// The most a pipelined group may hold before the client reads its replies (RFC 2920 3.1: a
/// client that writes a whole group before reading "MUST ... make sure that each group of
/// commands fits entirely within the window", else both sides can block writing, each
/// waiting for the other to read, until the timeout). The defaults, 100 commands and 4096
/// octets (the window size RFC 2920 3.1 calls usual), keep a group and its replies within the
/// smallest socket buffers; a transaction with more recipients costs one round trip per group
/// (5,000 recipients: about 40), instead of a deadlock. A group always holds at least one
/// command, and DATA is always the last of its group.
public struct SMTPPipeliningWindow: Hashable, Sendable {
    /// Commands per group, at least 1.
    public var commands: Int
    /// Octets per group (a single longer command still goes alone).
    public var octets: Int

    /// Creates a window; values below 1 count as 1.
    public init(commands: Int = 100, octets: Int = 4096) {
        self.commands = max(1, commands)
        self.octets = max(1, octets)
    }
}

/// Bytes to write, with their protocol trace (AUTH data already replaced by `<redacted>`).
public struct SMTPOutput: Hashable, Sendable {
    /// The bytes for the wire.
    public var bytes: [UInt8]
    /// One trace line per command line, without CRLF, secrets redacted.
    public var trace: [String]
}

/// What the reply being waited for answers; selects the RFC 5321 4.5.3.2 timeout.
public enum SMTPWait: String, Hashable, Sendable {
    /// The 220 greeting (4.5.3.2.1: 5 minutes).
    case greeting
    /// MAIL FROM (4.5.3.2.2: 5 minutes).
    case mail
    /// RCPT TO (4.5.3.2.3: 5 minutes).
    case rcpt
    /// DATA's 354 (4.5.3.2.4: 2 minutes).
    case dataInitiation
    /// The reply to the final "." or the last BDAT chunk (4.5.3.2.6: 10 minutes).
    case dataTermination
    /// Any other command: EHLO, STARTTLS, AUTH, RSET, VRFY, QUIT... (5 minutes).
    case command
}

// So that "\(wait)" is a static call: interpolating an enum without it goes through
// reflection (Mirror and protocol conformance scans) on every reply read.
extension SMTPWait: CustomStringConvertible {
    public var description: String { rawValue }
}

/// How the message data is to be streamed.
public enum SMTPBodyFraming: Hashable, Sendable {
    /// DATA: line ends normalised, dot-stuffed, then ".", CRLF (RFC 5321 4.1.1.4).
    case dotStuffed
    /// BDAT chunks (RFC 3030); line ends normalised unless the body is BINARYMIME.
    case chunked(binary: Bool)
}

/// Why a session cannot go on.
public struct SMTPSessionFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Kind: Hashable, Sendable {
        /// The greeting was not 220 (RFC 5321 4.2, 3.1).
        case greetingRejected
        /// EHLO and HELO were refused (RFC 5321 4.1.1.1).
        case heloRejected
        /// STARTTLS was required and not offered (RFC 3207 4).
        case startTLSUnavailable
        /// STARTTLS was refused (RFC 3207 4).
        case startTLSRejected
        /// AUTH was required and no usable mechanism was offered (RFC 4954 3).
        case authUnavailable
        /// AUTH over an unencrypted connection without explicit permission.
        case plaintextAuthRefused
        /// The server refused the credentials (RFC 4954 6).
        case authRejected
        /// The SASL exchange failed on our side (bad challenge, server proof wrong).
        case saslFailed
        /// 421: the server is closing the connection (RFC 5321 3.8).
        case serviceClosing
        /// A reply that makes no sense at this point, or an unexpected RSET failure.
        case unexpectedReply
        /// A local argument could not be encoded (CR/LF/NUL...).
        case invalidArgument
        /// An operation was requested in a state that does not allow it.
        case invalidState
    }
    /// The kind.
    public var kind: Kind
    /// The server's reply behind it, verbatim, when there is one.
    public var reply: SMTPReply?
    /// Our description.
    public var message: String
    /// Whether retrying later may succeed.
    public var isTransient: Bool

    /// The message, with the reply when there is one.
    public var description: String {
        reply.map { "\(message): \($0.verbatim)" } ?? message
    }
}

/// Requests a non-mail command in the ready state.
public enum SMTPCommandRequest: Hashable, Sendable {
    /// VRFY (RFC 5321 4.1.1.6).
    case verify(String)
    /// EXPN (RFC 5321 4.1.1.7).
    case expand(String)
    /// NOOP (RFC 5321 4.1.1.9).
    case noop
    /// Any other single-reply command line (RFC 5321 2.4); no CR/LF/NUL.
    case raw(String)
}

/// What the driver must do next (house rule 8: a state machine returns actions).
public enum SMTPClientAction: Hashable, Sendable {
    /// Write the bytes, then read a reply and pass it to `receive(_:)`.
    case send(SMTPOutput, SMTPWait)
    /// Read another reply (pipelined replies) and pass it to `receive(_:)`.
    case read(SMTPWait)
    /// Perform the TLS handshake on the connection, then call `tlsEstablished()`.
    case startTLS
    /// Stream the message data with this framing, then read the final reply and pass it to
    /// `receive(_:)`. For BDAT, a refused non-final chunk is passed instead and streaming stops.
    case sendBody(SMTPBodyFraming)
    /// The session is established and idle: call `beginTransaction`, `command` or `quit`.
    case ready
    /// A transaction ended; the session is idle again.
    case transactionComplete(SMTPTransactionResult)
    /// A VRFY/EXPN/NOOP/raw command ended with this reply; the session is idle again.
    case commandComplete(SMTPReply)
    /// QUIT was answered (or the session is over): close the connection.
    case close
    /// The session cannot go on: close the connection and report the failure.
    case fail(SMTPSessionFailure)
}
