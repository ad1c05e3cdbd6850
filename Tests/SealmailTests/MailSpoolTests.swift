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
