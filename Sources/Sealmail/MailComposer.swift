#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A `Mail` checked and turned into what the transport and the queue take: the envelope
/// (sender, recipients by visibility) and the message bytes, written in pieces. No header
/// ever holds a Bcc recipient; every line ends CRLF and is at most 998 octets; non-ASCII
/// display names and subjects are RFC 2047 encoded, filenames RFC 2231 (`MIMEGenerator`).
struct ComposedMail: Sendable {
    /// MAIL FROM (the return path, else the From address).
    var sender: String
    /// To and Cc addresses (deduplicated, in order).
    var visible: [String]
    /// Bcc addresses not also visible.
    var hidden: [String]
    var header: [HeaderField]
    var body: MIMEPart
    var messageID: String

    var recipients: [String] { visible + hidden }

    /// Checks `mail` (every problem at once) and builds its header and parts.
    /// - Parameters:
    ///   - now: seconds since 1970 and the UTC offset, for Date (injected: golden tests).
    ///   - hostname: the right side of a generated Message-ID.
    init(_ mail: Mail, now: (seconds: Int64, utcOffset: Int), hostname: String) throws {
        var problems: [String] = []
        func mailboxes(_ values: [String], _ field: String) -> [Mailbox] {
            var out: [Mailbox] = []
            for v in values {
                if v.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
                    problems.append("\(field): \"\(v.prefix(60))\" holds a line break or NUL"); continue
                }
                let list = AddressParser.parseList(v)
                let boxes = list.mailboxes
                if boxes.isEmpty || list.defects.contains(where: { !$0.isBenign }) {
                    problems.append("\(field): \"\(v)\" is not an address"); continue
                }
                for b in boxes {
                    if b.domain == nil || b.domain!.isEmpty { problems.append("\(field): \(b.addrSpec) has no domain"); continue }
                    out.append(b)
                }
            }
            return out
        }
        let from = mailboxes([mail.from], "From")
        if from.count > 1 { problems.append("From: one author, not \(from.count)") }
        let to = mailboxes(mail.to, "To"), cc = mailboxes(mail.cc, "Cc"), bcc = mailboxes(mail.bcc, "Bcc")
        let replyTo = mailboxes(mail.replyTo, "Reply-To")
        let receipt = mailboxes(mail.readReceiptTo.map { [$0] } ?? [], "readReceiptTo")
        let returnPath = mailboxes(mail.returnPath.map { [$0] } ?? [], "returnPath")
        if mail.subject.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
            problems.append("Subject holds a line break or NUL")
        }
        if let id = mail.messageID, id.utf8.contains(where: { $0 <= 32 || $0 >= 127 || $0 == 60 || $0 == 62 }) || !id.contains("@") {
            problems.append("messageID \"\(id)\" is not id-left@id-right (RFC 5322 3.6.4)")
        }
        guard problems.isEmpty else { throw MailError(.invalidAddress, problems.joined(separator: "\n")) }
        guard !(to + cc + bcc).isEmpty else { throw MailError(.noRecipients, "no recipients: To, Cc and Bcc are empty") }

        // Duplicates by bytes (the domain's case aside): a Set of Strings would take
        // canonically equivalent addresses as one and drop the second recipient.
        var seen = ByteStringSet()
        func key(_ a: String) -> [UInt8] {
            guard let at = a.utf8.lastIndex(of: 64) else { return Array(a.utf8) }
            return Array((String(a[..<at]) + "@" + a[a.utf8.index(after: at)...].lowercased()).utf8)
        }
        visible = (to + cc).map(\.addrSpec).filter { seen.insert(key($0)) }
        hidden = bcc.map(\.addrSpec).filter { seen.insert(key($0)) }
        sender = returnPath.first?.addrSpec ?? from[0].addrSpec
        messageID = mail.messageID ?? String(MessageIdentifier.make(epochSeconds: now.seconds, unique: Self.uniquePart(), host: hostname)
            .dropFirst().dropLast())  // without its angle brackets

        var h: [HeaderField] = []
        func add(_ name: String, _ value: String) { h.append(HeaderField.folded(name: name, value: Array(value.utf8))) }
        let date = mail.date.map { Int64($0.timeIntervalSince1970) } ?? now.seconds
        add("Date", MessageDate.format(epochSeconds: date, utcOffset: mail.date == nil ? now.utcOffset : 0))
        add("From", Self.render(from))
        if !to.isEmpty { add("To", Self.render(to)) }
        if !cc.isEmpty { add("Cc", Self.render(cc)) }
        if !replyTo.isEmpty { add("Reply-To", Self.render(replyTo)) }
        if !mail.subject.isEmpty { add("Subject", EncodedWord.encodeUnstructured(mail.subject)) }
        add("Message-ID", "<\(messageID)>")
        if let i = mail.importance { add("Importance", i.rawValue) }
        if let p = mail.priority { add("Priority", p.rawValue); add("X-Priority", p.xPriority) }
        if let s = mail.sensitivity { add("Sensitivity", s.rawValue) }
        if let r = receipt.first { add("Disposition-Notification-To", Self.render([r])) }
        h += mail.extraHeaders
        add("MIME-Version", "1.0")
        header = h
        body = Self.body(of: mail)
    }

    static func render(_ boxes: [Mailbox]) -> String {
        boxes.map { b in
            guard let name = b.displayName, !name.isEmpty else { return b.addrSpec }
            return "\(EncodedWord.encodePhrase(name)) <\(b.addrSpec)>"
        }.joined(separator: ", ")
    }

    /// 96 random bits as 24 hex digits (Message-ID, boundaries): two draws of the system's
    /// generator, not one a byte (each is a getrandom call).
    static func uniquePart() -> String {
        var random = SystemRandomNumberGenerator()
        let bits = (random.next() as UInt64, random.next() as UInt64)
        return withUnsafeBytes(of: bits) { Hex.string($0.prefix(12)) }
    }

    /// text, html (alternative when both), inline parts (related, with the HTML), then
    /// attachments (mixed).
    static func body(of mail: Mail) -> MIMEPart {
        var content: MIMEPart
        switch (mail.text, mail.html) {
        case let (text?, html?): content = .multipart("alternative", [.text(text), .text(html, subtype: "html")])
        case let (text?, nil): content = .text(text)
        case let (nil, html?): content = .text(html, subtype: "html")
        case (nil, nil): content = .text("")
        }
        let inline = mail.attachments.filter { $0.inline }
        if !inline.isEmpty {
            var related = MIMEPart.multipart("related", [content] + inline.map(part))
            related.contentType.field.setParameter("type", content.contentType.mediaType)
            content = related
        }
        let attached = mail.attachments.filter { !$0.inline }
        if !attached.isEmpty { content = .multipart("mixed", [content] + attached.map(part)) }
        return content
    }

    static func part(_ a: MailAttachment) -> MIMEPart {
        var type = ContentType(parsing: Array(a.contentType.utf8)) ?? ContentType("application/octet-stream")
        type.field.setParameter("name", a.filename)  // for readers that ignore Content-Disposition
        let body: MIMEPart.Body
        switch a.content {
        case .file(let path): body = .stream(FileBodySource(path: path))
        case .bytes(let bytes): body = .data(bytes)
        }
        var fields = [HeaderField.folded(name: "Content-Disposition",
                                         value: Array(ContentDisposition(a.inline ? "inline" : "attachment", filename: a.filename).rendered.utf8))]
        if let id = a.contentID { fields.append(HeaderField.folded(name: "Content-ID", value: Array("<\(id)>".utf8))) }
        // Attachments travel base64 whatever their type: their bytes arrive exactly.
        return MIMEPart(type, fields: fields, body: body, transferEncoding: .base64)
    }

    /// Writes the message (header, then body) to `sink` in pieces.
    func write(to sink: ([UInt8]) throws -> Void) throws {
        var generator = MIMEGenerator(random: { (0..<16).map { _ in UInt8.random(in: 0...255) } })
        try generator.write(body, headerFields: header, to: sink)
    }
}

/// An attachment's file, read in 64 KiB pieces each time the message is written.
struct FileBodySource: MIMEBodySource {
    let path: String

    func read(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw MailError(.attachmentUnreadable, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw MailError(.attachmentUnreadable, "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { return }
            try buffer.withUnsafeBytes { try consume(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }
}
