import Foundation
import XCTest
import PeerTestSupport
import Sealmail

/// `MailSpool` writes sealmail's queue format (issue 12): a spool the library fills is
/// delivered by `sealmail -q` with the same queue_dir.
final class MailSpoolTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        var template = Array("/tmp/sealmail-spool-XXXXXX".utf8CString)
        dir = String(cString: mkdtemp(&template)!)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// The sealmail executable beside this test bundle (.build/debug).
    static var sealmail: String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("sealmail").path
    }

    func testSpoolFilledByTheLibraryIsDeliveredBySealmail() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.sealmail) else { throw XCTSkip("no sealmail at \(Self.sealmail)") }
        let relay: CaptureRelay
        do { relay = try CaptureRelay() } catch let e as PeerUnavailable { throw XCTSkip(e.description) }
        defer { relay.stop() }
        let spool = try MailSpool(directory: dir + "/queue")
        var mail = Mail(from: "Alice <alice@example.com>", subject: "queued – Grüße")
        mail.to = ["bob@partner.example"]
        mail.bcc = ["audit@example.com"]
        mail.text = "from the spool\n"
        mail.attach(Array("x,y\n".utf8), filename: "d.csv", contentType: "text/csv")
        let id = try spool.enqueue(mail)
        XCTAssertEqual(try spool.queuedIDs(), [id])

        try Data("""
            hostname = "client.example.com"
            domain = "example.com"
            queue_dir = "\(dir)/queue"
            [[relay]]
            host = "127.0.0.1"
            port = \(relay.port)
            tls = "none"
            """.utf8).write(to: URL(fileURLWithPath: dir + "/sealmail.toml"))
        let run = try TestPKI.run(Self.sealmail, ["-C", dir + "/sealmail.toml", "-q"])
        XCTAssertEqual(run, [])
        let got = try relay.waitForMessages(1)
        XCTAssertEqual(got.count, 1)
        XCTAssertEqual(got[0].mailFrom, "alice@example.com")
        XCTAssertEqual(Set(got[0].rcptTos), ["bob@partner.example", "audit@example.com"])
        XCTAssertTrue(got[0].fields("Subject").first?.hasPrefix("=?") ?? false)
        XCTAssertEqual(try spool.queuedIDs(), [], "delivered and removed by sealmail")
    }
}

/// `Mailer.processQueue` (issue 12): delivers what sealmail queued, keeps deferred
/// recipients with their reason, bounces refused ones, and keeps delivered messages with
/// KeepQueue.
final class ProcessQueueTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        var template = Array("/tmp/sealmail-pq-XXXXXX".utf8CString)
        dir = String(cString: mkdtemp(&template)!)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func mailer(_ relay: CaptureRelay) -> Mailer {
        var r = SMTPRelay(host: "127.0.0.1", port: relay.port, tls: .none, heloName: "client.example.com")
        r.timeouts = .all(20)
        return Mailer(relay: r, maxConnections: 2)
    }

    func testMessageQueuedBySealmailIsDeliveredByTheLibrary() async throws {
        guard FileManager.default.isExecutableFile(atPath: MailSpoolTests.sealmail) else { throw XCTSkip("no sealmail") }
        let relay: CaptureRelay
        do { relay = try CaptureRelay() } catch let e as PeerUnavailable { throw XCTSkip(e.description) }
        defer { relay.stop() }
        try Data("""
            hostname = "host.example.com"
            domain = "example.com"
            queue_dir = "\(dir)/queue"
            delivery = "queue"
            """.utf8).write(to: URL(fileURLWithPath: dir + "/sealmail.toml"))
        _ = try TestPKI.run(MailSpoolTests.sealmail, ["-C", dir + "/sealmail.toml", "-t", "-f", "cron@example.com"],
                            input: Array("To: ops@example.org\nSubject: from cron\n\nall good\n".utf8))
        let spool = try MailSpool(directory: dir + "/queue")
        XCTAssertEqual(try spool.queuedIDs().count, 1)
        let run = try await mailer(relay).processQueue(spool)
        XCTAssertEqual(run.delivered, 1)
        XCTAssertEqual(run.deferred, 0)
        XCTAssertEqual(try spool.queuedIDs(), [])
        let got = try relay.waitForMessages(1)
        XCTAssertEqual(got.first?.mailFrom, "cron@example.com")
        XCTAssertEqual(got.first?.rcptTos, ["ops@example.org"])
        XCTAssertTrue(run.log.contains { $0.contains("to=<ops@example.org>") && $0.contains("status=sent") }, "\(run.log)")
    }

    func testDeferredStaysRefusedIsBouncedAndKeepQueueKeeps() async throws {
        let rules = dir + "/rules"
        try Data("later@partner.example 450 4.2.1 mailbox busy\nnever@partner.example 550 5.1.1 no such user\n".utf8)
            .write(to: URL(fileURLWithPath: rules))
        let relay: CaptureRelay
        do { relay = try CaptureRelay(rules: rules) } catch let e as PeerUnavailable { throw XCTSkip(e.description) }
        defer { relay.stop() }
        let spool = try MailSpool(directory: dir + "/queue", keepQueue: true)
        var mail = Mail(from: "alice@example.com", subject: "three recipients")
        mail.to = ["ok@partner.example", "later@partner.example", "never@partner.example"]
        mail.text = "hello\n"
        let id = try spool.enqueue(mail)
        let m = mailer(relay)
        let run = try await m.processQueue(spool)
        let report = try XCTUnwrap(run.messages[id])
        XCTAssertEqual(report.accepted, ["ok@partner.example"])
        XCTAssertEqual(report.deferred.map(\.address), ["later@partner.example"])
        XCTAssertEqual(report.failed.map(\.address), ["never@partner.example"])
        XCTAssertEqual(run.bounced, 1)
        XCTAssertEqual(run.deferred, 1)
        XCTAssertEqual(try spool.queuedIDs(), [id], "the deferred recipient keeps the message queued")
        // The bounce went to the sender in the same run, naming the refused recipient.
        let bounce = try XCTUnwrap(try relay.waitForMessages(2).first { $0.rcptTos == ["alice@example.com"] })
        XCTAssertEqual(bounce.mailFrom, "<>", "the null sender")
        XCTAssertTrue(bounce.text.contains("never@partner.example"), bounce.text)
        XCTAssertTrue(bounce.fields("Content-Type").first?.hasPrefix("multipart/report") ?? false)

        // The recipient is accepted now: the message is delivered and kept in sent/.
        try Data().write(to: URL(fileURLWithPath: rules))
        let second = try await m.processQueue(spool)
        XCTAssertEqual(second.delivered, 1)
        XCTAssertEqual(try spool.queuedIDs(), [])
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/queue/sent/" + id), "KeepQueue keeps it")
        XCTAssertEqual(relay.recipientLog().filter { $0.hasPrefix("ok@") }.count, 1, "the accepted recipient got one copy")
    }
}
