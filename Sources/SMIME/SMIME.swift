/// # SMIME: S/MIME 4.0 signing, encryption, verification and certificate selection
///
/// Streams a message on disk (RFC 5322 header block + body) into a signed and/or encrypted
/// message on a file descriptor, over the system OpenSSL 3 CMS implementation (through the
/// narrow `CMailShim` C target). Entry points:
/// - ``SigningIdentity``: a signer's key and certificate, from PEM or PKCS #12.
/// - ``MessageProtector``: sign, encrypt, or sign then encrypt (``Protection``).
/// - ``ArrivalSigner``: signs a message while it is being written, for a submission that
///   writes a signed message in one pass, or has the signature ready (``Presignature``)
///   before it encrypts.
/// - ``SMIMEVerifier`` and ``SMIMEDecryptor``: the reverse, for tests, `sealctl` and library users.
/// - ``CertificateStore``: a folder of PEM certificates and CRLs; picks and validates the
///   certificate for an address (``CertificateValidator``).
///
/// Standards implemented:
/// - RFC 8551 (S/MIME 4.0 messages): 2.1 digests, 2.2 signatures, 2.3 key encryption, 2.5 signed
///   attributes, 2.7 content encryption, 3.1 canonicalisation, 3.2-3.5 formats, 3.7 nesting.
/// - RFC 8550 (S/MIME 4.0 certificates): 3 address binding, 4.4 key usage and EKU, 2.1/4.1 CRLs.
/// - RFC 5652 (CMS), RFC 5083 (AuthEnvelopedData), RFC 5084 (AES-GCM in CMS), RFC 3560 (OAEP),
///   RFC 4056 (RSASSA-PSS), RFC 5753 (ECDH in CMS), RFC 5035 (ESS signingCertificateV2),
///   RFC 1847 (multipart/signed), RFC 2045 (transfer encodings), RFC 9788 (header protection).
///   The MIME pieces (header parser, Content-Type, delimiter lines, quoted-printable and base64)
///   are MailMessage's; the canonicaliser only adds reading the file in pieces (pread), so a
///   message of any size is protected in bounded memory.
/// - X.690 10.1 (DER): every CMS structure is written with definite lengths and its content as
///   one primitive OCTET STRING, which strict DER readers (Python cryptography) require, where
///   OpenSSL streams BER. The content still streams: its length is known from the caller's
///   figures (`knownBody`) or from a first pass over the file that measures (and signs) the
///   canonical entity; then it is written (and encrypted) between a DER head and tail made by
///   OpenSSL with an empty placeholder (`DERTemplate`), base64 and the writes on a thread of
///   their own for a large message (`sm_cms_bio_async`).
///
/// Known divergences:
/// - OpenSSL 3.0 has no Ed25519 signatures in CMS, no X25519 key agreement (RFC 8418) and no
///   ChaCha20-Poly1305: RFC 8551 MUSTs we cannot meet; such messages fail with a clear error.
/// - Verify and decrypt buffer the whole message (OpenSSL's `CMS_verify`/`CMS_decrypt` do);
///   only the sending direction streams.
/// - The default content cipher is AES-256-CBC (EnvelopedData), not the RFC 8551 2.7 SHOULD
///   AES-256-GCM, because gpgsm 2.2, Outlook and others cannot read AuthEnvelopedData.
/// - Preambles and epilogues of multiparts are copied (CRLF-normalised) but not re-encoded; a
///   header field with 8-bit bytes is copied as it is (it cannot be re-encoded without changing
///   its meaning).
/// - MIME-Version is written on the outer message only; the protected entity carries the
///   `Content-*` fields (RFC 8551 3.1 "MIME entity").
/// - RFC 9788 support is the sending side only (`hp="clear"/"cipher"`, `HP-Outer`, outer
///   `Subject: [...]`), plus `protected-headers="v1"` for older clients.
public enum SMIMEModule {}

// The OpenSSL objects behind these classes are never changed after they are loaded (X509,
// EVP_PKEY and X509_CRL are reference counted and only read; OpenSSL 3 allows that from any
// thread), and the classes expose no mutable state but SigningIdentity.encryptionCertificate,
// which is set before an identity is shared. So they may cross concurrency domains: a
// `Mail` carrying a signer and certificates is Sendable.
extension Certificate: @unchecked Sendable {}
extension PrivateKey: @unchecked Sendable {}
extension RevocationList: @unchecked Sendable {}
extension SigningIdentity: @unchecked Sendable {}
extension TrustSettings: @unchecked Sendable {}
