#if canImport(Glibc)
import Glibc
#endif
import MailMessage
import MailPolicy
import MailQueue
import SMTPProtocol
import SMTPTransport

/// sealmail's delivery agent: local mailboxes (and recipients that failed at submission),
/// then one SMTP session per worker through the configured relays, kept open across
/// messages. `-v` traces the dialogue; `-odi`'s time limit cuts an attempt short.
struct SendmailDeliveryAgent: DeliveryAgent {
    unowned let runner: QueueRunner
    var session: Session

    init(runner: QueueRunner) {
        self.runner = runner
        session = Session(runner: runner)
    }

    mutating func deliver(_ env: QueuedEnvelope, recipients pending: [Int], message: QueuedMessageBytes) -> [Int: RecipientOutcome] {
        var out: [Int: RecipientOutcome] = [:]
        let local = pending.filter { env.recipients[$0].local || env.recipients[$0].error != nil }
        let remote = pending.filter { !local.contains($0) }
        for i in local { out[i] = deliverLocally(env, i, message) }
        if !remote.isEmpty {
            let attempt = session.deliver(env, pending: remote, fd: message.descriptor, offset: message.offset)
            switch attempt {
            case .failed(let reason, let relay, let dsn):
                for i in remote { out[i] = RecipientOutcome(.deferred, dsn: dsn, reason: reason, relay: relay) }
            case .delivered(let result):
                out.merge(RecipientOutcome.outcomes(for: remote, results: result.recipients, relay: result.relay.description)) { $1 }
            }
        }
        return out
    }

    mutating func close() { session.close() }

    /// A local mailbox, or a recipient that failed at submission (alias loop, program target).
    func deliverLocally(_ env: QueuedEnvelope, _ i: Int, _ message: QueuedMessageBytes) -> RecipientOutcome {
        let r = env.recipients[i]
        let outcome: MboxDelivery.Outcome
        if let err = r.error {
            let parts = err.split(separator: " ", maxSplits: 1)
            let dsn = parts.count == 2 && parts[0].split(separator: ".").count == 3 ? String(parts[0]) : "5.0.0"
            outcome = .failed(dsn: dsn, reason: parts.count == 2 && dsn == String(parts[0]) ? String(parts[1]) : err)
        } else {
            outcome = MboxDelivery.deliver(user: r.address, envelope: env, fd: message.descriptor, offset: message.offset,
                                           spoolDir: runner.rt.config.mailSpool, hostname: runner.rt.hostname)
        }
        switch outcome {
        case .delivered:
            return RecipientOutcome(.sent, dsn: "2.0.0", reason: "delivered to mailbox", relay: "local")
        case .deferred(let dsn, let reason):
            return RecipientOutcome(.deferred, dsn: dsn, reason: reason, relay: "local")
        case .failed(let dsn, let reason):
            return RecipientOutcome(.failed, dsn: dsn, reason: reason, relay: "local")
        case .notHere:
            return RecipientOutcome(.notAttempted, dsn: "4.0.0", reason: "left for the root queue run (local delivery)")
        }
    }

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
            let smtpEnvelope = env.smtpEnvelope(recipients: pending)
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
    }
}
