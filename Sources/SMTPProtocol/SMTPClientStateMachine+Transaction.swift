/// One mail transaction (RFC 5321 3.3) with RFC 2920 pipelining.
struct TransactionState {
    enum Expect: Hashable {
        case rset
        case mail
        case rcpt(Int)
        case data
    }
    enum Stage: Hashable {
        /// Waiting for replies to commands in `pending`.
        case commands
        /// The body is being streamed; the next reply is the final one.
        case body
        /// 354 came although nothing can be delivered: "." was sent, waiting for its reply.
        case abortingData
    }
    var envelope: SMTPEnvelope
    var commands: [(Expect, SMTPOutput)]
    var next = 0
    var pending: [Expect] = []
    var stage = Stage.commands
    var pipelined: Bool
    var chunked: Bool
    var binary: Bool
    var mailReply: SMTPReply?
    var rcptOutcomes: [SMTPOutcome?]
}

extension SMTPClientStateMachine {
    /// Starts a mail transaction for `envelope` (ready state only). Local refusals come back
    /// at once as `.transactionComplete`: a message larger than the announced SIZE (RFC 1870
    /// 6.1, 5.3.4), NUL octets left in a 7bit or 8bit body (RFC 2045 2.7, 2.8, 5.6.5; the client
    /// encodes them first where it can), SMTPUTF8 needed (an internationalised address; preferred
    /// only, for UTF-8 header fields, it is not; or required for header fields that cannot be
    /// encoded, 5.6.9) but not offered (RFC 6531 3.3, 5.6.7), an 8-bit
    /// body the relay cannot take (RFC 6152 3: convert it to 7bit first) or a binary body without
    /// BINARYMIME and CHUNKING (RFC 3030 3, 5.6.3).
    public mutating func beginTransaction(_ envelope: SMTPEnvelope) -> SMTPClientAction {
        guard phase == .ready else { return invalidTransaction("beginTransaction outside the ready state") }
        guard !envelope.recipients.isEmpty else {
            return .transactionComplete(localResult(envelope, .permanent, EnhancedStatusCode(5, 5, 1), "no recipients"))
        }
        if let refusal = localRefusal(envelope) {
            return .transactionComplete(localResult(envelope, .permanent, refusal.0, refusal.1))
        }
        let caps = capabilities
        // Preferred only (UTF-8 header fields): asked for when offered, else sent without it.
        let smtpUTF8 = envelope.requestsSMTPUTF8(offered: caps.smtpUTF8)
        var mailParameters = MailParameters()
        mailParameters.size = caps.announcesSize ? envelope.messageSize : nil
        mailParameters.body = envelope.body
        mailParameters.smtpUTF8 = smtpUTF8
        if caps.dsn {
            mailParameters.ret = envelope.ret
            mailParameters.envelopeID = envelope.envelopeID
        }
        var commands: [(TransactionState.Expect, SMTPOutput)] = []
        do {
            if transactionsStarted > 0 { commands.append((.rset, Self.output(SMTPCommand.rset))) }
            commands.append((.mail, Self.output(try SMTPCommand.mail(from: envelope.sender, mailParameters))))
            for (index, recipient) in envelope.recipients.enumerated() {
                let parameters = caps.dsn
                    ? RecipientParameters(notify: recipient.notify, originalRecipient: recipient.originalRecipient)
                    : RecipientParameters()
                let bytes = try SMTPCommand.rcpt(to: recipient.address, parameters, smtpUTF8: smtpUTF8)
                commands.append((.rcpt(index), Self.output(bytes)))
            }
        } catch {
            return .transactionComplete(localResult(envelope, .permanent, EnhancedStatusCode(5, 5, 2), "\(error)"))
        }
        let binary = envelope.body == .binaryMIME
        let chunked = binary || (configuration.useChunking && caps.chunking)
        if !chunked { commands.append((.data, Self.output(SMTPCommand.data))) }
        transactionsStarted += 1
        phase = .transaction
        transaction = TransactionState(
            envelope: envelope, commands: commands,
            pipelined: configuration.usePipelining && caps.pipelining,
            chunked: chunked, binary: binary,
            rcptOutcomes: Array(repeating: nil, count: envelope.recipients.count))
        return sendNextCommands()
    }

    private func localRefusal(_ envelope: SMTPEnvelope) -> (EnhancedStatusCode, String)? {
        let caps = capabilities
        if let limit = caps.sizeLimit, let size = envelope.messageSize, size > limit {
            return (EnhancedStatusCode(5, 3, 4),
                    "message size \(size) exceeds the relay's limit of \(limit) bytes (SIZE)")
        }
        if envelope.hasNUL, envelope.body != .binaryMIME {
            return (EnhancedStatusCode(5, 6, 5),
                    "the message contains NUL octets that cannot be encoded (in a header field, in a part already "
                    + "quoted-printable or base64, or inside multipart/signed or multipart/encrypted); NUL may not "
                    + "be sent as 7bit or 8bit data (RFC 2045 2.7, 2.8)")
        }
        if envelope.needsSMTPUTF8, !caps.smtpUTF8 {
            let addresses = [envelope.sender ?? ""] + envelope.recipients.map(\.address)
            if addresses.contains(where: SMTPCommand.needsSMTPUTF8) || envelope.smtpUTF8Reason == nil {
                return (EnhancedStatusCode(5, 6, 7),
                        "the message needs SMTPUTF8 (internationalised address) and the relay does not support it")
            }
            // RFC 6531's X.6.9: a UTF-8 header message cannot be transferred.
            return (EnhancedStatusCode(5, 6, 9),
                    "the message needs SMTPUTF8 (\(envelope.smtpUTF8Reason ?? "")) and the relay does not support it")
        }
        switch envelope.body {
        case .sevenBit:
            return nil
        case .eightBitMIME:
            return caps.eightBitMIME ? nil : (EnhancedStatusCode(5, 6, 3),
                "8-bit message and the relay does not support 8BITMIME; it must be converted to 7bit first")
        case .binaryMIME:
            return caps.binaryMIME && caps.chunking ? nil : (EnhancedStatusCode(5, 6, 3),
                "binary message and the relay does not support BINARYMIME with CHUNKING")
        }
    }

    private mutating func sendNextCommands() -> SMTPClientAction {
        guard var tx = transaction else { return invalidTransaction("no transaction") }
        var bytes: [UInt8] = []
        var trace: [String] = []
        let end = groupEnd(tx)
        while tx.next < end {
            let (expect, output) = tx.commands[tx.next]
            bytes += output.bytes
            trace += output.trace
            tx.pending.append(expect)
            tx.next += 1
        }
        transaction = tx
        // RFC 2920 3.1: the first reply to wait for is that of the first command in the group.
        return .send(SMTPOutput(bytes: bytes, trace: trace), waitFor(tx.pending[0]))
    }

    /// Where the next group ends: one command without pipelining; with it, as many as fit the
    /// window (`SMTPPipeliningWindow`), at least one.
    private func groupEnd(_ tx: TransactionState) -> Int {
        let count = tx.commands.count
        guard tx.pipelined else { return min(tx.next + 1, count) }
        let window = configuration.pipeliningWindow
        var end = tx.next
        var octets = 0
        while end < count, end - tx.next < window.commands {
            let size = tx.commands[end].1.bytes.count
            if end > tx.next, octets + size > window.octets { break }
            octets += size
            end += 1
        }
        return end
    }

    mutating func receiveTransaction(_ reply: SMTPReply) -> SMTPClientAction {
        guard var tx = transaction else { return invalidTransaction("no transaction") }
        if reply.code == 421 { return closing(reply) }
        switch tx.stage {
        case .body, .abortingData:
            let aborted = tx.stage == .abortingData
            transaction = nil
            phase = .ready
            return .transactionComplete(finalResult(tx, dataReply: aborted ? nil : reply))
        case .commands:
            break
        }
        guard !tx.pending.isEmpty else { return fail(.unexpectedReply, reply, "reply without a command", transient: true) }
        let expect = tx.pending.removeFirst()
        switch expect {
        case .rset:
            guard reply.isPositive else {
                return fail(.unexpectedReply, reply, "RSET refused", transient: true)
            }
        case .mail:
            tx.mailReply = reply
        case .rcpt(let index):
            tx.rcptOutcomes[index] = SMTPOutcome(reply: reply)
        case .data:
            transaction = tx
            return receiveDataInitiation(reply)
        }
        transaction = tx
        if !tx.pending.isEmpty {
            return .read(waitFor(tx.pending[0]))
        }
        return afterGroup()
    }

    private func waitFor(_ expect: TransactionState.Expect) -> SMTPWait {
        switch expect {
        case .rset: return .command
        case .mail: return .mail
        case .rcpt: return .rcpt
        case .data: return .dataInitiation
        }
    }

    /// All replies so far are in (non-pipelined: the one command; pipelined: the group): the
    /// next command or group, unless MAIL was refused or DATA would follow with no recipient.
    private mutating func afterGroup() -> SMTPClientAction {
        guard var tx = transaction else { return invalidTransaction("no transaction") }
        let mailOK = tx.mailReply?.isPositive ?? true
        let anyAccepted = tx.rcptOutcomes.contains { $0?.kind == .accepted }
        if !mailOK {
            return finish(tx)
        }
        if tx.next < tx.commands.count {
            // Non-pipelined: DATA only when a recipient was accepted.
            if case .data = tx.commands[tx.next].0, !anyAccepted { return finish(tx) }
            return sendNextCommands()
        }
        // Group done without DATA: BDAT mode.
        guard anyAccepted else { return finish(tx) }
        tx.stage = .body
        transaction = tx
        return .sendBody(.chunked(binary: tx.binary))
    }

    private mutating func receiveDataInitiation(_ reply: SMTPReply) -> SMTPClientAction {
        guard var tx = transaction else { return invalidTransaction("no transaction") }
        let mailOK = tx.mailReply?.isPositive ?? false
        let anyAccepted = tx.rcptOutcomes.contains { $0?.kind == .accepted }
        if reply.code == 354 {
            if mailOK && anyAccepted {
                tx.stage = .body
                transaction = tx
                return .sendBody(.dotStuffed)
            }
            // RFC 2920 3.1: DATA was accepted with nothing to deliver; end it empty.
            tx.stage = .abortingData
            transaction = tx
            return .send(Self.output(Array(".\r\n".utf8)), .dataTermination)
        }
        transaction = tx
        if mailOK && anyAccepted {
            // DATA itself refused: it decides for the accepted recipients.
            transaction = nil
            phase = .ready
            return .transactionComplete(finalResult(tx, dataReply: reply))
        }
        return finish(tx)
    }

    /// Ends the transaction before any data was sent.
    private mutating func finish(_ tx: TransactionState) -> SMTPClientAction {
        transaction = nil
        phase = .ready
        return .transactionComplete(finalResult(tx, dataReply: nil))
    }

    private func finalResult(_ tx: TransactionState, dataReply: SMTPReply?) -> SMTPTransactionResult {
        var results: [SMTPRecipientResult] = []
        let mailRefused = tx.mailReply.flatMap { $0.isPositive ? nil : SMTPOutcome(reply: $0) }
        for (index, recipient) in tx.envelope.recipients.enumerated() {
            var outcome: SMTPOutcome
            if let refused = mailRefused {
                outcome = refused
            } else if let rcpt = tx.rcptOutcomes[index] {
                outcome = rcpt
                if rcpt.kind == .accepted {
                    if let data = dataReply {
                        outcome = SMTPOutcome(reply: data)
                    } else {
                        outcome = SMTPOutcome(kind: .transient, status: EnhancedStatusCode(4, 0, 0),
                                              reason: "transaction ended before the message data was sent")
                    }
                }
            } else {
                outcome = SMTPOutcome(kind: .transient, status: EnhancedStatusCode(4, 0, 0),
                                      reason: "no reply to RCPT")
            }
            results.append(SMTPRecipientResult(recipient: recipient, outcome: outcome))
        }
        return SMTPTransactionResult(recipients: results, message: Self.messageOutcome(results, dataReply: dataReply, mailRefused: mailRefused))
    }

    private static func messageOutcome(_ results: [SMTPRecipientResult], dataReply: SMTPReply?,
                                       mailRefused: SMTPOutcome?) -> SMTPOutcome {
        if let refused = mailRefused { return refused }
        if let data = dataReply, data.isPositive, results.contains(where: { $0.outcome.kind == .accepted }) {
            return SMTPOutcome(reply: data)
        }
        if let transient = results.first(where: { $0.outcome.kind == .transient }) { return transient.outcome }
        if let permanent = results.first(where: { $0.outcome.kind == .permanent }) { return permanent.outcome }
        return SMTPOutcome(kind: .transient, status: EnhancedStatusCode(4, 0, 0), reason: "no outcome")
    }

    private func localResult(_ envelope: SMTPEnvelope, _ kind: SMTPOutcomeKind,
                             _ status: EnhancedStatusCode, _ reason: String) -> SMTPTransactionResult {
        let outcome = SMTPOutcome(kind: kind, status: status, reason: reason)
        return SMTPTransactionResult(
            recipients: envelope.recipients.map { SMTPRecipientResult(recipient: $0, outcome: outcome) },
            message: outcome)
    }

    private func invalidTransaction(_ message: String) -> SMTPClientAction {
        .fail(SMTPSessionFailure(kind: .invalidState, reply: nil, message: message, isTransient: false))
    }
}
