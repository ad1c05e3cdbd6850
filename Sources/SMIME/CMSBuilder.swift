#if canImport(Glibc)
import Glibc
#endif
import COpenSSL
import CMailShim

/// Builds streaming CMS structures, ready for content to be written through them.
enum CMSBuilder {
    /// Our SMIMECapabilities, in order of preference (RFC 8551 2.5.2, 2.7): AES-GCM then CBC.
    static let capabilities: [Int32] = [NID_aes_256_gcm, NID_aes_128_gcm, NID_aes_256_cbc, NID_aes_128_cbc]

    /// SignedData (RFC 5652 5) for `identity`, with signingTime, our SMIMECapabilities,
    /// SMIMEEncryptionKeyPreference and ESS signingCertificateV2 (RFC 8551 2.5, RFC 5035) as
    /// signed attributes. It is detached: an opaque signature gets its content after signing
    /// (`StreamWriter.encapsulated`).
    static func signedData(_ identity: SigningIdentity, _ options: SigningOptions) throws -> CMSHandle {
        let flags = UInt32(CMS_STREAM | CMS_PARTIAL | CMS_BINARY | CMS_DETACHED)
        let chain = try X509Stack(options.certificates == .chain ? identity.chain : [])
        SMIMEError.clearOpenSSLErrors()
        guard let cms = CMS_sign(nil, nil, chain.pointer, nil, flags) else {
            throw SMIMEError(.cryptoFailure, "cannot create SignedData")
        }
        let handle = CMSHandle(cms)
        let usePSS = options.rsaScheme == .pss
        if usePSS && !identity.key.isRSA {
            throw SMIMEError(.unsupportedAlgorithm, "RSASSA-PSS needs an RSA key", openSSLErrors: [])
        }
        var signerFlags = flags | UInt32(CMS_NOSMIMECAP | CMS_CADES)
        if usePSS { signerFlags |= UInt32(CMS_KEY_PARAM) }
        guard let si = CMS_add1_signer(cms, identity.certificate.pointer, identity.key.pointer, options.digest.evp,
                                       signerFlags) else {
            throw SMIMEError(.cryptoFailure, "cannot add the signer (key type or digest not supported)")
        }
        if usePSS && sm_cms_signer_use_pss(si) != 1 {
            throw SMIMEError(.cryptoFailure, "cannot select RSASSA-PSS")
        }
        guard capabilities.withUnsafeBufferPointer({ sm_cms_add_smimecaps(si, $0.baseAddress, $0.count) }) == 1 else {
            throw SMIMEError(.cryptoFailure, "cannot add SMIMECapabilities")
        }
        let encryptionCert = identity.encryptionCertificate ?? identity.certificate
        if CertificateValidator(trust: nil).problems(encryptionCert, for: .encryption, at: encryptionCert.notBefore)
            .allSatisfy({ $0.kind != .wrongPurpose && $0.kind != .unsupportedKey }) {
            guard sm_cms_add_encryption_key_preference(si, encryptionCert.pointer) == 1 else {
                throw SMIMEError(.cryptoFailure, "cannot add SMIMEEncryptionKeyPreference")
            }
        }
        return handle
    }

    /// The DER length of the detached SignedData `signedData` makes, known before signing:
    /// found by signing nothing with the same certificates and attributes. Only for RSA keys,
    /// whose signatures (PKCS #1 v1.5 and PSS alike) are always as long as the modulus; an
    /// ECDSA signature's DER varies by a few octets, so nil for other keys.
    static func signedDataLength(_ identity: SigningIdentity, _ options: SigningOptions) throws -> Int? {
        guard identity.key.isRSA else { return nil }
        let cms = try signedData(identity, options)
        let sink = try BIOHandle.null()
        SMIMEError.clearOpenSSLErrors()
        guard let chain = CMS_dataInit(cms.pointer, sink.pointer) else {
            throw SMIMEError(.cryptoFailure, "cannot start the signature")
        }
        defer { sm_cms_bio_free_until(chain, sink.pointer) }
        guard CMS_dataFinal(cms.pointer, chain) == 1 else { throw SMIMEError(.cryptoFailure, "signing failed") }
        return try cms.derBytes().count
    }

    /// EnvelopedData (RFC 5652 6), or AuthEnvelopedData (RFC 5083) for GCM, with one
    /// RecipientInfo per certificate: key transport for RSA (PKCS #1 v1.5 or OAEP, RFC 3560),
    /// key agreement for EC (ECDH, SHA-256 KDF, AES wrap, RFC 5753).
    static func envelopedData(_ recipients: [Certificate], _ options: EncryptionOptions) throws -> CMSHandle {
        guard !recipients.isEmpty else {
            throw SMIMEError(.noRecipients, "no recipient certificate to encrypt to", openSSLErrors: [])
        }
        let flags = UInt32(CMS_STREAM | CMS_PARTIAL | CMS_BINARY)
        SMIMEError.clearOpenSSLErrors()
        guard let cms = CMS_encrypt(nil, nil, options.cipher.evp, flags) else {
            throw SMIMEError(.cryptoFailure, "cannot create EnvelopedData")
        }
        let handle = CMSHandle(cms)
        for cert in recipients {
            guard let ri = CMS_add1_recipient_cert(cms, cert.pointer, UInt32(CMS_KEY_PARAM)) else {
                throw SMIMEError(.cryptoFailure, "cannot add recipient \(cert.subject)")
            }
            switch CMS_RecipientInfo_type(ri) {
            case CMS_RECIPINFO_TRANS where options.keyTransport(for: cert).usesOAEP(for: cert):
                guard sm_cms_recipient_use_oaep(ri) == 1 else { throw SMIMEError(.cryptoFailure, "cannot select OAEP") }
            case CMS_RECIPINFO_AGREE:
                guard sm_cms_recipient_use_ecdh(ri, options.cipher.keyBits) == 1 else {
                    throw SMIMEError(.cryptoFailure, "cannot set up ECDH for \(cert.subject)")
                }
            default:
                break
            }
        }
        return handle
    }
}
