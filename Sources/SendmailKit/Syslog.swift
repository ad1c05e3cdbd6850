#if canImport(Glibc)
import Glibc
#endif
import MailQueue

/// Log lines to syslog (facility mail) in Postfix's format, so that pflogsumm, logwatch and
/// fail2ban read them: `QUEUEID: from=<sender>, size=N, nrcpt=M (queue active)`.
public struct MailLog: QueueLog, Sendable {
    public var ident: String
    /// Also write each line to stderr (with -v).
    public var echo: Bool

    public init(ident: String, echo: Bool = false) {
        self.ident = ident
        self.echo = echo
    }

    public func info(_ line: String) { log(LOG_INFO, line) }
    public func warning(_ line: String) { log(LOG_WARNING, "warning: " + line) }
    public func error(_ line: String) { log(LOG_ERR, "error: " + line) }

    /// openlog(3) keeps the ident pointer: it is allocated once for the life of the process.
    nonisolated(unsafe) private static var openedIdent: UnsafeMutablePointer<CChar>?

    private static func open(_ ident: String) {
        guard openedIdent == nil else { return }
        openedIdent = strdup(ident)
        openlog(openedIdent, LOG_PID, LOG_MAIL)
    }

    /// Whether a syslog daemon listens on /dev/log, looked at again every 30 seconds: without
    /// one, glibc's syslog(3) tries socket+connect for every line (three system calls per line
    /// of a queue run that go nowhere).
    nonisolated(unsafe) private static var daemonSeen = (present: false, checkedAt: Int.min / 2)

    private static let daemonLock = Lock()

    private static func daemonPresent() -> Bool {
        daemonLock.lock(); defer { daemonLock.unlock() }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let seconds = Int(now.tv_sec)
        if seconds - daemonSeen.checkedAt >= 30 {
            daemonSeen = (access("/dev/log", F_OK) == 0, seconds)
        }
        return daemonSeen.present
    }

    private func log(_ priority: Int32, _ line: String) {
        // Control characters never reach the log (a caller's value could forge log lines).
        let clean = line.utf8.contains(where: { $0 < 32 || $0 == 127 })
            ? String(String.UnicodeScalarView(line.unicodeScalars.map { $0.value < 32 || $0.value == 127 ? "?" : $0 }))
            : line
        if MailLog.daemonPresent() {
            MailLog.open(ident)
            // A C string, not a String, goes through the va_list: String's CVarArg conformance
            // lives in Foundation and would link all of it (and CoreFoundation) into sendmail.
            clean.withCString { text in withVaList([text]) { vsyslog(priority, "%s", $0) } }
        }
        if echo { Stderr.write("\(ident): \(clean)\n") }
    }
}

/// Writes to stderr without Foundation.
public enum Stderr {
    public static func write(_ s: String) {
        var bytes = Array(s.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + off, $0.count - off) }
            if n <= 0 { if errno == EINTR { continue }; return }
            off += n
        }
    }
}

/// Writes to stdout without Foundation.
public enum Stdout {
    public static func write(_ s: String) {
        let bytes = Array(s.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress! + off, $0.count - off) }
            if n <= 0 { if errno == EINTR { continue }; return }
            off += n
        }
    }
}
