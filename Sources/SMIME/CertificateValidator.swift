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

/// What a certificate is to be used for.
public enum CertificatePurpose: Sendable {
    /// Signing mail: keyUsage digitalSignature or nonRepudiation (RFC 8550 4.4.2).
    case signing
    /// Encrypting mail to it: keyUsage keyEncipherment (RSA) or keyAgreement (EC)
    /// (RFC 8550 4.4.2, RFC 8551 2.3).
    case encryption
}

/// Why a certificate cannot be used (RFC 8550 6).
public struct CertificateProblem: Equatable, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        case expired = "expired"
        case notYetValid = "not yet valid"
        case revoked = "revoked"
        case revocationUnknown = "revocation status unknown"
        case wrongPurpose = "wrong purpose"
        case untrustedChain = "untrusted chain"
        case unsupportedKey = "unsupported key"
    }
    /// The class of problem.
    public let kind: Kind
    /// The specifics (dates, the missing usage, OpenSSL's chain error).
    public let detail: String
    /// `kind: detail`.
    public var description: String { "\(kind.rawValue): \(detail)" }
}

/// Checks certificates for S/MIME use: validity period at an injectable time, key usage and
/// extended key usage (RFC 8550 4.4.2, 4.4.4), and, when trust settings are given, the chain
/// to the anchors and revocation by a CRL of the certificate's issuer (RFC 8550 4.1).
public struct CertificateValidator {
    /// Anchors and CRLs; nil checks only validity period and key purposes.
    public let trust: TrustSettings?
    /// Certificates that may serve as intermediates (e.g. the rest of a certificate store).
    public let intermediates: [Certificate]

    /// A validator over `trust`, with extra untrusted `intermediates` for chain building.
    public init(trust: TrustSettings?, intermediates: [Certificate] = []) {
        self.trust = trust
        self.intermediates = intermediates
    }

    /// Every reason `certificate` cannot be used for `purpose` at `date`; empty when usable.
    public func problems(_ certificate: Certificate, for purpose: CertificatePurpose, at date: Date) -> [CertificateProblem] {
        var found: [CertificateProblem] = []
        if certificate.notBefore > date {
            found.append(.init(kind: .notYetValid, detail: "valid from \(certificate.notBefore.formatted(.iso8601))"))
        }
        if certificate.notAfter < date {
            found.append(.init(kind: .expired, detail: "expired \(certificate.notAfter.formatted(.iso8601))"))
        }
        found += purposeProblems(certificate, purpose)
        if let trust { found += chainProblems(certificate, trust, date) }
        return found
    }

    /// Throws `.unusableCertificate` listing the problems, if any. `role` names the certificate
    /// in the message ("signer", "recipient").
    public func check(_ certificate: Certificate, for purpose: CertificatePurpose, at date: Date, role: String) throws {
        let found = problems(certificate, for: purpose, at: date)
        guard !found.isEmpty else { return }
        let text = found.map(\.description).joined(separator: "; ")
        throw SMIMEError(.unusableCertificate, "\(role) certificate \(certificate.subject) cannot be used: \(text)",
                         openSSLErrors: [])
    }

    private func purposeProblems(_ cert: Certificate, _ purpose: CertificatePurpose) -> [CertificateProblem] {
        var found: [CertificateProblem] = []
        if let eku = cert.extendedKeyUsage, eku & UInt32(XKU_SMIME) == 0, eku & UInt32(XKU_ANYEKU) == 0 {
            found.append(.init(kind: .wrongPurpose, detail: "extendedKeyUsage lacks emailProtection"))
        }
        let ku = cert.keyUsage
        switch purpose {
        case .signing:
            if case .x25519 = cert.keyAlgorithm { found.append(.init(kind: .unsupportedKey, detail: "X25519 cannot sign")) }
            if let ku, ku & UInt32(KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION) == 0 {
                found.append(.init(kind: .wrongPurpose, detail: "keyUsage lacks digitalSignature"))
            }
        case .encryption:
            switch cert.keyAlgorithm {
            case .rsa:
                if let ku, ku & UInt32(KU_KEY_ENCIPHERMENT) == 0 {
                    found.append(.init(kind: .wrongPurpose, detail: "keyUsage lacks keyEncipherment"))
                }
            case .ec:
                if let ku, ku & UInt32(KU_KEY_AGREEMENT) == 0 {
                    found.append(.init(kind: .wrongPurpose, detail: "keyUsage lacks keyAgreement"))
                }
            case let other:
                found.append(.init(kind: .unsupportedKey, detail: "\(other) key: no key transport or agreement in OpenSSL 3.0 CMS"))
            }
        }
        return found
    }

    private func chainProblems(_ cert: Certificate, _ trust: TrustSettings, _ date: Date) -> [CertificateProblem] {
        guard let store = try? X509StoreHandle(), let untrusted = try? X509Stack(trust.intermediates + intermediates) else {
            return [.init(kind: .untrustedChain, detail: "cannot set up chain validation")]
        }
        trust.anchors.forEach(store.add)
        let issuer = cert.issuer
        let relevant = trust.crls.filter { $0.issuer == issuer }
        relevant.forEach(store.add)
        let flags = relevant.isEmpty ? 0 : UInt(X509_V_FLAG_CRL_CHECK)
        var depth: Int32 = 0
        let result = sm_cms_verify_chain(store.pointer, cert.pointer, untrusted.pointer,
                                         Int64(date.timeIntervalSince1970), flags, &depth)
        SMIMEError.clearOpenSSLErrors()
        guard result != X509_V_OK else { return [] }
        let reason = String(cString: X509_verify_cert_error_string(Int(result)))
        switch result {
        case X509_V_ERR_CERT_REVOKED:
            return [.init(kind: .revoked, detail: "revoked by a CRL of \(issuer)")]
        case X509_V_ERR_CERT_HAS_EXPIRED where depth == 0, X509_V_ERR_CERT_NOT_YET_VALID where depth == 0:
            return []   // reported from the validity period already
        case X509_V_ERR_CRL_HAS_EXPIRED, X509_V_ERR_CRL_NOT_YET_VALID, X509_V_ERR_UNABLE_TO_GET_CRL,
             X509_V_ERR_CRL_SIGNATURE_FAILURE, X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
            return [.init(kind: .revocationUnknown, detail: reason)]
        default:
            return [.init(kind: .untrustedChain, detail: depth > 0 ? "\(reason) (at depth \(depth))" : reason)]
        }
    }
}
