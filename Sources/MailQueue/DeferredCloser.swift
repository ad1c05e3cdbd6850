#if canImport(Glibc)
import Glibc
#endif

/// Closes descriptors of removed files on a background thread (see `QueueLock.unlockRemoved`).
/// Bounded: when `limit` descriptors wait already, the caller closes its own at once, so a
/// slow disk costs time, never descriptors. `drain()` waits until every one is closed.
public final class DeferredCloser: @unchecked Sendable {
    public static let shared = DeferredCloser()

    private let limit = 256
    private var pending: [Int32] = []
    private var busy = false
    private var started = false
    private var mutex = pthread_mutex_t()
    private var changed = pthread_cond_t()

    private init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&changed, nil)
    }

    /// Closes `fd` soon, on the closer's thread.
    public func close(_ fd: Int32) {
        pthread_mutex_lock(&mutex)
        if pending.count >= limit || !startIfNeeded() {
            pthread_mutex_unlock(&mutex)
            _ = Glibc.close(fd)
            return
        }
        pending.append(fd)
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
    }

    /// Returns when every descriptor handed over so far is closed.
    public func drain() {
        pthread_mutex_lock(&mutex)
        while !pending.isEmpty || busy { pthread_cond_wait(&changed, &mutex) }
        pthread_mutex_unlock(&mutex)
    }

    /// Starts the thread (mutex held). False when it cannot be started.
    private func startIfNeeded() -> Bool {
        if started { return true }
        var thread = pthread_t()
        let context = Unmanaged.passUnretained(self).toOpaque()
        guard pthread_create(&thread, nil, { raw in
            Unmanaged<DeferredCloser>.fromOpaque(raw!).takeUnretainedValue().run()
            return nil
        }, context) == 0 else { return false }
        pthread_detach(thread)
        started = true
        return true
    }

    private func run() {
        pthread_mutex_lock(&mutex)
        while true {
            while pending.isEmpty { pthread_cond_wait(&changed, &mutex) }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            busy = true
            pthread_mutex_unlock(&mutex)
            for fd in batch { _ = Glibc.close(fd) }
            pthread_mutex_lock(&mutex)
            busy = false
            pthread_cond_broadcast(&changed)
        }
    }
}
