#if canImport(Glibc)
import Glibc
#endif
import MailMessage
import MailPolicy
import MailQueue
import SMIME

/// The canonical message (header, empty line, body with CRLF line ends) in an anonymous file
/// in tmp/: what the S/MIME engine reads to produce each planned copy. O_TMPFILE, or created
/// and unlinked at once, relative to the held tmp/ folder: nothing to clean up after a crash
/// or a signal. The file is closed with the value's last reference.
final class CanonicalCopy {
    let fd: Int32
    /// What the input measured of the body, so that signing does not read it once more to
    /// choose its transfer encoding. The body starts after the header's empty line.
    let knownBody: (start: Int, stats: SMIME.BodyStats)

    /// The entity's signature, when `signer` made it as the copy was written.
    let presignature: Presignature?

    /// Reads the rest of `input` into a new canonical copy. `written`: the part of the body
    /// already read and written to another file (open for reading), copied first. `signer`:
    /// signs the body as it is written (for a message also to be encrypted: the signature is
    /// ready when encryption starts), until its guess fails.
    init(_ id: String, header: HeaderBlock, input: MessageInput, runtime rt: Runtime,
         written: (fd: Int32, range: Range<Int>)? = nil, signer: ArrivalSigner? = nil) throws {
        let fd = try rt.spool.scratchFile(id + ".in")
        let head = header.wireBytes + [13, 10]
        var signer = signer
        do {
            let path = rt.spool.tmpDir + "/(the message)"
            try writeAll(fd, head, path: path)
            if let written {
                try Submission.copyFile(written.fd, to: fd, path: path, start: written.range.lowerBound, end: written.range.upperBound)
            }
            var at = head.count + (written?.range.count ?? 0)
            while try input.nextBodyChunk({ chunk in
                try writeAll(fd, chunk, path: path)
                try signer?.add(chunk, writtenTo: fd, at: at)
                at += chunk.count
            }) {
                if let s = signer, !s.fits(input.smimeStats) {
                    s.abandon()
                    signer = nil
                }
            }
            presignature = try signer?.finishSignature(input.smimeStats)
        } catch {
            signer?.abandon()  // its thread reads the file: stopped before the file is closed
            close(fd)
            throw error
        }
        self.fd = fd
        knownBody = (start: head.count, stats: input.smimeStats)
    }

    deinit { close(fd) }
}

extension MessageInput {
    /// What the body held so far, in the S/MIME engine's terms (`BodyStats`): the body this
    /// reader produces has CRLF line ends only, and no bare CR (stray ones became spaces).
    var smimeStats: SMIME.BodyStats {
        let seen = stats
        return SMIME.BodyStats(has8Bit: seen.eightBit, hasNUL: seen.nul, hasBareCR: false, hasBareLF: false,
                         longestLine: seen.longestLine, hasFromLine: seen.fromLine, hasTrailingSpace: seen.trailingSpace)
    }
}

extension Submission {
    /// A single signed-only copy, signed as the message arrives (`ArrivalSigner`): the queue
    /// file is written in one pass, header and signed entity first, the body as it comes, the
    /// signature last, with no canonical copy in tmp/ and no second pass over the body. When
    /// the body turns out to need a transfer encoding (8-bit octets, long lines, `From `
    /// lines, trailing white space: `ArrivalSigner.fits`), what was written becomes the start
    /// of a canonical copy, the rest of the input follows it there, and the copy is signed
    /// from it as on the usual path; the queue file is started again.
    static func writeSignedOnArrival(_ signer: ArrivalSigner, _ protection: Protection, _ copy: PlannedCopy,
                                     envelope: QueuedEnvelope, header: HeaderBlock, input: MessageInput,
                                     options: SubmissionRequest, runtime rt: Runtime) throws -> [QueuedEnvelope] {
        SignalCleanup.track(QueueWriter.temporaryPath(of: envelope.id, in: rt.spool))
        let writer = try QueueWriter(spool: rt.spool, envelope: envelope)
        var committed = false
        defer { if !committed { writer.abort() } }
        var canonical: CanonicalCopy?
        do {
            try writer.appendDirectly { out in
                canonical = try signOnArrival(signer, to: out, path: writer.temporaryPath, envelope: envelope, header: header,
                                              input: input, runtime: rt)
            }
        } catch let e as SMIMEError {
            throw ProtectionError(describe(copy), cause: e)
        }
        if let canonical {
            try writer.rewind()
            try protect(copy, with: protection, from: canonical, into: writer, runtime: rt)
        }
        let result = try commitGroup([writer], [copy], header: header, input: input, options: options, runtime: rt)
        committed = true
        return result
    }

    /// Writes the signed message to `out` (a queue file after its envelope record) as the body
    /// arrives. Returns nil when it is complete, or the canonical copy to sign from when the
    /// signer's guess failed (`out` then holds a part of the message, to be thrown away).
    private static func signOnArrival(_ signer: ArrivalSigner, to out: Int32, path: String, envelope: QueuedEnvelope,
                                      header: HeaderBlock, input: MessageInput, runtime rt: Runtime) throws -> CanonicalCopy? {
        let messageStart = Int(lseek(out, 0, SEEK_CUR))
        guard messageStart >= 0 else { throw QueueError.system("cannot seek", path: path, errno: errno) }
        try writeAll(out, signer.prefix, path: path)
        let bodyStart = messageStart + signer.prefix.count
        var at = bodyStart
        var writeback = EarlyWriteback()
        writeback.wrote(at, fd: out)
        var fits = true
        do {
            while fits, try input.nextBodyChunk({ chunk in
                try writeAll(out, chunk, path: path)
                writeback.wrote(chunk.count, fd: out)
                try signer.add(chunk, writtenTo: out, at: at)
                at += chunk.count
            }) {
                fits = signer.fits(input.smimeStats)
            }
        } catch {
            signer.abandon()
            throw error
        }
        if fits, let tail = try signer.finish(input.smimeStats) {
            try writeAll(out, tail, path: path)
            return nil
        }
        if fits == false { signer.abandon() }
        return try CanonicalCopy(envelope.id, header: header, input: input, runtime: rt, written: (out, bodyStart..<at))
    }
}
