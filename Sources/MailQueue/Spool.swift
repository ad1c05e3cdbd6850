#if canImport(Glibc)
import Glibc
#endif

/// The queue folder: `tmp/` (being written), `messages/` (committed, one file per message),
/// `state/` (delivery progress). All IO of the queue goes through here.
public struct Spool: Sendable {
    public let root: String
    public var tmpDir: String { root + "/tmp" }
    public var messagesDir: String { root + "/messages" }
    public var stateDir: String { root + "/state" }

    public init(root: String) { self.root = root }

    /// Makes sure the folders exist (creating them when allowed: mode 2770, group-owned by
    /// whoever runs the binary's group) and that we can write new files.
    public func prepare() throws {
        for dir in [root, tmpDir, messagesDir, stateDir] {
            if mkdir(dir, 0o2770) != 0 && errno != EEXIST {
                throw QueueError.system("cannot create queue folder", path: dir, errno: errno, creating: true)
            }
        }
        // faccessat with AT_EACCESS: the set-group-ID binary writes with its effective group.
        if faccessat(AT_FDCWD, tmpDir, W_OK | X_OK, AT_EACCESS) != 0 {
            throw QueueError.system("cannot write to queue folder", path: tmpDir, errno: errno, creating: true)
        }
    }

    /// The ids of committed messages, oldest first.
    public func list() throws -> [String] {
        guard let d = opendir(messagesDir) else {
            if errno == ENOENT { return [] }
            throw QueueError.system("cannot read queue folder", path: messagesDir, errno: errno)
        }
        defer { closedir(d) }
        var ids: [String] = []
        while let ent = readdir(d) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if QueueID.isValid(name) { ids.append(name) }
        }
        return ids.sorted()
    }

    public func messagePath(_ id: String) -> String { messagesDir + "/" + id }
    public func statePath(_ id: String) -> String { stateDir + "/" + id }

    /// Reads the envelope of a queued message (a small read: the record is at the head).
    public func envelope(_ id: String) throws -> (QueuedEnvelope, messageOffset: Int) {
        guard QueueID.isValid(id) else { throw QueueError(.notFound, "\(id): not a queue id") }
        let fd = open(messagePath(id), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw QueueError.system("cannot open", path: messagePath(id), errno: errno) }
        defer { close(fd) }
        return try envelope(readingFrom: fd, path: messagePath(id))
    }

    /// Reads the envelope through a descriptor already open on the message file (a queue
    /// run's lock), with pread, so the file is not opened a second time.
    public func envelope(readingFrom fd: Int32, path: String) throws -> (QueuedEnvelope, messageOffset: Int) {
        var head: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while head.count < 4 << 20 {
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(head.count)) }
            if n < 0 { if errno == EINTR { continue }; throw QueueError.system("cannot read", path: path, errno: errno) }
            if n == 0 { break }
            head.append(contentsOf: chunk[0..<n])
            if let end = Self.endOfRecord(head) { head.removeSubrange(end...); break }
        }
        return try EnvelopeRecord.decode(head)
    }

    /// The index just after the `message` line that ends an envelope record, if `bytes` holds it.
    static func endOfRecord(_ bytes: [UInt8]) -> Int? {
        let marker = Array("\nmessage\n".utf8)
        return bytes.withUnsafeBufferPointer { b -> Int? in
            guard b.count >= marker.count else { return nil }
            var i = 0
            while i <= b.count - marker.count {
                if b[i] == 0x0A, b[i + 1] == 0x6D, Array(b[i..<(i + marker.count)]) == marker { return i + marker.count }
                i += 1
            }
            return nil
        }
    }

    /// The delivery state, or a fresh one when none was written yet.
    public func state(_ id: String) throws -> DeliveryState {
        guard let bytes = try readSmallFile(statePath(id)) else { return DeliveryState() }
        return try DeliveryState.decode(bytes)
    }

    /// Replaces the delivery state atomically (tmp, fsync, rename, fsync of the folder).
    public func writeState(_ id: String, _ state: DeliveryState) throws {
        let tmp = tmpDir + "/" + id + ".state"
        try writeFileDurably(tmp, bytes: state.encode())
        if rename(tmp, statePath(id)) != 0 {
            let e = errno
            unlink(tmp)
            throw QueueError.system("cannot commit state", path: statePath(id), errno: e)
        }
        try fsyncDirectory(stateDir)
    }

    /// Removes a message: the message file first (the deletion's commit point), then its state.
    public func remove(_ id: String) throws {
        guard QueueID.isValid(id) else { throw QueueError(.notFound, "\(id): not a queue id") }
        if unlink(messagePath(id)) != 0 {
            throw QueueError.system("cannot remove", path: messagePath(id), errno: errno)
        }
        // No fsync of the folder: a removal lost in a power cut only means one more
        // delivery attempt (as with Postfix), and the fsync would cost every message.
        unlink(statePath(id))
    }

    /// Takes the message's delivery lock without waiting; nil when another process has it.
    /// The lock is an flock on the message file, which is never replaced, so it stays valid.
    public func lock(_ id: String) throws -> QueueLock? {
        let fd = open(messagePath(id), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw QueueError.system("cannot open", path: messagePath(id), errno: errno) }
        return Self.lock(opened: fd)
    }

    /// Locks an open message file, or closes it and returns nil when another process holds the
    /// lock or when the file is already gone: a runner that opened it just before another one
    /// delivered and removed it would otherwise get the lock after that one let go, and send
    /// the message a second time.
    static func lock(opened fd: Int32) -> QueueLock? {
        var st = stat()
        guard flock(fd, LOCK_EX | LOCK_NB) == 0, fstat(fd, &st) == 0, st.st_nlink > 0 else {
            close(fd)
            return nil
        }
        return QueueLock(fd: fd)
    }

    /// Whether a process holds the message's lock now (for mailq's `*` marker).
    public func isLocked(_ id: String) -> Bool {
        let fd = open(messagePath(id), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) != 0 { return errno == EWOULDBLOCK }
        flock(fd, LOCK_UN)
        return false
    }

    /// Removes files left in tmp/ by submissions that died (killed before their commit),
    /// older than `age` seconds and not locked by a live writer.
    public func sweepTemporaryFiles(olderThan age: Int, now: Int) {
        guard let d = opendir(tmpDir) else { return }
        defer { closedir(d) }
        while let ent = readdir(d) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name == "." || name == ".." { continue }
            let path = tmpDir + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0, now - Int(st.st_mtim.tv_sec) > age else { continue }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd >= 0 {
                if flock(fd, LOCK_EX | LOCK_NB) == 0 { unlink(path) }
                close(fd)
            }
        }
    }

    func readSmallFile(_ path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw QueueError.system("cannot open", path: path, errno: errno)
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw QueueError.system("cannot read", path: path, errno: errno) }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
        }
    }

    func writeFileDurably(_ path: String, bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o660)
        guard fd >= 0 else { throw QueueError.system("cannot create", path: path, errno: errno, creating: true) }
        do {
            try writeAll(fd, bytes, path: path)
            if fsync(fd) != 0 { throw QueueError.system("cannot fsync", path: path, errno: errno) }
            close(fd)
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
    }
}

/// A held delivery lock; released when this is released or `unlock()` is called.
public final class QueueLock {
    let fd: Int32
    private var held = true
    init(fd: Int32) { self.fd = fd }
    /// The open message file (read it through this descriptor while the lock is held).
    public var fileDescriptor: Int32 { fd }
    public func unlock() {
        guard held else { return }
        held = false
        close(fd)
    }

    /// Lets go of a message that was delivered and removed: the last close of a removed file
    /// frees its blocks, about 0.25 ms of waiting on this ext4 (journal, discard) that a queue
    /// run need not spend between two messages. Safe because `Spool.lock` refuses a file that
    /// has no name any more.
    public func unlockRemoved() {
        guard held else { return }
        held = false
        DeferredCloser.shared.close(fd)
    }

    deinit { unlock() }
}

func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
    try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) }
}

func writeAll(_ fd: Int32, _ buf: UnsafeRawBufferPointer, path: String) throws {
    var off = 0
    while off < buf.count {
        let n = write(fd, buf.baseAddress! + off, buf.count - off)
        if n < 0 {
            if errno == EINTR { continue }
            throw QueueError.system("cannot write", path: path, errno: errno)
        }
        off += n
    }
}

func fsyncDirectory(_ path: String) throws {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { throw QueueError.system("cannot open folder", path: path, errno: errno) }
    defer { close(fd) }
    if fsync(fd) != 0 { throw QueueError.system("cannot fsync folder", path: path, errno: errno) }
}
