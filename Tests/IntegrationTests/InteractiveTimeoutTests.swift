import Foundation
import XCTest
import SMTPTestSupport

/// `sealmail -odi` against a relay that sends its replies one octet a second, with the
/// default relay timeouts (each reply stays within command_timeout): sealmail stops waiting
/// at `interactive_timeout`, exits 0 with a note that the message stays queued, and the queue
/// shows why. The old sealmail waited for as long as the relay kept trickling (267 s in the
/// issue's run).
final class InteractiveTimeoutTests: SealmailTestCase {
    func testOdiStopsWaitingAtInteractiveTimeoutAndTheMessageStaysQueued() throws {
        let server = try ScriptedSMTPServer(script: .init(secondsPerReplyOctet: 1))
        defer { server.stop() }
        try writeConfig(extra: """
        interactive_timeout = 3
        [[relay]]
        host = "127.0.0.1"
        port = \(server.port)
        tls = "none"
        """)
        let start = Date()
        let r = try sealmail(["-odi", "-f", "sender@example.com", "-t"], input: "To: rcpt@example.org\nSubject: slow\n\nbody\n")
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertLessThan(seconds, 8, "sealmail returned after \(seconds) s")
        XCTAssertTrue(r.stderrText.contains("stays queued"), r.stderrText)
        XCTAssertTrue(r.stderrText.contains("interactive_timeout"), r.stderrText)
        XCTAssertEqual(queuedIDs.count, 1, "the message stays queued")
        let json = try sealctl(["queue", "list", "--json"])
        XCTAssertEqual(json.status, 0, json.stderrText)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.split(separator: 10).first ?? [])) as? [String: Any]
        let reason = ((object?["recipients"] as? [[String: Any]])?.first?["delay_reason"] as? String) ?? ""
        XCTAssertTrue(reason.contains("interactive_timeout"), reason)
        XCTAssertEqual(server.messages.count, 0)
    }
}
