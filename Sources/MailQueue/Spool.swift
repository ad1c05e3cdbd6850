#if canImport(Glibc)
import Glibc
#endif

/// The queue folder: `tmp/` (being written), `messages/` (committed, one file per message),
/// `state/` (delivery progress), `run-status`. All IO of the queue goes through here, relative
/// to the folders' held descriptors (`SpoolFolders`), and no queue file is ever opened through
/// a symbolic link, created over an existing name, or used when it has another hard link.
public struct Spool: Sendable {
    public let root: String
    let folders: SpoolFolders
    public var tmpDir: String { root + "/tmp" }
    public var messagesDir: String { root + "/messages" }
    public var stateDir: String { root + "/state" }

    public init(root: String) {
        self.root = root
        folders = SpoolFolders(root: root)
    }

    /// Makes sure the folders exist (creating them when allowed: mode 2770, group-owned by
    /// whoever runs the binary's group), that we can write new files, and that the run-status
    /// file is there (reserved while there is space).
    public func prepare() throws {
        try folders.create()
        // faccessat with AT_EACCESS: the set-group-ID binary writes with its effective group.
        if faccessat(try folders.fd(.tmp), ".", W_OK | X_OK, AT_EACCESS) != 0 {
            throw QueueError.system("cannot write to queue folder", path: tmpDir, errno: errno, creating: true)
        }
        createRunStatus()
    }

    /// The ids of committed messages, oldest first.
    public func list() throws -> [String] {
        do {
            return try names(in: .messages).filter(QueueID.isValid).sorted()
        } catch let e as QueueError where e.errno == ENOENT {
            return []
        }
    }

    public func messagePath(_ id: String) -> String { messagesDir + "/" + id }
    public func statePath(_ id: String) -> String { stateDir + "/" + id }

    /// Opens a committed message for reading (O_NOFOLLOW, a regular file). A second link is
    /// allowed here (a commit between its link and its unlink); a queue run's `lock` is stricter.
    public func openMessage(_ id: String) throws -> Int32 {
        guard QueueID.isValid(id) else { throw QueueError(.notFound, "\(id): not a queue id") }
        guard let fd = try openExisting(.messages, id, flags: O_RDONLY, check: QueueFileCheck(links: 1...2)) else {
            throw QueueError.system("cannot open", path: messagePath(id), errno: ENOENT)
        }
        return fd
    }

    /// Reads the envelope of a queued message (a small read: the record is at the head).
    public func envelope(_ id: String) throws -> (QueuedEnvelope, messageOffset: Int) {
        let fd = try openMessage(id)
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

    /// Removes a message: the message file first (the deletion's commit point), then its state
    /// (through `state`, when the caller has it open: a queue run).
    public func remove(_ id: String, state: StateFile? = nil) throws {
        guard QueueID.isValid(id) else { throw QueueError(.notFound, "\(id): not a queue id") }
        if unlinkat(try folders.fd(.messages), id, 0) != 0 {
            throw QueueError.system("cannot remove", path: messagePath(id), errno: errno)
        }
        // No fsync of the folder: a removal lost in a power cut only means one more
        // delivery attempt (as with Postfix), and the fsync would cost every message.
        if let state { state.retire() } else { removeName(.state, id) }
    }

    /// Keeps a delivered message instead of removing it (KeepQueue): it moves to `sent/ID`
    /// (made on first use), where no queue run looks; its state goes as with `remove`.
    public func keep(_ id: String, state: StateFile? = nil) throws {
        guard QueueID.isValid(id) else { throw QueueError(.notFound, "\(id): not a queue id") }
        let root = try folders.fd(.root)
        if mkdirat(root, SpoolFolders.Folder.sent.name, 0o2770) != 0 && errno != EEXIST {
            throw QueueError.system("cannot create queue folder", path: folders.path(.sent), errno: errno, creating: true)
        }
        if renameat(try folders.fd(.messages), id, try folders.fd(.sent), id) != 0 {
            throw QueueError.system("cannot keep", path: messagePath(id), errno: errno)
        }
        if let state { state.retire() } else { removeName(.state, id) }
    }

    /// The ids of the messages kept in `sent/` (KeepQueue).
    public func keptMessages() throws -> [String] {
        let root = try folders.fd(.root)
        var st = stat()
        guard fstatat(root, SpoolFolders.Folder.sent.name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return [] }
        return try names(in: .sent).filter(QueueID.isValid).sorted()
    }

    /// Takes the message's delivery lock without waiting; nil when another process has it.
    /// The lock is an flock on the message file, which is never replaced, so it stays valid.
    /// Throws `.unsafe` for a file the queue did not make (a link, another hard link).
    public func lock(_ id: String) throws -> QueueLock? {
        guard QueueID.isValid(id) else { throw QueueError(.notFound, "\(id): not a queue id") }
        guard let fd = try openExisting(.messages, id, flags: O_RDONLY, check: QueueFileCheck(links: 0...UInt.max)) else {
            throw QueueError.system("cannot open", path: messagePath(id), errno: ENOENT)
        }
        guard let lock = Self.lock(opened: fd) else { return nil }
        try checkLinks(lock.fd, id)
        return lock
    }

    /// A locked message file must have one name. Two, the other being `tmp/ID`, is a commit
    /// whose writer died between its link and its unlink: that unlink is made now. Anything
    /// else is someone else's link, and the message is refused.
    private func checkLinks(_ fd: Int32, _ id: String) throws {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw QueueError.system("cannot stat", path: messagePath(id), errno: errno) }
        if st.st_nlink == 1 { return }
        var other = stat()
        if st.st_nlink == 2, let tmp = try? folders.fd(.tmp), fstatat(tmp, id, &other, AT_SYMLINK_NOFOLLOW) == 0,
           other.st_dev == st.st_dev, other.st_ino == st.st_ino {
            unlinkat(tmp, id, 0)
            return
        }
        throw QueueError(.unsafe, "\(messagePath(id)) has \(st.st_nlink) hard links (expected 1): refused")
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
        guard let fd = (try? openExisting(.messages, id, flags: O_RDONLY, check: QueueFileCheck(links: 0...UInt.max))) ?? nil
        else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) != 0 { return errno == EWOULDBLOCK }
        flock(fd, LOCK_UN)
        return false
    }

    /// Removes files left in tmp/ by submissions that died (killed before their commit),
    /// older than `age` seconds and not locked by a live writer. Names only: a symbolic link
    /// found there is removed, never followed; a folder is left alone.
    public func sweepTemporaryFiles(olderThan age: Int, now: Int) {
        guard let dir = try? folders.fd(.tmp), let names = try? names(in: .tmp) else { return }
        for name in names {
            var st = stat()
            guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0, now - Int(st.st_mtim.tv_sec) > age else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                continue
            case S_IFREG:
                let fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
                guard fd >= 0 else { continue }
                if flock(fd, LOCK_EX | LOCK_NB) == 0 { unlinkat(dir, name, 0) }
                close(fd)
            default:
                unlinkat(dir, name, 0)
            }
        }
    }

    /// An anonymous scratch file in tmp/ (O_TMPFILE: it never has a name, so nothing is left
    /// behind by a crash and nothing can be put in its way), for input read before it is
    /// queued. Where the filesystem has no O_TMPFILE, a new name (O_EXCL) unlinked at once.
    public func scratchFile(_ name: String) throws -> Int32 {
        let dir = try folders.fd(.tmp)
        // O_TMPFILE (Linux 3.11) is a compound macro Swift does not import: __O_TMPFILE | O_DIRECTORY.
        let fd = openat(dir, ".", O_RDWR | 0o20000000 | O_DIRECTORY | O_CLOEXEC, 0o600)
        if fd >= 0 { return fd }
        let named = try createNew(.tmp, name, flags: O_RDWR, mode: 0o600)
        unlinkat(dir, name, 0)
        return named
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

/// Writes all of `bytes` to `fd` (named `path` in the error: `QueueError.system`, whose errno
/// tells a full disk, a temporary failure, from the rest).
public func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
    try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) }
}

/// Writes all of `buf` to `fd` (named `path` in the error).
public func writeAll(_ fd: Int32, _ buf: UnsafeRawBufferPointer, path: String) throws {
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
