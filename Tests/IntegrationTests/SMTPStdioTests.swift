import Foundation
import XCTest

/// `sealmail -bs` (issue 11, item 3): only CRLF "." CRLF ends DATA, so the 2023 SMTP
/// smuggling payloads (`\n.\n`, `\n.\r\n`, `\r\n.\n` followed by a second MAIL FROM) stay
/// content of the first message and never queue a second one; data cut off by the end of the
/// input queues nothing.
final class SMTPStdioTests: SealmailTestCase {
    func session(_ data: String) -> String {
        "EHLO client.example\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\n" + data
    }

    func testSmugglingPayloadsDoNotEndData() throws {
        for end in ["\n.\n", "\n.\r\n", "\r\n.\n"] {
            let data = "Subject: t\r\n\r\nbefore\(end)MAIL FROM:<evil@e.example>\r\nRCPT TO:<victim@x.example>\r\nDATA\r\nsmuggled\r\n.\r\nQUIT\r\n"
            let r = try sealmail(["-bs", "-odq"], input: session(data))
            XCTAssertEqual(r.status, 0, r.stderrText)
            XCTAssertEqual(r.stdoutText.components(separatedBy: "queued as").count - 1, 1, "one message: \(r.stdoutText)")
            let q = try onlyQueued()
            assertWellFormed(q)
            XCTAssertEqual(q.sender, "a@x.example", "\(end.debugDescription)")
            XCTAssertEqual(q.recipients, ["b@x.example"])
            let text = String(decoding: q.message, as: UTF8.self)
            XCTAssertTrue(text.contains("before\r\n.\r\nMAIL FROM:<evil@e.example>\r\n"), "the payload is content: \(text)")
            XCTAssertTrue(text.hasSuffix("smuggled\r\n"), text)
            try FileManager.default.removeItem(atPath: messagesDir + "/" + q.id)
        }
    }

    func testProperEndAndDotUnstuffing() throws {
        let r = try sealmail(["-bs", "-odq"], input: session("Subject: t\r\n\r\n..stuffed\r\n.\r\nQUIT\r\n"))
        XCTAssertEqual(r.status, 0, r.stderrText)
        let text = String(decoding: try onlyQueued().message, as: UTF8.self)
        XCTAssertTrue(text.hasSuffix("\r\n\r\n.stuffed\r\n"), text)
    }

    func testInputEndingInsideDataQueuesNothing() throws {
        let r = try sealmail(["-bs", "-odq"], input: session("Subject: t\r\n\r\ncut off here"))
        XCTAssertFalse(r.stdoutText.contains("queued as"), r.stdoutText)
        assertNothingQueued(tmpToo: false)
    }

    func testOverlongCommandLineIsOneError() throws {
        let r = try sealmail(["-bs", "-odq"], input: "EHLO x\r\nNOOP " + String(repeating: "a", count: 10_000) + "\r\nQUIT\r\n")
        let replies = r.stdoutText.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        XCTAssertEqual(replies.filter { $0.hasPrefix("500") }.count, 1, r.stdoutText)
        XCTAssertEqual(replies.last, "221 2.0.0 Bye")
    }

    /// The disk fills while DATA is spooled: the reply comes from the one table (a full disk is
    /// temporary: 451) and names the cause, as the exit status and stderr of sendmail do.
    func testDiskFullDuringDataIsTransientAndNamed() throws {
        let mnt = dir + "/small"
        guard mountTmpfs(mnt, size: "1m") else {
            throw XCTSkip("cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN): \(errnoText())")
        }
        try writeConfig(queueDir: mnt + "/q")
        let body = String(repeating: String(repeating: "a", count: 98) + "\r\n", count: 2 * 1024 * 1024 / 100)
        let r = try sealmail(["-bs", "-odq"], input: session("Subject: big\r\n\r\n" + body + ".\r\nQUIT\r\n"))
        let reply = r.stdoutText.components(separatedBy: "\r\n").first { $0.hasPrefix("4") || $0.hasPrefix("5") || $0.contains("queued as") }
        XCTAssertEqual(reply?.hasPrefix("451 4.3.0 "), true, r.stdoutText)
        XCTAssertEqual(reply?.contains("No space left on device"), true, r.stdoutText)
        XCTAssertEqual(files(in: mnt + "/q/messages"), [])
    }
}
