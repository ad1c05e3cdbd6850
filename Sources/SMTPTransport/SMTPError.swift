import MailMessage
import SMTPProtocol

/// The one error of SMTPTransport (house rule 5): an extensible code, whether retrying later
/// may succeed, the server's reply verbatim when there is one, and which relay it concerns.
public struct SMTPError: Error, CustomStringConvertible, Sendable {
    /// What went wrong; extensible (new codes can be added without breaking switches).
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let rawValue: String
        /// Creates a code.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The name.
        public var description: String { rawValue }

        /// Bad or unusable configuration (CA file, client certificate, no credentials...).
        public static let configuration = Code(rawValue: "configuration")
        /// The secret provider failed (password_file, password_command).
        public static let secretUnavailable = Code(rawValue: "secret-unavailable")
        /// The relay's name did not resolve.
        public static let resolve = Code(rawValue: "resolve")
        /// No TCP connection could be made.
        public static let connect = Code(rawValue: "connect")
        /// A wait ran past its RFC 5321 4.5.3.2 (or configured) timeout.
        public static let timeout = Code(rawValue: "timeout")
        /// The server closed the connection.
        public static let connectionClosed = Code(rawValue: "connection-closed")
        /// Another IO failure.
        public static let io = Code(rawValue: "io")
        /// `interrupt()` was called.
        public static let interrupted = Code(rawValue: "interrupted")
        /// The TLS handshake failed (RFC 8446).
        public static let tlsHandshake = Code(rawValue: "tls-handshake")
        /// The certificate chain or host name did not verify (RFC 6125).
        public static let tlsVerification = Code(rawValue: "tls-verification")
        /// The certificate matched no configured SHA-256 pin.
        public static let tlsPinMismatch = Code(rawValue: "tls-pin-mismatch")
        /// STARTTLS required but not offered (RFC 3207): never a downgrade.
        public static let tlsUnavailable = Code(rawValue: "tls-unavailable")
        /// STARTTLS refused by the server (RFC 3207 4).
        public static let tlsRejected = Code(rawValue: "tls-rejected")
        /// The greeting was not 220 (RFC 5321 3.1).
        public static let greetingRejected = Code(rawValue: "greeting-rejected")
        /// EHLO and HELO refused (RFC 5321 4.1.1.1).
        public static let heloRejected = Code(rawValue: "helo-rejected")
        /// No usable SASL mechanism offered (RFC 4954 3).
        public static let authUnavailable = Code(rawValue: "auth-unavailable")
        /// Credentials would cross an unencrypted connection and the relay does not allow it.
        public static let plaintextAuthRefused = Code(rawValue: "plaintext-auth-refused")
        /// The server refused the credentials (RFC 4954 6).
        public static let authFailed = Code(rawValue: "auth-failed")
        /// The SASL exchange failed on our side (e.g. SCRAM server proof wrong).
        public static let saslFailed = Code(rawValue: "sasl-failed")
        /// 421: the server closes the connection (RFC 5321 3.8).
        public static let serviceClosing = Code(rawValue: "service-closing")
        /// A reply out of place.
        public static let unexpectedReply = Code(rawValue: "unexpected-reply")
        /// A reply that does not parse (RFC 5321 4.2).
        public static let malformedReply = Code(rawValue: "malformed-reply")
        /// An argument that cannot go on the wire (CR, LF, NUL...).
        public static let invalidArgument = Code(rawValue: "invalid-argument")
        /// A call in the wrong state (send before connect...).
        public static let invalidState = Code(rawValue: "invalid-state")
        /// Reading the message source failed.
        public static let messageSource = Code(rawValue: "message-source")
        /// The proxy could not be resolved or connected to.
        public static let proxyUnreachable = Code(rawValue: "proxy-unreachable")
        /// The proxy wants credentials, or refused them (RFC 1929 status, HTTP 407).
        public static let proxyAuthFailed = Code(rawValue: "proxy-auth-failed")
        /// The proxy refused the tunnel to the relay (`socksReplyCode`, `httpStatusLine`).
        public static let proxyRefused = Code(rawValue: "proxy-refused")
        /// The proxy's answer does not parse, or it closed the connection during the handshake.
        public static let proxyProtocol = Code(rawValue: "proxy-protocol")
    }

    /// What went wrong.
    public var code: Code
    /// Our description (never contains secrets).
    public var message: String
    /// The server's reply, verbatim, when one caused this.
    public var reply: SMTPReply?
    /// True when retrying later may succeed (RFC 5321 4.2.1 class 4 and local conditions).
    public var isTransient: Bool
    /// The relay concerned, once connected.
    public var relay: RelayResult?
    /// The proxy's SOCKS reply code (RFC 1928 6 REP, RFC 1929 STATUS, SOCKS4 CD), when one
    /// caused this.
    public var socksReplyCode: UInt8?
    /// The HTTP proxy's status line, verbatim, when one caused this.
    public var httpStatusLine: String?

    /// Creates an error.
    public init(_ code: Code, _ message: String, reply: SMTPReply? = nil, transient: Bool, relay: RelayResult? = nil) {
        self.code = code
        self.message = message
        self.reply = reply
        self.isTransient = transient
        self.relay = relay
    }

    /// True when retrying cannot succeed.
    public var isPermanent: Bool { !isTransient }

    /// `message`, then the server's reply.
    public var description: String {
        reply.map { "\(message) (server said: \($0.verbatim.replacingNewlines))" } ?? message
    }

    /// Maps a protocol failure from the state machine.
    init(_ failure: SMTPSessionFailure, relay: RelayResult?) {
        let code: Code
        switch failure.kind {
        case .greetingRejected: code = .greetingRejected
        case .heloRejected: code = .heloRejected
        case .startTLSUnavailable: code = .tlsUnavailable
        case .startTLSRejected: code = .tlsRejected
        case .authUnavailable: code = .authUnavailable
        case .plaintextAuthRefused: code = .plaintextAuthRefused
        case .authRejected: code = .authFailed
        case .saslFailed: code = .saslFailed
        case .serviceClosing: code = .serviceClosing
        case .unexpectedReply: code = .unexpectedReply
        case .invalidArgument: code = .invalidArgument
        case .invalidState: code = .invalidState
        }
        self.init(code, failure.message, reply: failure.reply, transient: failure.isTransient, relay: relay)
    }
}

extension SMTPError.Code: CaseIterable {
    /// Every code declared above (a test checks that none is missing), so that callers can
    /// prove they give each one a meaning.
    public static let allCases: [SMTPError.Code] = [
        .configuration, .secretUnavailable, .resolve, .connect, .timeout, .connectionClosed, .io,
        .interrupted, .tlsHandshake, .tlsVerification, .tlsPinMismatch, .tlsUnavailable,
        .tlsRejected, .greetingRejected, .heloRejected, .authUnavailable, .plaintextAuthRefused,
        .authFailed, .saslFailed, .serviceClosing, .unexpectedReply, .malformedReply,
        .invalidArgument, .invalidState, .messageSource, .proxyUnreachable, .proxyAuthFailed,
        .proxyRefused, .proxyProtocol,
    ]
}

extension String {
    var replacingNewlines: String {
        // By bytes: a line ending in CR followed by the "\n" joiner is one Character.
        TextLines.lines(of: self).joined(separator: " / ")
    }
}

/// Which relay answered: Postfix's `relay=host[ip]:port`.
public struct RelayResult: Hashable, Sendable, CustomStringConvertible {
    /// The configured host name.
    public var host: String
    /// The numeric address connected to; through a proxy `via KIND ADDRESS:PORT`, the
    /// proxy's (e.g. `via socks5 192.0.2.7:1080`): the relay's address is the proxy's business.
    public var address: String
    /// The port.
    public var port: UInt16
    /// `host[address]:port`, as in Postfix's log lines.
    public var description: String { "\(host)[\(address)]:\(port)" }
}
