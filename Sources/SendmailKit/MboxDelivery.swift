#if canImport(Glibc)
import Glibc
#endif
import MailMessage
import MailQueue

/// Delivery to a local mailbox, `/var/mail/USER` in mbox format, as mail.local does it:
/// a `From ` line, `>From ` quoting (mboxrd), LF line ends, a blank line after the message;
/// a dotlock (`USER.lock`) and an fcntl lock held while appending; on any write error the
/// mailbox is truncated back to its old size and the message stays queued.
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
        guard let pw = getpwnam(user) else { return .failed(dsn: "5.1.1", reason: "unknown local user \(user)") }
        let uid = pw.pointee.pw_uid
        let path = spoolDir + "/" + user
        guard faccessat(AT_FDCWD, spoolDir, W_OK, AT_EACCESS) == 0 else { return .notHere }
        let lockPath = path + ".lock"
        guard takeDotLock(lockPath) else {
            return .deferred(dsn: "4.2.0", reason: "mailbox \(path) is locked (\(lockPath))")
        }
        defer { unlink(lockPath) }

        let mfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard mfd >= 0 else { return .deferred(dsn: "4.3.0", reason: "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(mfd) }
        var st = stat()
        guard fstat(mfd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_nlink == 1 else {
            return .deferred(dsn: "4.3.0", reason: "\(path) is not a plain mailbox file (refused)")
        }
        if geteuid() == 0 {
            if st.st_size == 0 && st.st_uid == 0 && uid != 0 {
                let mailGroup = getgrnam("mail")?.pointee.gr_gid ?? pw.pointee.pw_gid
                fchown(mfd, uid, mailGroup)
                fchmod(mfd, 0o660)
            } else if st.st_uid != uid {
                return .deferred(dsn: "4.3.0", reason: "\(path) belongs to uid \(st.st_uid), not \(user) (refused)")
            }
        }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        var locked = false
        for _ in 0..<10 {
            if fcntl(mfd, F_SETLK, &lock) == 0 { locked = true; break }
            usleep(100_000)
        }
        guard locked else { return .deferred(dsn: "4.2.0", reason: "mailbox \(path) is locked by another process") }
        let oldSize = st.st_size

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
        fcntl(mfd, F_SETLK, &lock)
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

    /// The dotlock: created exclusively; one older than 5 minutes is stale and broken (as
    /// mail.local and procmail do); waits at most about a second for a live one.
    static func takeDotLock(_ path: String) -> Bool {
        for _ in 0..<10 {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 { close(fd); return true }
            if errno != EEXIST { return false }
            var st = stat()
            if stat(path, &st) == 0, Int(Clock.now().epochSeconds) - Int(st.st_mtim.tv_sec) > 300 {
                unlink(path)
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
