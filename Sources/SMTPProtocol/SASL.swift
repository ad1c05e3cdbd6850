import MailMessage
/// Cryptographic primitives the SASL mechanisms need, injected so that this module has no
/// crypto dependency (SMTPTransport implements them with the system OpenSSL).
public protocol SMTPCryptoPrimitives {
    /// HMAC-MD5 (RFC 2104) for CRAM-MD5 (RFC 2195).
    func hmacMD5(key: [UInt8], data: [UInt8]) -> [UInt8]
    /// HMAC-SHA-256 (RFC 2104, FIPS 180-4) for SCRAM-SHA-256 (RFC 7677).
    func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8]
    /// SHA-256 (FIPS 180-4) for SCRAM-SHA-256 (RFC 7677).
    func sha256(_ data: [UInt8]) -> [UInt8]
    /// PBKDF2 with HMAC-SHA-256, 32 output bytes: SCRAM's Hi() (RFC 5802 2.2).
    func pbkdf2SHA256(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8]
}

/// The SASL mechanisms this client implements (RFC 4954 4).
public enum SASLMechanism: String, Hashable, Sendable, CaseIterable {
    /// PLAIN (RFC 4616): the password in clear inside TLS.
    case plain = "PLAIN"
    /// LOGIN (draft-murchison-sasl-login): user and password in two steps, in clear.
    case login = "LOGIN"
    /// CRAM-MD5 (RFC 2195): a keyed digest of a server challenge.
    case cramMD5 = "CRAM-MD5"
    /// SCRAM-SHA-256 (RFC 7677, RFC 5802): salted challenge-response with mutual authentication.
    case scramSHA256 = "SCRAM-SHA-256"
    /// XOAUTH2 (Google/Microsoft): an OAuth 2.0 bearer token.
    case xoauth2 = "XOAUTH2"

    /// Preference order of `auto`, strongest first (XOAUTH2 only with a token).
    public static let autoPreference: [SASLMechanism] = [.scramSHA256, .cramMD5, .plain, .login]
}

/// How to authenticate (RFC 4954): not at all, the strongest offered, or one mechanism.
public enum SMTPAuthMode: Hashable, Sendable {
    /// No AUTH command is sent.
    case none
    /// The strongest offered of SCRAM-SHA-256 > CRAM-MD5 > PLAIN > LOGIN; XOAUTH2 when the
    /// secret is an OAuth token.
    case auto
    /// Exactly this mechanism; its absence from the EHLO reply is a failure.
    case mechanism(SASLMechanism)

    /// Chooses a mechanism among `offered` (upper-cased names), nil when none fits.
    public func select(offered: [String], secretIsOAuthToken: Bool) -> SASLMechanism? {
        switch self {
        case .none:
            return nil
        case .mechanism(let m):
            return offered.contains(m.rawValue) ? m : nil
        case .auto:
            if secretIsOAuthToken {
                return offered.contains(SASLMechanism.xoauth2.rawValue) ? .xoauth2 : nil
            }
            return SASLMechanism.autoPreference.first { offered.contains($0.rawValue) }
        }
    }
}

/// Who authenticates and with what (RFC 4422 2).
public struct SASLCredentials: Sendable {
    /// The authentication identity (user name).
    public var username: String
    /// The password, or the OAuth token for XOAUTH2. Never logged or traced.
    public var secret: [UInt8]
    /// True when `secret` is an OAuth 2.0 access token (then `auto` picks XOAUTH2).
    public var secretIsOAuthToken: Bool
    /// Creates credentials.
    public init(username: String, secret: [UInt8], secretIsOAuthToken: Bool = false) {
        self.username = username
        self.secret = secret
        self.secretIsOAuthToken = secretIsOAuthToken
    }
}

/// A SASL exchange that went wrong on the client side (bad challenge, failed server proof).
public struct SASLError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var reason: String
    /// The reason.
    public var description: String { reason }
}

/// The client side of one SASL exchange (RFC 4422 3, RFC 4954 4): an optional initial
/// response, then one response per server challenge (already base64-decoded).
public struct SASLClient {
    /// The mechanism in use.
    public let mechanism: SASLMechanism
    private let credentials: SASLCredentials
    private let crypto: SMTPCryptoPrimitives
    private var step = 0
    private var scram: SCRAMClient?

    /// Creates the exchange. `clientNonce` (printable ASCII without ',') is used by SCRAM only;
    /// it comes from the caller so that the exchange is deterministic in tests.
    public init(mechanism: SASLMechanism, credentials: SASLCredentials,
                crypto: SMTPCryptoPrimitives, clientNonce: String) {
        self.mechanism = mechanism
        self.credentials = credentials
        self.crypto = crypto
        if mechanism == .scramSHA256 {
            scram = SCRAMClient(username: credentials.username, password: credentials.secret,
                                clientNonce: clientNonce, crypto: crypto)
        }
    }

    /// The initial response to send with AUTH (RFC 4954 4), or nil when the mechanism waits
    /// for a challenge first (LOGIN, CRAM-MD5).
    public mutating func initialResponse() throws -> [UInt8]? {
        switch mechanism {
        case .plain:
            return [0] + Array(credentials.username.utf8) + [0] + credentials.secret
        case .xoauth2:
            return Array("user=\(credentials.username)\u{1}auth=Bearer ".utf8) + credentials.secret + [1, 1]
        case .scramSHA256:
            return scram?.clientFirst()
        case .login, .cramMD5:
            return nil
        }
    }

    /// The response to a server challenge (RFC 4954 4, `334` text decoded from base64).
    public mutating func respond(to challenge: [UInt8]) throws -> [UInt8] {
        step += 1
        switch mechanism {
        case .plain:
            throw SASLError(reason: "unexpected challenge to PLAIN")
        case .login:
            switch step {
            case 1: return Array(credentials.username.utf8)
            case 2: return credentials.secret
            default: throw SASLError(reason: "unexpected third LOGIN challenge")
            }
        case .cramMD5:
            guard step == 1 else { throw SASLError(reason: "unexpected second CRAM-MD5 challenge") }
            let digest = crypto.hmacMD5(key: credentials.secret, data: challenge)
            return Array("\(credentials.username) ".utf8) + Self.hex(digest)
        case .xoauth2:
            // The server's JSON error: answer with an empty response to get the final 535.
            return []
        case .scramSHA256:
            guard var s = scram else { throw SASLError(reason: "SCRAM state missing") }
            defer { scram = s }
            return try s.respond(to: challenge)
        }
    }

    /// True when the exchange may end with success: for SCRAM, only after the server's
    /// signature was verified (RFC 5802 3, mutual authentication).
    public var mayComplete: Bool {
        mechanism == .scramSHA256 ? (scram?.serverVerified ?? false) : true
    }

    static func hex(_ bytes: [UInt8]) -> [UInt8] { Array(Hex.string(bytes).utf8) }
}
