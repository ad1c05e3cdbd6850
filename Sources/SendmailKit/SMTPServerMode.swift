#if canImport(Glibc)
import Glibc
#endif
import MailMessage
import MailQueue

/// `-bs`: SMTP (RFC 5321, the server side, enough of it for mail clients that submit this
/// way) on stdin and stdout. Each message goes through the same submission pipeline as
/// sendmail's stdin (header completion, policy, queue), then is delivered per the delivery
/// mode once the session ends.
struct SMTPServerMode {
    let rt: Runtime
    let options: SendmailOptions
    private var input = LineReader(fd: 0)

    init(runtime: Runtime, options: SendmailOptions) { rt = runtime; self.options = options }

    mutating func run() throws -> Int32 {
        reply("220 \(rt.hostname) ESMTP sealmail")
        var sender: String?
        var recipients: [String] = []
        var queued: [String] = []
        while let raw = input.readLine(limit: 4096) {
            let line = String(decoding: raw, as: UTF8.self)
            let verb = line.split(separator: " ", maxSplits: 1).first.map { $0.uppercased() } ?? ""
            let arg = line.count > verb.count ? String(line.dropFirst(verb.count + 1)) : ""
            switch verb {
            case "EHLO":
                reply("250-\(rt.hostname)\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 SIZE")
            case "HELO":
                reply("250 \(rt.hostname)")
            case "MAIL":
                guard let path = Self.path(arg, keyword: "FROM:") else { reply("501 5.5.4 Syntax: MAIL FROM:<address>"); continue }
                guard sender == nil else { reply("503 5.5.1 Error: nested MAIL command"); continue }
                sender = path
                reply("250 2.1.0 Ok")
            case "RCPT":
                guard sender != nil else { reply("503 5.5.1 Error: need MAIL command"); continue }
                guard let path = Self.path(arg, keyword: "TO:"), !path.isEmpty, !path.hasPrefix("-") else {
                    reply("501 5.5.4 Syntax: RCPT TO:<address>"); continue
                }
                recipients.append(path)
                reply("250 2.1.5 Ok")
            case "DATA":
                guard sender != nil, !recipients.isEmpty else { reply("503 5.5.1 Error: need RCPT command"); continue }
                reply("354 End data with <CR><LF>.<CR><LF>")
                reply(receive(sender: sender!, recipients: recipients, queued: &queued))
                sender = nil
                recipients = []
            case "RSET":
                sender = nil; recipients = []
                reply("250 2.0.0 Ok")
            case "NOOP":
                reply("250 2.0.0 Ok")
            case "VRFY":
                reply("252 2.0.0 Send some mail, I'll try my best")
            case "QUIT":
                reply("221 2.0.0 Bye")
                finish(queued)
                return 0
            default:
                reply("502 5.5.2 Error: command not recognized")
            }
        }
        finish(queued)
        return 0
    }

    /// Reads DATA (dot-unstuffed) into an anonymous file and submits it.
    private mutating func receive(sender: String, recipients: [String], queued: inout [String]) -> String {
        try? rt.spool.prepare()
        let fd = (try? rt.spool.scratchFile("bs-\(getpid())-\(queued.count)")) ?? -1
        defer { if fd >= 0 { close(fd) } }
        var ok = fd >= 0
        while let raw = input.readLine(limit: 1 << 20) {
            if raw == [46] { break }
            var line = raw
            if line.first == 46 { line.removeFirst() }
            line.append(contentsOf: [13, 10])
            if ok { ok = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == line.count }
        }
        guard ok else { return "451 4.3.0 Error: cannot write the message" }
        lseek(fd, 0, SEEK_SET)
        var o = options
        o.mode = .deliver
        o.extractRecipients = false
        o.ignoreDots = true
        o.sender = sender
        o.recipients = recipients
        do {
            let outcome = try Submission.submit(o, runtime: rt, inputFD: fd)
            queued += outcome.ids
            return "250 2.0.0 Ok: queued as \(outcome.envelope.id)"
        } catch {
            let code = ExitCodes.code(for: error)
            let text = "\(error)".split(separator: "\n").first.map(String.init) ?? "error"
            switch code {
            case .tempFail, .ioErr, .cantCreate: return "451 4.3.0 \(text)"
            default: return "554 5.7.0 \(text)"
            }
        }
    }

    private func finish(_ queued: [String]) {
        let mode = options.deliveryMode.map { $0 == .queue ? "queue" : "now" } ?? (rt.config.delivery == .queue ? "queue" : "now")
        guard mode == "now", !queued.isEmpty else { return }
        let rt = self.rt
        Delivery.detach { Delivery.deliverNow(queued, rt, trace: false, report: false) }
    }

    private func reply(_ s: String) {
        Stdout.write(s + "\r\n")
    }

    /// `FROM:<a@b> PARAMS` -> `a@b` ("" for `<>`).
    static func path(_ arg: String, keyword: String) -> String? {
        guard arg.uppercased().hasPrefix(keyword) else { return nil }
        let rest = arg.dropFirst(keyword.count).trimmingBlanks()
        guard rest.hasPrefix("<"), let close = rest.firstIndex(of: ">") else { return nil }
        return String(rest[rest.index(after: rest.startIndex)..<close])
    }
}

/// Lines from a file descriptor, CRLF or LF, bounded.
struct LineReader {
    let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false
    init(fd: Int32) { self.fd = fd }

    mutating func readLine(limit: Int) -> [UInt8]? {
        while true {
            if let nl = buffer[start...].firstIndex(of: 10) {
                var end = nl
                if end > start, buffer[end - 1] == 13 { end -= 1 }
                let line = Array(buffer[start..<end])
                start = nl + 1
                if start > 65536 { buffer.removeSubrange(0..<start); start = 0 }
                return line
            }
            if eof || buffer.count - start > limit {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                buffer.removeAll(); start = 0
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { eof = true; continue }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }
}
