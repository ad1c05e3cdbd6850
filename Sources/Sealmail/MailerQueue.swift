#if canImport(Glibc)
import Glibc
#endif
import MailQueue

/// What `Mailer.processQueue` did, counted in recipients.
public struct QueueRunReport: Sendable {
    /// Recipients the relay accepted.
    public var delivered: Int
    /// Recipients that stay queued after a temporary failure (retried by a later run).
    public var deferred: Int
    /// Recipients refused for good (or expired): a bounce went to the sender.
    public var bounced: Int
    /// Each message's recipients, by queue id.
    public var messages: [String: MessageReport]
    /// Why the run stopped before the end (the disk is full); nil when it went through.
    public var stopReason: String?
    /// The run's log lines (Postfix's format: `ID: to=<...>, relay=..., status=sent (...)`).
    public var log: [String]
}

extension Mailer {
    /// Delivers the queue (the seed's ProcessQueue): every queued message, whoever queued it
    /// (`MailSpool.enqueue`, or `sealmail` with the same queue_dir), through this mailer's
    /// relay and pooled connections. Accepted recipients are done; temporary failures stay
    /// queued with their reason and a retry time; permanent ones are bounced to the sender
    /// (RFC 3464); a message with nothing pending is removed (kept in `sent/` with
    /// `keepQueue`). Two runners never send the same message (each is locked).
    ///
    /// Runs on the mailer's own threads, with as many connections from the pool as the
    /// queue has messages, up to `maxConnections`.
    /// - Throws: `MailError(.queue)` when the queue cannot be read.
    public func processQueue(_ spool: MailSpool) async throws -> QueueRunReport {
        let count: Int
        do { count = try spool.spool.list().count } catch let e as QueueError {
            throw MailError(.queue, e.description, underlying: e)
        }
        let wanted = max(1, min(maxConnections, count))
        var connections: [PooledConnection] = []
        for _ in 0..<wanted { connections.append(await pool.acquire()) }
        let handout = ConnectionHandout(connections)
        let log = CollectedLog()
        var settings = QueueRunSettings(reportingHost: relay.heloName, postmasterDomain: relay.heloName, log: log)
        settings.workers = wanted
        settings.keepDelivered = spool.keepQueue
        let manager = QueueManager(spool: spool.spool, settings: settings) {
            PooledDeliveryAgent(connection: handout.take())
        }
        let thread = WorkerThread()
        defer { thread.stop() }
        do {
            let reports = try await thread.run { try manager.run() }
            for c in connections {
                if c.client == nil { await pool.discard(c) } else { await pool.release(c) }
            }
            let s = manager.summary
            return QueueRunReport(delivered: s.sent, deferred: s.deferred, bounced: s.failed, messages: reports,
                                  stopReason: manager.stopReason, log: log.lines)
        } catch {
            for c in connections { await pool.discard(c) }
            if let e = error as? QueueError { throw MailError(.queue, e.description, underlying: e) }
            throw error
        }
    }
}

/// Gives each worker of a queue run one of the connections taken from the pool.
final class ConnectionHandout: @unchecked Sendable {
    private let lock = Lock()
    private var free: [PooledConnection]
    init(_ connections: [PooledConnection]) { free = connections }
    func take() -> PooledConnection { lock.withLock { free.removeLast() } }
}

/// The run's log lines, kept for the report.
final class CollectedLog: QueueLog, @unchecked Sendable {
    private let lock = Lock()
    private var collected: [String] = []
    var lines: [String] { lock.withLock { collected } }
    func info(_ line: String) { lock.withLock { collected.append(line) } }
    func warning(_ line: String) { lock.withLock { collected.append("warning: " + line) } }
    func error(_ line: String) { lock.withLock { collected.append("error: " + line) } }
}

/// Delivers queued messages over one pooled connection (on the queue run's worker thread;
/// the connection is this worker's alone for the run, and goes back to the pool after it).
struct PooledDeliveryAgent: DeliveryAgent {
    let connection: PooledConnection

    mutating func deliver(_ envelope: QueuedEnvelope, recipients: [Int], message: QueuedMessageBytes) -> [Int: RecipientOutcome] {
        let source = SMTPMessageSource.file(descriptor: message.descriptor, offset: message.offset, length: message.length)
        var out: [Int: RecipientOutcome] = [:]
        do {
            let result = try Mailer.send(envelope.smtpEnvelope(recipients: recipients), source, on: connection)
            out = RecipientOutcome.outcomes(for: recipients, results: result.recipients, relay: result.relay.description)
        } catch {
            // The session failed: nothing was delivered; everyone is tried again later.
            let e = error as? SMTPError
            let dsn = e?.reply?.effectiveStatus.description ?? "4.4.1"
            let transient = dsn.hasPrefix("5") ? "4" + dsn.dropFirst() : dsn
            for i in recipients {
                out[i] = RecipientOutcome(.deferred, dsn: transient, reason: e?.description ?? "\(error)", relay: e?.relay?.description)
            }
        }
        return out
    }

    /// The connection stays open: it goes back to the pool.
    mutating func close() {}
}
