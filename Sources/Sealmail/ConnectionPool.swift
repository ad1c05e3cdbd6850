/// At most `limit` SMTP connections to one relay, each with a thread of its own, shared by
/// concurrent sends: a send waits (suspended, not blocking a thread) for an idle connection
/// when all are busy. Idle connections stay open for the next send (which starts with RSET);
/// a connection that failed is dropped and its place given to a new one.
actor ConnectionPool {
    private let limit: Int
    private var idle: [PooledConnection] = []
    private var open = 0
    private var waiters: [CheckedContinuation<PooledConnection, Never>] = []
    private let make: @Sendable () -> PooledConnection

    init(limit: Int, make: @escaping @Sendable () -> PooledConnection) {
        self.limit = max(1, limit)
        self.make = make
    }

    /// A connection for one send; give it back with `release` or `discard`.
    func acquire() async -> PooledConnection {
        if let c = idle.popLast() { return c }
        if open < limit {
            open += 1
            return make()
        }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// Gives back a connection that is still usable.
    func release(_ c: PooledConnection) {
        if !waiters.isEmpty {
            waiters.removeFirst().resume(returning: c)
        } else {
            idle.append(c)
        }
    }

    /// Gives back a connection that broke: it is closed, and a waiter gets a fresh one.
    func discard(_ c: PooledConnection) {
        c.shutDown()
        if !waiters.isEmpty {
            waiters.removeFirst().resume(returning: make())
        } else {
            open -= 1
        }
    }

    /// Closes every idle connection (QUIT); busy ones close when they are given back.
    func closeIdle() {
        for c in idle { c.shutDown() }
        open -= idle.count
        idle.removeAll()
    }

    /// Connections open now (for tests and statistics).
    var openCount: Int { open }
}

/// One SMTP connection and the thread that does its blocking IO.
final class PooledConnection: @unchecked Sendable {
    let thread = WorkerThread()
    /// Touched only on `thread`.
    var client: SMTPClient?
    let relay: SMTPRelay
    let observers: SMTPClientObservers

    init(relay: SMTPRelay, observers: SMTPClientObservers) {
        self.relay = relay
        self.observers = observers
    }

    /// QUITs (on its own thread) and lets the thread end.
    func shutDown() {
        let t = thread
        Task { try? await t.run { [self] in self.client?.quit(); self.client = nil } ; t.stop() }
    }
}
