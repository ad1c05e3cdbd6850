import MailMessage

/// Non-delivery reports (RFC 3464 delivery status notifications in an RFC 6522
/// multipart/report), sent with the null sender to the envelope sender, never for a message
/// whose own sender is null (RFC 5321 6.1, 4.5.5).
public enum Bounce {
    /// One recipient the report is about.
    public struct Failure: Sendable {
        public var recipient: QueuedRecipient
        /// RFC 3463 status, e.g. 5.1.1.
        public var status: String
        /// The remote reply or our reason (one line).
        public var diagnostic: String
        /// Remote MTA host name, when a relay answered.
        public var remoteMTA: String?
        /// `failed` or `delayed`.
        public var action: String
        public init(recipient: QueuedRecipient, status: String, diagnostic: String, remoteMTA: String?, action: String = "failed") {
            self.recipient = recipient; self.status = status; self.diagnostic = diagnostic
            self.remoteMTA = remoteMTA; self.action = action
        }
    }

    /// Messages up to this size are returned whole; larger ones only their header (Postfix's
    /// bounce_size_limit), and only the header when the sender asked RET=HDRS.
    public static let fullReturnLimit = 50_000

    /// Builds the report. `original` is the queued message (header and body, CRLF); only its
    /// header is used when it is large or RET=HDRS was asked.
    public static func report(for envelope: QueuedEnvelope, failures: [Failure], original: [UInt8], originalIsComplete: Bool,
                              reportingHost: String, postmasterDomain: String, epochSeconds: Int64, utcOffset: Int,
                              uniqueID: String) -> [UInt8] {
        let boundary = "\(uniqueID).\(epochSeconds)/\(reportingHost)"
        let date = MessageDate.format(epochSeconds: epochSeconds, utcOffset: utcOffset)
        var h = ""
        h += "From: MAILER-DAEMON@\(postmasterDomain) (Mail Delivery System)\r\n"
        h += "To: <\(envelope.sender)>\r\n"
        h += "Subject: Undelivered Mail Returned to Sender\r\n"
        h += "Date: \(date)\r\n"
        h += "Message-Id: \(MessageIdentifier.make(epochSeconds: epochSeconds, unique: uniqueID, host: reportingHost))\r\n"
        h += "Auto-Submitted: auto-replied\r\n"
        h += "MIME-Version: 1.0\r\n"
        h += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"\(boundary)\"\r\n"
        h += "\r\nThis is a MIME-encapsulated message.\r\n\r\n"

        h += "--\(boundary)\r\nContent-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        h += "This is the mail system at host \(reportingHost).\r\n\r\n"
        h += "I'm sorry to have to inform you that your message could not\r\n"
        h += "be delivered to one or more recipients. It's attached below.\r\n\r\n"
        for f in failures {
            h += clean("<\(f.recipient.address)>: " + (f.remoteMTA.map { "host \($0) said: " } ?? "") + f.diagnostic) + "\r\n"
        }
        h += "\r\n--\(boundary)\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n"
        h += "Reporting-MTA: dns; \(reportingHost)\r\n"
        h += "X-Sealmail-Queue-ID: \(envelope.id)\r\n"
        if let envid = envelope.envid { h += "Original-Envelope-Id: \(clean(envid))\r\n" }
        h += "Arrival-Date: \(MessageDate.format(epochSeconds: envelope.arrivalSeconds, utcOffset: utcOffset))\r\n"
        for f in failures {
            h += "\r\nFinal-Recipient: rfc822; \(clean(f.recipient.address))\r\n"
            if let o = f.recipient.original { h += "Original-Recipient: rfc822; \(clean(o))\r\n" }
            h += "Action: \(f.action)\r\n"
            h += "Status: \(clean(f.status))\r\n"
            if let r = f.remoteMTA { h += "Remote-MTA: dns; \(clean(r))\r\n" }
            h += "Diagnostic-Code: \(f.remoteMTA == nil ? "x-unix" : "smtp"); \(clean(f.diagnostic))\r\n"
        }
        let headersOnly = envelope.ret == "HDRS" || !originalIsComplete || original.count > fullReturnLimit
        h += "\r\n--\(boundary)\r\n"
        h += headersOnly ? "Content-Description: Undelivered Message Headers\r\nContent-Type: text/rfc822-headers\r\n\r\n"
                         : "Content-Description: Undelivered Message\r\nContent-Type: message/rfc822\r\n\r\n"
        var out = Array(h.utf8)
        if headersOnly {
            let (_, _, bodyOffset) = HeaderBlock.parse(original)
            out.append(contentsOf: original[..<min(bodyOffset, original.count)])
        } else {
            out.append(contentsOf: original)
        }
        if out.last != 10 { out.append(contentsOf: [13, 10]) }
        out.append(contentsOf: Array("\r\n--\(boundary)--\r\n".utf8))
        return out
    }

    /// One line, at most 900 octets, no control characters.
    static func clean(_ s: String) -> String {
        var out = String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 32 || $0.value == 127 ? " " : $0 }))
        if out.utf8.count > 900 { out = String(decoding: out.utf8.prefix(900), as: UTF8.self) }
        return out
    }
}
