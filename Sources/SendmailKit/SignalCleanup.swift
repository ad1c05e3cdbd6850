#if canImport(Glibc)
import Glibc
#endif

/// A submission's answer to SIGINT, SIGTERM, SIGHUP and SIGQUIT: before its message is
/// committed, remove the temporary files it made and exit 75 (EX_TEMPFAIL: nothing was
/// queued, try again); once it is committed, exit 0 (the message is queued and must not be
/// submitted twice). Armed before the input is read, so no signal ever kills a submission
/// without one of those two answers. (SIGKILL cannot be caught: its leftovers are in tmp/,
/// never in the queue, and queue runs sweep them.)
///
/// The commit itself (linking every copy into messages/, the folder's fsync) runs with these
/// signals blocked (`whileBlocked`): a signal arriving then is answered after it, by the
/// outcome, so a group of copies is never half committed by a signal.
///
/// The handler only reads what `track` wrote with the signals blocked, and calls only
/// async-signal-safe functions (unlink, _exit).
enum SignalCleanup {
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    /// Paths to remove if a signal comes before the commit (C strings, malloc'd).
    nonisolated(unsafe) static var paths: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    nonisolated(unsafe) static var count = 0
    nonisolated(unsafe) static var capacity = 0
    /// Set once the message is committed.
    nonisolated(unsafe) static var committed: Int32 = 0

    /// Installs the handlers; from now on a signal exits 75 (or 0 once committed).
    static func arm() {
        whileBlocked {
            clear()
            committed = 0
        }
        for sig in signals {
            signal(sig) { _ in
                if SignalCleanup.committed != 0 { _exit(0) }
                if let p = SignalCleanup.paths {
                    for i in 0..<SignalCleanup.count { if let path = p[i] { unlink(path) } }
                }
                _exit(ExitCode.tempFail.rawValue)
            }
        }
    }

    /// A temporary file of this submission, removed if a signal comes before the commit.
    static func track(_ path: String) {
        whileBlocked {
            if count == capacity {
                let bigger = max(8, capacity * 2)
                let fresh = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: bigger)
                fresh.initialize(repeating: nil, count: bigger)
                if let old = paths {
                    fresh.update(from: old, count: count)
                    old.deallocate()
                }
                paths = fresh
                capacity = bigger
            }
            paths![count] = strdup(path)
            count += 1
        }
    }

    /// The message is committed: a signal now exits 0.
    static func markCommitted() { committed = 1 }

    /// Restores the default actions and forgets the paths.
    static func disarm() {
        for sig in signals { signal(sig, SIG_DFL) }
        whileBlocked { clear() }
    }

    /// Runs `body` with the handled signals blocked; one that arrives meanwhile is delivered
    /// when they are unblocked, after `body`.
    static func whileBlocked<T>(_ body: () throws -> T) rethrows -> T {
        var set = sigset_t(), old = sigset_t()
        sigemptyset(&set)
        for sig in signals { sigaddset(&set, sig) }
        sigprocmask(SIG_BLOCK, &set, &old)
        defer { sigprocmask(SIG_SETMASK, &old, nil) }
        return try body()
    }

    private static func clear() {
        if let p = paths {
            for i in 0..<count { free(p[i]); p[i] = nil }
        }
        count = 0
    }
}
