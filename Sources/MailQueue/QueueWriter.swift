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
        temporaryPath = spool.tmpDir + "/" + envelope.id
        do {
            fd = try spool.createNew(.tmp, envelope.id, flags: O_WRONLY, mode: 0o640)
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
        try flush()
        update(&envelope)
        envelope.size = bodyBytes
        let summary = Array(EnvelopeRecord.summaryLine(envelope).utf8)
        let written = summary.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(summaryOffset)) }
        if written != summary.count {
            let e = errno
            abort()
            throw QueueError.system("cannot write", path: temporaryPath, errno: e)
        }
        if fsync(fd) != 0 {
            let e = errno
            abort()
            throw QueueError.system("cannot fsync", path: temporaryPath, errno: e)
        }
        let target = spool.messagePath(envelope.id)
        if renameNoReplace(envelope.id, in: spool) != 0 {
            let e = errno
            abort()
            throw QueueError.system("cannot commit queue file", path: target, errno: e, creating: true)
        }
        close(fd)
        fd = -1
        finished = true
        try spool.syncFolder(.messages)
        return envelope
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

/// Moves `tmp/NAME` to `messages/NAME`, failing with EEXIST instead of replacing an existing
/// message: linkat(2) is atomic and never replaces, and the folder's fsync that follows makes
/// the new name durable. Both names are relative to the spool's held folder descriptors, so
/// neither folder can be redirected by a symbolic link. The leftover tmp name is removed; if a
/// crash leaves it, the next lock of the message (or the sweep) does.
func renameNoReplace(_ name: String, in spool: Spool) -> Int32 {
    guard let tmp = try? spool.folders.fd(.tmp), let messages = try? spool.folders.fd(.messages) else {
        errno = EBADF
        return -1
    }
    if linkat(tmp, name, messages, name, 0) != 0 { return -1 }
    unlinkat(tmp, name, 0)
    return 0
}
