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

/// How a CMS message to verify or decrypt is encoded.
public enum CMSInputFormat: Sendable {
    /// An S/MIME message (RFC 8551 3): multipart/signed or application/pkcs7-mime.
    case smime
    /// A bare DER ContentInfo (RFC 5652 3), e.g. a `.p7m` / `.p7s` file.
    case der
}

/// One signer of a verified message.
public struct SignerSummary {
    /// The signer's certificate.
    public let certificate: Certificate
    /// The digest algorithm's OpenSSL short name ("SHA256").
    public let digest: String
    /// The signingTime attribute (RFC 8551 2.5.1), if present. Not trusted for validity checks.
    public let signingTime: Date?
}

/// Verifies S/MIME signatures (RFC 8551 3.5, RFC 5652 5.6) against trust anchors, with the
/// S/MIME signing purpose (emailProtection, digitalSignature/nonRepudiation) and the CRLs of
/// `trust` enforced, at an injectable time (RFC 8550 6: never the message's signingTime).
/// OpenSSL holds the whole message in memory while verifying.
public struct SMIMEVerifier {
    /// Anchors, intermediates and CRLs.
    public var trust: TrustSettings
    /// The time certificates are checked at (injectable; never the message's signingTime).
    public var now: () -> Date = Date.init
    /// Extra certificates that may help build the chain (intermediates not in the message).
    public var extraCertificates: [Certificate] = []

    /// A verifier trusting `trust`.
    public init(trust: TrustSettings) { self.trust = trust }

    /// Verifies the message in `path` (or standard input when nil), writes the signed content
    /// (the MIME entity, or the encapsulated content) to `contentOutput` if given, and returns
    /// the signers. Throws `.verificationFailed` with OpenSSL's reason.
    public func verify(messageAt path: String?, format: CMSInputFormat = .smime,
                       contentOutput: Int32? = nil) throws -> [SignerSummary] {
        let input = try CMSInput.open(path)
        let (cms, detachedContent) = try CMSInput.read(input, format: format, path: path)
        guard OBJ_obj2nid(CMS_get0_type(cms.pointer)) == NID_pkcs7_signed else {
            throw SMIMEError(.verificationFailed, "not signed data (decrypt it first)", path: path)
        }
        let store = try X509StoreHandle()
        trust.anchors.forEach(store.add)
        trust.crls.forEach(store.add)
        let flags = trust.crls.isEmpty ? 0 : UInt(X509_V_FLAG_CRL_CHECK)
        guard sm_cms_store_set_time(store.pointer, Int64(now().timeIntervalSince1970), flags) == 1 else {
            throw SMIMEError(.cryptoFailure, "cannot set up the trust store")
        }
        let extra = try X509Stack(trust.intermediates + extraCertificates)
        let out = try BIOHandle.emptyMemory()   // nothing is written unless the signature verifies
        // Detached content parsed out of multipart/signed is canonicalised by OpenSSL (CRLF),
        // which is what we signed; encapsulated content is taken as it is.
        let verifyFlags = UInt32(detachedContent == nil ? CMS_BINARY : 0)
        SMIMEError.clearOpenSSLErrors()
        let ok = CMS_verify(cms.pointer, extra.pointer, store.pointer, detachedContent?.pointer, out.pointer, verifyFlags)
        guard ok == 1 else {
            throw SMIMEError(.verificationFailed, "the signature does not verify", path: path)
        }
        if let contentOutput { try writeAll(out.memoryBytes(), to: contentOutput) }
        return summaries(cms)
    }

    private func summaries(_ cms: CMSHandle) -> [SignerSummary] {
        guard let signers = CMS_get0_signers(cms.pointer) else { return [] }
        defer { sm_cms_x509_stack_free_shallow(signers) }
        let certs = X509Stack.certificates(borrowing: signers)
        return certs.enumerated().map { index, cert in
            var seconds: Int64 = 0
            let time = sm_cms_signer_signing_time(cms.pointer, Int32(index), &seconds) == 1
                ? Date(timeIntervalSince1970: TimeInterval(seconds)) : nil
            let nid = sm_cms_signer_digest_nid(cms.pointer, Int32(index))
            let name = OBJ_nid2sn(nid).map { String(cString: $0) } ?? "unknown"
            return SignerSummary(certificate: cert, digest: name, signingTime: time)
        }
    }
}

/// Reading CMS input (whole, as OpenSSL requires for verify and decrypt).
enum CMSInput {
    static func open(_ path: String?) throws -> BIOHandle {
        if let path { return try BIOHandle.readFile(path) }
        guard let bio = BIO_new_fd(0, BIO_NOCLOSE) else { throw SMIMEError(.cryptoFailure, "cannot read standard input") }
        return BIOHandle(bio, freesChain: true)
    }

    /// The ContentInfo and, for multipart/signed, a BIO with the detached content.
    static func read(_ input: BIOHandle, format: CMSInputFormat, path: String?) throws -> (CMSHandle, BIOHandle?) {
        SMIMEError.clearOpenSSLErrors()
        switch format {
        case .der:
            guard let cms = d2i_CMS_bio(input.pointer, nil) else {
                throw SMIMEError(.malformedInput, "not a DER CMS structure", path: path)
            }
            return (CMSHandle(cms), nil)
        case .smime:
            var content: OpaquePointer?
            guard let cms = SMIME_read_CMS(input.pointer, &content) else {
                throw SMIMEError(.malformedInput, "not an S/MIME message", path: path)
            }
            return (CMSHandle(cms), content.map { BIOHandle($0, freesChain: true) })
        }
    }
}

/// Writes all of `bytes` to `fd`, or throws `.outputFailed` (`.noSpace` for a full disk).
func writeAll(_ bytes: [UInt8], to fd: Int32) throws {
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw SMIMEError.writeFailed(errno: n < 0 ? errno : EIO) }
        done += n
    }
}
