#if canImport(Glibc)
import Glibc
#endif
import MailMessage
import MailQueue

/// Delivery to a local mailbox, `/var/mail/USER` in mbox format, as mail.local does it:
/// a `From ` line, `>From ` quoting (mboxrd), LF line ends, a blank line after the message;
/// a dotlock (`USER.lock`) and an fcntl lock held while appending; on any write error the
/// mailbox is truncated back to its old size and the message stays queued.
///
/// Run as root, every file operation is relative to the spool folder's descriptor and never
/// follows a link: the mailbox is opened as Postfix's local(8) does (`safe_open`), see
/// `openMailbox`.
enum MboxDelivery {
    enum Outcome: Equatable {
        case delivered
        case deferred(dsn: String, reason: String)
        case failed(dsn: String, reason: String)
        /// This process cannot write to the mail spool (an ordinary user's -odb/-odi): the
        /// recipient is left for root's queue run, with no attempt counted.
        case notHere
    }

    static func deliver(user: String, envelope env: QueuedEnvelope, fd: Int32, offset: Int64,
                        spoolDir: String, hostname: String) -> Outcome {
        // A name that is a file name in the spool, nothing else (a queue file is written by
        // the queue's group, not only by this program: its recipient is not trusted).
        guard !user.isEmpty, user.utf8.first != UInt8(ascii: "."), !user.utf8.contains(47), !user.utf8.contains(0) else {
            return .failed(dsn: "5.1.3", reason: "\(user): not a local mailbox name")
        }
        guard let pw = getpwnam(user) else { return .failed(dsn: "5.1.1", reason: "unknown local user \(user)") }
        let uid = pw.pointee.pw_uid
        let path = spoolDir + "/" + user
        let dir = open(spoolDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else {
            if geteuid() != 0 { return .notHere }
            return .deferred(dsn: "4.3.0", reason: "cannot open mail spool \(spoolDir): \(String(cString: strerror(errno)))")
        }
        defer { close(dir) }
        guard faccessat(dir, ".", W_OK, AT_EACCESS) == 0 else { return .notHere }
        let lockName = user + ".lock"
        guard takeDotLock(dir: dir, lockName) else {
            return .deferred(dsn: "4.2.0", reason: "mailbox \(path) is locked (\(path).lock)")
        }
        defer { unlinkat(dir, lockName, 0) }

        let mailGroup = getgrnam("mail")?.pointee.gr_gid ?? pw.pointee.pw_gid
        let mfd: Int32
        switch openMailbox(dir: dir, name: user, path: path, uid: uid, gid: mailGroup) {
        case .success(let box): mfd = box.fd
        case .failure(let refusal): return .deferred(dsn: "4.3.0", reason: refusal.reason)
        }
        defer { close(mfd) }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        var locked = false
        for _ in 0..<10 {
            if fcntl(mfd, F_SETLK, &lock) == 0 { locked = true; break }
            usleep(100_000)
        }
        guard locked else { return .deferred(dsn: "4.2.0", reason: "mailbox \(path) is locked by another process") }
        var st = stat()
        guard fstat(mfd, &st) == 0 else { return .deferred(dsn: "4.3.0", reason: "cannot stat \(path)") }
        let oldSize = st.st_size  // after the lock: what another writer appended first is kept

        var writer = MboxWriter(fd: mfd)
        let clock = Clock.now()
        let sender = env.sender.isEmpty ? "MAILER-DAEMON" : env.sender
        writer.put("From \(sender) \(asctime(clock.epochSeconds, clock.utcOffset))\n")
        writer.put("Return-Path: <\(env.sender)>\n")
        writer.put("Delivered-To: \(user)@\(hostname)\n")
        var splitter = LineSplitter()
        var buffer = [UInt8](repeating: 0, count: 128 * 1024)
        var done: Int64 = 0
        var readError: String?
        let emit: (LineSplitter.Line) -> Bool = { line in
            if !line.isContinuation, isFromLine(line.bytes) { writer.put([62]) }  // '>'
            writer.put(line.bytes)
            if !line.isPartial { writer.put([10]) }
            return true
        }
        while done < env.size {
            let want = Int(min(Int64(buffer.count), env.size - done))
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { readError = n == 0 ? "queue file is short" : String(cString: strerror(errno)); break }
            _ = buffer.withUnsafeBufferPointer { splitter.feed(UnsafeBufferPointer(rebasing: $0[0..<n]), emit) }
            done += Int64(n)
        }
        splitter.finish(emit)
        writer.put([10])
        writer.flush()
        if let e = readError ?? writer.error ?? (fsync(mfd) == 0 ? nil : String(cString: strerror(errno))) {
            ftruncate(mfd, oldSize)
            return .deferred(dsn: "4.3.0", reason: "cannot write \(path): \(e)")
        }
        lock.l_type = Int16(F_UNLCK)
        _ = fcntl(mfd, F_SETLK, &lock)
        return .delivered
    }

    /// mboxrd: a line that matches `>*From ` gets one more `>`.
    static func isFromLine(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        while i < b.count, b[i] == 62 { i += 1 }
        let from: [UInt8] = [70, 114, 111, 109, 32]
        guard b.count - i >= 5 else { return false }
        for k in 0..<5 where b[i + k] != from[k] { return false }
        return true
    }

    /// Why a mailbox was not opened.
    struct Refusal: Error { let reason: String }

    /// Opens a mailbox for appending, as Postfix's local(8) does (safe_open): an existing
    /// mailbox must not be a symbolic link, must be a regular file with one link, owned by the
    /// user when we are root, and the file opened must be the one lstat saw (so that nothing
    /// swapped in between is written); a missing one is created with O_EXCL and then given to
    /// the user (mode 0660, group mail, as Debian's mail spool has them).
    static func openMailbox(dir: Int32, name: String, path: String, uid: uid_t, gid: gid_t)
        -> Result<(fd: Int32, size: off_t), Refusal> {
        let root = geteuid() == 0
        func refuse(_ why: String) -> Result<(fd: Int32, size: off_t), Refusal> { .failure(Refusal(reason: "\(path) \(why) (refused)")) }
        func acceptable(_ st: stat) -> String? {
            if (st.st_mode & S_IFMT) == S_IFLNK { return "is a symbolic link" }
            if (st.st_mode & S_IFMT) != S_IFREG { return "is not a regular file" }
            if st.st_nlink != 1 { return "has \(st.st_nlink) hard links" }
            if root && st.st_uid != uid { return "belongs to uid \(st.st_uid), not \(name)" }
            return nil
        }
        for _ in 0..<3 {
            var seen = stat()
            if fstatat(dir, name, &seen, AT_SYMLINK_NOFOLLOW) == 0 {
                if let why = acceptable(seen) { return refuse(why) }
                let fd = openat(dir, name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
                if fd < 0 {
                    if errno == ENOENT { continue }  // removed meanwhile: look again
                    if errno == ELOOP { return refuse("is a symbolic link") }
                    return .failure(Refusal(reason: "cannot open \(path): \(String(cString: strerror(errno)))"))
                }
                var st = stat()
                guard fstat(fd, &st) == 0, st.st_dev == seen.st_dev, st.st_ino == seen.st_ino, acceptable(st) == nil else {
                    close(fd)
                    return refuse("changed while it was opened")
                }
                return .success((fd, st.st_size))
            }
            guard errno == ENOENT else { return .failure(Refusal(reason: "cannot stat \(path): \(String(cString: strerror(errno)))")) }
            let fd = openat(dir, name, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd < 0 {
                if errno == EEXIST { continue }  // made meanwhile: look again
                return .failure(Refusal(reason: "cannot create \(path): \(String(cString: strerror(errno)))"))
            }
            if root && uid != 0 {
                _ = fchown(fd, uid, gid)
                _ = fchmod(fd, 0o660)
            }
            var st = stat()
            guard fstat(fd, &st) == 0, acceptable(st) == nil else {
                close(fd)
                return refuse("changed while it was created")
            }
            return .success((fd, 0))
        }
        return refuse("keeps changing")
    }

    /// The dotlock, in the spool folder `dir`: created exclusively, never through a link; one
    /// older than 5 minutes is stale and broken (as mail.local and procmail do); waits at most
    /// about a second for a live one.
    static func takeDotLock(dir: Int32, _ name: String) -> Bool {
        for _ in 0..<10 {
            let fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            if fd >= 0 { close(fd); return true }
            if errno != EEXIST { return false }
            var st = stat()
            if fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0, Int(Clock.now().epochSeconds) - Int(st.st_mtim.tv_sec) > 300 {
                unlinkat(dir, name, 0)
                continue
            }
            usleep(100_000)
        }
        return false
    }

    static func asctime(_ t: Int64, _ off: Int) -> String {
        let stamp = MessageDate.mailqStamp(epochSeconds: t, utcOffset: off)
        return stamp + " \(MessageDate.civil(t, utcOffset: off).year)"
    }

    /// Buffered writes that remember the first error.
    struct MboxWriter {
        let fd: Int32
        var buf: [UInt8] = []
        var error: String?
        init(fd: Int32) { self.fd = fd; buf.reserveCapacity(256 * 1024) }
        mutating func put(_ s: String) { put(Array(s.utf8)) }
        mutating func put(_ b: [UInt8]) { buf.append(contentsOf: b); if buf.count > 200_000 { flush() } }
        mutating func put(_ b: UnsafeBufferPointer<UInt8>) { buf.append(contentsOf: b); if buf.count > 200_000 { flush() } }
        mutating func flush() {
            guard error == nil else { buf.removeAll(keepingCapacity: true); return }
            var off = 0
            while off < buf.count {
                let n = buf.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
                if n < 0 { if errno == EINTR { continue }; error = String(cString: strerror(errno)); break }
                off += n
            }
            buf.removeAll(keepingCapacity: true)
        }
    }
}
