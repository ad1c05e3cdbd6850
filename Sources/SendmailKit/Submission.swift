#if canImport(Glibc)
import Glibc
#endif
import MailMessage
import MailQueue

/// The submission pipeline (DESIGN.md "The path of a message"): argv and stdin to a
/// committed queue file. Its contract is Postfix sendmail's: once it has returned, the
/// message cannot be lost; when it throws, nothing was queued and the caller is told.
public enum Submission {
    /// What a submission produced.
    public struct Outcome {
        public var envelope: QueuedEnvelope
        public var warnings: [String]
    }

    public static func submit(_ options: SendmailOptions, runtime rt: Runtime, inputFD: Int32 = 0) throws -> Outcome {
        // Usage problems are found before the input is read, so the caller keeps the message.
        if !options.extractRecipients && options.recipients.isEmpty {
            throw SubmissionError(.usage, "no recipients: give addresses as arguments or use -t")
        }
        let clock = Clock.now()
        let id = QueueID.make(microseconds: clock.microseconds, random: UInt64.random(in: 0...UInt64.max))
        let name: String? = {
            if let n = getenv("NAME"), n.pointee != 0 { return String(cString: n) }
            return rt.identity.gecosName
        }()
        let context = SubmissionContext(qualifier: rt.qualifier, hostname: rt.hostname, user: rt.identity.user,
                                        uid: rt.identity.uid, fullName: name, epochSeconds: clock.epochSeconds,
                                        utcOffset: clock.utcOffset, queueID: id)
        let sender = try SubmissionRules.envelopeSender(options.sender, context: context)
        let notify = options.notify.map(notifyValue)
        _ = try SubmissionRules.recipients(argv: options.recipients, header: nil, extract: false,
                                           notify: notify, qualifier: rt.qualifier)
        try rt.spool.prepare()

        let input = MessageInput(fd: inputFD, ignoreDots: options.ignoreDots)
        try input.readHeader()
        let parsed = input.header.block
        let (recipients, warnings) = try SubmissionRules.recipients(
            argv: options.recipients, header: parsed, extract: options.extractRecipients,
            notify: notify, qualifier: rt.qualifier)
        guard !recipients.isEmpty else {
            throw SubmissionError(.usage, "no recipients: -t found no addresses in "
                                  + (parsed.containsPrefix("Resent-") ? "Resent-To, Resent-Cc or Resent-Bcc" : "To, Cc or Bcc"))
        }
        let header = SubmissionRules.finalHeader(parsed, sender: sender, fullNameOption: options.fullName, context: context)

        var envelope = QueuedEnvelope(id: id, arrivalMicros: clock.microseconds, sender: sender,
                                      recipients: recipients, uid: rt.identity.uid, user: rt.identity.user)
        envelope.ret = options.ret
        envelope.envid = options.envid
        envelope.messageID = header.first("Message-ID")?.value
        envelope.smtputf8 = ([sender] + recipients.map(\.address)).contains { $0.utf8.contains { $0 >= 128 } }

        let writer = try QueueWriter(spool: rt.spool, envelope: envelope)
        SignalCleanup.arm(writer.temporaryPath)
        defer { SignalCleanup.disarm() }
        do {
            try writer.append(header.wireBytes)
            try writer.append([13, 10])
            while let chunk = try input.nextBodyChunk() {
                try writer.append(chunk)
            }
            let headerEightBit = input.header.defects.contains { if case .eightBitHeader = $0 { return true } else { return false } }
            let headerNUL = input.header.defects.contains { if case .nulByte = $0 { return true } else { return false } }
            let headerLong = header.fields.contains { HeaderFolding.longestLine(of: $0) > 998 }
            envelope = try writer.commit { e in
                let stats = input.stats
                e.hasNUL = stats.nul || headerNUL
                e.hasLongLines = stats.longLines || headerLong
                let eightBit = stats.eightBit || headerEightBit || options.bodyType == "8BITMIME"
                e.bodyType = eightBit ? .eightBitMIME : .sevenBit
            }
        } catch {
            writer.abort()
            throw error
        }
        var notes = warnings
        if input.stats.strayCR { notes.append("bare CR characters in the message were replaced by spaces") }
        if envelope.hasNUL { notes.append("the message contains NUL bytes") }
        if envelope.hasLongLines { notes.append("the message has lines longer than 998 octets") }
        log(envelope, runtime: rt)
        return Outcome(envelope: envelope, warnings: notes)
    }

    static func notifyValue(_ n: SendmailOptions.Notify) -> String {
        switch n {
        case .never: return "NEVER"
        case .on(let s, let d, let f):
            return [s ? "SUCCESS" : nil, d ? "DELAY" : nil, f ? "FAILURE" : nil].compactMap { $0 }.joined(separator: ",")
        }
    }

    /// Postfix's pickup and qmgr lines: `uid=… from=<…>`, `message-id=<…>`,
    /// `from=<…>, size=…, nrcpt=… (queue active)`.
    static func log(_ e: QueuedEnvelope, runtime rt: Runtime) {
        rt.log.info("\(e.id): uid=\(e.uid) from=<\(e.sender)>")
        if let m = e.messageID { rt.log.info("\(e.id): message-id=\(m)") }
        rt.log.info("\(e.id): from=<\(e.sender)>, size=\(e.size), nrcpt=\(e.recipients.count) (queue active)")
    }
}
