#if canImport(Glibc)
import Glibc
#endif
import COpenSSL
import CMailShim
import MailMessage

/// Writes entities and CMS structures through one BIOWriter.
///
/// Every CMS structure is written as DER (X.690 10.1: definite lengths, the content one
/// primitive OCTET STRING), which strict DER readers require, and still streamed: its lengths
/// come first, so the content's length is found by a pass that writes nowhere (signing, when
/// there is a signature, is done in that pass), then the content is written (and encrypted)
/// in a second pass between the DER head and tail (`DERTemplate`).
struct StreamWriter {
    let file: InputFile
    let writer: BIOWriter

    /// The canonical entity: header fields, empty line, body.
    func entity(_ entity: CanonicalEntity) throws {
        try writer.write(render(entity.headerFields))
        try file.write(entity.body, to: writer)
    }

    /// The length of the canonical entity, found by writing it to nowhere.
    func length(of content: CanonicalEntity) throws -> Int {
        let sink = try BIOHandle.null()
        let pass = StreamWriter(file: file, writer: BIOWriter(target: sink.pointer))
        try pass.entity(content)
        try pass.writer.flush()
        return pass.writer.bytesWritten
    }

    /// The length of the canonical entity worked out without reading the file, when every
    /// segment's is known: literal bytes, and copies of ranges known to be CRLF already
    /// (`InputFile.isKnownCRLF`); nil when a segment would have to be encoded to be measured.
    func knownLength(of content: CanonicalEntity) -> Int? {
        var total = render(content.headerFields).count
        for segment in content.body {
            switch segment {
            case .literal(let bytes): total += bytes.count
            case .copy(let range) where file.isKnownCRLF(range): total += range.count
            default: return nil
            }
        }
        return total
    }

    /// Signs `content` with the detached SignedData `cms`, the entity passing through OpenSSL's
    /// digest BIOs to nowhere; returns its length. `cms` then holds the signature.
    func sign(_ content: CanonicalEntity, _ cms: CMSHandle) throws -> Int {
        let sink = try BIOHandle.null()
        SMIMEError.clearOpenSSLErrors()
        guard let chain = CMS_dataInit(cms.pointer, sink.pointer) else {
            throw SMIMEError(.cryptoFailure, "cannot start the signature")
        }
        defer { sm_cms_bio_free_until(chain, sink.pointer) }
        let pass = StreamWriter(file: file, writer: BIOWriter(target: chain))
        try pass.entity(content)
        try pass.writer.flush()
        guard CMS_dataFinal(cms.pointer, chain) == 1 else { throw SMIMEError(.cryptoFailure, "signing failed") }
        return pass.writer.bytesWritten
    }

    /// multipart/signed (RFC 1847, RFC 8551 3.5.3) around `content`, in one pass: the detached
    /// signature is computed while the entity passes through OpenSSL's digest BIOs.
    func multipartSigned(_ content: CanonicalEntity, _ cms: CMSHandle, _ digest: DigestAlgorithm) throws {
        var parts = try MultipartSigned(digest)
        let downstream = writer.target
        try writer.write(parts.head)
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
        parts.sign(try cms.derBytes())
        try writer.write(parts.tail)
    }

    /// multipart/signed around `content`, signed ahead (`MultipartSigned(signing:)`).
    func multipartSigned(_ content: CanonicalEntity, _ parts: MultipartSigned) throws {
        try writer.write(parts.head)
        try entity(content)
        try writer.write(parts.tail)
    }

    /// EnvelopedData (RFC 5652 6) or AuthEnvelopedData (RFC 5083) `cms` around `contentLength`
    /// octets that `content` writes, encrypted as they pass, as base64 DER.
    func enveloped(_ cms: CMSHandle, _ cipher: ContentCipher, contentLength: Int,
                   content: () throws -> Void) throws {
        try base64DER { b64 in
            // No content OCTET STRING while encrypting: OpenSSL would gather the ciphertext in it.
            guard CMS_set_detached(cms.pointer, 1) == 1 else { throw SMIMEError(.cryptoFailure, "cannot stream") }
            SMIMEError.clearOpenSSLErrors()
            // A large message's ciphertext is base64-encoded and written on a thread of its
            // own (the output is a third of the work), while this one reads and encrypts.
            var below = b64
            if contentLength >= 1 << 20 {
                guard let writer = sm_cms_bio_async(b64, 1 << 20) else {
                    throw SMIMEError(.cryptoFailure, "cannot start the writer thread")
                }
                below = writer
            }
            // Makes the content key and encrypts it to each recipient: from now on all but the
            // ciphertext and the AEAD tag is known.
            guard let chain = CMS_dataInit(cms.pointer, below) else {
                if below != b64 { sm_cms_bio_free_until(below, b64) }
                throw SMIMEError(.cryptoFailure, "cannot start the encryption")
            }
            var chainOpen = true
            defer { if chainOpen { sm_cms_bio_free_until(chain, b64) } }
            let cipherLength = cipher.ciphertextLength(contentLength)
            var tagLength: Int?
            if cipher.isAuthenticated {
                tagLength = Int(sm_cms_aead_tag_length(chain))
                guard tagLength != 0 else { throw SMIMEError(.cryptoFailure, "no AEAD tag length") }
            }
            let frame = try cms.derFrame(CMSPath.encryptedContent, contentLength: cipherLength, macLength: tagLength)
            try put(frame.head, to: b64)
            try write(content, length: contentLength, through: chain)
            // The writer thread, if any, is drained by the flush (and again after the final
            // step, which could still write): nothing is left in it when it is freed.
            guard sm_cms_bio_flush(chain) == 1, CMS_dataFinal(cms.pointer, chain) == 1,
                  below == b64 || sm_cms_bio_flush(below) == 1 else {
                throw SMIMEError(.cryptoFailure, "encryption failed")
            }
            sm_cms_bio_free_until(chain, b64)
            chainOpen = false
            // The tail again, now with the AEAD tag: the same size, and the head unchanged.
            let final = try cms.derFrame(CMSPath.encryptedContent, contentLength: cipherLength, macLength: nil)
            guard BIO_number_written(b64) == UInt64(frame.head.count + cipherLength),
                  final.head == frame.head, final.tail.count == frame.tail.count else {
                throw SMIMEError(.cryptoFailure, "the encrypted content is not the length its DER header says",
                                 openSSLErrors: [])
            }
            return final.tail
        }
    }

    /// SignedData `cms`, already signed, with `contentLength` octets of encapsulated content
    /// (RFC 5652 5.2) that `content` writes, as base64 DER.
    func encapsulated(_ cms: CMSHandle, contentLength: Int, content: () throws -> Void) throws {
        try base64DER { b64 in
            let frame = try cms.derFrame(CMSPath.signedContent, contentLength: contentLength, macLength: nil)
            try put(frame.head, to: b64)
            try write(content, length: contentLength, through: b64)
            return frame.tail
        }
    }

    /// Base64 (76 columns, CRLF) over the writer's target; `body` writes the DER through it
    /// and returns its last bytes, written before the final line is finished.
    private func base64DER(_ body: (OpaquePointer) throws -> [UInt8]) throws {
        try writer.flush()
        guard let raw = sm_cms_bio_b64crlf(writer.target) else { throw SMIMEError(.cryptoFailure, "cannot set up base64") }
        let b64 = BIOHandle(raw)
        let tail = try body(b64.pointer)
        try put(tail, to: b64.pointer)
        guard sm_cms_b64crlf_finish(b64.pointer) == 1 else { throw SMIMEError(.outputFailed, "writing the output failed") }
    }

    /// Runs `content` with the writer aimed at `bio`; it must write `length` octets, as the
    /// first pass found.
    private func write(_ content: () throws -> Void, length: Int, through bio: OpaquePointer) throws {
        let outer = writer.target
        try writer.retarget(bio)
        let start = writer.bytesWritten
        try content()
        try writer.retarget(outer)
        let written = writer.bytesWritten - start
        guard written == length else {
            throw SMIMEError(.badMessage, "the message changed while it was protected (\(length) octets, then \(written))",
                             openSSLErrors: [])
        }
    }

    private func put(_ bytes: [UInt8], to bio: OpaquePointer) throws {
        guard bytes.withUnsafeBytes({ sm_cms_bio_write_all(bio, $0.baseAddress, $0.count) }) == 1 else {
            throw SMIMEError(.outputFailed, "writing the output failed")
        }
    }
}

/// multipart/signed (RFC 1847, RFC 8551 3.5.3): what comes before the signed entity and after it.
struct MultipartSigned {
    /// The header of the multipart, its preamble and the first delimiter.
    let head: [UInt8]
    /// The delimiter after the entity, the signature part and the close delimiter (once signed).
    private(set) var tail: [UInt8] = []
    /// The length of the entity between them (once signed ahead).
    private(set) var entityLength = 0
    private let boundary: String

    /// The whole multipart's length (once signed ahead).
    var length: Int { head.count + entityLength + tail.count }

    init(_ digest: DigestAlgorithm) throws {
        boundary = try Framing.boundary()
        head = Array((Framing.multipartSignedHeader(boundary: boundary, micalg: digest.micalg) + "--\(boundary)\r\n").utf8)
    }

    /// Signs `entity` ahead with the detached SignedData `cms` (a pass that writes nowhere), so
    /// that the multipart's length is known before it is written.
    init(signing entity: CanonicalEntity, with cms: CMSHandle, _ digest: DigestAlgorithm, _ streams: StreamWriter) throws {
        try self.init(digest)
        entityLength = try streams.sign(entity, cms)
        sign(try cms.derBytes())
    }

    /// Around an entity of `entityLength` octets already signed by `signature` (DER).
    init(_ digest: DigestAlgorithm, signature: [UInt8], entityLength: Int) throws {
        try self.init(digest)
        self.entityLength = entityLength
        sign(signature)
    }

    /// Sets the tail around the DER `signature`.
    mutating func sign(_ signature: [UInt8]) {
        tail = Self.tail(boundary, signature)
    }

    /// The tail's length around a signature of `signatureLength` octets (base64 makes it
    /// depend on the length only).
    func tailLength(signatureLength: Int) -> Int {
        Self.tail(boundary, [UInt8](repeating: 0, count: signatureLength)).count
    }

    private static func tail(_ boundary: String, _ signature: [UInt8]) -> [UInt8] {
        Array(("\r\n--\(boundary)\r\n" + Framing.signaturePartHeader).utf8) + Base64LineEncoder.encode(signature)
            + Array("\r\n--\(boundary)--\r\n".utf8)
    }
}

/// Where the streamed content sits in a CMS ContentInfo (RFC 5652 3) as OpenSSL encodes it,
/// each step the first child with that tag.
enum CMSPath {
    /// [0] content, EnvelopedData or AuthEnvelopedData, its first SEQUENCE
    /// ((Auth)EncryptedContentInfo), its [0] IMPLICIT encryptedContent (RFC 5652 6.1, RFC 5083 2.1).
    static let encryptedContent: DERTemplate.Path = [0xA0, 0x30, 0x30, 0x80]
    /// AuthEnvelopedData's mac, its first OCTET STRING (RFC 5083 2.1).
    static let mac: DERTemplate.Path = [0xA0, 0x30, 0x04]
    /// SignedData, its first SEQUENCE (EncapsulatedContentInfo), [0] EXPLICIT eContent (5.2).
    static let signedContent: DERTemplate.Path = [0xA0, 0x30, 0x30, 0xA0, 0x04]
}

extension CMSHandle {
    /// The DER of this structure split around `contentLength` octets at `path`, written
    /// between the two parts; with `macLength`, AuthEnvelopedData's mac counted at that size.
    func derFrame(_ path: DERTemplate.Path, contentLength: Int, macLength: Int?) throws -> (head: [UInt8], tail: [UInt8]) {
        guard CMS_set_detached(pointer, 0) == 1 else { throw SMIMEError(.cryptoFailure, "cannot encode the CMS structure") }
        let der = try derBytes()
        _ = CMS_set_detached(pointer, 1)
        var template = try DERTemplate(der)
        try template.stream(at: path, length: contentLength)
        if let macLength { try template.replace(at: CMSPath.mac, with: [UInt8](repeating: 0, count: macLength)) }
        return try template.split()
    }
}

extension ContentCipher {
    /// The ciphertext length of `n` octets: CBC pads to whole blocks, adding 1 to a block's
    /// worth (RFC 5652 6.3); GCM adds nothing (its tag goes in `mac`, RFC 5084 3.1).
    func ciphertextLength(_ n: Int) -> Int {
        let block = Int(EVP_CIPHER_get_block_size(evp))
        return block > 1 ? (n / block + 1) * block : n
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
