#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import COpenSSL

/// Message digest for signing (RFC 8551 2.1, RFC 5754). SHA-1 and MD5 are not offered:
/// `init(name:)` refuses them.
public enum DigestAlgorithm: String, CaseIterable, Sendable {
    case sha256, sha384, sha512

    /// Parses "sha256", "SHA-384", …; throws `.unsupportedAlgorithm` for SHA-1, MD5 and others.
    public init(name: String) throws {
        let key = String(name.lowercased().filter { $0 != "-" })
        guard let value = DigestAlgorithm(rawValue: key) else {
            throw SMIMEError(.unsupportedAlgorithm,
                             "digest \(name) is refused for signing (use sha256, sha384 or sha512)", openSSLErrors: [])
        }
        self = value
    }

    /// The multipart/signed `micalg` value (RFC 8551 3.5.3.2).
    public var micalg: String {
        switch self {
        case .sha256: return "sha-256"
        case .sha384: return "sha-384"
        case .sha512: return "sha-512"
        }
    }

    var evp: OpaquePointer? {
        switch self {
        case .sha256: return EVP_sha256()
        case .sha384: return EVP_sha384()
        case .sha512: return EVP_sha512()
        }
    }
}

/// The form of a signed-only message (RFC 8551 3.5).
public enum SignatureForm: Sendable {
    /// multipart/signed with a detached application/pkcs7-signature (RFC 1847; 3.5.3): readable
    /// by clients without S/MIME. The default.
    case detached
    /// application/pkcs7-mime; smime-type=signed-data (3.5.2): survives re-encoding relays.
    case opaque
}

/// RSA signature scheme (RFC 8551 2.2).
public enum RSASignatureScheme: Sendable {
    /// RSASSA-PKCS1-v1_5 (the default; MUST- in RFC 8551).
    case pkcs1v15
    /// RSASSA-PSS (RFC 4056), salt as long as the digest.
    case pss
}

/// Content encryption (RFC 8551 2.7).
public enum ContentCipher: String, CaseIterable, Sendable {
    /// EnvelopedData with AES-256-CBC: the default (widest support).
    case aes256CBC = "aes-256-cbc"
    /// EnvelopedData with AES-128-CBC.
    case aes128CBC = "aes-128-cbc"
    /// AuthEnvelopedData with AES-256-GCM (RFC 5083, RFC 5084).
    case aes256GCM = "aes-256-gcm"
    /// AuthEnvelopedData with AES-128-GCM (RFC 5083, RFC 5084).
    case aes128GCM = "aes-128-gcm"

    /// Parses "aes-256-cbc" etc.; throws `.unsupportedAlgorithm` for anything else.
    public init(name: String) throws {
        guard let value = ContentCipher(rawValue: name.lowercased()) else {
            throw SMIMEError(.unsupportedAlgorithm, "cipher \(name) is not supported (aes-256-cbc, aes-128-cbc, "
                             + "aes-256-gcm, aes-128-gcm)", openSSLErrors: [])
        }
        self = value
    }

    /// Whether the result is AuthEnvelopedData.
    public var isAuthenticated: Bool { self == .aes256GCM || self == .aes128GCM }
    /// The smime-type parameter (RFC 8551 3.2.2).
    public var smimeType: String { isAuthenticated ? "authEnveloped-data" : "enveloped-data" }
    var keyBits: Int32 { (self == .aes128CBC || self == .aes128GCM) ? 128 : 256 }

    var evp: OpaquePointer? {
        switch self {
        case .aes256CBC: return EVP_aes_256_cbc()
        case .aes128CBC: return EVP_aes_128_cbc()
        case .aes256GCM: return EVP_aes_256_gcm()
        case .aes128GCM: return EVP_aes_128_gcm()
        }
    }
}

/// RSA key transport (RFC 8551 2.3).
public enum RSAKeyTransport: Sendable {
    /// RSAES-PKCS1-v1_5: the default (widest support).
    case pkcs1v15
    /// RSAES-OAEP with SHA-256 and MGF1-SHA-256 (RFC 3560). NSS 3.87 and gpgsm 2.2 cannot
    /// open it (`ClientSupport`).
    case oaep
    /// OAEP for a certificate whose SMIMECapabilities extension (RFC 4262) lists RSAES-OAEP,
    /// PKCS #1 v1.5 for the others: what the recipient announced it can open.
    case asAdvertised

    /// Whether `certificate` (an RSA recipient) gets OAEP.
    public func usesOAEP(for certificate: Certificate) -> Bool {
        switch self {
        case .pkcs1v15: return false
        case .oaep: return true
        case .asAdvertised: return certificate.advertisesOAEP
        }
    }
}

/// Which certificates a signature carries (RFC 8550 2.3).
public enum CertificateInclusion: Sendable {
    /// The signer's certificate only (the default).
    case signer
    /// The signer's certificate and its intermediates.
    case chain
}

/// How to sign.
public struct SigningOptions: Sendable {
    /// The digest (RFC 8551 2.1); SHA-256 by default.
    public var digest: DigestAlgorithm = .sha256
    /// Detached (multipart/signed) or opaque; a signature inside an encryption is always
    /// detached (RFC 8551 3.7, the form clients expect after decrypting).
    public var form: SignatureForm = .detached
    /// The scheme for RSA keys (ignored for EC keys: ECDSA).
    public var rsaScheme: RSASignatureScheme = .pkcs1v15
    /// Which certificates the SignedData carries.
    public var certificates: CertificateInclusion = .signer
    /// The defaults: SHA-256, detached, PKCS #1 v1.5, signer certificate only.
    public init() {}
}

/// How to encrypt. ECDH P-256 key agreement (RFC 5753) is used for EC recipients, with the
/// SHA-256 KDF and an AES key wrap as strong as the content cipher (RFC 8551 2.3).
public struct EncryptionOptions: Sendable {
    /// The content cipher; AES-256-CBC by default.
    public var cipher: ContentCipher = .aes256CBC
    /// Key transport for RSA recipients; PKCS #1 v1.5 by default.
    public var rsaKeyTransport: RSAKeyTransport = .pkcs1v15
    /// Key transport for particular recipients, by certificate SHA-256 fingerprint
    /// (`Certificate.sha256Fingerprint`), instead of `rsaKeyTransport`: each RecipientInfo
    /// has its own algorithm (RFC 5652 6.2.1), so recipients of one message may differ.
    public var rsaKeyTransportByCertificate: [String: RSAKeyTransport] = [:]
    /// The defaults: AES-256-CBC, RSA PKCS #1 v1.5.
    public init() {}

    /// The key transport for `certificate`.
    public func keyTransport(for certificate: Certificate) -> RSAKeyTransport {
        rsaKeyTransportByCertificate[certificate.sha256Fingerprint] ?? rsaKeyTransport
    }
}

/// Trust anchors and CRLs used to validate certificates (RFC 8550 4.1, 6).
public final class TrustSettings {
    /// Trusted root (or intermediate) certificates.
    public let anchors: [Certificate]
    /// Untrusted intermediates that may complete a chain.
    public let intermediates: [Certificate]
    /// Revocation lists; a certificate whose issuer has one here is checked against it.
    public let crls: [RevocationList]

    /// Trust settings from loaded certificates and CRLs.
    public init(anchors: [Certificate], intermediates: [Certificate] = [], crls: [RevocationList] = []) {
        self.anchors = anchors
        self.intermediates = intermediates
        self.crls = crls
    }

    /// Loads anchors (and any CRLs) from PEM files.
    public static func load(anchorFiles: [String], crlFiles: [String] = []) throws -> TrustSettings {
        var anchors: [Certificate] = []
        var crls: [RevocationList] = []
        for path in anchorFiles {
            anchors += try Certificate.load(contentsOf: path)
            crls += try Certificate.loadCRLs(contentsOf: path)
        }
        for path in crlFiles {
            let found = try Certificate.loadCRLs(contentsOf: path)
            guard !found.isEmpty else { throw SMIMEError(.malformedInput, "no CRL found", path: path, openSSLErrors: []) }
            crls += found
        }
        return TrustSettings(anchors: anchors, crls: crls)
    }
}

/// What to do with a message: sign (with `signer`), encrypt (to `recipients`), or both
/// (sign then encrypt, RFC 8551 3.7).
public struct Protection {
    /// The signer, or nil not to sign.
    public var signer: SigningIdentity?
    /// How to sign.
    public var signing = SigningOptions()
    /// One RecipientInfo per certificate (include the sender's own to keep a readable copy,
    /// RFC 8551 3.3); empty not to encrypt.
    public var recipients: [Certificate] = []
    /// How to encrypt.
    public var encryption = EncryptionOptions()
    /// RFC 9788 header protection: the protected entity carries the real header fields; when
    /// encrypting, the outer Subject becomes `[...]`.
    public var headerProtection = false
    /// RFC 9788 4.5.3 legacy display: with header protection, when encrypting hides the
    /// Subject outside, the main text parts begin with `Subject: <the real one>` and a blank
    /// line (marked `hp-legacy-display="1"`), so that clients without header protection still
    /// show it. On by default; ignored without header protection or encryption.
    public var legacyDisplay = true
    /// When set, signer and recipient certificates must chain to these anchors and not be
    /// revoked by these CRLs; without it only validity period and key purposes are checked.
    public var trust: TrustSettings?
    /// The clock for validity checks.
    public var now: () -> Date = Date.init

    /// Sign with `signer` (if any) and encrypt to `recipients` (if any).
    public init(signer: SigningIdentity? = nil, recipients: [Certificate] = []) {
        self.signer = signer
        self.recipients = recipients
    }
}
