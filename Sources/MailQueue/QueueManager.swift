#if canImport(Glibc)
import Glibc
#endif

/// Delivers the recipients of queued messages: the one part of a queue run that differs
/// between sealmail (local mailboxes and the configured relays) and an application (its
/// `Mailer`'s relay). One agent per worker thread; it may keep connections open between
/// messages and closes them in `close`.
public protocol DeliveryAgent {
    /// Delivers `recipients` (indexes into `envelope.recipients`) of a locked message whose
    /// bytes are `message`. Returns an outcome for each index it was given.
    mutating func deliver(_ envelope: QueuedEnvelope, recipients: [Int], message: QueuedMessageBytes) -> [Int: RecipientOutcome]
    /// The run is over: quit open sessions.
    mutating func close()
}

/// Where a locked message's bytes are: `length` octets of `descriptor` from `offset` (read
/// with pread; the descriptor is the lock's, and stays open during `deliver`).
public struct QueuedMessageBytes: Sendable {
    public let descriptor: Int32
    public let offset: Int64
    public let length: Int64
}

/// What became of one recipient in one attempt.
public struct RecipientOutcome: Sendable {
    public enum Kind: Sendable {
        /// Accepted (by a relay, or delivered to a mailbox).
        case sent
        /// A temporary failure: retried later.
        case deferred
        /// A permanent failure: bounced to the sender (unless the run reports failures).
        case failed
        /// Not attempted by this run (left to another: a local mailbox only root may reach).
        case notAttempted
    }
    public var kind: Kind
    /// RFC 3463 status.
    public var dsn: String
    /// The reason in words: the relay's reply text, or ours.
    public var reason: String
    /// `host[ip]:port` that answered, `local`, or nil when nothing answered.
    public var relay: String?
    /// Whether `reason` is what `relay` replied (logged and recorded as `host ... said: ...`).
    public var fromReply: Bool

    public init(_ kind: Kind, dsn: String, reason: String, relay: String? = nil, fromReply: Bool = false) {
        self.kind = kind; self.dsn = dsn; self.reason = reason; self.relay = relay; self.fromReply = fromReply
    }
}

/// Log lines of a queue run (syslog for sealmail; anything an application likes).
public protocol QueueLog: Sendable {
    func info(_ line: String)
    func warning(_ line: String)
    func error(_ line: String)
}

/// What happened to the recipients of one message in a run (for `-odi`'s exit status and
/// `Mailer.processQueue`'s report).
public struct MessageReport: Sendable {
    public var accepted: [String] = []
    public var deferred: [(address: String, reason: String)] = []
    public var failed: [(address: String, status: String, reason: String)] = []
    public init() {}
}

/// What a queue run does, apart from delivering.
public struct QueueRunSettings: Sendable {
    /// Try every message now, whatever its retry time.
    public var force = true
    /// Only these messages.
    public var ids: [String]?
    /// Only messages this accepts (`-qI`, `-qR`, `-qS`).
    public var filter: (@Sendable (QueuedEnvelope, DeliveryState) -> Bool)?
    /// Permanent failures are reported to the caller and not bounced by mail (`-odi`).
    public var reportPermanentFailures = false
    /// Worker threads (each with its agent and its connections).
    public var workers = 4
    /// After this long in the queue the pending recipients are bounced (seconds).
    public var lifetime = 5 * 86400
    /// Delivered messages are kept in `sent/` instead of removed (KeepQueue).
    public var keepDelivered = false
    /// The Reporting-MTA of bounces, and the domain of their From (MAILER-DAEMON@...).
    public var reportingHost: String
    public var postmasterDomain: String
    /// Where a bounce to `sender` goes (a local sender may resolve to mailboxes or aliases).
    public var bounceRecipients: @Sendable (String) -> [QueuedRecipient] = { [QueuedRecipient(address: $0)] }
    public var log: any QueueLog
    public var clock: @Sendable () -> Clock = { Clock.now() }
    public var random: @Sendable () -> UInt64 = { UInt64.random(in: 0...UInt64.max) }

    public init(reportingHost: String, postmasterDomain: String, log: any QueueLog) {
        self.reportingHost = reportingHost
        self.postmasterDomain = postmasterDomain
        self.log = log
    }
}

/// A queue run (DESIGN.md "Queue"): each due message is locked (two runners never deliver
/// the same message), its pending recipients handed to a `DeliveryAgent`, and what became of
/// them recorded: sent is done, deferred is retried with backoff (`RetrySchedule`), failed is
/// bounced to the sender (RFC 3464, `Bounce`), and after the lifetime the rest is bounced. A
/// message with nothing pending is removed (or kept). One Postfix-style log line per recipient.
///
/// Nothing accepted is sent twice: before an attempt that could accept some recipients and
/// not others, the message's state is reserved (`StateFile.reserve`), so recording what was
/// accepted cannot fail for lack of space; a run that cannot reserve attempts nothing and
/// stops, and says why in the queue's run status. A bounce is recorded as owed before it is
/// queued, and queued by a later run when it cannot be now.
public final class QueueManager: @unchecked Sendable {
    public let spool: Spool
    public let settings: QueueRunSettings
    let schedule: RetrySchedule
    private let makeAgent: () -> any DeliveryAgent
    private let mutex = Lock()
    private var work: [String] = []
    private var next = 0
    private var reports: [String: MessageReport] = [:]
    /// Recipients sent, deferred and failed, and messages handled, in this run.
    public private(set) var summary = (sent: 0, deferred: 0, failed: 0, messages: 0)
    /// Why the run stopped before the end (the disk is full, a state cannot be recorded);
    /// nil when it went through.
    public private(set) var stopReason: String?

    /// - Parameter makeAgent: called once per worker thread, on it.
    public init(spool: Spool, settings: QueueRunSettings, makeAgent: @escaping () -> any DeliveryAgent) {
        self.spool = spool
        self.settings = settings
        self.makeAgent = makeAgent
        schedule = RetrySchedule(lifetime: settings.lifetime)
    }

    /// One pass over the queue (or over `settings.ids`); returns each message's report.
    @discardableResult
    public func run() throws -> [String: MessageReport] {
        spool.sweepTemporaryFiles(olderThan: 3600, now: Int(settings.clock().epochSeconds))
        work = try settings.ids ?? spool.list()
        let workers = max(1, min(settings.workers, work.count))
        if workers == 1 {
            worker()
        } else {
            runOnThreads(workers) { self.worker() }
        }
        spool.releaseSpareStateFiles()
        DeferredCloser.shared.drain()
        if stopReason == nil && settings.ids == nil && settings.filter == nil && spool.lastRunStop() != nil {
            try? spool.recordRunStop(nil)  // a whole run went through: the note is stale
        }
        return reports
    }

    private func take() -> String? {
        mutex.lock(); defer { mutex.unlock() }
        guard stopReason == nil, next < work.count else { return nil }
        next += 1
        return work[next - 1]
    }

    private func enqueue(_ id: String) {
        mutex.lock(); work.append(id); mutex.unlock()
    }

    private func worker() {
        var agent = makeAgent()
        while let id = take() {
            do {
                try process(id, agent: &agent)
            } catch let e as QueueError where e.code == .notFound {
                continue  // delivered or deleted by someone else meanwhile
            } catch {
                settings.log.warning("\(id): \(error)")
            }
        }
        agent.close()
    }

    // MARK: one message

    private func process(_ id: String, agent: inout any DeliveryAgent) throws {
        guard let lock = try spool.lock(id) else { return }  // another runner has it
        defer { lock.unlock() }
        let (env, offset) = try spool.envelope(readingFrom: lock.fileDescriptor, path: spool.messagePath(id))
        let record = try spool.openState(id, recipients: env.recipients.count)
        var state = record.state
        let now = settings.clock()
        if !settings.force && !schedule.isDue(state, nowMicros: now.microseconds) { return }
        if let f = settings.filter, !f(env, state) { return }
        let pending = state.pending(of: env)
        if state.isFinished(of: env) {
            try retire(id, record, lock)
            return
        }
        var report = MessageReport()
        // An attempt that may accept some recipients and not others needs its outcome
        // recorded: the state file's space is taken first, while failing is harmless. (One
        // recipient is accepted, and the message removed, or not accepted: nothing can be
        // sent twice, and the common single-recipient message costs nothing more.)
        if pending.count > 1 {
            do {
                try record.reserve()
            } catch let e as QueueError where e.code == .unsafe {
                throw e  // this message only (logged, skipped): something else is in its place
            } catch {
                let reason = "delivery not attempted: cannot reserve its delivery state (\(error))"
                for i in pending { report.deferred.append((env.recipients[i].address, reason)) }
                finish(id, report)
                stop(because: "\(id): \(reason)")
                return
            }
        }
        var failures: [Int] = []
        var attempted = false

        if schedule.isExpired(arrivalMicros: env.arrivalMicros, nowMicros: now.microseconds) {
            attempted = true
            for i in pending {
                let last = state.recipients[i]?.reason ?? "no delivery attempt succeeded"
                let reason = "message expired after \(settings.lifetime / 86400) days in the queue: \(last)"
                state.recipients[i] = .init(status: .failed, dsn: "4.4.7", reason: reason)
                failures.append(i)
                logRecipient(env, i, relay: "none", dsn: "4.4.7", status: "expired, returned to sender", reason: last)
            }
        } else {
            let bytes = QueuedMessageBytes(descriptor: lock.fileDescriptor, offset: Int64(offset), length: env.size)
            let outcomes = agent.deliver(env, recipients: pending, message: bytes)
            for i in pending {
                guard let o = outcomes[i] else { continue }
                if apply(o, env: env, i, state: &state, report: &report, failures: &failures) { attempted = true }
            }
        }
        if attempted {
            state.attempts += 1
            if state.firstAttemptMicros == nil { state.firstAttemptMicros = now.microseconds }
            state.lastAttemptMicros = now.microseconds
            state.nextAttemptMicros = schedule.nextAttempt(afterAttempts: state.attempts, nowMicros: now.microseconds)
        }
        defer { finish(id, report) }

        // A bounce: the failures are recorded first, marked as waiting for it, then it is
        // queued, then the mark goes. A bounce that cannot be queued (a full disk) is queued
        // by a later run, and the failed recipients are never tried again. (-odi told the
        // caller already: no mail for what the exit status reported.)
        if !settings.reportPermanentFailures && !env.sender.isEmpty { state.bouncePending.formUnion(failures) }
        var bounced = false
        if !state.bouncePending.isEmpty {
            guard save(record, state, env, report) else { return }
            do {
                try bounce(env, failures: state.bouncePending.sorted().map { bounceFailure(env, state, $0) },
                           fd: lock.fileDescriptor, offset: Int64(offset))
            } catch {
                stop(because: "\(id): cannot queue the non-delivery notification (\(error)); the next run queues it")
                return
            }
            state.bouncePending = []
            bounced = true
        }
        if state.isFinished(of: env) {
            try retire(id, record, lock)
            settings.log.info("\(id): removed")
        } else if attempted || bounced {
            _ = save(record, state, env, report)
        }
    }

    /// A message with nothing left to do: removed (or kept), its lock let go.
    private func retire(_ id: String, _ record: StateFile, _ lock: QueueLock) throws {
        if settings.keepDelivered {
            try spool.keep(id, state: record)
            lock.unlock()
        } else {
            try spool.remove(id, state: record)
            lock.unlockRemoved()
        }
    }

    /// Records one recipient's outcome; false when nothing was attempted.
    private func apply(_ o: RecipientOutcome, env: QueuedEnvelope, _ i: Int, state: inout DeliveryState,
                       report: inout MessageReport, failures: inout [Int]) -> Bool {
        let address = env.recipients[i].address
        let relay = o.relay ?? "none"
        let said = o.fromReply ? "host \(relay) said: \(o.reason)" : o.reason
        switch o.kind {
        case .sent:
            state.recipients[i] = .init(status: .sent, dsn: o.dsn, reason: o.reason, relay: o.relay)
            report.accepted.append(address)
            logRecipient(env, i, relay: relay, dsn: o.dsn, status: "sent", reason: o.reason)
        case .deferred:
            state.recipients[i] = .init(status: .deferred, dsn: o.dsn, reason: said, relay: o.relay)
            report.deferred.append((address, o.reason))
            logRecipient(env, i, relay: relay, dsn: o.dsn, status: "deferred", reason: said)
        case .failed:
            state.recipients[i] = .init(status: .failed, dsn: o.dsn, reason: o.reason, relay: o.relay)
            report.failed.append((address, o.dsn, o.reason))
            if wantsBounce(env.recipients[i]) { failures.append(i) }
            let what = settings.reportPermanentFailures ? "bounced (reported to the submitter)" : "bounced"
            logRecipient(env, i, relay: relay, dsn: o.dsn, status: what, reason: said)
        case .notAttempted:
            report.deferred.append((address, o.reason))
            return false
        }
        return true
    }

    /// Records a message's state; when that fails, says what may be sent again and stops
    /// the run (whatever made it fail, a full disk or a failing one, would fail the next).
    private func save(_ record: StateFile, _ state: DeliveryState, _ env: QueuedEnvelope, _ report: MessageReport) -> Bool {
        do {
            try record.record(state)
            return true
        } catch {
            var reason = "delivery progress could not be recorded (\(error))"
            if !report.accepted.isEmpty {
                reason += "; accepted in this run, may be sent again: " + report.accepted.joined(separator: ", ")
            }
            stop(because: "\(env.id): \(reason)")
            return false
        }
    }

    /// A bounce's line for recipient `i`, from what its state recorded.
    private func bounceFailure(_ env: QueuedEnvelope, _ state: DeliveryState, _ i: Int) -> Bounce.Failure {
        let r = state.recipients[i]
        // `host[address]:port` as recorded; a local mailbox or our own refusal has no MTA.
        let mta = r?.relay.flatMap { relay -> String? in
            guard relay != "local", let host = relay.split(separator: "[").first, !host.isEmpty else { return nil }
            return String(host)
        }
        return Bounce.Failure(recipient: env.recipients[i], status: r?.dsn ?? "5.0.0",
                              diagnostic: r?.reason ?? "delivery failed", remoteMTA: mta)
    }

    private func finish(_ id: String, _ report: MessageReport) {
        mutex.lock()
        summary.messages += 1
        summary.sent += report.accepted.count
        summary.deferred += report.deferred.count
        summary.failed += report.failed.count
        reports[id] = report
        mutex.unlock()
    }

    /// Ends the run early: no message is taken after this one. Logged, and kept in the
    /// queue's run status for mailq (in place: this works on a full disk).
    private func stop(because reason: String) {
        mutex.lock()
        let first = stopReason == nil
        if first { stopReason = reason }
        mutex.unlock()
        settings.log.error("queue run stopped: \(reason)")
        guard first else { return }
        do {
            try spool.recordRunStop(RunStop(micros: settings.clock().microseconds, reason: reason))
        } catch {
            settings.log.warning("queue run status not recorded: \(error)")
        }
    }

    /// RFC 3461 NOTIFY: a bounce unless the recipient asked for none on failure.
    private func wantsBounce(_ r: QueuedRecipient) -> Bool {
        guard let notify = r.notify?.uppercased() else { return true }
        return notify.firstRange(of: "FAILURE") != nil
    }

    /// `ID: to=<…>, orig_to=<…>, relay=host[ip]:port, delay=…, dsn=…, status=… (…)` as Postfix logs it.
    private func logRecipient(_ env: QueuedEnvelope, _ i: Int, relay: String, dsn: String, status: String, reason: String) {
        let r = env.recipients[i]
        let delay = Double(settings.clock().microseconds &- env.arrivalMicros) / 1_000_000
        var line = "\(env.id): to=<\(r.address)>, "
        if let o = r.original { line += "orig_to=<\(o)>, " }
        line += "relay=\(relay), delay=\(Self.formatDelay(delay)), dsn=\(dsn), status=\(status) (\(reason))"
        settings.log.info(line)
    }

    static func formatDelay(_ d: Double) -> String {
        // Postfix's precision: two decimals under 10 s, one under 100 s, none above.
        let decimals = d < 10 ? 2 : d < 100 ? 1 : 0
        return DecimalText.fixed(d, decimals: decimals)
    }

    // MARK: bounces

    /// Queues an RFC 3464 report to the sender; it is delivered in this same run.
    private func bounce(_ env: QueuedEnvelope, failures: [Bounce.Failure], fd: Int32, offset: Int64) throws {
        guard !env.sender.isEmpty else { return }
        let limit = Int64(Bounce.fullReturnLimit)
        let complete = env.size <= limit
        let want = Int(complete ? env.size : min(env.size, 1 << 20))
        var original = [UInt8](repeating: 0, count: want)
        var got = 0
        while got < want {
            let n = original.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, want - got, off_t(offset) + off_t(got)) }
            if n <= 0 { break }
            got += n
        }
        original.removeSubrange(got...)
        let clock = settings.clock()
        let id = QueueID.make(microseconds: clock.microseconds, random: settings.random())
        let bytes = Bounce.report(for: env, failures: failures, original: original, originalIsComplete: complete,
                                  reportingHost: settings.reportingHost, postmasterDomain: settings.postmasterDomain,
                                  epochSeconds: clock.epochSeconds, utcOffset: clock.utcOffset, uniqueID: id)
        var bounceEnv = QueuedEnvelope(id: id, arrivalMicros: clock.microseconds, sender: "",
                                       recipients: settings.bounceRecipients(env.sender), uid: 0, user: "MAILER-DAEMON")
        bounceEnv.messageID = nil
        let writer = try QueueWriter(spool: spool, envelope: bounceEnv)
        try writer.append(bytes)
        // The report quotes the message: its long lines are the bounce's too.
        _ = try writer.commit { $0.bodyType = env.bodyType; $0.hasLongLines = env.hasLongLines }
        settings.log.info("\(env.id): sender non-delivery notification: \(id)")
        enqueue(id)
    }
}
