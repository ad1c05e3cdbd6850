#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import COpenSSL
import CMailShim
import MailMessage

/// An X.509 certificate (RFC 5280) as used by S/MIME (RFC 8550).
public final class Certificate {
    let pointer: OpaquePointer

    /// Takes ownership of `pointer`.
    init(owning pointer: OpaquePointer) { self.pointer = pointer }

    /// Takes a new reference on `pointer`.
    init?(retaining pointer: OpaquePointer) {
        guard X509_up_ref(pointer) == 1 else { return nil }
        self.pointer = pointer
    }

    deinit { X509_free(pointer) }

    /// Every certificate in a PEM file (or the one certificate of a DER file), in file order.
    /// Throws `.unreadableFile` or `.malformedInput` (naming the file) when there is none.
    public static func load(contentsOf path: String) throws -> [Certificate] {
        let certs = try readAll(path) { bio in PEM_read_bio_X509(bio, nil, nil, nil) }
        if !certs.isEmpty { return certs.map { Certificate(owning: $0) } }
        let bio = try BIOHandle.readFile(path)
        if let der = d2i_X509_bio(bio.pointer, nil) { return [Certificate(owning: der)] }
        throw SMIMEError(.malformedInput, "no certificate found (not PEM or DER X.509)", path: path)
    }

    /// Parses one certificate from PEM text.
    public convenience init(pem: String) throws {
        let bio = try BIOHandle.memory(Array(pem.utf8))
        guard let x = PEM_read_bio_X509(bio.pointer, nil, nil, nil) else {
            throw SMIMEError(.malformedInput, "not a PEM certificate")
        }
        self.init(owning: x)
    }

    /// Every CRL in a PEM file (possibly none).
    static func loadCRLs(contentsOf path: String) throws -> [RevocationList] {
        try readAll(path) { bio in PEM_read_bio_X509_CRL(bio, nil, nil, nil) }.map { RevocationList($0) }
    }

    private static func readAll(_ path: String, _ next: (OpaquePointer) -> OpaquePointer?) throws -> [OpaquePointer] {
        let bio = try BIOHandle.readFile(path)
        var out: [OpaquePointer] = []
        while let item = next(bio.pointer) { out.append(item) }
        SMIMEError.clearOpenSSLErrors()   // the end of the file reads as "no start line"
        return out
    }

    // MARK: Fields

    /// Subject distinguished name, one line (RFC 2253 order and escaping).
    public var subject: String { Certificate.nameString(X509_get_subject_name(pointer)) }
    /// Issuer distinguished name, one line.
    public var issuer: String { Certificate.nameString(X509_get_issuer_name(pointer)) }

    /// The serial number in upper-case hex.
    public var serialHex: String {
        guard let bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(pointer), nil) else { return "" }
        defer { BN_free(bn) }
        guard let hex = BN_bn2hex(bn) else { return "" }
        defer { sm_cms_free(hex) }
        return String(cString: hex)
    }

    /// The e-mail addresses bound to the certificate: subjectAltName rfc822Name first, then the
    /// subject's emailAddress attribute (RFC 8550 3), duplicates removed.
    public var emailAddresses: [String] {
        guard let joined = sm_cms_x509_emails(pointer) else { return [] }
        defer { sm_cms_free(joined) }
        var seen = Set<String>()
        // Split by bytes: an address ending in CR would join its "\n" separator into one Character.
        return TextLines.lines(of: String(cString: joined)).filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// Start of the validity period.
    public var notBefore: Date { validity.0 }
    /// End of the validity period.
    public var notAfter: Date { validity.1 }

    private var validity: (Date, Date) {
        var nb: Int64 = 0, na: Int64 = 0
        _ = sm_cms_x509_validity(pointer, &nb, &na)
        return (Date(timeIntervalSince1970: TimeInterval(nb)), Date(timeIntervalSince1970: TimeInterval(na)))
    }

    /// SHA-256 fingerprint, colon-separated upper-case hex.
    public var sha256Fingerprint: String {
        var md = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var len: UInt32 = 0
        guard X509_digest(pointer, EVP_sha256(), &md, &len) == 1 else { return "" }
        return Hex.string(md.prefix(Int(len)), uppercase: true, separator: ":")
    }

    /// The kind of public key.
    public var keyAlgorithm: KeyAlgorithm {
        guard let key = X509_get0_pubkey(pointer) else { return .other }
        switch EVP_PKEY_get_base_id(key) {
        case EVP_PKEY_RSA, EVP_PKEY_RSA_PSS: return .rsa(bits: Int(EVP_PKEY_get_bits(key)))
        case EVP_PKEY_EC: return .ec(bits: Int(EVP_PKEY_get_bits(key)))
        case EVP_PKEY_ED25519: return .ed25519
        case EVP_PKEY_X25519: return .x25519
        default: return .other
        }
    }

    /// Public key kinds that matter for S/MIME (RFC 8551 2.2, 2.3).
    public enum KeyAlgorithm: Equatable, CustomStringConvertible {
        case rsa(bits: Int), ec(bits: Int), ed25519, x25519, other
        /// "RSA-2048", "EC P-256", …
        public var description: String {
            switch self {
            case .rsa(let bits): return "RSA-\(bits)"
            case .ec(let bits): return "EC P-\(bits)"
            case .ed25519: return "Ed25519"
            case .x25519: return "X25519"
            case .other: return "other"
            }
        }
    }

    /// keyUsage bits (X509v3 KU_* values), or nil when the extension is absent.
    var keyUsage: UInt32? {
        let ku = X509_get_key_usage(pointer)
        return ku == UInt32.max ? nil : ku
    }

    /// extendedKeyUsage bits (XKU_* values), or nil when the extension is absent.
    var extendedKeyUsage: UInt32? {
        _ = X509_check_purpose(pointer, -1, 0)
        guard (X509_get_extension_flags(pointer) & UInt32(EXFLAG_XKUSAGE)) != 0 else { return nil }
        return X509_get_extended_key_usage(pointer)
    }

    /// Whether this is a CA certificate (basicConstraints cA).
    public var isCA: Bool { X509_check_ca(pointer) != 0 }

    /// Whether `self` and `other` are the same certificate (DER equality).
    public func isSame(as other: Certificate) -> Bool { X509_cmp(pointer, other.pointer) == 0 }

    /// PEM text of the certificate.
    public func pem() throws -> String {
        let bio = try BIOHandle.emptyMemory()
        guard PEM_write_bio_X509(bio.pointer, pointer) == 1 else {
            throw SMIMEError(.cryptoFailure, "cannot encode the certificate")
        }
        return String(decoding: bio.memoryBytes(), as: UTF8.self)
    }

    static func nameString(_ name: OpaquePointer?) -> String {
        guard let name, let bio = try? BIOHandle.emptyMemory() else { return "" }
        _ = sm_cms_name_print(bio.pointer, name)
        return String(decoding: bio.memoryBytes(), as: UTF8.self)
    }
}
