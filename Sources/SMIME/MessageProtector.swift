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

/// Signs and/or encrypts one message, streamed from a file to a descriptor.
///
/// The input is an RFC 5322 message on disk (header block, empty line, body). Its `Content-*`
/// fields and body form the MIME entity that is protected (RFC 8551 3.1), canonicalised first
/// (CRLF; 7-bit transfer encodings where needed, 3.1.3-3.1.4); every other field stays in the
/// outer header (or is also copied inside with RFC 9788 header protection). The output is a
/// complete message: every line ends in CRLF and is shorter than 998 octets, the body is 7-bit.
///
/// Certificates are checked before anything is written: the signer's must be usable for
/// signing, each recipient's for encryption (RFC 8550 4.4), at `Protection.now`, and against
/// `Protection.trust` when given. Nothing is written when a check fails.
public struct MessageProtector {
    /// What to do.
    public let protection: Protection

    /// A protector for `protection`.
    public init(_ protection: Protection) { self.protection = protection }

    /// Protects the message in the file at `path`, writing the result to `output`.
    public func protect(messageAt path: String, to output: Int32) throws {
        try protect(InputFile(path: path), to: output)
    }

    /// Protects the message in the regular file open at `input` (read with pread; the offset
    /// is not used or moved), writing the result to `output`.
    ///
    /// - Parameter writebackStep: when > 0 and `output` is a file that the caller will fsync,
    ///   the kernel is asked to start writing it out every this many bytes, so that the disk
    ///   works while the CPU signs and encrypts and the final fsync has little left to do.
    /// - Parameter knownBody: the statistics of the message's body (from offset `start`, just
    ///   after the header's empty line, to the end of the file), when the caller measured them
    ///   as it wrote the file: the protector then does not read the body an extra time to find
    ///   them (a sixth of the time of signing a large single-part message). They decide the
    ///   transfer encoding of what is signed, so give only figures measured on these bytes.
    /// - Parameter presignature: the entity's signature, made as the caller wrote the file
    ///   (`ArrivalSigner`), used when the message is signed and encrypted and the entity is
    ///   what it covers (with `knownBody`); otherwise the protector signs.
    public func protect(messageFD input: Int32, to output: Int32, writebackStep: Int = 0,
                        knownBody: (start: Int, stats: BodyStats)? = nil, presignature: Presignature? = nil) throws {
        let file = try InputFile(fd: input)
        file.knownBody = knownBody
        try protect(file, to: output, writebackStep: writebackStep, presignature: presignature)
    }

    /// A write that failed below the CMS and base64 BIOs surfaces there as a bare failure;
    /// the output chain kept its errno, so the error says what happened (a full disk is
    /// `noSpace`, which a caller may retry later, not a broken key).
    private func protect(_ file: InputFile, to output: Int32, writebackStep: Int = 0, presignature: Presignature? = nil) throws {
        let out = try BIOHandle.output(fd: output, writebackStep: writebackStep)
        do { try protect(file, to: out, presignature: presignature) } catch { throw out.writeFailure ?? error }
    }

    private func protect(_ file: InputFile, to out: BIOHandle, presignature: Presignature?) throws {
        guard protection.signer != nil || !protection.recipients.isEmpty else {
            throw SMIMEError(.noRecipients, "nothing to do: neither a signer nor recipients", openSSLErrors: [])
        }
        try protection.checkCertificates()
        let encrypting = !protection.recipients.isEmpty
        let head = try file.headerBlock(at: 0, limit: file.size)
        let (contentFields, headers) = protection.split(head.fields)
        let display = protection.legacyDisplay ? headers.legacyDisplay : nil
        var entity = try CanonicalPlanner(file: file, legacyDisplay: display)
            .plan(contentFields: contentFields, body: head.bodyStart..<file.size)
        entity.headerFields = headers.entityFields(entity.headerFields)

        // Build every CMS structure before the first byte is written.
        let signed = try protection.signer.map { try CMSBuilder.signedData($0, protection.signing) }
        let enveloped = encrypting ? try CMSBuilder.envelopedData(protection.recipients, protection.encryption) : nil

        let writer = BIOWriter(target: out.pointer)
        try writer.write(render(headers.outer).dropLast(2))
        try writer.write("MIME-Version: 1.0\r\n")
        let streams = StreamWriter(file: file, writer: writer)
        let digest = protection.signing.digest
        // A CMS structure is DER, so its lengths come first: a pass that writes nowhere measures
        // (and signs) the entity, the second writes it.
        if let enveloped {
            try writer.write(Framing.pkcs7MimeHeader(smimeType: protection.encryption.cipher.smimeType))
            if let signed, let signer = protection.signer {
                // Signed ahead (as the message was written, or by a pass that writes nowhere),
                // unless both are done at once.
                var inner: MultipartSigned?
                let length = presignature.flatMap { presigned(entity, $0, file, streams) }
                if let presignature, let length {
                    inner = try MultipartSigned(digest, signature: presignature.der, entityLength: length)
                } else if try !signAndEncryptConcurrently(entity, signer, signed, enveloped, file, streams) {
                    inner = try MultipartSigned(signing: entity, with: signed, digest, streams)
                }
                if let inner {
                    try streams.enveloped(enveloped, protection.encryption.cipher, contentLength: inner.length) {
                        try streams.multipartSigned(entity, inner)
                    }
                    if length != nil { Self.presignedPasses.increment() }
                }
            } else {
                // A body the caller measured needs no pass to be measured again.
                let length = try streams.knownLength(of: entity) ?? streams.length(of: entity)
                try streams.enveloped(enveloped, protection.encryption.cipher, contentLength: length) {
                    try streams.entity(entity)
                }
            }
        } else if let signed, protection.signing.form == .opaque {
            try writer.write(Framing.pkcs7MimeHeader(smimeType: "signed-data"))
            let length = try streams.sign(entity, signed)
            try streams.encapsulated(signed, contentLength: length) { try streams.entity(entity) }
        } else if let signed {
            if file.size >= 1 << 20 {
                try signConcurrently(entity, signed, streams)
            } else {
                try streams.multipartSigned(entity, signed, digest)
            }
        }
        try writer.flush()
        guard sm_cms_bio_flush(out.pointer) == 1 else { throw SMIMEError(.outputFailed, "writing the output failed") }
    }

    /// Signed then encrypted, the two at once for a large message: a second thread reads the
    /// file and signs the entity while this one reads it again and encrypts the multipart/signed
    /// around it. The DER header of the encrypted content needs its length first: the entity's
    /// is known without a pass when the caller measured the body (`StreamWriter.knownLength`),
    /// the signature's when the key is RSA (`CMSBuilder.signedDataLength`), and the signature
    /// itself comes last, when the other thread is done. On the project's 2-core machine this
    /// takes the digest (a quarter of the time of signing and encrypting 100 MB) off the path.
    /// Returns false, having written nothing, when a length is not known ahead (or the message
    /// is small, where a thread costs more than it saves): then the caller signs first.
    private func signAndEncryptConcurrently(_ entity: CanonicalEntity, _ signer: SigningIdentity, _ signed: CMSHandle,
                                            _ enveloped: CMSHandle, _ file: InputFile, _ streams: StreamWriter) throws -> Bool {
        guard file.size >= 1 << 20, let entityLength = streams.knownLength(of: entity),
              let signatureLength = try CMSBuilder.signedDataLength(signer, protection.signing) else {
            return false
        }
        var parts = try MultipartSigned(protection.signing.digest)
        let tailLength = parts.tailLength(signatureLength: signatureLength)
        let signing = try BackgroundTask { try streams.sign(entity, signed) }
        defer { signing.join() }
        try streams.enveloped(enveloped, protection.encryption.cipher,
                              contentLength: parts.head.count + entityLength + tailLength) {
            try streams.writer.write(parts.head)
            try streams.entity(entity)
            try collect(signing, signed, into: &parts, entityLength: entityLength)
            guard parts.tail.count == tailLength else {
                throw SMIMEError(.cryptoFailure, "the signature part is not the length worked out ahead (\(parts.tail.count) "
                                 + "octets for \(tailLength))", openSSLErrors: [])
            }
            try streams.writer.write(parts.tail)
        }
        Self.concurrentSigning.increment()
        return true
    }

    /// multipart/signed for a large message: a second thread reads the file and signs the
    /// entity while this one copies it out; the signature part, last, is written when the
    /// other thread is done. Nothing has to be known ahead (no DER header around the entity).
    private func signConcurrently(_ entity: CanonicalEntity, _ signed: CMSHandle, _ streams: StreamWriter) throws {
        var parts = try MultipartSigned(protection.signing.digest)
        let signing = try BackgroundTask { try streams.sign(entity, signed) }
        defer { signing.join() }
        try streams.writer.write(parts.head)
        let start = streams.writer.bytesWritten
        try streams.entity(entity)
        try collect(signing, signed, into: &parts, entityLength: streams.writer.bytesWritten - start)
        try streams.writer.write(parts.tail)
        Self.concurrentSigning.increment()
    }

    /// Waits for the signing thread and puts its signature in `parts`, once it is known to
    /// cover as many octets as this thread wrote of the entity (the two read the file each on
    /// their own: a file changed under them, or a length worked out wrong, is an error here,
    /// never a signature that does not match).
    private func collect(_ signing: BackgroundTask<Int>, _ signed: CMSHandle, into parts: inout MultipartSigned,
                         entityLength: Int) throws {
        let signedLength = try signing.wait()
        guard signedLength == entityLength else {
            throw SMIMEError(.badMessage, "the message changed while it was protected (\(signedLength) octets signed, "
                             + "\(entityLength) written or worked out ahead)", openSSLErrors: [])
        }
        parts.sign(try signed.derBytes())
    }

    /// The entity's length when `presignature` covers it: its header block is the one signed
    /// and its body is the file's body copied as it is (no encoding, CRLF already), as long as
    /// was signed. Nil otherwise.
    private func presigned(_ entity: CanonicalEntity, _ presignature: Presignature, _ file: InputFile,
                           _ streams: StreamWriter) -> Int? {
        guard let known = file.knownBody, entity.body.count == 1, case .copy(let range) = entity.body[0],
              range == known.start..<file.size, range.count == presignature.bodyLength, file.isKnownCRLF(range),
              render(entity.headerFields) == presignature.entityHeader else { return nil }
        return streams.knownLength(of: entity)
    }

    /// How many messages were encrypted around a signature made before (for tests).
    static var presignedCount: Int { presignedPasses.value }
    private static let presignedPasses = SharedCounter()

    /// How many messages were signed on a second thread (for tests: the path is only an
    /// optimisation, and its output the same as the other's).
    static var concurrentPasses: Int { concurrentSigning.value }
    private static let concurrentSigning = SharedCounter()
}

extension Protection {
    /// Checks the signer's certificate for signing and each recipient's for encryption, now
    /// and against `trust` (RFC 8550 4.4): nothing is written when one is unusable.
    func checkCertificates() throws {
        let now = now()
        if let signer {
            let validator = CertificateValidator(trust: trust, intermediates: signer.chain)
            try validator.check(signer.certificate, for: .signing, at: now, role: "signer")
        }
        let validator = CertificateValidator(trust: trust)
        for cert in recipients {
            try validator.check(cert, for: .encryption, at: now, role: "recipient")
        }
    }

    /// A message's header fields as protecting it splits them (RFC 8551 3.1): the Content-*
    /// fields, which go with the body into the protected entity, and the rest, outside (and
    /// copied inside too with RFC 9788 header protection). MIME-Version is written anew.
    func split(_ fields: [HeaderField]) -> (contentFields: [HeaderField], headers: ProtectedHeaders) {
        let other = fields.filter { !$0.isContentField && $0.lowercasedName != "mime-version" }
        let headers = headerProtection ? ProtectedHeaders(protecting: other, encrypting: !recipients.isEmpty)
                                       : ProtectedHeaders(plain: other)
        return (fields.filter(\.isContentField), headers)
    }
}

