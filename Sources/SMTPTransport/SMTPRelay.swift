import MailMessage
import SMTPProtocol

/// Timeouts in seconds; defaults from RFC 5321 4.5.3.2. Each wait for a reply is bounded
/// as a whole (one deadline for all the reads of a reply, not one per read, as Postfix's
/// `smtp_*_timeout` with `smtp_per_record_deadline`), and `delivery` bounds each operation.
public struct SMTPTimeouts: Hashable, Sendable {
    /// TCP connect (not in the RFC; 30 s as Postfix's smtp_connect_timeout).
    public var connect: Double = 30
    /// The 220 greeting (4.5.3.2.1: 5 minutes).
    public var greeting: Double = 300
    /// The TLS handshake (not in the RFC; 60 s).
    public var tlsHandshake: Double = 60
    /// MAIL (4.5.3.2.2: 5 minutes).
    public var mail: Double = 300
    /// Each RCPT (4.5.3.2.3: 5 minutes).
    public var rcpt: Double = 300
    /// DATA's 354 (4.5.3.2.4: 2 minutes).
    public var dataInitiation: Double = 120
    /// Each write of message data (4.5.3.2.5: 3 minutes).
    public var dataBlock: Double = 180
    /// The reply to the final "." (4.5.3.2.6: 10 minutes).
    public var dataTermination: Double = 600
    /// Other commands: EHLO, STARTTLS, AUTH, RSET, VRFY, EXPN, QUIT (5 minutes).
    public var command: Double = 300
    /// The whole of one operation, whatever the steps: `SMTPClient.connect` (connection,
    /// greeting, TLS, EHLO, AUTH) and each `send` (the transaction, data included) are each
    /// bounded by it, on top of the per-step waits above, which a server that trickles its
    /// replies a byte at a time could otherwise stretch one after another (not in the RFC;
    /// 30 minutes: RFC 5321's own waits for one message add up to more than 20).
    public var delivery: Double = 1800

    /// The RFC defaults.
    public init() {}

    /// Every timeout set to `seconds` (useful in tests).
    public static func all(_ seconds: Double) -> SMTPTimeouts {
        var t = SMTPTimeouts()
        t.connect = seconds; t.greeting = seconds; t.tlsHandshake = seconds; t.mail = seconds
        t.rcpt = seconds; t.dataInitiation = seconds; t.dataBlock = seconds
        t.dataTermination = seconds; t.command = seconds; t.delivery = seconds
        return t
    }

    func seconds(for wait: SMTPWait) -> Double {
        switch wait {
        case .greeting: return greeting
        case .mail: return mail
        case .rcpt: return rcpt
        case .dataInitiation: return dataInitiation
        case .dataTermination: return dataTermination
        case .command: return command
        }
    }
}

/// TLS parameters of a relay (RFC 3207, RFC 8314, RFC 6125).
public struct SMTPTLSSettings: Sendable {
    /// Verify the chain against the trust store and the name against the certificate (on by
    /// default; turning it off leaves the session open to an active attacker).
    public var verifyCertificate = true
    /// Trust only the CAs in this PEM file instead of the system store.
    public var caFile: String?
    /// The name to check the certificate against; default the relay's host.
    public var verifyName: String?
    /// SHA-256 fingerprints of the certificate (DER); when set, one must match, in addition
    /// to verification unless it is turned off.
    public var pinnedSHA256: [[UInt8]] = []
    /// A client certificate (PEM, with chain) for relays that want one.
    public var clientCertificateFile: String?
    /// Its private key (PEM); default: the certificate file.
    public var clientKeyFile: String?

    /// Verification against the system store, no pins, no client certificate.
    public init() {}

    /// Parses a SHA-256 fingerprint written as hex, with or without ':' separators.
    public static func fingerprint(hex: String) -> [UInt8]? { Hex.fingerprint(hex) }
}

/// A relay to send through, as the `[[relay]]` table of the config describes it.
public struct SMTPRelay: @unchecked Sendable {
    /// Host name or IP literal.
    public var host: String
    /// TCP port; default 587 with STARTTLS, 465 with implicit TLS, 25 without TLS.
    public var port: UInt16
    /// The TLS mode (each case documents its security consequence).
    public var tls: SMTPTLSMode
    /// A SOCKS or HTTP proxy to reach the relay through; nil: a direct connection. TLS is
    /// still checked against `host` (and `tlsSettings.verifyName`), never the proxy's name.
    public var proxy: SMTPProxy?
    /// Verification, CA file, pins, client certificate.
    public var tlsSettings = SMTPTLSSettings()
    /// How to authenticate.
    public var auth: SMTPAuthMode = .none
    /// The user name for AUTH.
    public var user: String?
    /// Returns the password (or OAuth token); called once per connection that authenticates,
    /// never when `auth` is `.none`. Errors become `SMTPError.Code.secretUnavailable`.
    public var secretProvider: (() throws -> [UInt8])?
    /// True when the secret is an OAuth 2.0 token (then `auto` picks XOAUTH2).
    public var secretIsOAuthToken = false
    /// Allow credentials over an unencrypted connection (loopback included). Off by default.
    public var allowPlaintextAuth = false
    /// The EHLO name.
    public var heloName: String
    /// Timeouts.
    public var timeouts = SMTPTimeouts()
    /// Use PIPELINING when offered (RFC 2920).
    public var usePipelining = true
    /// How many pipelined commands go out before their replies are read (RFC 2920 3.1).
    public var pipeliningWindow = SMTPPipeliningWindow()
    /// Use BDAT when CHUNKING is offered (RFC 3030).
    public var useChunking = true

    /// Creates a relay description.
    public init(host: String, port: UInt16? = nil, tls: SMTPTLSMode = .startTLS, heloName: String) {
        self.host = host
        self.tls = tls
        self.heloName = heloName
        switch tls {
        case .none: self.port = port ?? 25
        case .startTLS: self.port = port ?? 587
        case .implicit: self.port = port ?? 465
        }
    }
}
