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
        while let (raw, ending) = input.next(limit: 4096) {
            if ending == .partial {
                // A command line over the limit (RFC 5321 4.5.3.1.4: 512 octets): its rest
                // is skipped, not taken for further commands.
                while let (_, e) = input.next(limit: 4096), e == .partial {}
                reply("500 5.5.2 Error: line too long")
                continue
            }
            // The verb and its argument split at the first space byte, the verb's ASCII case
            // folded (Characters and Unicode case mapping would merge a space with a combining
            // mark after it, and take `maıl` for MAIL).
            let bytes = Array(raw)
            let space = bytes.firstIndex(of: 32) ?? bytes.count
            let verb = String(decoding: bytes[..<space].map(TextLines.asciiUppercased), as: UTF8.self)
            let arg = space < bytes.count ? String(decoding: bytes[(space + 1)...], as: UTF8.self) : ""
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
                guard let path = Self.path(arg, keyword: "TO:"), !path.isEmpty, !SubmissionRules.startsWithDash(path) else {
                    reply("501 5.5.4 Syntax: RCPT TO:<address>"); continue
                }
                recipients.append(path)
                reply("250 2.1.5 Ok")
            case "DATA":
                guard sender != nil, !recipients.isEmpty else { reply("503 5.5.1 Error: need RCPT command"); continue }
                reply("354 End data with <CR><LF>.<CR><LF>")
                guard let answer = receive(sender: sender!, recipients: recipients, queued: &queued) else {
                    finish(queued)  // the input ended inside DATA: that message is not queued
                    return 0
                }
                reply(answer)
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

    /// Reads DATA into an anonymous file and submits it; returns the reply, or nil when the
    /// input ended before the end of the data (nothing is queued then).
    ///
    /// Only CRLF "." CRLF ends the data (RFC 5321 4.1.1.4): a "." line reached or left by a
    /// bare LF is content, so `\n.\n`, `\n.\r\n` and `\r\n.\n` cannot end one message and
    /// smuggle the next (the 2023 SMTP smuggling attacks). Bare LFs end content lines and
    /// stray CRs become spaces, as on the submission path (the file is read by `MessageInput`).
    private mutating func receive(sender: String, recipients: [String], queued: inout [String]) -> String? {
        let path = rt.spool.tmpDir + "/bs-\(getpid())-\(queued.count)"
        try? rt.spool.prepare()
        var failure: Error?
        var fd: Int32 = -1
        do { fd = try rt.spool.scratchFile("bs-\(getpid())-\(queued.count)") } catch { failure = error }
        defer { if fd >= 0 { close(fd) } }
        var scanner = DataTerminator()
        var ended = false
        while let (raw, ending) = input.next(limit: 1 << 20) {
            switch scanner.take(raw, ending: ending) {
            case .end:
                ended = true
            case .content(let drop):
                if failure == nil {
                    var piece = Array(raw.dropFirst(drop))
                    if ending == .crlf || ending == .lf { piece += [13, 10] }
                    if let e = writeAll(fd, piece) { failure = QueueError.system("cannot write", path: path, errno: e) }
                }
            }
            if ended { break }
        }
        guard ended else { return nil }
        if let failure { return ExitCodes.smtpReply(for: ExitCodes.code(for: failure)) + " " + "\(failure)" }
        lseek(fd, 0, SEEK_SET)
        // The transaction's envelope, the data already framed (dot-unstuffed); the DSN and
        // body parameters of the command line still apply.
        var request = SubmissionRequest(options)
        request.sender = sender
        request.recipients = recipients
        request.extractRecipients = false
        request.ignoreDots = true
        do {
            let outcome = try Submission.submit(request, runtime: rt, inputFD: fd)
            queued += outcome.ids
            return "250 2.0.0 Ok: queued as \(outcome.envelope.id)"
        } catch {
            let text = TextLines.lines(of: "\(error)").first ?? "error"
            return ExitCodes.smtpReply(for: ExitCodes.code(for: error)) + " " + text
        }
    }

    private func finish(_ queued: [String]) {
        let mode = options.deliveryMode.map { $0 == .queue ? "queue" : "now" } ?? (rt.config.delivery == .queue ? "queue" : "now")
        guard mode == "now", !queued.isEmpty else { return }
        let rt = self.rt
        Delivery.detach(callerExits: false) { Delivery.deliverNow(queued, rt, trace: false, report: false) }
    }

    private func reply(_ s: String) {
        Stdout.write(s + "\r\n")
    }

    /// `FROM:<a@b> PARAMS` -> `a@b` ("" for `<>`), read as bytes: up to the first '>' byte.
    static func path(_ arg: String, keyword: String) -> String? {
        guard arg.hasASCIICaseInsensitivePrefix(keyword) else { return nil }
        let rest = TextLines.trimmed(Array(arg.utf8).dropFirst(keyword.utf8.count), TextLines.isBlank)
        guard rest.first == UInt8(ascii: "<"), let close = rest.firstIndex(of: UInt8(ascii: ">")) else { return nil }
        return String(decoding: rest[(rest.startIndex + 1)..<close], as: UTF8.self)
    }
}

/// Writes all of `bytes` to `fd`; the errno of a failure, nil on success.
private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
    var off = 0
    while off < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, bytes.count - off) }
        if n < 0 { if errno == EINTR { continue }; return errno }
        off += n
    }
    return nil
}
