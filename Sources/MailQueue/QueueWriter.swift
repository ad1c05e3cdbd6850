#if canImport(Glibc)
import Glibc
#endif

/// Writes one message into the queue. The envelope record goes first (its fixed-width summary
/// is filled in at the end), then the message bytes, buffered. `commit()` makes it durable:
/// pwrite of the summary, fsync, rename into messages/ refusing to replace anything, fsync of
/// the folder. Until then the file lives in tmp/ under an flock, and `abort()` (or a sweep
/// after a crash) removes it: a message is either committed whole or not at all.
public final class QueueWriter {
    public let spool: Spool
    public private(set) var envelope: QueuedEnvelope
    /// The temporary file, for signal handlers that must remove it on the way out.
    public let temporaryPath: String
    private var fd: Int32
    private let summaryOffset: Int
    private let headerLength: Int
    private var buffer: [UInt8] = []
    private var bodyBytes: Int64 = 0
    private var finished = false
    private var writeback = EarlyWriteback()
    private static let bufferSize = 256 * 1024

    /// Creates tmp/ID and writes the envelope record. The envelope's recipients and sender
    /// must be final; size and body flags are filled in by `commit`.
    public init(spool: Spool, envelope: QueuedEnvelope) throws {
        self.spool = spool
        self.envelope = envelope
        temporaryPath = Self.temporaryPath(of: envelope.id, in: spool)
        do {
            // Readable too: a producer may read back what it wrote (`appendDirectly`).
            fd = try spool.createNew(.tmp, envelope.id, flags: O_RDWR, mode: 0o640)
        } catch let e as QueueError {
            throw QueueError(e.code == .unsafe ? .cannotCreate : e.code, "cannot create queue file: \(e.message)", errno: e.errno)
        }
        _ = flock(fd, LOCK_EX | LOCK_NB)
        let (record, offset) = EnvelopeRecord.encode(envelope)
        summaryOffset = offset
        headerLength = record.count
        buffer.reserveCapacity(Self.bufferSize)
        buffer.append(contentsOf: record)
    }

    /// Where the writer of message `id` keeps it until the commit (known before it exists, so
    /// that a signal handler can be told to remove it before it is created).
    public static func temporaryPath(of id: String, in spool: Spool) -> String {
        spool.tmpDir + "/" + id
    }

    /// Appends message bytes.
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        bodyBytes += Int64(bytes.count)
        if buffer.count + bytes.count > Self.bufferSize {
            try flush()
            if bytes.count > Self.bufferSize {
                do { try writeAll(fd, bytes, path: temporaryPath) } catch { abort(); throw error }
                writeback.wrote(bytes.count, fd: fd)
                return
            }
        }
        buffer.append(contentsOf: bytes)
    }

    public func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try append($0) }
    }

    /// Lets a producer (the S/MIME engine) write message bytes straight to the file, after
    /// what was appended so far; the size is taken from the file afterwards.
    public func appendDirectly(_ produce: (Int32) throws -> Void) throws {
        try flush()
        do {
            try produce(fd)
        } catch {
            abort()
            throw error
        }
        let end = lseek(fd, 0, SEEK_END)
        guard end >= 0 else {
            let e = errno
            abort()
            throw QueueError.system("cannot seek", path: temporaryPath, errno: e)
        }
        bodyBytes = Int64(end) - Int64(headerLength)
    }

    /// Throws away the message bytes written so far, keeping the envelope record, so that a
    /// producer can start again (a message signed as it arrived, whose body turned out to need
    /// another transfer encoding, is signed again from a canonical copy).
    public func rewind() throws {
        try flush()
        guard ftruncate(fd, off_t(headerLength)) == 0, lseek(fd, off_t(headerLength), SEEK_SET) >= 0 else {
            let e = errno
            abort()
            throw QueueError.system("cannot truncate", path: temporaryPath, errno: e)
        }
        bodyBytes = 0
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        do {
            try writeAll(fd, buffer, path: temporaryPath)
        } catch {
            abort()
            throw error
        }
        writeback.wrote(buffer.count, fd: fd)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Makes the message durable and visible to queue runs. After this returns the message
    /// survives a crash or power loss; the caller may then report success.
    /// - Parameter update: final changes to the envelope's summary (body type, flags).
    public func commit(_ update: (inout QueuedEnvelope) -> Void = { _ in }) throws -> QueuedEnvelope {
        try Self.commit([self], update: { _, e in update(&e) })[0]
    }

    /// Commits several queue files as one group (the copies of one submission): each is
    /// completed and fsync'd in tmp/, then all are linked into messages/ and the folder is
    /// fsync'd once. Until the last link and that fsync have succeeded, nothing is reported
    /// committed: on any failure every copy already linked is unlinked again and all are
    /// aborted, so the caller's error means that no copy is queued. Queue runs cannot take a
    /// copy before the group is complete: each file stays under this writer's flock until the
    /// end. (A crash between two links leaves the linked copies deliverable and the caller
    /// without a success status: present-and-deliverable, never lost.)
    /// - Parameter update: final changes to each envelope's summary, by index in `writers`.
    /// - Returns: the committed envelopes, in the order of `writers`.
    public static func commit(_ writers: [QueueWriter],
                              update: (Int, inout QueuedEnvelope) -> Void = { _, _ in }) throws -> [QueuedEnvelope] {
        try complete(writers, update: update)
        return try link(writers)
    }

    /// The first half of `commit`: each file completed (summary written) and fsync'd in tmp/.
    /// Nothing is visible to queue runs yet; on failure every writer is aborted.
    public static func complete(_ writers: [QueueWriter],
                                update: (Int, inout QueuedEnvelope) -> Void = { _, _ in }) throws {
        do {
            for (n, w) in writers.enumerated() { try w.complete { update(n, &$0) } }
        } catch {
            for w in writers { w.abort() }
            throw error
        }
    }

    /// The second half of `commit`, the commit point: every completed file linked into
    /// messages/, the folder fsync'd once; all or none. Quick (no file data is written), so a
    /// caller may hold signals back around it.
    public static func link(_ writers: [QueueWriter]) throws -> [QueuedEnvelope] {
        guard let spool = writers.first?.spool else { return [] }
        var linked: [QueueWriter] = []
        func undo() {
            for w in linked { spool.removeName(.messages, w.envelope.id) }
            for w in writers { w.abort() }
        }
        for w in writers {
            let target = spool.messagePath(w.envelope.id)
            if linkNoReplace(w.envelope.id, in: spool) != 0 {
                let e = errno
                undo()
                throw QueueError.system("cannot commit queue file", path: target, errno: e, creating: true)
            }
            linked.append(w)
        }
        do {
            try spool.syncFolder(.messages)
        } catch {
            undo()
            throw error
        }
        // Committed. The tmp names go (a crash leaves them to the sweep), then the locks.
        for w in writers {
            spool.removeName(.tmp, w.envelope.id)
            close(w.fd)
            w.fd = -1
            w.finished = true
        }
        return writers.map(\.envelope)
    }

    /// Writes the rest of the message and its final summary, and fsyncs the file (still in
    /// tmp/, still locked). On failure the caller aborts.
    private func complete(_ update: (inout QueuedEnvelope) -> Void) throws {
        try flush()
        update(&envelope)
        envelope.size = bodyBytes
        let summary = Array(EnvelopeRecord.summaryLine(envelope).utf8)
        let written = summary.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(summaryOffset)) }
        if written != summary.count {
            throw QueueError.system("cannot write", path: temporaryPath, errno: written < 0 ? errno : EIO)
        }
        if fsync(fd) != 0 {
            throw QueueError.system("cannot fsync", path: temporaryPath, errno: errno)
        }
    }

    /// Throws the message away (nothing was committed).
    public func abort() {
        guard !finished else { return }
        finished = true
        spool.removeName(.tmp, envelope.id)
        if fd >= 0 { close(fd); fd = -1 }
    }

    deinit { abort() }
}

/// Links `tmp/NAME` to `messages/NAME`, failing with EEXIST instead of replacing an existing
/// message: linkat(2) is atomic and never replaces. Both names are relative to the spool's
/// held folder descriptors, so neither folder can be redirected by a symbolic link. The tmp
/// name is left for the caller to remove (the group commit removes it once every copy is in).
func linkNoReplace(_ name: String, in spool: Spool) -> Int32 {
    guard let tmp = try? spool.folders.fd(.tmp), let messages = try? spool.folders.fd(.messages) else {
        errno = EBADF
        return -1
    }
    return linkat(tmp, name, messages, name, 0)
}
