#if canImport(Glibc)
import Glibc
#endif

/// The queue's folders, held open for the life of the process: every file operation of the
/// queue is made relative to one of these descriptors (openat, linkat, unlinkat, renameat,
/// fstatat), never through a path. Anyone in the queue's group may rename `tmp/` and put a
/// symbolic link in its place; a folder opened once with O_DIRECTORY|O_NOFOLLOW cannot be
/// redirected that way, while a run is going or after.
///
/// The root itself is opened through its path, following links: it is the administrator's
/// `queue_dir` (often reached through a link he made), and its parent is not the group's.
final class SpoolFolders: @unchecked Sendable {
    enum Folder: Int, CaseIterable {
        case root, tmp, messages, state
        /// Delivered messages kept (KeepQueue); made on first use only.
        case sent
        /// The name under the root.
        var name: String {
            switch self {
            case .root: return "."
            case .tmp: return "tmp"
            case .messages: return "messages"
            case .state: return "state"
            case .sent: return "sent"
            }
        }
    }

    let root: String
    /// Reserved state files kept for reuse (see `SpareStateFiles`).
    let spares = SpareStateFiles()
    private var fds: [Int32] = Array(repeating: -1, count: Folder.allCases.count)
    // Allocated, not stored: a pthread object must not move.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init(root: String) {
        self.root = root
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        for fd in fds where fd >= 0 { close(fd) }
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// The path of a folder, for messages.
    func path(_ folder: Folder) -> String { folder == .root ? root : root + "/" + folder.name }

    /// The folder's descriptor, opened at the first use (a folder that does not exist yet is
    /// tried again at the next use, so `prepare` can create it).
    func fd(_ folder: Folder) throws -> Int32 {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try openLocked(folder)
    }

    private func openLocked(_ folder: Folder) throws -> Int32 {
        if fds[folder.rawValue] >= 0 { return fds[folder.rawValue] }
        let fd: Int32
        if folder == .root {
            fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        } else {
            let parent = try openLocked(.root)
            fd = openat(parent, folder.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        }
        guard fd >= 0 else {
            let e = errno
            if e == ELOOP || e == ENOTDIR {
                throw QueueError(.unsafe, "queue folder \(path(folder)) is not a directory (a symbolic link?): refused", errno: e)
            }
            throw QueueError.system("cannot open queue folder", path: path(folder), errno: e)
        }
        fds[folder.rawValue] = fd
        return fd
    }

    /// Creates the subfolders that are missing (mode 2770), relative to the root.
    func create() throws {
        if mkdir(root, 0o2770) != 0 && errno != EEXIST {
            throw QueueError.system("cannot create queue folder", path: root, errno: errno, creating: true)
        }
        let parent = try fd(.root)
        for folder in [Folder.tmp, .messages, .state] {
            if mkdirat(parent, folder.name, 0o2770) != 0 && errno != EEXIST {
                throw QueueError.system("cannot create queue folder", path: path(folder), errno: errno, creating: true)
            }
            _ = try fd(folder)
        }
    }
}

/// What a queue file must be to be used: a regular file with the expected number of links.
/// Checked on the open descriptor (fstat), so that what is checked is what is used.
struct QueueFileCheck {
    /// Hard links allowed; a queue file has one name, anything else was made by someone else.
    var links: ClosedRange<UInt> = 1...1

    /// Throws `.unsafe` with the reason when `fd` is not acceptable.
    func verify(_ fd: Int32, path: String) throws -> stat {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw QueueError.system("cannot stat", path: path, errno: errno) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw QueueError(.unsafe, "\(path) is not a regular file: refused")
        }
        guard links.contains(UInt(st.st_nlink)) else {
            throw QueueError(.unsafe, "\(path) has \(st.st_nlink) hard links (expected \(links.lowerBound)): refused")
        }
        return st
    }
}

extension Spool {
    /// Opens an existing queue file without following a symbolic link (O_NOFOLLOW: ELOOP) and
    /// without waiting on a FIFO (O_NONBLOCK), then checks it. nil when it does not exist.
    func openExisting(_ folder: SpoolFolders.Folder, _ name: String, flags: Int32,
                      check: QueueFileCheck = QueueFileCheck()) throws -> Int32? {
        let dir = try folders.fd(folder)
        let path = folders.path(folder) + "/" + name
        let fd = openat(dir, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            if e == ENOENT { return nil }
            if e == ELOOP { throw QueueError(.unsafe, "\(path) is a symbolic link: refused", errno: e) }
            throw QueueError.system("cannot open", path: path, errno: e)
        }
        do {
            _ = try check.verify(fd, path: path)
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// Creates a new queue file: O_CREAT|O_EXCL|O_NOFOLLOW, so that nothing that exists under
    /// that name (a file, a link to one) is ever opened or truncated.
    func createNew(_ folder: SpoolFolders.Folder, _ name: String, flags: Int32, mode: mode_t) throws -> Int32 {
        let dir = try folders.fd(folder)
        let fd = openat(dir, name, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let e = errno
            if e == EEXIST {
                throw QueueError(.unsafe, "\(folders.path(folder))/\(name) exists already: refused", errno: e)
            }
            throw QueueError.system("cannot create", path: folders.path(folder) + "/" + name, errno: e, creating: true)
        }
        return fd
    }

    /// Removes a name from a folder (the name only: unlinkat never follows a link).
    @discardableResult
    func removeName(_ folder: SpoolFolders.Folder, _ name: String) -> Int32 {
        guard let dir = try? folders.fd(folder) else { return -1 }
        return unlinkat(dir, name, 0)
    }

    /// fsync of a folder, through its held descriptor.
    func syncFolder(_ folder: SpoolFolders.Folder) throws {
        let dir = try folders.fd(folder)
        if fsync(dir) != 0 { throw QueueError.system("cannot fsync folder", path: folders.path(folder), errno: errno) }
    }

    /// The names in a folder, read through a fresh descriptor of the held one (`openat(fd,
    /// ".")`: its own read position, so that threads may list at once).
    func names(in folder: SpoolFolders.Folder) throws -> [String] {
        let dir = try folders.fd(folder)
        let fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw QueueError.system("cannot read queue folder", path: folders.path(folder), errno: errno) }
        guard let d = fdopendir(fd) else {
            let e = errno
            close(fd)
            throw QueueError.system("cannot read queue folder", path: folders.path(folder), errno: e)
        }
        defer { closedir(d) }
        var out: [String] = []
        while let ent = readdir(d) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { out.append(name) }
        }
        return out
    }
}
