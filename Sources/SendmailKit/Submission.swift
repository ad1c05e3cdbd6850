#if canImport(Glibc)
import Glibc
#endif
import MailMessage
import MailPolicy
import MailQueue
import SMIME

/// The submission pipeline (DESIGN.md "The path of a message"): argv and stdin to a
/// committed queue file. Its contract is Postfix sendmail's: once it has returned, the
/// message cannot be lost; when it throws, nothing was queued and the caller is told.
public enum Submission {
    /// What a submission produced.
    public struct Outcome {
        /// The first (often the only) queue file.
        public var envelope: QueuedEnvelope { copies[0] }
        /// Every queue file committed: one per copy the S/MIME policy planned (never empty).
        /// Delivering the message means delivering all of them.
        public var copies: [QueuedEnvelope]
        public var warnings: [String]
        /// What in To, Cc or Bcc (with -t) names no one the message goes to: said on standard
        /// error whatever -v says.
        public var skipped: [String] = []
        /// The queue ids of every copy.
        public var ids: [String] { copies.map(\.id) }
    }

    /// Submits what sendmail's command line asks for, reading the message from `inputFD`.
    public static func submit(_ options: SendmailOptions, runtime rt: Runtime, inputFD: Int32 = 0) throws -> Outcome {
        try submit(SubmissionRequest(options), runtime: rt, inputFD: inputFD)
    }

    /// Submits one message read from `inputFD` (any line ends; a lone `.` ends it unless
    /// `request.ignoreDots`). Clock, identity, config and queue come from `rt`.
    public static func submit(_ options: SubmissionRequest, runtime rt: Runtime, inputFD: Int32 = 0) throws -> Outcome {
        // Before anything is read: a signal from now on exits 75 (nothing queued) or, once
        // the message is committed, 0; never kills the submission outright.
        SignalCleanup.arm()
        defer { SignalCleanup.disarm() }
        // Usage problems are found before the input is read, so the caller keeps the message.
        if !options.extractRecipients && options.recipients.isEmpty {
            throw SubmissionError(.usage, "no recipients: give addresses as arguments or use -t")
        }
        let clock = rt.clock()
        let id = QueueID.make(microseconds: clock.microseconds, random: rt.random())
        let name = options.defaultName ?? rt.identity.gecosName
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
        if let f = HeaderFolding.fieldNameTooLong(in: parsed) {
            throw SubmissionError(.data, "a header field name is \(f.name.utf8.count) octets long (\"\(f.name.prefix(24))...\"); "
                                  + "at most \(HeaderFolding.maxFieldNameOctets) fit on a line with its colon (RFC 5322 2.1.1)")
        }
        let resolver = try LocalResolver.make(rt, noAliases: options.noAliases)
        let (recipients, warnings, skipped) = try SubmissionRules.recipients(
            argv: options.recipients, header: parsed, extract: options.extractRecipients,
            notify: notify, qualifier: rt.qualifier, resolve: resolver.resolve)
        guard !recipients.isEmpty else {
            throw SubmissionError(.usage, "no recipients: -t found no addresses in "
                                  + (parsed.containsPrefix("Resent-") ? "Resent-To, Resent-Cc or Resent-Bcc" : "To, Cc or Bcc")
                                  + skipped.map { "\n" + $0 }.joined())
        }
        var header = SubmissionRules.finalHeader(parsed, sender: sender, fullNameOption: options.fullName, context: context)

        var envelope = QueuedEnvelope(id: id, arrivalMicros: clock.microseconds, sender: sender,
                                      recipients: recipients, uid: rt.identity.uid, user: rt.identity.user)
        envelope.ret = options.ret
        envelope.envid = options.envid
        envelope.messageID = header.first("Message-ID")?.value
        envelope.smtputf8 = ([sender] + recipients.map(\.address)).contains { $0.utf8.contains { $0 >= 128 } }

        // The policy is decided before anything is queued: a refusal reaches the caller.
        var copies: [PlannedCopy]?
        if Policy.isActive(rt.config) || rt.config.senders != nil {
            var app = PolicyApplication(runtime: rt)
            let input = policyInput(header, sender: sender, recipients: recipients, runtime: rt)
            copies = try app.decide(input)
            // Decided to encrypt for everyone: the tag has done its work and is not sent.
            if let tag = rt.config.smime.secureTag, Policy.secureTagged(rt.config, subject: input.subject) {
                header = SubjectTag.removing(tag, from: header)
            }
        }
        let transform = copies.map { c in c.contains { $0.signRule != nil || !$0.encryptTo.isEmpty } || c.count > 1 } ?? false

        let committed: [QueuedEnvelope]
        if transform, let copies {
            committed = try writeCopies(copies, envelope: envelope, header: header, input: input, options: options, runtime: rt)
        } else {
            committed = [try writeSingle(envelope, header: header, input: input, options: options, runtime: rt)]
        }
        envelope = committed[0]
        var notes = warnings
        if input.stats.strayCR { notes.append("bare CR characters in the message were replaced by spaces") }
        if envelope.hasNUL { notes.append("the message contains NUL bytes") }
        if envelope.hasLongLines { notes.append("the message has lines longer than 998 octets") }
        if !transform { log(envelope, runtime: rt) }
        return Outcome(copies: committed, warnings: notes, skipped: skipped)
    }

    /// The usual path: one queue file, the body streamed straight into it.
    static func writeSingle(_ envelope: QueuedEnvelope, header: HeaderBlock, input: MessageInput,
                            options: SubmissionRequest, runtime rt: Runtime) throws -> QueuedEnvelope {
        SignalCleanup.track(QueueWriter.temporaryPath(of: envelope.id, in: rt.spool))
        let writer = try QueueWriter(spool: rt.spool, envelope: envelope)
        do {
            try writer.append(header.wireBytes)
            try writer.append([13, 10])
            while try input.nextBodyChunk({ try writer.append($0) }) {}
            try QueueWriter.complete([writer]) { _, e in summarize(&e, input: input, header: header, options: options) }
            return try SignalCleanup.whileBlocked {
                let committed = try QueueWriter.link([writer])[0]
                SignalCleanup.markCommitted()
                return committed
            }
        } catch {
            writer.abort()
            throw error
        }
    }

    /// The S/MIME path. A single copy that is only signed is signed as the message arrives,
    /// its queue file written in one pass (`writeSignedOnArrival`). Otherwise the canonical
    /// message goes to an anonymous file in tmp/ (`CanonicalCopy`), then each planned copy is
    /// produced from it (signed and/or encrypted) into its own queue file. All copies are
    /// committed as one group at the end (`commitGroup`): a failure anywhere, the last link
    /// included, queues none. Returns the committed envelopes, in the order of `copies`.
    static func writeCopies(_ copies: [PlannedCopy], envelope: QueuedEnvelope, header: HeaderBlock, input: MessageInput,
                            options: SubmissionRequest, runtime rt: Runtime) throws -> [QueuedEnvelope] {
        var app = PolicyApplication(runtime: rt)
        // One copy is signed as the message arrives: written in one pass when it is signed
        // only, signed while its canonical copy is written when it is encrypted too. Any
        // problem with the key or a certificate is left to the path below, which reports it
        // as it always has: after the whole input was read (a caller writing a large message
        // to a pipe is not cut off with SIGPIPE).
        var first: Protection?
        var signer: ArrivalSigner?
        if copies.count == 1, let protection = try? app.protection(for: copies[0]) {
            first = protection  // looked up once (keys, certificates), also when not signed here
            if let arrival = try? ArrivalSigner(protection, fields: header.fields) {
                if !arrival.encrypts {
                    return try writeSignedOnArrival(arrival, protection, copies[0], envelope: envelope, header: header,
                                                    input: input, options: options, runtime: rt)
                }
                signer = arrival
            }
        }
        let canonical = try CanonicalCopy(envelope.id, header: header, input: input, runtime: rt, signer: signer)
        var writers: [QueueWriter] = []
        defer { for w in writers { w.abort() } }
        for (n, copy) in copies.enumerated() {
            var e = envelope
            if n > 0 {
                e.id = QueueID.make(microseconds: rt.clock().microseconds, random: rt.random())
            }
            // By bytes, as the recipients were told apart (SubmissionRules.recipients): a Set
            // of Strings would put a canonically equivalent twin into this copy too.
            let wanted = Set(copy.recipients.map { Array($0.utf8) })
            e.recipients = envelope.recipients.filter { wanted.contains(Array($0.address.utf8)) }
            SignalCleanup.track(QueueWriter.temporaryPath(of: e.id, in: rt.spool))
            let writer = try QueueWriter(spool: rt.spool, envelope: e)
            writers.append(writer)
            let protection = n == 0 && first != nil ? first : try app.protection(for: copy)
            try protect(copy, with: protection, from: canonical, into: writer, runtime: rt)
        }
        let committed = try commitGroup(writers, copies, header: header, input: input, options: options, runtime: rt)
        writers.removeAll()
        return committed
    }

    /// Writes one planned copy into `writer`: signed and/or encrypted from the canonical copy
    /// when `protection` says so, else the canonical copy as it is.
    static func protect(_ copy: PlannedCopy, with protection: Protection?, from canonical: CanonicalCopy,
                        into writer: QueueWriter, runtime rt: Runtime) throws {
        if let protection {
            try writer.appendDirectly { out in
                do {
                    try MessageProtector(protection).protect(messageFD: canonical.fd, to: out, writebackStep: EarlyWriteback.step,
                                                             knownBody: canonical.knownBody, presignature: canonical.presignature)
                } catch {
                    throw ProtectionError(describe(copy), cause: error)
                }
            }
        } else {
            let target = writer.temporaryPath
            try writer.appendDirectly { out in try copyFile(canonical.fd, to: out, path: target) }
        }
    }

    /// Completes the queue files of one submission's copies and links them into the queue as
    /// one group (`QueueWriter.complete`, then `link` with the signals held back).
    static func commitGroup(_ writers: [QueueWriter], _ copies: [PlannedCopy], header: HeaderBlock, input: MessageInput,
                            options: SubmissionRequest, runtime rt: Runtime) throws -> [QueuedEnvelope] {
        try QueueWriter.complete(writers) { n, e in
            summarize(&e, input: input, header: header, options: options)
            let protected = copies[n].signRule != nil || !copies[n].encryptTo.isEmpty
            if protected { e.bodyType = .sevenBit; e.hasLongLines = false; e.hasNUL = false }
        }
        let committed = try SignalCleanup.whileBlocked {
            let group = try QueueWriter.link(writers)
            SignalCleanup.markCommitted()
            return group
        }
        for e in committed { log(e, runtime: rt) }
        return committed
    }

    /// "signed and encrypted copy for <a@example.com>", naming the copy in an error.
    static func describe(_ copy: PlannedCopy) -> String {
        let how = [copy.signRule != nil ? "signed" : nil, copy.encryptTo.isEmpty ? nil : "encrypted"]
        return how.compactMap { $0 }.joined(separator: " and ") + " copy for "
            + copy.recipients.map { "<\($0)>" }.joined(separator: ", ")
    }

    /// Copies the file at `from`, from `start` to `end` (its end when nil), to the end of the
    /// file `to` (at `path`).
    static func copyFile(_ from: Int32, to: Int32, path: String, start: Int = 0, end: Int? = nil) throws {
        var buf = [UInt8](repeating: 0, count: 256 * 1024)
        var offset = off_t(start)
        while end.map({ offset < off_t($0) }) ?? true {
            let want = min(buf.count, end.map { $0 - Int(offset) } ?? buf.count)
            let n = buf.withUnsafeMutableBytes { pread(from, $0.baseAddress, want, offset) }
            if n < 0 { if errno == EINTR { continue }; throw QueueError(.io, "cannot read the message: \(String(cString: strerror(errno)))") }
            if n == 0 {
                if end == nil { return }
                throw QueueError(.io, "cannot read the message: the file shrank")
            }
            try buf.withUnsafeBytes { try writeAll(to, UnsafeRawBufferPointer(rebasing: $0[0..<n]), path: path) }
            offset += off_t(n)
        }
    }

    /// Body type and flags from what the input held.
    static func summarize(_ e: inout QueuedEnvelope, input: MessageInput, header: HeaderBlock, options: SubmissionRequest) {
        let defects = input.header.defects
        let headerEightBit = defects.contains { if case .eightBitHeader = $0 { return true } else { return false } }
        let headerNUL = header.fields.contains { $0.rawValue.contains(0) }  // NULs are cut from fields: none left
        // Header lines are broken at submission (finalHeader): only the body should be left.
        let headerLong = header.fields.contains { HeaderFolding.longestLine(of: $0) > LineLimit.maxOctets }
        let stats = input.stats
        e.hasNUL = stats.nul || headerNUL
        e.hasLongLines = stats.longLines || headerLong
        // Also the field names (RFC 6532 3.2 allows UTF-8 in values only, but a relay that
        // takes SMTPUTF8 is still the best home for such a header).
        e.eightBitHeader = header.fields.contains { f in f.rawValue.contains { $0 >= 0x80 } || f.name.utf8.contains { $0 >= 0x80 } }
        let eightBit = stats.eightBit || headerEightBit || options.bodyType == "8BITMIME"
        e.bodyType = eightBit ? .eightBitMIME : .sevenBit
    }

    /// What the policy needs: the From address, and which recipients are not in To/Cc.
    static func policyInput(_ header: HeaderBlock, sender: String, recipients: [QueuedRecipient], runtime rt: Runtime) -> PolicyInput {
        let resent = header.containsPrefix("Resent-")
        let visibleFields = resent ? ["Resent-To", "Resent-Cc"] : ["To", "Cc"]
        var visible = ByteStringSet()
        for f in header.fields where visibleFields.contains(where: { f.is($0) }) {
            for m in AddressParser.parseList(f.unfoldedValue).mailboxes {
                visible.insert(Array(SubmissionRules.canonicalKey(rt.qualifier.qualify(m)).utf8))
            }
        }
        let fromField = header.first(resent ? "Resent-From" : "From")
        let from = fromField.flatMap { AddressParser.parseList($0.unfoldedValue).mailboxes.first }.map(rt.qualifier.qualify)
        return PolicyInput(from: from, sender: sender,
                           recipients: recipients.map { PolicyRecipient($0.address, hidden: !visible.contains(Array(SubmissionRules.canonicalKey($0.address).utf8))) },
                           user: rt.identity.user, groups: PolicyApplication.groups(of: rt.identity.user),
                           subject: SubjectTag.subject(of: header))
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
