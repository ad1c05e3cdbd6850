#if canImport(Glibc)
import Glibc
#endif
import MailMessage
import MailPolicy
import MailQueue

/// The `sealmail` executable: sendmail, mailq and newaliases by the name it is called with.
public enum SendmailCommand {
    /// Runs one invocation and returns its exit status (sysexits.h).
    public static func main(_ argv: [String]) -> Int32 {
        let program = argv.first.flatMap { $0.utf8.split(separator: UInt8(ascii: "/")).last.map { String(decoding: $0, as: UTF8.self) } } ?? "sendmail"
        umask(0o007)  // queue files are shared with the sealmail group, never with others
        Privileges.sanitise()
        let options: SendmailOptions
        do {
            options = try SendmailOptions.parse(Array(argv.dropFirst()), programName: program)
        } catch {
            Stderr.write("\(program): \(error)\n")
            return ExitCode.usage.rawValue
        }
        let verbose = options.verbose > 0
        if verbose { for n in options.notes { Stderr.write("\(program): \(n)\n") } }
        let rt: Runtime
        do {
            rt = try Runtime.load(configOption: options.configPath, verbose: options.verbose > 1)
        } catch {
            for line in "\(error)".split(separator: "\n") { Stderr.write("\(program): \(line)\n") }
            return ExitCodes.code(for: error).rawValue
        }
        if let x = options.ignoredLogFile {
            rt.log.warning("uid=\(rt.identity.uid): ignored -X \(x) (sealmail never writes a file named by its caller)")
        }
        do {
            switch options.mode {
            case .deliver:
                return try deliver(options, rt, program: program)
            case .listQueue:
                return try listQueue(rt, program: program)
            case .initAliases:
                return AddressModes.checkAliases(rt, program: program)
            case .smtpOnStdio:
                var server = SMTPServerMode(runtime: rt, options: options)
                return try server.run()
            case .verify:
                return try AddressModes.verify(options, rt, program: program)
            case .runQueue(let run):
                guard Privileges.mayRunQueue(rt) else {
                    Stderr.write("\(program): only root (or a user in mailq_users) may run the queue\n")
                    return ExitCode.noPerm.rawValue
                }
                return try runQueue(run, rt, verbose: options.verbose, program: program)
            }
        } catch {
            for line in TextLines.lines(of: "\(error)") where !line.isEmpty { Stderr.write("\(program): \(line)\n") }
            return ExitCodes.code(for: error).rawValue
        }
    }

    static func deliver(_ options: SendmailOptions, _ rt: Runtime, program: String) throws -> Int32 {
        let outcome = try Submission.submit(options, runtime: rt)
        for s in outcome.skipped { Stderr.write("\(program): \(s)\n") }
        let verbose = options.verbose > 0
        if verbose {
            for w in outcome.warnings { Stderr.write("\(program): \(w)\n") }
            Stderr.write("\(program): queued as \(outcome.ids.joined(separator: ", "))\n")
        }
        let mode: DeliveryMode
        switch options.deliveryMode {
        case .background?: mode = .background
        case .interactive?: mode = .interactive
        case .queue?: mode = .queue
        case nil: mode = rt.config.delivery
        }
        // Every copy the policy made is delivered, not only the first.
        let ids = outcome.ids
        switch mode {
        case .queue:
            return 0
        case .background:
            Delivery.detach(callerExits: true) { Delivery.deliverNow(ids, rt, trace: false, report: false) }
            return 0
        case .interactive:
            let report = Delivery.deliverNow(ids, rt, trace: verbose, report: true,
                                             timeLimit: rt.config.interactiveTimeout, program: program)
            return Delivery.exitStatus(report, program: program)
        }
    }

    static func runQueue(_ run: SendmailOptions.QueueRun, _ rt: Runtime, verbose: Int, program: String) throws -> Int32 {
        var o = QueueRunOptions()
        o.filter = (run.idFilter ?? run.recipientFilter ?? run.senderFilter) == nil ? nil : run
        o.trace = verbose > 0
        o.connections = rt.config.maxConnections
        guard let interval = run.interval else {
            let runner = QueueRunner(runtime: rt, options: o)
            try runner.run()
            if let reason = runner.stopReason {
                // The messages stay queued; the caller (cron) learns that the run did not finish.
                Stderr.write("\(program): queue run stopped: \(reason)\n")
                return ExitCode.tempFail.rawValue
            }
            return 0
        }
        // -q30m: run every interval, trying only what is due (Sendmail's meaning), in the foreground.
        o.force = false
        while true {
            runOnce(o, rt)
            sleep(UInt32(interval))
        }
    }

    /// One periodic run. Kept out of line: Swift 6.3.1's optimiser (LICM) never finishes on
    /// this loop when the body is inlined into it.
    @inline(never)
    static func runOnce(_ o: QueueRunOptions, _ rt: Runtime) {
        do { try QueueRunner(runtime: rt, options: o).run() } catch { rt.log.warning("queue run: \(error)") }
    }

    static func listQueue(_ rt: Runtime, program: String) throws -> Int32 {
        let uid = getuid()
        let all = Privileges.mayRunQueue(rt)
        let (entries, problems) = try QueueListing.entries(rt.spool, visibleTo: all ? nil : uid)
        Stdout.write(QueueListing.mailq(entries, utcOffset: Clock.now().utcOffset))
        for p in problems { Stderr.write("\(program): \(p)\n") }
        return 0
    }
}
