#if canImport(Glibc)
import Glibc
#endif

/// A thread of our own that runs blocking jobs (socket IO, file IO, signing) one after the
/// other, so that an async caller awaits their results without ever blocking a thread of
/// Swift's cooperative pool (which has as many threads as cores: one blocked SMTP read per
/// thread would stall every task of the process).
final class WorkerThread: @unchecked Sendable {
    // Allocated, not stored properties: pthread objects must not move.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var jobs: [() -> Void] = []
    private var stopping = false
    private var thread = pthread_t()

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        let context = Unmanaged.passRetained(self).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setstacksize(&attributes, 1 << 20)
        let rc = pthread_create(&thread, &attributes, { raw in
            let worker = Unmanaged<WorkerThread>.fromOpaque(raw!).takeRetainedValue()
            worker.loop()
            return nil
        }, context)
        pthread_attr_destroy(&attributes)
        if rc != 0 {
            Unmanaged<WorkerThread>.fromOpaque(context).release()
            stopping = true
        }
    }

    /// Runs `job` on the thread and returns its result to the awaiting task. When the thread
    /// could not be created it throws (transient): blocking work never falls back to a
    /// cooperative thread.
    func run<T: Sendable>(_ job: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let accepted = enqueue {
                do { continuation.resume(returning: try job()) } catch { continuation.resume(throwing: error) }
            }
            if !accepted {
                continuation.resume(throwing: MailError(.io, "cannot start a worker thread", transient: true))
            }
        }
    }

    private func enqueue(_ job: @escaping () -> Void) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard !stopping else { return false }
        jobs.append(job)
        pthread_cond_signal(condition)
        return true
    }

    /// Lets the thread finish the jobs it has and end.
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    private func loop() {
        while true {
            pthread_mutex_lock(mutex)
            while jobs.isEmpty && !stopping { pthread_cond_wait(condition, mutex) }
            if jobs.isEmpty && stopping {
                pthread_mutex_unlock(mutex)
                return
            }
            let job = jobs.removeFirst()
            pthread_mutex_unlock(mutex)
            job()
        }
    }
}
