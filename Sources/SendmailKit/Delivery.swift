#if canImport(Glibc)
import Glibc
#endif
import MailPolicy
import MailQueue
import SMTPTransport

/// Delivery right after submission: `-odi` (wait, and report permanent refusals through the
/// exit status) and `-odb` (a detached child, the caller does not wait).
enum Delivery {
    /// Delivers queued messages now (the copies of one submission, over one connection);
    /// returns what happened to their recipients, together, or nil when none was attempted.
    /// With `timeLimit` (-odi's `interactive_timeout`), the SMTP delivery is cut short when it
    /// passes and what is left stays queued; should something wait where no deadline reaches
    /// (a name lookup, a password_command), the process ends anyway a few seconds later,
    /// exit 0, the message queued (`Watchdog`).
    @discardableResult
    static func deliverNow(_ ids: [String], _ rt: Runtime, trace: Bool, report: Bool,
                           timeLimit: Int? = nil, program: String = "sendmail") -> MessageReport? {
        var o = QueueRunOptions()
        o.ids = ids
        o.trace = trace
        o.reportPermanentFailures = report
        o.connections = 1
        o.timeLimit = timeLimit
        if let timeLimit {
            Watchdog.start(after: Double(timeLimit) + Watchdog.grace) {
                Stderr.write("\(program): delivery still not finished \(timeLimit) s after it started "
                             + "(interactive_timeout); the message stays queued for the next queue run\n")
            }
        }
        do {
            return merged(try QueueRunner(runtime: rt, options: o).run(), ids: ids)
        } catch {
            rt.log.warning("\(ids.joined(separator: ", ")): delivery: \(error)")
            return nil
        }
    }

    /// One report for several messages: their recipients' results in the order of `ids`; nil
    /// when no message has a report. A copy without a report (another runner had it) stays
    /// queued and is said to be deferred, so the caller learns it was not delivered.
    static func merged(_ reports: [String: MessageReport], ids: [String]) -> MessageReport? {
        guard ids.contains(where: { reports[$0] != nil }) else { return nil }
        var out = MessageReport()
        for id in ids {
            guard let r = reports[id] else {
                out.deferred.append((address: id, reason: "this copy is being delivered by another queue run"))
                continue
            }
            out.accepted += r.accepted
            out.deferred += r.deferred
            out.failed += r.failed
        }
        return out
    }

    /// Runs `body` in a detached process (new session, stdio on /dev/null) and returns at once
    /// in the caller. If fork fails the message simply stays queued for the next queue run.
    ///
    /// `callerExits`: the calling process ends right after (sendmail -odb), so one fork is
    /// enough: the deliverer is reparented when we exit, and the caller's caller waits for one
    /// fork, not for a second fork and an exit (issue 13: a third of -odb's time). Otherwise
    /// (-bs goes on serving its session) the deliverer is a grandchild, so no zombie is left.
    static func detach(callerExits: Bool, _ body: () -> Void) {
        let pid = fork()
        if pid < 0 { return }
        if pid > 0 {
            if !callerExits {
                var status: Int32 = 0
                waitpid(pid, &status, 0)  // the intermediate child exits at once
            }
            return
        }
        // Child: a new session (no controlling terminal, out of the caller's process group).
        setsid()
        if !callerExits {
            let grandchild = fork()
            if grandchild != 0 { _exit(0) }
        }
        let null = open("/dev/null", O_RDWR)
        if null >= 0 {
            dup2(null, 0); dup2(null, 1); dup2(null, 2)
            if null > 2 { close(null) }
        }
        body()
        _exit(0)
    }

    /// The backstop of -odi's time limit: a thread that, if the process is still running
    /// `seconds` from now, writes the note and exits 0. The queue is consistent at any instant
    /// (DESIGN.md "Queue"), so ending there leaves the message queued for the next run.
    enum Watchdog {
        /// How long after the time limit the backstop waits for the deadlines to do their work.
        static let grace: Double = 5

        static func start(after seconds: Double, note: @escaping () -> Void) {
            final class Box { let note: () -> Void; let seconds: Double; init(_ n: @escaping () -> Void, _ s: Double) { note = n; seconds = s } }
            var attributes = pthread_attr_t()
            pthread_attr_init(&attributes)
            pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
            pthread_attr_setstacksize(&attributes, 1 << 16)
            defer { pthread_attr_destroy(&attributes) }
            let context = Unmanaged.passRetained(Box(note, seconds)).toOpaque()
            var thread = pthread_t()
            let rc = pthread_create(&thread, &attributes, { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                let end = Deadline.after(box.seconds)
                while !end.hasPassed { usleep(useconds_t(max(1_000, min(500_000, end.remainingSeconds * 1e6)))) }
                box.note()
                _exit(0)
            }, context)
            if rc != 0 { Unmanaged<Box>.fromOpaque(context).release() }
        }
    }

    /// `-odi`'s exit status (DESIGN.md "Command line"): 0 when every recipient was accepted or
    /// deferred (a note on stderr says so); otherwise the sysexits code of the first permanent
    /// refusal's RFC 3463 status (`ExitCodes.code(forStatus:)`), with the relay's reply on stderr.
    static func exitStatus(_ report: MessageReport?, program: String) -> Int32 {
        guard let report else {
            Stderr.write("\(program): delivery could not be attempted; the message stays queued\n")
            return 0
        }
        for (address, reason) in report.deferred {
            Stderr.write("\(program): <\(address)>: deferred, the message stays queued for retry: \(reason)\n")
        }
        guard let first = report.failed.first else { return 0 }
        for (address, status, reason) in report.failed {
            Stderr.write("\(program): <\(address)>: refused (\(status)): \(reason)\n")
        }
        return ExitCodes.code(forStatus: first.status).rawValue
    }
}
