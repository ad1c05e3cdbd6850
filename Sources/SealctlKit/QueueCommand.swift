import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import MailQueue
import SendmailKit

struct QueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "List, show and delete queued messages.",
        subcommands: [List.self, Show.self, Delete.self, Flush.self, Run.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the queue (mailq's layout, or JSON lines as postqueue -j).")
        @OptionGroup var options: ConfigOption
        @Flag(help: "One JSON object per message per line, with postqueue -j's fields.") var json = false

        func run() throws {
            let rt = try options.runtime()
            do {
                let (entries, problems) = try QueueListing.entries(rt.spool, visibleTo: nil)
                Stdout.write(json ? QueueListing.json(entries) : QueueListing.mailq(entries, utcOffset: Clock.now().utcOffset))
                for p in problems { Stderr.write("sealctl: \(p)\n") }
            } catch { throw fail(error) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a message's envelope, delivery state, then the message as queued.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The queue id.") var id: String

        func run() throws {
            let rt = try options.runtime()
            do {
                let (env, offset) = try rt.spool.envelope(id)
                let state = try rt.spool.state(id)
                var out = "queue_id: \(env.id)\n"
                out += "arrival_time: \(env.arrivalSeconds)\n"
                out += "message_size: \(env.size)\n"
                out += "sender: <\(env.sender)>\n"
                out += "submitted_by: \(env.user) (uid \(env.uid))\n"
                out += "body: \(env.bodyType.rawValue)\(env.smtputf8 ? ", smtputf8" : "")\(env.eightBitHeader ? ", 8-bit header" : "")\(env.hasNUL ? ", has NUL bytes" : "")\(env.hasLongLines ? ", has long lines" : "")\n"
                if let r = env.ret { out += "ret: \(r)\n" }
                if let v = env.envid { out += "envid: \(v)\n" }
                out += "attempts: \(state.attempts)\n"
                for (i, r) in env.recipients.enumerated() {
                    var line = "recipient: <\(r.address)>"
                    if let o = r.original { line += " orcpt=<\(o)>" }
                    if let n = r.notify { line += " notify=\(n)" }
                    if let s = state.recipients[i] { line += " status=\(s.status.rawValue) dsn=\(s.dsn) (\(s.reason))" }
                    if state.bouncePending.contains(i) { line += " bounce=pending" }
                    out += line + "\n"
                }
                out += "\n"
                Stdout.write(out)
                try copyMessage(rt.spool.openMessage(id), from: offset)
            } catch { throw fail(error) }
        }

        func copyMessage(_ fd: Int32, from offset: Int) throws {
            defer { close(fd) }
            lseek(fd, off_t(offset), SEEK_SET)
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                var off = 0
                while off < n {
                    let w = buf.withUnsafeBytes { write(1, $0.baseAddress! + off, n - off) }
                    if w <= 0 { return }
                    off += w
                }
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete queued messages (no bounce is sent).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "Queue ids.") var ids: [String]

        func run() throws {
            let rt = try options.runtime()
            var status: Int32 = 0
            for id in ids {
                do {
                    guard let lock = try rt.spool.lock(id) else {
                        throw QueueError(.locked, "\(id): being delivered now; try again")
                    }
                    try rt.spool.remove(id)
                    lock.unlock()
                    rt.log.info("\(id): removed by sealctl (uid \(getuid()))")
                    Stdout.write("\(id): deleted\n")
                } catch {
                    Stderr.write("sealctl: \(error)\n")
                    status = ExitCodes.code(for: error).rawValue
                }
            }
            if status != 0 { throw ExitWithCode(code: status) }
        }
    }

    struct Flush: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Try to deliver every queued message now, whatever its retry time.")
        @OptionGroup var options: ConfigOption
        @Flag(name: .shortAndLong, help: "Print the SMTP dialogue (AUTH data redacted).") var verbose = false

        func run() throws { try runQueue(options, force: true, verbose: verbose) }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deliver the messages whose retry time has come (what the queue timer runs).")
        @OptionGroup var options: ConfigOption
        @Flag(name: .shortAndLong, help: "Print the SMTP dialogue (AUTH data redacted).") var verbose = false

        func run() throws { try runQueue(options, force: false, verbose: verbose) }
    }
}

func runQueue(_ options: ConfigOption, force: Bool, verbose: Bool) throws {
    let rt = try options.runtime()
    var o = QueueRunOptions()
    o.force = force
    o.trace = verbose
    o.connections = rt.config.maxConnections
    do {
        let runner = QueueRunner(runtime: rt, options: o)
        try runner.run()
        let s = runner.summary
        Stdout.write("\(s.messages) message(s): \(s.sent) recipient(s) sent, \(s.deferred) deferred, \(s.failed) failed\n")
        if let reason = runner.stopReason {
            Stderr.write("sealctl: queue run stopped: \(reason)\n")
            throw ExitWithCode(code: SendmailKit.ExitCode.tempFail.rawValue)
        }
    } catch { throw fail(error) }
}
