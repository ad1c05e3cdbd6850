#if canImport(Glibc)
import Glibc
#endif
import COpenSSL
import CMailShim
import MailMessage

/// Signs a message while it arrives (multipart/signed, RFC 8551 3.5.3), so that a submission
/// writes its queue file in one pass: `prefix` first, then the body as it comes, then the
/// signature part that `finish` returns. The result is the message `MessageProtector` makes of
/// the same input (only the boundary and the signature's time differ).
///
/// The signed entity's header comes before its body but depends on it: a body with 8-bit
/// octets, lines over 76 octets, `From ` lines or trailing white space is given a transfer
/// encoding first (RFC 8551 3.1.3, 3.1.4). So the signer guesses the usual case, a body that
/// needs none, and the caller checks the guess as the body arrives (`fits`) and at the end
/// (`finish` returns nil). When it fails, nothing of the signature is used: the caller signs
/// a canonical copy with `MessageProtector`. Only a single-part body is signed this way (the
/// parts of a multipart are planned one by one, from the file).
///
/// The digest of the first MiB is computed on the caller's thread; from there on a second
/// thread reads the body back from the file the caller is writing and computes it, so on two
/// cores a large signed message costs hardly more than writing it.
///
/// A message that is also encrypted is signed the same way while its canonical copy is
/// written (`finishSignature`): the signature is then ready before encryption starts, and
/// `MessageProtector` uses it (`Presignature`) instead of signing in its own pass.
public final class ArrivalSigner {
    /// What the caller writes before the body when the message is signed only: the outer
    /// header, MIME-Version, the multipart/signed header and first delimiter, the signed
    /// entity's header block.
    public let prefix: [UInt8]
    /// Whether the protection also encrypts: then only `finishSignature` is of use.
    public let encrypts: Bool
    private let contentFields: [HeaderField]
    private let headers: ProtectedHeaders
    private let entityHeader: [UInt8]
    private let cms: CMSHandle
    private let sink: BIOHandle
    private let chain: OpaquePointer
    private var parts: MultipartSigned
    /// Where the body starts in the caller's file, and how much of it was given so far.
    private var bodyStart: Int?
    private var bodyLength = 0
    private var worker: BackgroundTask<Int>?
    private var progress: WriteProgress?

    /// Body octets digested on the caller's thread before a second one takes over: below
    /// this a thread costs more than it saves.
    static let inlineLimit = 1 << 20

    /// A signer for a message with these header fields, or nil when it cannot be signed as it
    /// arrives (no signer, an opaque signature, not a single-part body, or a legacy display
    /// part to add): then sign it with `MessageProtector` alone. Throws what
    /// `MessageProtector` would of the certificates and the key.
    public init?(_ protection: Protection, fields: [HeaderField]) throws {
        guard let signer = protection.signer, protection.signing.form == .detached else { return nil }
        encrypts = !protection.recipients.isEmpty
        (contentFields, headers) = protection.split(fields)
        guard !protection.legacyDisplay || headers.legacyDisplay == nil,
              let guess = Self.entityHeader(contentFields, headers, BodyStats()) else { return nil }
        try protection.checkCertificates()
        entityHeader = guess
        cms = try CMSBuilder.signedData(signer, protection.signing)
        parts = try MultipartSigned(protection.signing.digest)
        sink = try BIOHandle.null()
        SMIMEError.clearOpenSSLErrors()
        guard let chain = CMS_dataInit(cms.pointer, sink.pointer) else {
            throw SMIMEError(.cryptoFailure, "cannot start the signature")
        }
        self.chain = chain
        prefix = Array(render(headers.outer).dropLast(2)) + Array("MIME-Version: 1.0\r\n".utf8) + parts.head + guess
        try digest(guess)
    }

    deinit {
        stop()
        sm_cms_bio_free_until(chain, sink.pointer)
    }

    /// Whether the guess still holds for a body with these statistics (so far, or whole).
    public func fits(_ stats: BodyStats) -> Bool {
        Self.entityHeader(contentFields, headers, stats) == entityHeader
    }

    /// The caller wrote `chunk`, the next piece of the body (CRLF line ends), to `fd` at
    /// `offset`. Pieces follow each other in the file; `fd` must be open for reading too, and
    /// stay open until `finish` or `abandon`.
    public func add(_ chunk: UnsafeRawBufferPointer, writtenTo fd: Int32, at offset: Int) throws {
        let start = bodyStart ?? offset
        guard offset == start + bodyLength else {
            throw SMIMEError(.badMessage, "body piece at offset \(offset), expected at \(start + bodyLength)", openSSLErrors: [])
        }
        bodyStart = start
        bodyLength += chunk.count
        if let progress {
            progress.advance(to: offset + chunk.count)
        } else if bodyLength <= Self.inlineLimit {
            try digest(chunk)
        } else {
            let progress = WriteProgress(start: offset)
            let chain = chain
            do {
                worker = try BackgroundTask { try Self.digest(fd, from: offset, progress, into: chain) }
            } catch {
                // No thread to be had: the caller's thread goes on digesting.
                try digest(chunk)
                return
            }
            self.progress = progress
            progress.advance(to: offset + chunk.count)
        }
    }

    /// The end of the body, with its statistics: the signature part (to write after the body),
    /// or nil when the guess did not hold (the caller signs a canonical copy instead). For a
    /// message that is signed only.
    public func finish(_ stats: BodyStats) throws -> [UInt8]? {
        guard !encrypts else {
            abandon()  // its thread reads the caller's file: stopped before the caller closes it
            throw SMIMEError(.badMessage, "a message to encrypt too is not written as it arrives", openSSLErrors: [])
        }
        guard let der = try signature(stats) else { return nil }
        parts.sign(der)
        return parts.tail
    }

    /// The end of the body, with its statistics: the signature of the entity as the caller
    /// wrote it, for `MessageProtector` to use when it encrypts; nil when the guess did not
    /// hold (it then signs in its own pass).
    public func finishSignature(_ stats: BodyStats) throws -> Presignature? {
        try signature(stats).map { Presignature(entityHeader: entityHeader, bodyLength: bodyLength, der: $0) }
    }

    private func signature(_ stats: BodyStats) throws -> [UInt8]? {
        guard fits(stats) else {
            abandon()
            return nil
        }
        if let worker, let progress {
            progress.finish()
            let end = try worker.wait()
            self.worker = nil
            self.progress = nil
            guard end == (bodyStart ?? 0) + bodyLength else {
                throw SMIMEError(.badMessage, "the queue file changed while it was signed (\(end - (bodyStart ?? 0)) octets "
                                 + "read back, \(bodyLength) written)", openSSLErrors: [])
            }
        }
        guard sm_cms_bio_flush(chain) == 1, CMS_dataFinal(cms.pointer, chain) == 1 else {
            throw SMIMEError(.cryptoFailure, "signing failed")
        }
        Self.counts.increment()
        return try cms.derBytes()
    }

    /// The guess failed (or the caller gave up): stops the second thread; the signer is done.
    public func abandon() {
        stop()
        Self.abandoned.increment()
    }

    /// How many messages were signed as they arrived, and how many guesses failed (for tests:
    /// the path is an optimisation, its output that of `MessageProtector`).
    static var signedCount: Int { counts.value }
    static var abandonedCount: Int { abandoned.value }
    private static let counts = SharedCounter()
    private static let abandoned = SharedCounter()

    private func stop() {
        progress?.cancel()
        worker?.join()
        worker = nil
        progress = nil
    }

    private func digest(_ bytes: UnsafeRawBufferPointer) throws {
        guard sm_cms_bio_write_all(chain, bytes.baseAddress, bytes.count) == 1 else {
            throw SMIMEError(.cryptoFailure, "signing failed")
        }
    }

    private func digest(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try digest($0) } }

    /// The header block of the signed entity for a body with `stats`, when the body is copied
    /// as it is (nil when it would be encoded, or is not a single part).
    private static func entityHeader(_ contentFields: [HeaderField], _ headers: ProtectedHeaders,
                                     _ stats: BodyStats) -> [UInt8]? {
        guard let planned = CanonicalPlanner.singlePart(contentFields: contentFields, body: 0..<0, stats: stats),
              planned.body.count == 1, case .copy = planned.body[0] else { return nil }
        return render(headers.entityFields(planned.headerFields))
    }

    /// The second thread: reads the file behind the writer and digests it, until the writer
    /// finishes or cancels; returns the offset it read up to.
    private static func digest(_ fd: Int32, from start: Int, _ progress: WriteProgress, into chain: OpaquePointer) throws -> Int {
        let file = try InputFile(fd: fd, name: "the queue file")
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
        defer { buffer.deallocate() }
        var at = start
        while let end = progress.wait(beyond: at) {
            while at < end && !progress.isCancelled {
                let n = try file.read(at: at, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, end - at)]))
                guard n > 0 else {
                    throw SMIMEError(.badMessage, "the queue file shrank while it was signed", openSSLErrors: [])
                }
                guard sm_cms_bio_write_all(chain, buffer.baseAddress, n) == 1 else {
                    throw SMIMEError(.cryptoFailure, "signing failed")
                }
                at += n
            }
        }
        return at
    }
}

/// A detached signature made before `MessageProtector` runs (`ArrivalSigner.finishSignature`),
/// with what it covers: the entity's header block and the length of its body. Give it to the
/// protector with the same `Protection` it was made for: the protector uses it only for an
/// entity it plans to be exactly that header and the body's bytes as they are in the file;
/// otherwise it signs in its own pass.
public struct Presignature {
    let entityHeader: [UInt8]
    let bodyLength: Int
    let der: [UInt8]
}
