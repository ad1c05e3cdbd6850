#if canImport(Glibc)
import Glibc
#endif

/// A mutex over pthread_mutex_t (Foundation's NSLock would bring Foundation's CoreFoundation
/// half into the binary, a few milliseconds of start-up on every sendmail call).
public final class Lock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    public init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }

    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock(); defer { unlock() }
        return try body()
    }
}

/// Runs `body` on `count` threads at once and returns when every one has finished.
/// Threads that cannot be created are made up for by running `body` on the caller's thread.
public func runOnThreads(_ count: Int, stackSize: Int = 1 << 20, _ body: @escaping () -> Void) {
    final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
    var threads: [pthread_t] = []
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setstacksize(&attributes, stackSize)
    defer { pthread_attr_destroy(&attributes) }
    var missing = 0
    for _ in 0..<count {
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attributes, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, context)
        if rc == 0 {
            threads.append(thread)
        } else {
            Unmanaged<Box>.fromOpaque(context).release()
            missing += 1
        }
    }
    for _ in 0..<missing { body() }
    for t in threads { pthread_join(t, nil) }
}
