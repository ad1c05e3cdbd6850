import SMTPProtocol

extension QueuedEnvelope {
    /// The SMTP envelope for delivering `recipients` (indexes) of this message: MAIL FROM
    /// (`<>` for the null sender), RCPT with NOTIFY and ORCPT as queued, RET and ENVID, the
    /// body type and the flags the transport acts on (SMTPUTF8, long lines, NUL).
    public func smtpEnvelope(recipients indexes: [Int]) -> SMTPEnvelope {
        SMTPEnvelope(
            sender: sender.isEmpty ? nil : sender,
            recipients: indexes.map { i in
                let r = recipients[i]
                return SMTPRecipient(r.address, notify: r.notify.map(Self.notify), originalRecipient: r.original)
            },
            ret: ret.flatMap(DSNReturn.init(rawValue:)), envelopeID: envid,
            body: bodyType == .sevenBit ? .sevenBit : .eightBitMIME,
            requiresSMTPUTF8: smtputf8, prefersSMTPUTF8: eightBitHeader,
            hasLongLines: hasLongLines, hasNUL: hasNUL, messageSize: Int(size))
    }

    /// The queue record's NOTIFY words (`success,failure`, `never`) as the DSN set.
    static func notify(_ value: String) -> DSNNotify {
        var n: DSNNotify = []
        let v = value.uppercased()
        if v.firstRange(of: "SUCCESS") != nil { n.insert(.success) }
        if v.firstRange(of: "FAILURE") != nil { n.insert(.failure) }
        if v.firstRange(of: "DELAY") != nil { n.insert(.delay) }
        return n
    }
}

extension RecipientOutcome {
    /// The outcomes of a transaction's recipients: `results[k]` belongs to `recipients[k]`
    /// (indexes into the envelope), the relay's reply kept verbatim (`relay` is
    /// `host[ip]:port`).
    public static func outcomes(for recipients: [Int], results: [SMTPRecipientResult], relay: String) -> [Int: RecipientOutcome] {
        var out: [Int: RecipientOutcome] = [:]
        for (k, i) in recipients.enumerated() where k < results.count {
            let o = results[k].outcome
            let kind: Kind
            switch o.kind {
            case .accepted: kind = .sent
            case .transient: kind = .deferred
            case .permanent: kind = .failed
            }
            out[i] = RecipientOutcome(kind, dsn: o.enhancedStatus.description, reason: o.diagnostic,
                                      relay: relay, fromReply: kind != .sent)
        }
        return out
    }
}
