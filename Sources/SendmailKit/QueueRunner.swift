#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MailMessage
import MailPolicy
import MailQueue
import SMTPProtocol
import SMTPTransport

/// What a queue run should do.
public struct QueueRunOptions: Sendable {
    /// Try every message now, whatever its retry time (`-q`, `-qI…`, `sealctl queue flush`).
    public var force = true
    /// Only these messages (`-odi`, `-odb`: the one just queued).
    public var ids: [String]?
    /// `-qI`, `-qR`, `-qS` substrings.
    public var filter: SendmailOptions.QueueRun?
    /// `-v`: the SMTP dialogue on stderr, AUTH data redacted.
    public var trace = false
    /// `-odi`: permanent refusals are reported to the caller (exit status, stderr) and not
    /// bounced by mail.
    public var reportPermanentFailures = false
    /// Sessions opened in parallel.
    public var connections = 4
    /// `-odi`: the most the run may take, in seconds (`interactive_timeout`). When it has
    /// passed, the SMTP delivery in progress is cut short and whatever is left stays queued,
    /// its delay reason saying so.
    public var timeLimit: Int?
    public init() {}
}

/// What happened to the recipients of one message in this run (for `-odi`'s exit status).
public struct MessageReport: Sendable {
    public var accepted: [String] = []
    public var deferred: [(address: String, reason: String)] = []
    public var failed: [(address: String, status: String, reason: String)] = []
}

/// Runs the queue: each due message is locked, sent through the relays in order (the next
/// on a connection failure or a 4xx greeting), and its recipients are marked sent, deferred
/// (retried with backoff) or failed (bounced, RFC 3464). A run reuses each connection for
/// many messages and opens several in parallel. One Postfix-style log line per recipient.
public final class QueueRunner: @unchecked Sendable {
    let rt: Runtime
    let options: QueueRunOptions
    let schedule: RetrySchedule
    private let mutex = Lock()
    private var work: [String] = []
    private var next = 0
    private var reports: [String: MessageReport] = [:]
    public private(set) var summary = (sent: 0, deferred: 0, failed: 0, messages: 0)
    /// When `options.timeLimit` ends the run.
    private(set) var runDeadline: Deadline?
    /// Why the run stopped before the end (the disk is full, a state cannot be recorded);
    /// nil when it went through.
    public private(set) var stopReason: String?

    public init(runtime: Runtime, options: QueueRunOptions) {
        rt = runtime
        self.options = options
        schedule = RetrySchedule(lifetime: runtime.config.maxQueueLifetime)
    }

    /// The delay reason of what the time limit cut short.
    var interruptedReason: String {
        "delivery interrupted after \(options.timeLimit ?? 0) s (interactive_timeout); left for the next queue run"
    }

    /// One pass over the queue (or over `options.ids`).
    @discardableResult
    public func run() throws -> [String: MessageReport] {
        runDeadline = options.timeLimit.map { Deadline.after(Double($0)) }
        rt.spool.sweepTemporaryFiles(olderThan: 3600, now: Int(Clock.now().epochSeconds))
        work = try options.ids ?? rt.spool.list()
        let workers = max(1, min(options.connections, work.count))
        if workers == 1 {
            worker()
        } else {
            runOnThreads(workers) { self.worker() }
        }
        rt.spool.releaseSpareStateFiles()
        DeferredCloser.shared.drain()
        if stopReason == nil && options.ids == nil && options.filter == nil && rt.spool.lastRunStop() != nil {
            try? rt.spool.recordRunStop(nil)  // a whole run went through: the note is stale
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
        var session = Session(runner: self)
        while let id = take() {
            do {
                try process(id, session: &session)
            } catch let e as QueueError where e.code == .notFound {
                continue  // delivered or deleted by someone else meanwhile
            } catch {
                rt.log.warning("\(id): \(error)")
            }
        }
        session.close()
    }

    // MARK: one message

    private func process(_ id: String, session: inout Session) throws {
        guard let lock = try rt.spool.lock(id) else { return }  // another runner has it
        defer { lock.unlock() }
        let (env, offset) = try rt.spool.envelope(readingFrom: lock.fileDescriptor, path: rt.spool.messagePath(id))
        let record = try rt.spool.openState(id, recipients: env.recipients.count)
        var state = record.state
        let now = Clock.now()
        if !options.force && !schedule.isDue(state, nowMicros: now.microseconds) { return }
        if let f = options.filter, !matches(env, state, f) { return }
        let pending = state.pending(of: env)
        if state.isFinished(of: env) {
            try rt.spool.remove(id, state: record)
            lock.unlockRemoved()
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
                let reason = "message expired after \(rt.config.maxQueueLifetime / 86400) days in the queue: \(last)"
                state.recipients[i] = .init(status: .failed, dsn: "4.4.7", reason: reason)
                failures.append(i)
                logRecipient(env, i, relay: "none", dsn: "4.4.7", status: "expired, returned to sender", reason: last)
            }
        } else {
            let local = pending.filter { env.recipients[$0].local || env.recipients[$0].error != nil }
            let remote = pending.filter { !local.contains($0) }
            for i in local {
                if deliverLocally(env, i, fd: lock.fileDescriptor, offset: Int64(offset), state: &state,
                                  report: &report, failures: &failures) { attempted = true }
            }
            if !remote.isEmpty {
                attempted = true
                let attempt = session.deliver(env, pending: remote, fd: lock.fileDescriptor, offset: Int64(offset))
                apply(attempt, env: env, pending: remote, state: &state, report: &report, failures: &failures)
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
        if !options.reportPermanentFailures && !env.sender.isEmpty { state.bouncePending.formUnion(failures) }
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
            try rt.spool.remove(id, state: record)
            lock.unlockRemoved()
            rt.log.info("\(id): removed")
        } else if attempted || bounced {
            _ = save(record, state, env, report)
        }
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
        rt.log.error("queue run stopped: \(reason)")
        guard first else { return }
        do {
            try rt.spool.recordRunStop(RunStop(micros: Clock.now().microseconds, reason: reason))
        } catch {
            rt.log.warning("queue run status not recorded: \(error)")
        }
    }

    private func apply(_ attempt: Session.Attempt, env: QueuedEnvelope, pending: [Int], state: inout DeliveryState,
                       report: inout MessageReport, failures: inout [Int]) {
        switch attempt {
        case .failed(let reason, let relay, let dsn):
            for i in pending {
                state.recipients[i] = .init(status: .deferred, dsn: dsn, reason: reason, relay: relay)
                report.deferred.append((env.recipients[i].address, reason))
                logRecipient(env, i, relay: relay ?? "none", dsn: dsn, status: "deferred", reason: reason)
            }
        case .delivered(let result):
            let relay = result.relay.description
            for (k, i) in pending.enumerated() where k < result.recipients.count {
                let outcome = result.recipients[k].outcome
                let dsn = outcome.enhancedStatus.description
                let reason = outcome.diagnostic
                let address = env.recipients[i].address
                switch outcome.kind {
                case .accepted:
                    state.recipients[i] = .init(status: .sent, dsn: dsn, reason: reason, relay: relay)
                    report.accepted.append(address)
                    logRecipient(env, i, relay: relay, dsn: dsn, status: "sent", reason: reason)
                case .transient:
                    state.recipients[i] = .init(status: .deferred, dsn: dsn, reason: "host \(relay) said: \(reason)", relay: relay)
                    report.deferred.append((address, reason))
                    logRecipient(env, i, relay: relay, dsn: dsn, status: "deferred", reason: "host \(relay) said: \(reason)")
                case .permanent:
                    state.recipients[i] = .init(status: .failed, dsn: dsn, reason: reason, relay: relay)
                    report.failed.append((address, dsn, reason))
                    if wantsBounce(env.recipients[i]) { failures.append(i) }
                    let what = options.reportPermanentFailures ? "bounced (reported to the submitter)" : "bounced"
                    logRecipient(env, i, relay: relay, dsn: dsn, status: what, reason: "host \(relay) said: \(reason)")
                }
            }
        }
    }

    /// A local mailbox, or a recipient that failed at submission (alias loop, program target).
    /// - Returns: false when nothing was attempted (left for root's queue run).
    @discardableResult
    private func deliverLocally(_ env: QueuedEnvelope, _ i: Int, fd: Int32, offset: Int64, state: inout DeliveryState,
                                report: inout MessageReport, failures: inout [Int]) -> Bool {
        let r = env.recipients[i]
        let outcome: MboxDelivery.Outcome
        if let err = r.error {
            let parts = err.split(separator: " ", maxSplits: 1)
            let dsn = parts.count == 2 && parts[0].split(separator: ".").count == 3 ? String(parts[0]) : "5.0.0"
            outcome = .failed(dsn: dsn, reason: parts.count == 2 && dsn == String(parts[0]) ? String(parts[1]) : err)
        } else {
            outcome = MboxDelivery.deliver(user: r.address, envelope: env, fd: fd, offset: offset,
                                           spoolDir: rt.config.mailSpool, hostname: rt.hostname)
        }
        switch outcome {
        case .delivered:
            state.recipients[i] = .init(status: .sent, dsn: "2.0.0", reason: "delivered to mailbox", relay: "local")
            report.accepted.append(r.address)
            logRecipient(env, i, relay: "local", dsn: "2.0.0", status: "sent", reason: "delivered to mailbox")
        case .deferred(let dsn, let reason):
            state.recipients[i] = .init(status: .deferred, dsn: dsn, reason: reason, relay: "local")
            report.deferred.append((r.address, reason))
            logRecipient(env, i, relay: "local", dsn: dsn, status: "deferred", reason: reason)
        case .failed(let dsn, let reason):
            state.recipients[i] = .init(status: .failed, dsn: dsn, reason: reason, relay: "local")
            report.failed.append((r.address, dsn, reason))
            if wantsBounce(r) { failures.append(i) }
            logRecipient(env, i, relay: "local", dsn: dsn, status: "bounced", reason: reason)
        case .notHere:
            report.deferred.append((r.address, "left for the root queue run (local delivery)"))
            return false
        }
        return true
    }

    /// RFC 3461 NOTIFY: a bounce unless the recipient asked for none on failure.
    private func wantsBounce(_ r: QueuedRecipient) -> Bool {
        guard let notify = r.notify?.uppercased() else { return true }
        return notify.firstRange(of: "FAILURE") != nil
    }

    private func matches(_ env: QueuedEnvelope, _ state: DeliveryState, _ f: SendmailOptions.QueueRun) -> Bool {
        if let s = f.idFilter, env.id.firstRange(of: s) == nil { return false }
        if let s = f.senderFilter?.lowercased(), env.sender.lowercased().firstRange(of: s) == nil { return false }
        if let s = f.recipientFilter?.lowercased(),
           !state.pending(of: env).contains(where: { env.recipients[$0].address.lowercased().firstRange(of: s) != nil }) { return false }
        return true
    }

    /// `ID: to=<…>, orig_to=<…>, relay=host[ip]:port, delay=…, dsn=…, status=… (…)` as Postfix logs it.
    private func logRecipient(_ env: QueuedEnvelope, _ i: Int, relay: String, dsn: String, status: String, reason: String) {
        let r = env.recipients[i]
        let delay = Double(Clock.now().microseconds &- env.arrivalMicros) / 1_000_000
        var line = "\(env.id): to=<\(r.address)>, "
        if let o = r.original { line += "orig_to=<\(o)>, " }
        line += "relay=\(relay), delay=\(formatDelay(delay)), dsn=\(dsn), status=\(status) (\(reason))"
        rt.log.info(line)
    }

    private func formatDelay(_ d: Double) -> String {
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
        let clock = Clock.now()
        let id = QueueID.make(microseconds: clock.microseconds, random: UInt64.random(in: 0...UInt64.max))
        let bytes = Bounce.report(for: env, failures: failures, original: original, originalIsComplete: complete,
                                  reportingHost: rt.hostname, postmasterDomain: rt.domain,
                                  epochSeconds: clock.epochSeconds, utcOffset: clock.utcOffset, uniqueID: id)
        // The sender may be a local mailbox (or an alias): resolved like any recipient.
        var targets = [QueuedRecipient(address: env.sender)]
        if let resolver = try? LocalResolver.make(rt, noAliases: false),
           let box = AddressParser.parseList(env.sender).mailboxes.first {
            let resolved = resolver.resolve(box).filter { $0.error == nil }
            if !resolved.isEmpty { targets = resolved }
        }
        var bounceEnv = QueuedEnvelope(id: id, arrivalMicros: clock.microseconds, sender: "",
                                       recipients: targets, uid: 0, user: "MAILER-DAEMON")
        bounceEnv.messageID = nil
        let writer = try QueueWriter(spool: rt.spool, envelope: bounceEnv)
        try writer.append(bytes)
        // The report quotes the message: its long lines are the bounce's too.
        _ = try writer.commit { $0.bodyType = env.bodyType; $0.hasLongLines = env.hasLongLines }
        rt.log.info("\(env.id): sender non-delivery notification: \(id)")
        enqueue(id)
    }

    // MARK: a worker's SMTP session

    /// One worker's connection, kept open across messages.
    struct Session {
        enum Attempt {
            case delivered(SMTPDeliveryResult)
            /// Nothing was delivered: every pending recipient is deferred with this reason.
            case failed(reason: String, relay: String?, dsn: String)
        }

        unowned let runner: QueueRunner
        var client: SMTPClient?
        let progress = Progress()

        final class Progress: @unchecked Sendable { var bytes: Int64 = 0 }

        init(runner: QueueRunner) { self.runner = runner }

        mutating func close() {
            client?.quit()
            client = nil
        }

        func observers(relay: String) -> SMTPClientObservers {
            var o = SMTPClientObservers()
            let p = progress
            o.transfer = { p.bytes = $0.bytesSent }
            if runner.options.trace {
                o.trace = { direction, line in
                    let arrow: String
                    switch direction {
                    case .sent: arrow = ">>>"
                    default: arrow = "<<<"
                    }
                    Stderr.write("\(relay) \(arrow) \(line)\n")
                }
            }
            return o
        }

        mutating func deliver(_ env: QueuedEnvelope, pending: [Int], fd: Int32, offset: Int64) -> Attempt {
            let smtpEnvelope = SMTPEnvelope(
                sender: env.sender.isEmpty ? nil : env.sender,
                recipients: pending.map { i in
                    let r = env.recipients[i]
                    return SMTPRecipient(r.address, notify: r.notify.map(Self.notify), originalRecipient: r.original)
                },
                ret: env.ret.flatMap(DSNReturn.init(rawValue:)), envelopeID: env.envid,
                body: env.bodyType == .sevenBit ? .sevenBit : .eightBitMIME,
                requiresSMTPUTF8: env.smtputf8, prefersSMTPUTF8: env.eightBitHeader,
                hasLongLines: env.hasLongLines, hasNUL: env.hasNUL, messageSize: Int(env.size))
            let source = SMTPMessageSource.file(descriptor: fd, offset: offset, length: env.size)
            if runner.runDeadline?.hasPassed == true {
                return .failed(reason: runner.interruptedReason, relay: nil, dsn: "4.4.2")
            }
            // A cached session first; if it broke before any data went out, a fresh one.
            if let c = client {
                progress.bytes = 0
                startAttempt(c)
                do {
                    return .delivered(try c.send(envelope: smtpEnvelope, message: source))
                } catch {
                    c.close()
                    client = nil
                    if progress.bytes > 0 { return failure(error) }
                }
            }
            let relays = runner.rt.config.relays
            guard !relays.isEmpty else {
                return .failed(reason: "no relay configured ([[relay]] in \(runner.rt.configPath))", relay: nil, dsn: "4.3.5")
            }
            var lastFailure: Attempt = .failed(reason: "no relay reachable", relay: nil, dsn: "4.4.1")
            for config in relays {
                if runner.runDeadline?.hasPassed == true {
                    return .failed(reason: runner.interruptedReason, relay: nil, dsn: "4.4.2")
                }
                let relay = RelayFactory.relay(config, heloName: runner.rt.hostname, trust: runner.rt.trust)
                let c = SMTPClient(relay: relay, observers: observers(relay: config.host))
                startAttempt(c)
                do {
                    try c.connect()
                } catch {
                    c.close()
                    lastFailure = failure(error)
                    continue  // the next relay on a connection failure or a refused greeting
                }
                client = c
                progress.bytes = 0
                do {
                    return .delivered(try c.send(envelope: smtpEnvelope, message: source))
                } catch {
                    c.close()
                    client = nil
                    return failure(error)
                }
            }
            return lastFailure
        }

        /// Bounds the attempt that starts (connecting if needed, then the transaction) by the
        /// relay's `delivery_timeout`, or by the run's time limit when that comes first.
        func startAttempt(_ c: SMTPClient) {
            let seconds = c.relay.timeouts.delivery
            let attempt = Deadline.after(seconds)
            if let run = runner.runDeadline, run < attempt {
                c.setDeadline(run, reason: runner.interruptedReason)
            } else {
                c.setDeadline(attempt, reason: "the delivery attempt took longer than delivery_timeout (\(Int(seconds)) s)")
            }
        }

        func failure(_ error: Error) -> Attempt {
            if runner.runDeadline?.hasPassed == true {
                let relay = (error as? SMTPError)?.relay?.description
                return .failed(reason: runner.interruptedReason, relay: relay, dsn: "4.4.2")
            }
            if let e = error as? SMTPError {
                let dsn = e.reply?.effectiveStatus.description ?? "4.4.1"
                let transientDSN = dsn.hasPrefix("5") ? "4" + dsn.dropFirst() : dsn
                return .failed(reason: e.description, relay: e.relay?.description, dsn: transientDSN)
            }
            return .failed(reason: "\(error)", relay: nil, dsn: "4.3.0")
        }

        static func notify(_ value: String) -> DSNNotify {
            var n: DSNNotify = []
            let v = value.uppercased()
            if v.firstRange(of: "SUCCESS") != nil { n.insert(.success) }
            if v.firstRange(of: "FAILURE") != nil { n.insert(.failure) }
            if v.firstRange(of: "DELAY") != nil { n.insert(.delay) }
            return n
        }
    }
}
