// The library's Mailer under load, for compat/bench/mailer.sh (issue 13): COUNT sends of a
// plain SIZE-byte message over CONNECTIONS pooled connections to HOST:PORT (smtp-sink), as an
// application would send them (concurrent sends, twice as many as connections, each awaiting
// its report). Prints one line: "<count> <seconds> <accepted>". Not a test; not installed.
//
// Usage: MailerBench HOST PORT [COUNT=10000] [SIZE=2048] [CONNECTIONS=8]
#if canImport(Glibc)
import Glibc
#endif
import Sealmail

let args = CommandLine.arguments
guard args.count >= 3, let port = UInt16(args[2]) else {
    fputs("usage: MailerBench HOST PORT [COUNT] [SIZE] [CONNECTIONS]\n", stderr)
    exit(64)
}
let count = args.count > 3 ? Int(args[3]) ?? 10000 : 10000
let size = args.count > 4 ? Int(args[4]) ?? 2048 : 2048
let connections = args.count > 5 ? Int(args[5]) ?? 8 : 8

var mail = Mail(from: "Bench <sender@example.com>", subject: "mailer benchmark")
mail.to = ["rcpt@example.com"]
var text = ""
var line = 0
while text.utf8.count < size {
    text += "line \(line) of a message body of plain ASCII text, sent by the library's Mailer.\n"
    line += 1
}
mail.text = String(text.utf8.prefix(size - 1))! + "\n"

let relay = SMTPRelay(host: args[1], port: port, tls: .none, heloName: "client.example.com")
let mailer = Mailer(relay: relay, maxConnections: connections)

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

let start = now()
let accepted = await withTaskGroup(of: Int.self) { group in
    var next = 0
    var accepted = 0
    func sendOne() async -> Int {
        do {
            let report = try await mailer.send(mail)
            return report.recipients.allSatisfy { $0.status == .accepted } ? 1 : 0
        } catch {
            fputs("send failed: \(error)\n", stderr)
            return 0
        }
    }
    while next < min(count, 2 * connections) {
        group.addTask { await sendOne() }
        next += 1
    }
    while let one = await group.next() {
        accepted += one
        if next < count {
            group.addTask { await sendOne() }
            next += 1
        }
    }
    return accepted
}
let seconds = now() - start
await mailer.close()
print(count, String(seconds), accepted)
