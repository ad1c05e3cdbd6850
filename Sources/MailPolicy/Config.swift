/// MailPolicy: the config file (TOML) as typed values, and the policy decisions taken from it.
/// No IO: it takes the config's text and returns values or every problem found, with lines.
///
/// Contract: ../shared/DESIGN.md "Config". Unknown keys are errors, never ignored.

/// How a submission is delivered (`delivery` key; `-odb`, `-odi`, `-odq`).
public enum DeliveryMode: String, Sendable, CaseIterable {
    /// Queue, then deliver in a detached child; the caller waits only for the queue.
    case background
    /// Queue, deliver, and wait; permanent refusals are reported through the exit status.
    case interactive
    /// Queue only; a later `sealmail -q` delivers.
    case queue
}

/// TLS to a relay. Each case says what it guarantees.
public enum RelayTLS: String, Sendable, CaseIterable {
    /// Plain text: anyone on the path reads the mail. Credentials are refused unless
    /// `allow_plaintext_auth` says otherwise.
    case none
    /// STARTTLS (RFC 3207), required: a relay that does not offer it is a failure.
    case starttls
    /// Implicit TLS from the first byte (RFC 8314, usually port 465).
    case tls
}

/// SASL mechanism selection for a relay (RFC 4954).
public enum RelayAuth: String, Sendable, CaseIterable {
    case none, auto, plain, login
    case cramMD5 = "cram-md5"
    case scramSHA256 = "scram-sha-256"
    case xoauth2
}

/// One `[[relay]]` table: a smarthost, tried in order.
public struct RelayConfig: Equatable, Sendable {
    public var host: String
    public var port: Int
    public var tls: RelayTLS
    public var tlsVerify: Bool
    public var caFile: String?
    /// SHA-256 fingerprints (hex, colons optional) of acceptable server certificates.
    public var tlsFingerprints: [String]
    public var clientCertificate: String?
    public var clientKey: String?
    public var auth: RelayAuth
    public var user: String?
    public var passwordFile: String?
    public var passwordCommand: String?
    /// Allow credentials over a connection without TLS (loopback included). Off by default.
    public var allowPlaintextAuth: Bool
    /// A SOCKS or HTTP proxy to reach the relay through (`proxy`); nil: direct.
    public var proxy: RelayProxy?
    /// The proxy's user name (SOCKS5, HTTP Basic) or SOCKS4a user id (`proxy_user`).
    public var proxyUser: String?
    /// A file whose first line is the proxy password (`proxy_password_file`).
    public var proxyPasswordFile: String?
    public var connectTimeout: Int
    public var commandTimeout: Int
    public var dataTimeout: Int
    /// The most one delivery attempt through this relay may take, in seconds, whatever the
    /// waits above (`delivery_timeout`): connecting and opening the session when no open one
    /// is reused, then the transaction. A server that trickles its replies cannot hold a
    /// queue run longer. Default 1800: RFC 5321's own waits for one message add up to more
    /// than 20 minutes, and a legitimate slow session must not be cut.
    public var deliveryTimeout: Int
    /// The config line of the `[[relay]]` header, for messages.
    public var line: Int?

    public init(host: String, port: Int? = nil, tls: RelayTLS = .starttls) {
        self.host = host
        self.tls = tls
        self.port = port ?? (tls == .tls ? 465 : (tls == .starttls ? 587 : 25))
        tlsVerify = true
        tlsFingerprints = []
        auth = .auto
        allowPlaintextAuth = false
        connectTimeout = 30
        commandTimeout = 300
        dataTimeout = 600
        deliveryTimeout = 1800
    }
}

/// Local delivery of unqualified or local recipients (issue 6).
public enum LocalDelivery: String, Sendable, CaseIterable {
    case mbox, none
}

/// `[[smime.sign]]`: who signs with which key.
public struct SignRule: Equatable, Sendable {
    /// `form`: how a signed-only message is framed (RFC 8551 3.5). A signature inside an
    /// encryption is always detached.
    public enum Form: String, Sendable, CaseIterable {
        /// multipart/signed (RFC 1847): readable by clients without S/MIME. The default.
        case detached
        /// application/pkcs7-mime; smime-type=signed-data: survives relays that re-encode,
        /// but only S/MIME clients show its content.
        case opaque
    }
    /// `rsa_scheme`: the signature scheme for an RSA key (RFC 8551 2.2); EC keys sign with ECDSA.
    public enum RSAScheme: String, Sendable, CaseIterable {
        /// RSASSA-PKCS1-v1_5: the default.
        case pkcs1
        /// RSASSA-PSS (RFC 4056).
        case pss
    }
    public var from: [String]
    public var certificate: String
    public var key: String
    public var keyPassphraseFile: String?
    public var chain: String?
    public var users: [String]
    public var unauthorised: String
    public var digest: String?
    public var line: Int?
    public var form: Form = .detached
    public var rsaScheme: RSAScheme = .pkcs1
}

/// `[[smime.encrypt]]`: which recipients are encrypted to, and how strictly.
public struct EncryptRule: Equatable, Sendable {
    public enum Mode: String, Sendable, CaseIterable { case never, opportunistic, required }
    /// `key_transport`: how the content key reaches an RSA recipient (RFC 8551 2.3).
    public enum KeyTransport: String, Sendable, CaseIterable {
        /// RSAES-PKCS1-v1_5 for every RSA recipient.
        case pkcs1
        /// RSAES-OAEP (RFC 3560, SHA-256) for every RSA recipient.
        case oaep
        /// RSAES-OAEP for a certificate whose SMIMECapabilities extension (RFC 4262) lists it,
        /// PKCS #1 v1.5 for the others. The default.
        case auto
    }
    public var to: [String]
    public var mode: Mode
    public var cipher: String?
    public var line: Int?
    /// RFC 9788 header protection for these recipients; nil: `[smime] header_protection`.
    public var headerProtection: Bool? = nil
    /// For these recipients; nil: `[smime] key_transport`.
    public var keyTransport: KeyTransport? = nil
    /// RFC 9788 legacy display for these recipients; nil: `[smime] legacy_display`.
    public var legacyDisplay: Bool? = nil
}

/// `[smime]`.
public struct SMIMEConfig: Equatable, Sendable {
    public var certificates: String?
    public var trustAnchors: String?
    public var digest: String = "sha256"
    public var cipher: String = "aes-256-cbc"
    public var sign: [SignRule] = []
    public var encrypt: [EncryptRule] = []
    /// RFC 9788 header protection (`header_protection`): the real header fields go inside
    /// the signed or encrypted entity; an encrypted copy's outer Subject becomes `[...]`.
    /// Off by default; `[[smime.encrypt]]` rules may say otherwise for their recipients.
    public var headerProtection = false
    /// `key_transport` for RSA recipients of rules that do not say (`auto` by default).
    public var keyTransport: EncryptRule.KeyTransport = .auto
    /// RFC 9788 legacy display (`legacy_display`, section 4.5.3): when header protection hides
    /// the Subject of an encrypted copy, its main text parts begin with the real Subject, for
    /// clients that do not read protected headers. On by default.
    public var legacyDisplay = true
    /// The subject tag (`secure_tag`, e.g. `[secure]`) by which a sender asks for the whole
    /// message to be encrypted: matched case-insensitively, removed before sending. nil: off.
    public var secureTag: String?
    public init() {}

    /// The digests the S/MIME engine signs with (SMIME's `DigestAlgorithm`: `SHA-256` and
    /// `sha256` are one; SHA-1 and MD5 are refused), and the content ciphers it encrypts
    /// with (`ContentCipher`). AlgorithmNamesTests (SendmailKitTests) keeps the lists equal to the engine's.
    public static let digests = (all: ["sha256", "sha384", "sha512"],
                                 normalise: { (name: String) in String(name.lowercased().filter { $0 != "-" }) })
    public static let ciphers = (all: ["aes-256-cbc", "aes-128-cbc", "aes-256-gcm", "aes-128-gcm"],
                                 normalise: { (name: String) in name.lowercased() })
}

/// The whole config file.
public struct SealmailConfig: Equatable, Sendable {
    public var hostname: String?
    public var domain: String?
    public var queueDir: String = "/var/spool/sealmail"
    public var delivery: DeliveryMode = .background
    public var aliases: String = "/etc/aliases"
    public var localDelivery: LocalDelivery?
    /// Where local mailboxes are (`/var/mail/USER`).
    public var mailSpool: String = "/var/mail"
    /// Seconds a message may stay queued before it is bounced (default 5 days).
    public var maxQueueLifetime: Int = 5 * 86400
    /// Users who may set any sender (root always may), as sendmail's trusted users.
    public var trusted: [String] = []
    /// Users or `@group`s to the sender address patterns they may use.
    public var senders: [String: [String]]? = nil
    /// Users who may list the whole queue (root always may); others see their own mail.
    public var mailqUsers: [String] = []
    /// SMTP sessions a queue run opens in parallel.
    public var maxConnections: Int = 4
    /// How long `sealmail -odi` waits for the delivery, in seconds (`interactive_timeout`);
    /// then the delivery is interrupted, the message stays queued for the next queue run (with
    /// a delay reason saying so), and sealmail exits 0 with a note. Default 60: a healthy relay
    /// takes a few seconds, and the programs that call sendmail (cron, scripts, web
    /// applications) should not hang on a slow one; nothing is lost by stopping.
    public var interactiveTimeout: Int = 60
    /// syslog identity and facility.
    public var syslogIdent: String = "sealmail"
    public var relays: [RelayConfig] = []
    public var smime = SMIMEConfig()

    public init() {}
}

/// Host and domain names as sealmail accepts them (`hostname`, `domain`, `/etc/mailname`):
/// letters, digits, hyphens and dots (RFC 1123 2.1), no empty label, at most 253 octets. What
/// passes can go into EHLO, Message-Id, Received and addresses without quoting or injection.
public enum HostName {
    public static func isValid(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 253 && !s.hasPrefix(".") && !s.hasSuffix(".") && s.firstRange(of: "..") == nil
            && s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 46 }
    }
}
