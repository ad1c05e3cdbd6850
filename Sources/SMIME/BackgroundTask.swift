#if canImport(Glibc)
import Glibc
#endif

/// Runs a closure on a thread of its own, so that a second core can work on a large message
/// (signing it while the caller's thread encrypts it), until `wait` collects the result.
///
/// The thread blocks every signal: handlers (sendmail's removal of a half-written queue file)
/// stay with the caller's thread. `wait` must be called before anything the closure uses goes
/// away (an open file, say): the closure runs until it returns, whatever the caller does.
final class BackgroundTask<T> {
    private var result: Result<T, Error>?
    private var thread = pthread_t()
    private var joined = false

    /// Starts `work` at once.
    init(_ work: @escaping () throws -> T) throws {
        let body = ThreadBody { [unowned(unsafe) self] in self.result = Result { try work() } }
        var all = sigset_t(), old = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_SETMASK, &all, &old)
        let context = Unmanaged.passRetained(body).toOpaque()
        let e = pthread_create(&thread, nil, { context in
            let body = Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue()
            body.run()
            return nil
        }, context)
        pthread_sigmask(SIG_SETMASK, &old, nil)
        guard e == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(context).release()
            joined = true  // no thread to join: deinit must not
            throw SMIMEError(.cryptoFailure, "cannot start a thread: \(String(cString: strerror(e)))", openSSLErrors: [])
        }
    }

    /// Waits for the closure to end; its result, or what it threw.
    func wait() throws -> T {
        join()
        return try result!.get()
    }

    /// Waits for the closure to end, ignoring its result.
    func join() {
        guard !joined else { return }
        pthread_join(thread, nil)
        joined = true
    }

    deinit { join() }
}

/// The closure a thread runs (a class, so that a C function can take it as a pointer).
private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// A count several threads may add to (a message signed on a second thread is counted, so
/// that tests can tell the path was taken).
final class SharedCounter {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var count = 0

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    var value: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return count
    }

    func increment() {
        pthread_mutex_lock(mutex)
        count += 1
        pthread_mutex_unlock(mutex)
    }
}

/// How far one thread has written a file, for a thread that reads it behind the writer
/// (`ArrivalSigner`: the digest is computed from the queue file while the message is still
/// arriving): the reader waits for more, or for the end.
final class WriteProgress {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let moved = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var end: Int
    private var finished = false
    private var cancelled = false

    /// Nothing written beyond `start` yet.
    init(start: Int) {
        end = start
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(moved, nil)
    }

    deinit {
        pthread_cond_destroy(moved)
        pthread_mutex_destroy(mutex)
        moved.deallocate()
        mutex.deallocate()
    }

    /// The writer: everything before `offset` is written.
    func advance(to offset: Int) { change { end = max(end, offset) } }
    /// The writer: nothing more will be written.
    func finish() { change { finished = true } }
    /// The writer: stop reading, what was written no longer counts.
    func cancel() { change { cancelled = true } }

    /// Whether the writer cancelled (the reader stops at its next piece).
    var isCancelled: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return cancelled
    }

    /// The reader, having read up to `offset`: waits until more is written, and returns where
    /// the written part now ends; nil when there will be no more to read (the writer finished
    /// at `offset`, or cancelled).
    func wait(beyond offset: Int) -> Int? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while end <= offset && !finished && !cancelled { pthread_cond_wait(moved, mutex) }
        if cancelled || end <= offset { return nil }
        return end
    }

    private func change(_ update: () -> Void) {
        pthread_mutex_lock(mutex)
        update()
        pthread_cond_signal(moved)
        pthread_mutex_unlock(mutex)
    }
}
