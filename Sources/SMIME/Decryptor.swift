#if canImport(Glibc)
import Glibc
#endif
import COpenSSL
import CMailShim

/// Decrypts EnvelopedData and AuthEnvelopedData (RFC 5652 6, RFC 5083) with a recipient's key
/// and certificate: RSA (PKCS #1 v1.5 or OAEP) key transport and ECDH key agreement. OpenSSL
/// holds the whole message in memory while decrypting.
public struct SMIMEDecryptor {
    /// The recipient's certificate (selects its RecipientInfo).
    public let certificate: Certificate
    /// The recipient's private key.
    public let key: PrivateKey

    /// Pairs a recipient key and certificate; throws `.keyMismatch` if they do not belong together.
    public init(certificate: Certificate, key: PrivateKey) throws {
        guard key.matches(certificate) else {
            throw SMIMEError(.keyMismatch, "the private key does not match the certificate \(certificate.subject)",
                             openSSLErrors: [])
        }
        self.certificate = certificate
        self.key = key
    }

    /// Decrypts the message in `path` (or standard input when nil) and writes the content (the
    /// inner MIME entity) to `output`. Throws `.decryptionFailed` when this key is not a
    /// recipient or the ciphertext is damaged.
    public func decrypt(messageAt path: String?, format: CMSInputFormat = .smime, to output: Int32) throws {
        let input = try CMSInput.open(path)
        let (cms, _) = try CMSInput.read(input, format: format, path: path)
        let type = OBJ_obj2nid(CMS_get0_type(cms.pointer))
        guard type == NID_pkcs7_enveloped || type == NID_id_smime_ct_authEnvelopedData else {
            throw SMIMEError(.decryptionFailed, "not enveloped data", path: path)
        }
        SMIMEError.clearOpenSSLErrors()
        guard CMS_decrypt_set1_pkey_and_peer(cms.pointer, key.pointer, certificate.pointer, nil) == 1 else {
            throw SMIMEError(.decryptionFailed, "no RecipientInfo for \(certificate.subject) can be opened with this key",
                             path: path)
        }
        // Into memory first: nothing is written unless the whole message decrypts (and, for
        // AuthEnvelopedData, its tag checks).
        let plain = try BIOHandle.emptyMemory()
        guard CMS_decrypt(cms.pointer, nil, nil, nil, plain.pointer, UInt32(CMS_BINARY)) == 1 else {
            throw SMIMEError(.decryptionFailed, "decryption failed", path: path)
        }
        try writeAll(plain.memoryBytes(), to: output)
    }
}

extension SMIMEDecryptor {
    /// Uses a loaded identity (e.g. from PKCS #12) as the recipient.
    public init(identity: SigningIdentity) throws {
        try self.init(certificate: identity.certificate, key: identity.key)
    }
}
