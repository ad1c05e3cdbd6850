#if canImport(Glibc)
import Glibc
#endif

/// Closes descriptors of removed files on background threads (see `QueueLock.unlockRemoved`).
/// Most of a close's time is spent waiting on the filesystem, and a few closes wait at once
/// better than one, so there are `threads` of them. Bounded: when `limit` descriptors wait
/// already, the caller closes its own at once, so a slow disk costs time, never descriptors.
/// `drain()` waits until every one is closed.
public final class DeferredCloser: @unchecked Sendable {
    public static let shared = DeferredCloser()

    private let limit = 256
    private let threads = 4
    private var pending: [Int32] = []
    private var busy = 0
    private var started = 0
    // Allocated, not stored properties: a pthread object must not move, and `&property`
    // of a class is not promised to be its address.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    private init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
    }

    /// Closes `fd` soon, on one of the closing threads.
    public func close(_ fd: Int32) {
        pthread_mutex_lock(mutex)
        if pending.count >= limit || !startIfNeeded() {
            pthread_mutex_unlock(mutex)
            _ = Glibc.close(fd)
            return
        }
        pending.append(fd)
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }

    /// Returns when every descriptor handed over so far is closed.
    public func drain() {
        pthread_mutex_lock(mutex)
        while !pending.isEmpty || busy > 0 { pthread_cond_wait(changed, mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// Starts another closing thread while there are fewer than `threads` (mutex held). False
    /// when none runs and none can be started.
    private func startIfNeeded() -> Bool {
        guard started < threads, pending.count >= busy else { return started > 0 }
        var thread = pthread_t()
        let context = Unmanaged.passUnretained(self).toOpaque()
        guard pthread_create(&thread, nil, { raw in
            Unmanaged<DeferredCloser>.fromOpaque(raw!).takeUnretainedValue().run()
            return nil
        }, context) == 0 else { return started > 0 }
        pthread_detach(thread)
        started += 1
        return true
    }

    private func run() {
        pthread_mutex_lock(mutex)
        while true {
            while pending.isEmpty { pthread_cond_wait(changed, mutex) }
            let fd = pending.removeFirst()
            busy += 1
            pthread_mutex_unlock(mutex)
            _ = Glibc.close(fd)
            pthread_mutex_lock(mutex)
            busy -= 1
            pthread_cond_broadcast(changed)
        }
    }
}
