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
    public func protect(messageFD input: Int32, to output: Int32, writebackStep: Int = 0) throws {
        try protect(InputFile(fd: input), to: output, writebackStep: writebackStep)
    }

    /// A write that failed below the CMS and base64 BIOs surfaces there as a bare failure;
    /// the output chain kept its errno, so the error says what happened (a full disk is
    /// `noSpace`, which a caller may retry later, not a broken key).
    private func protect(_ file: InputFile, to output: Int32, writebackStep: Int = 0) throws {
        let out = try BIOHandle.output(fd: output, writebackStep: writebackStep)
        do { try protect(file, to: out) } catch { throw out.writeFailure ?? error }
    }

    private func protect(_ file: InputFile, to out: BIOHandle) throws {
        guard protection.signer != nil || !protection.recipients.isEmpty else {
            throw SMIMEError(.noRecipients, "nothing to do: neither a signer nor recipients", openSSLErrors: [])
        }
        try checkCertificates()
        let encrypting = !protection.recipients.isEmpty
        let head = try file.headerBlock(at: 0, limit: file.size)
        let contentFields = head.fields.filter(\.isContentField)
        let otherFields = head.fields.filter { !$0.isContentField && $0.lowercasedName != "mime-version" }
        let headers = protection.headerProtection
            ? ProtectedHeaders(protecting: otherFields, encrypting: encrypting)
            : ProtectedHeaders(plain: otherFields)
        let display = protection.legacyDisplay ? headers.legacyDisplay : nil
        var entity = try CanonicalPlanner(file: file, legacyDisplay: display)
            .plan(contentFields: contentFields, body: head.bodyStart..<file.size)
        entity.headerFields = headers.entityFields(entity.headerFields)

        // Build every CMS structure before the first byte is written.
        let signed = try protection.signer.map {
            try CMSBuilder.signedData($0, protection.signing, detached: protection.signing.form == .detached || encrypting)
        }
        let enveloped = encrypting ? try CMSBuilder.envelopedData(protection.recipients, protection.encryption) : nil

        let writer = BIOWriter(target: out.pointer)
        try writer.write(render(headers.outer).dropLast(2))
        try writer.write("MIME-Version: 1.0\r\n")
        let streams = StreamWriter(file: file, writer: writer)
        if let enveloped {
            try writer.write(Framing.pkcs7MimeHeader(smimeType: protection.encryption.cipher.smimeType))
            try streams.cmsStream(enveloped, over: out) {
                if let signed {
                    try streams.multipartSigned(entity, signed, protection.signing.digest)
                } else {
                    try streams.entity(entity)
                }
            }
        } else if let signed, protection.signing.form == .opaque {
            try writer.write(Framing.pkcs7MimeHeader(smimeType: "signed-data"))
            try streams.cmsStream(signed, over: out) { try streams.entity(entity) }
        } else if let signed {
            try streams.multipartSigned(entity, signed, protection.signing.digest)
        }
        try writer.flush()
        guard sm_cms_bio_flush(out.pointer) == 1 else { throw SMIMEError(.outputFailed, "writing the output failed") }
    }

    private func checkCertificates() throws {
        let now = protection.now()
        if let signer = protection.signer {
            let validator = CertificateValidator(trust: protection.trust, intermediates: signer.chain)
            try validator.check(signer.certificate, for: .signing, at: now, role: "signer")
        }
        let validator = CertificateValidator(trust: protection.trust)
        for cert in protection.recipients {
            try validator.check(cert, for: .encryption, at: now, role: "recipient")
        }
    }
}

/// Writes entities and CMS streams through one BIOWriter.
struct StreamWriter {
    let file: InputFile
    let writer: BIOWriter

    /// The canonical entity: header fields, empty line, body.
    func entity(_ entity: CanonicalEntity) throws {
        try writer.write(render(entity.headerFields))
        try file.write(entity.body, to: writer)
    }

    /// multipart/signed (RFC 1847, RFC 8551 3.5.3) around `entity`, the detached signature
    /// computed while the entity passes through OpenSSL's digest BIOs.
    func multipartSigned(_ content: CanonicalEntity, _ cms: CMSHandle, _ digest: DigestAlgorithm) throws {
        let boundary = try Framing.boundary()
        let downstream = writer.target
        try writer.write(Framing.multipartSignedHeader(boundary: boundary, micalg: digest.micalg))
        try writer.write("--\(boundary)\r\n")
        try writer.flush()
        SMIMEError.clearOpenSSLErrors()
        guard let chain = CMS_dataInit(cms.pointer, downstream) else {
            throw SMIMEError(.cryptoFailure, "cannot start the signature")
        }
        defer { sm_cms_bio_free_until(chain, downstream) }
        try writer.retarget(chain)
        try entity(content)
        try writer.retarget(downstream)
        guard CMS_dataFinal(cms.pointer, chain) == 1 else { throw SMIMEError(.cryptoFailure, "signing failed") }
        try writer.write("\r\n--\(boundary)\r\n")
        try writer.write(Framing.signaturePartHeader)
        try writer.write(Base64LineEncoder.encode(try cms.derBytes()))
        try writer.write("\r\n--\(boundary)--\r\n")
    }

    /// Writes `content` through a streaming CMS structure whose DER goes base64-encoded (76
    /// columns, CRLF) to `out`.
    func cmsStream(_ cms: CMSHandle, over out: BIOHandle, content: () throws -> Void) throws {
        let outer = writer.target
        try writer.flush()
        guard let b64raw = sm_cms_bio_b64crlf(outer) else { throw SMIMEError(.cryptoFailure, "cannot set up base64") }
        let b64 = BIOHandle(b64raw)
        SMIMEError.clearOpenSSLErrors()
        guard let top = BIO_new_CMS(b64.pointer, cms.pointer) else {
            throw SMIMEError(.cryptoFailure, "cannot start the CMS stream")
        }
        var finished = false
        defer { if !finished { sm_cms_bio_free_until(top, b64.pointer) } }
        try writer.retarget(top)
        try content()
        try writer.retarget(outer)
        guard sm_cms_bio_flush(top) == 1 else { throw SMIMEError(.cryptoFailure, "finishing the CMS structure failed") }
        sm_cms_bio_free_until(top, b64.pointer)
        finished = true
        guard sm_cms_b64crlf_finish(b64.pointer) == 1 else { throw SMIMEError(.outputFailed, "writing the output failed") }
    }
}

/// The MIME framing we write ourselves (OpenSSL's SMIME_write_CMS ends base64 lines in bare LF).
enum Framing {
    static func boundary() throws -> String {
        var random = [UInt8](repeating: 0, count: 15)
        guard RAND_bytes(&random, Int32(random.count)) == 1 else { throw SMIMEError(.cryptoFailure, "no randomness") }
        return "----=_smime_" + Hex.string(random)
    }

    static func multipartSignedHeader(boundary: String, micalg: String) -> String {
        "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=\(micalg);\r\n"
            + "\tboundary=\"\(boundary)\"\r\n\r\nThis is a cryptographically signed message in MIME format.\r\n\r\n"
    }

    static let signaturePartHeader = "Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n"
        + "Content-Transfer-Encoding: base64\r\n"
        + "Content-Disposition: attachment; filename=\"smime.p7s\"\r\n"
        + "Content-Description: S/MIME Cryptographic Signature\r\n\r\n"

    static func pkcs7MimeHeader(smimeType: String) -> String {
        "Content-Type: application/pkcs7-mime; smime-type=\(smimeType); name=\"smime.p7m\"\r\n"
            + "Content-Transfer-Encoding: base64\r\n"
            + "Content-Disposition: attachment; filename=\"smime.p7m\"\r\n"
            + "Content-Description: S/MIME \(smimeType == "signed-data" ? "Signed" : "Encrypted") Message\r\n\r\n"
    }
}
