#if canImport(Glibc)
import Glibc
#endif

/// While a queue file is being written, a signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT) removes it
/// and exits 75, so a submission killed at any point leaves no entry. (SIGKILL cannot be
/// caught: its leftover is in tmp/, never in the queue, and queue runs sweep it.)
enum SignalCleanup {
    nonisolated(unsafe) static var path: UnsafeMutablePointer<CChar>?

    static func arm(_ tmpPath: String) {
        disarm()
        path = strdup(tmpPath)
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] {
            signal(sig) { _ in
                if let p = SignalCleanup.path { unlink(p) }
                _exit(75)
            }
        }
    }

    static func disarm() {
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] { signal(sig, SIG_DFL) }
        let p = path
        path = nil
        if let p { free(p) }
    }
}
