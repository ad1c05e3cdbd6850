import Foundation
import XCTest
import PeerTestSupport
import Sealmail
import SMTPTestSupport

/// `Mail` composed and sent through aiosmtpd (a relay no one here wrote); what arrived is
/// read by Python's email package (issue 12: structure, headers, Bcc, DSN, return path).
final class MailComposeTests: XCTestCase {
    static var relay: CaptureRelay?
    static var unavailable: String?

    override class func setUp() {
        do { relay = try CaptureRelay() } catch { unavailable = "\(error)" }
    }

    override class func tearDown() { relay?.stop() }

    var relay: CaptureRelay { Self.relay! }
    var dir = ""

    override func setUpWithError() throws {
        if let u = Self.unavailable { throw XCTSkip(u) }
        relay.clear()
        var template = Array("/tmp/sealmail-lib-XXXXXX".utf8CString)
        dir = String(cString: mkdtemp(&template)!)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func mailer(_ observer: (@Sendable (MailerEvent) -> Void)? = nil) -> Mailer {
        var r = SMTPRelay(host: "127.0.0.1", port: relay.port, tls: .none, heloName: "client.example.com")
        r.timeouts = .all(20)
        return Mailer(relay: r, maxConnections: 2, observer: observer)
    }

    /// The contract's message, without S/MIME.
    func contractMail() throws -> Mail {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<300).map { UInt8($0 % 251) }
        FileManager.default.createFile(atPath: dir + "/logo.png", contents: Data(png))
        let pdf = Array("%PDF-1.4\n".utf8) + (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        FileManager.default.createFile(atPath: dir + "/report.pdf", contents: Data(pdf))
        var mail = Mail(from: "Alice Example <alice@example.com>", subject: "Quarterly report – Grüße")
        mail.to = ["Bob <bob@partner.example>"]
        mail.cc = ["carol@partner.example"]
        mail.bcc = ["audit@example.com"]
        mail.replyTo = ["help@example.com"]
        mail.text = "Hello Bob,\nthe report is attached.\n"
        let logo = try mail.embed(file: dir + "/logo.png")
        mail.html = "<p>Hello Bob,</p><img src=\"cid:\(logo)\">"
        try mail.attach(file: dir + "/report.pdf")
        mail.attach(Array("a,b\n1,2\n".utf8), filename: "data.csv", contentType: "text/csv")
        mail.importance = .high
        mail.priority = .urgent
        mail.sensitivity = .companyConfidential
        mail.readReceiptTo = "alice@example.com"
        mail.deliveryNotification = [.success, .failure]
        mail.returnPath = "bounces@example.com"
        try mail.addHeader("X-Ticket", "42")
        return mail
    }

    func testContractMessageArrivesWithItsStructure() async throws {
        let mail = try contractMail()
        let report = try await mailer().send(mail)
        XCTAssertEqual(report.recipients.map(\.address), ["bob@partner.example", "carol@partner.example", "audit@example.com"])
        XCTAssertEqual(report.recipients.map(\.status), [.accepted, .accepted, .accepted])
        XCTAssertTrue(report.recipients[0].reply.hasPrefix("250"), report.recipients[0].reply)

        let got = try relay.waitForMessages(1)
        XCTAssertEqual(got.count, 1, "no S/MIME: one copy for everyone")
        let m = got[0]
        XCTAssertEqual(m.mailFrom, "bounces@example.com", "returnPath is MAIL FROM")
        XCTAssertEqual(Set(m.rcptTos), ["bob@partner.example", "carol@partner.example", "audit@example.com"])
        XCTAssertFalse(m.text.lowercased().contains("audit@example.com"), "Bcc is in no header")
        XCTAssertFalse(m.data.contains { $0 >= 0x80 }, "7-bit on the wire")
        XCTAssertFalse(m.text.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "CRLF only")
        XCTAssertTrue(m.text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 998 })

        let script = #"""
        import sys, email, email.policy, hashlib
        m = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
        for k in ["From", "To", "Cc", "Reply-To", "Subject", "Importance", "Priority", "X-Priority", "Sensitivity",
                  "Disposition-Notification-To", "X-Ticket", "Bcc"]:
            print(k + "=" + str(m.get(k)))
        print("Date=" + str(m["Date"] is not None) + " Message-ID=" + str(m["Message-ID"] is not None))
        def shape(p):
            t = p.get_content_type()
            return t + "[" + ",".join(shape(x) for x in p.iter_parts()) + "]" if p.is_multipart() else t
        print("shape=" + shape(m))
        for p in m.walk():
            if not p.is_multipart():
                d = p.get_payload(decode=True)
                print("part", p.get_content_type(), p.get_filename(), p.get("Content-ID"), p.get_content_disposition(),
                      hashlib.sha256(d).hexdigest())
        html = m.get_body(preferencelist=("html",)).get_content()
        print("html=" + html)
        """#
        let lines = try PythonEmail.run(script, input: m.data).split(separator: "\n").map(String.init)
        func value(_ k: String) -> String? { lines.first { $0.hasPrefix(k + "=") }.map { String($0.dropFirst(k.count + 1)) } }
        XCTAssertEqual(value("From"), "Alice Example <alice@example.com>")
        XCTAssertEqual(value("To"), "Bob <bob@partner.example>")
        XCTAssertEqual(value("Cc"), "carol@partner.example")
        XCTAssertEqual(value("Reply-To"), "help@example.com")
        XCTAssertEqual(value("Subject"), "Quarterly report – Grüße")
        XCTAssertEqual(value("Importance"), "high")
        XCTAssertEqual(value("Priority"), "urgent")
        XCTAssertEqual(value("X-Priority"), "1 (Highest)")
        XCTAssertEqual(value("Sensitivity"), "Company-Confidential")
        XCTAssertEqual(value("Disposition-Notification-To"), "alice@example.com")
        XCTAssertEqual(value("X-Ticket"), "42")
        XCTAssertEqual(value("Bcc"), "None")
        XCTAssertEqual(value("Date"), "True Message-ID=True")
        XCTAssertEqual(value("shape"), "multipart/mixed[multipart/related[multipart/alternative[text/plain,text/html],image/png],application/pdf,text/csv]")
        let parts = lines.filter { $0.hasPrefix("part ") }
        XCTAssertEqual(parts.count, 5, lines.joined(separator: "\n"))
        let pdfHash = try TestPKI.run("/usr/bin/sha256sum", [dir + "/report.pdf"]).prefix(64)
        XCTAssertTrue(parts.contains { $0.contains("application/pdf report.pdf None attachment \(String(decoding: pdfHash, as: UTF8.self))") }, parts.joined(separator: "\n"))
        XCTAssertTrue(parts.contains { $0.hasPrefix("part image/png logo.png <") && $0.contains("> inline ") }, parts.joined(separator: "\n"))
        XCTAssertTrue(parts.contains { $0.hasPrefix("part text/csv data.csv None attachment") })
        let cid = parts.first { $0.contains("image/png") }!.split(separator: " ")[3].dropFirst().dropLast()
        XCTAssertEqual(value("html"), "<p>Hello Bob,</p><img src=\"cid:\(cid)\">", "the HTML names the inline part's Content-ID")
    }

    /// DSN NOTIFY on every RCPT when the relay offers DSN (aiosmtpd does not: the scripted
    /// server does).
    func testDeliveryNotificationOnEveryRecipient() async throws {
        let server = try ScriptedSMTPServer()
        defer { server.stop() }
        var mail = Mail(from: "alice@example.com", subject: "dsn")
        mail.to = ["bob@partner.example"]
        mail.bcc = ["audit@example.com"]
        mail.deliveryNotification = [.success, .failure]
        mail.deliveryNotificationReturn = .headers
        let relay = SMTPRelay(host: "127.0.0.1", port: server.port, tls: .none, heloName: "client.example.com")
        let report = try await Mailer(relay: relay).send(mail)
        XCTAssertEqual(report.recipients.map(\.status), [.accepted, .accepted])
        let t = server.transcript(0)
        XCTAssertTrue(t.contains("RCPT TO:<bob@partner.example> NOTIFY=SUCCESS,FAILURE"), t)
        XCTAssertTrue(t.contains("RCPT TO:<audit@example.com> NOTIFY=SUCCESS,FAILURE"), t)
        XCTAssertTrue(t.contains("RET=HDRS"), t)
    }

    /// Each Message-ID carries 96 fresh random bits: 24 lowercase hex digits after the date.
    func testMessageIDsAreUniqueWith96RandomBits() async throws {
        let server = try ScriptedSMTPServer()
        defer { server.stop() }
        let mailer = Mailer(relay: SMTPRelay(host: "127.0.0.1", port: server.port, tls: .none, heloName: "client.example.com"))
        var ids = Set<String>()
        for _ in 0..<20 {
            var mail = Mail(from: "alice@example.com", subject: "id")
            mail.to = ["bob@partner.example"]
            let id = try await mailer.send(mail).messageID
            let unique = id.split(separator: "@")[0].split(separator: ".").last ?? ""
            XCTAssertEqual(unique.count, 24, id)
            XCTAssertTrue(unique.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }, id)
            ids.insert(String(unique))
        }
        await mailer.close()
        XCTAssertEqual(ids.count, 20)
    }

    func testNonASCIIFilenameIsRFC2231() async throws {
        var mail = Mail(from: "alice@example.com", subject: "f")
        mail.to = ["bob@partner.example"]
        mail.attach([1, 2, 3], filename: "Bericht für Q3 – final.pdf", contentType: "application/pdf")
        _ = try await mailer().send(mail)
        let m = try relay.waitForMessages(1)[0]
        XCTAssertTrue(m.text.contains("filename*=utf-8''") || m.text.contains("filename*0*=utf-8''"), m.headerText)
        let name = try PythonEmail.run("""
            import sys, email, email.policy
            m = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
            print([p.get_filename() for p in m.iter_attachments()][0])
            """, input: m.data).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(name, "Bericht für Q3 – final.pdf")
    }

    func testBadInputIsRefusedBeforeAnythingIsSent() async throws {
        var mail = Mail(from: "alice@example.com", subject: "x")
        XCTAssertThrowsError(try mail.addHeader("X-Evil", "a\r\nBcc: victim@x.example"))
        XCTAssertThrowsError(try mail.addHeader("X-Nul", "a\u{0}b"))
        XCTAssertThrowsError(try mail.addHeader("Bad Name", "v"))
        XCTAssertThrowsError(try mail.addHeader("Content-Type", "text/html"))
        XCTAssertThrowsError(try mail.attach(file: dir + "/missing.pdf"))
        do {
            _ = try await mailer().send(mail)
            XCTFail("no recipients accepted")
        } catch let e as MailError {
            XCTAssertEqual(e.code, .noRecipients)
            XCTAssertTrue(e.isPermanent)
        }
        mail.to = ["bob", "carol@partner.example\r\nRCPT TO:<x@y>"]
        mail.subject = "line\nbreak"
        do {
            _ = try await mailer().send(mail)
            XCTFail("bad addresses accepted")
        } catch let e as MailError {
            XCTAssertEqual(e.code, .invalidAddress)
            XCTAssertTrue(e.message.contains("bob has no domain"), e.message)
            XCTAssertTrue(e.message.contains("line break"), e.message)
            XCTAssertTrue(e.message.contains("Subject"), e.message)
        }
        XCTAssertEqual(try relay.messages().count, 0)
    }

    /// The seed's events: connection status, start/transfer/end, the trace (no data).
    func testEventsReachTheObserver() async throws {
        final class Events: @unchecked Sendable {
            let lock = NSLock()
            var list: [MailerEvent] = []
            func add(_ e: MailerEvent) { lock.lock(); list.append(e); lock.unlock() }
        }
        let events = Events()
        var mail = Mail(from: "alice@example.com", subject: "events")
        mail.to = ["bob@partner.example"]
        mail.text = "hello"
        let m = mailer { events.add($0) }
        _ = try await m.send(mail)
        await m.close()
        let list = events.lock.withLock { events.list }
        XCTAssertTrue(list.contains { if case .connectionStatus(.ready) = $0 { return true }; return false })
        XCTAssertTrue(list.contains { if case .startTransfer = $0 { return true }; return false })
        XCTAssertTrue(list.contains { if case .transfer(let b, let t) = $0 { return b == t && t > 0 }; return false })
        XCTAssertTrue(list.contains { if case .endTransfer = $0 { return true }; return false })
        let trace = list.compactMap { e -> String? in if case .trace(_, let line) = e { return line }; return nil }
        XCTAssertTrue(trace.contains { $0.hasPrefix("MAIL FROM:<alice@example.com>") }, "\(trace)")
        XCTAssertFalse(trace.contains { $0.contains("hello") }, "the message data is not traced")
    }
}
