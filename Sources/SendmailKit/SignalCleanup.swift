#if canImport(Glibc)
import Glibc
#endif

/// While a queue file is being written, a signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT) removes it
/// and exits 75, so a submission killed at any point leaves no entry. (SIGKILL cannot be
/// caught: its leftover is in tmp/, never in the queue, and queue runs sweep it.)
enum SignalCleanup {
    nonisolated(unsafe) static var path: UnsafeMutablePointer<CChar>?
    /// The committed name: if it exists when a signal comes, the message is queued.
    nonisolated(unsafe) static var finalPath: UnsafeMutablePointer<CChar>?
    /// Set once the message is committed: a signal then exits 0, since the message is queued
    /// and the caller must not submit it again.
    nonisolated(unsafe) static var committed: Int32 = 0

    static func arm(_ tmpPath: String, committedPath: String) {
        disarm()
        committed = 0
        path = strdup(tmpPath)
        finalPath = strdup(committedPath)
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] {
            signal(sig) { _ in
                if SignalCleanup.committed != 0 { _exit(0) }
                if let f = SignalCleanup.finalPath, access(f, F_OK) == 0 { _exit(0) }
                if let p = SignalCleanup.path { unlink(p) }
                _exit(75)
            }
        }
    }

    /// The message is committed: from now on a signal must not report failure.
    static func markCommitted() { committed = 1 }

    static func disarm() {
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] { signal(sig, SIG_DFL) }
        let p = path, f = finalPath
        path = nil
        finalPath = nil
        if let p { free(p) }
        if let f { free(f) }
    }
}
