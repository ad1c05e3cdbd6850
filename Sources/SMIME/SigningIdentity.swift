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

/// A signer: private key, its certificate, and intermediates to include (RFC 8550 2.3), loaded
/// from PEM or PKCS #12 and checked to belong together.
public final class SigningIdentity {
    /// The signer's certificate.
    public let certificate: Certificate
    /// Intermediate certificates to include when the chain is requested (no root needed).
    public let chain: [Certificate]
    /// An optional separate encryption certificate of the signer, advertised with
    /// SMIMEEncryptionKeyPreference (RFC 8551 2.5.3); the signing certificate when nil.
    public var encryptionCertificate: Certificate?
    let key: PrivateKey

    /// Pairs a key and a certificate; throws `.keyMismatch` if they do not belong together.
    public init(certificate: Certificate, key: PrivateKey, chain: [Certificate] = [], source: String? = nil) throws {
        guard key.matches(certificate) else {
            throw SMIMEError(.keyMismatch, "the private key does not match the certificate \(certificate.subject)",
                             path: source, openSSLErrors: [])
        }
        self.certificate = certificate
        self.key = key
        self.chain = chain
    }

    /// Loads PEM files: the certificate (the first one in `certificate`; further ones there are
    /// taken as chain), the key (possibly encrypted, passphrase in the first line of
    /// `passphraseFile`), and optional intermediates in `chain`.
    public static func loadPEM(certificate certPath: String, key keyPath: String,
                               passphraseFile: String? = nil, chain chainPath: String? = nil) throws -> SigningIdentity {
        let certs = try Certificate.load(contentsOf: certPath)
        let key = try PrivateKey.load(path: keyPath, passphraseFile: passphraseFile)
        let extra = try chainPath.map { try Certificate.load(contentsOf: $0) } ?? []
        return try SigningIdentity(certificate: certs[0], key: key, chain: Array(certs.dropFirst()) + extra,
                                   source: keyPath)
    }

    /// Loads a PKCS #12 bundle (.p12/.pfx): key, certificate and CA certificates (taken as
    /// chain). Errors name the file: `.unreadableFile`, `.malformedInput` (truncated, garbage),
    /// `.wrongPassphrase`, `.keyMismatch`.
    public static func loadPKCS12(_ path: String, passphraseFile: String? = nil) throws -> SigningIdentity {
        let bytes = try KeyLoading.readSmallFile(path, limit: 16 << 20)
        let pass = try passphraseFile.map { try KeyLoading.passphrase(fromFile: $0) } ?? []
        let bio = try BIOHandle.memory(bytes)
        SMIMEError.clearOpenSSLErrors()
        guard let p12 = d2i_PKCS12_bio(bio.pointer, nil) else {
            throw SMIMEError(.malformedInput, "not a PKCS #12 file (truncated or garbage)", path: path)
        }
        defer { PKCS12_free(p12) }
        var cstr = pass.map { CChar(bitPattern: $0) } + [0]
        // An empty passphrase may be encoded as "" or as absent: try both, as openssl does.
        var password: UnsafeMutablePointer<CChar>? = nil
        let macOK: Bool = cstr.withUnsafeMutableBufferPointer { buf in
            if PKCS12_mac_present(p12) == 0 { password = nil; return true }
            if PKCS12_verify_mac(p12, buf.baseAddress, Int32(pass.count)) == 1 { return true }
            if pass.isEmpty && PKCS12_verify_mac(p12, nil, 0) == 1 { return true }
            return false
        }
        guard macOK else {
            throw SMIMEError(.wrongPassphrase, "wrong passphrase for the PKCS #12 file (MAC check failed)", path: path)
        }
        var pkey: OpaquePointer?, x509: OpaquePointer?, cas: OpaquePointer?
        let parsed = cstr.withUnsafeMutableBufferPointer { buf -> Int32 in
            password = buf.baseAddress
            let r = PKCS12_parse(p12, password, &pkey, &x509, &cas)
            if r != 1 && pass.isEmpty { SMIMEError.clearOpenSSLErrors(); return PKCS12_parse(p12, nil, &pkey, &x509, &cas) }
            return r
        }
        let chain = X509Stack.certificates(borrowing: cas)
        if let cas { sm_cms_x509_stack_free(cas) }
        guard parsed == 1, let pkey, let x509 else {
            if let pkey { EVP_PKEY_free(pkey) }
            if let x509 { X509_free(x509) }
            throw SMIMEError(.malformedInput, "the PKCS #12 file has no private key and certificate", path: path)
        }
        return try SigningIdentity(certificate: Certificate(owning: x509), key: PrivateKey(pkey), chain: chain, source: path)
    }
}
