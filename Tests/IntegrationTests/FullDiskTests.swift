import Foundation
import XCTest
import PeerTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A full disk under the queue (a small tmpfs mounted by the test, so root only) against a
/// real relay (aiosmtpd) that accepts one recipient and defers or refuses another. Whatever
/// `sealmail -q` cannot record, it must not send: no recipient ever gets a message twice, no
/// bounce is lost, and mailq says why a message waits.
final class FullDiskTests: SealmailTestCase {
    var relay: CaptureRelay!
    var mnt: String { dir + "/small" }
    var rules: String { dir + "/rules" }
    override var queueDir: String { mnt + "/q" }

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard mountTmpfs(mnt, size: "256k") else {
            throw XCTSkip("cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN): \(errnoText())")
        }
        try writeText(rules, "")
        relay = try CaptureRelay(rules: rules)
        try writeConfig(extra: "[[relay]]\nhost = \"127.0.0.1\"\nport = \(relay.port)\ntls = \"none\"\n")
    }

    override func tearDownWithError() throws {
        relay?.stop()
        try super.tearDownWithError()
    }

    /// Fills the tmpfs to the last byte.
    func fill() throws {
        let fd = open(mnt + "/filler", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { throw HarnessError("filler: \(errnoText())") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0x61, count: 4096)
        while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        var one: UInt8 = 0x61
        while write(fd, &one, 1) == 1 {}
        XCTAssertEqual(errno, ENOSPC)
    }

    func free() { unlink(mnt + "/filler") }

    /// Messages the relay accepted for `address` from the sender (bounces excluded).
    func copies(_ address: String) throws -> Int {
        try relay.messages().filter { $0.mailFrom == "s@x.example" && $0.rcptTos.contains(address) }.count
    }

    /// Messages from the null sender (aiosmtpd records it as `<>`).
    func bounces() throws -> [CapturedMessage] { try relay.messages().filter { $0.mailFrom == "<>" || $0.mailFrom.isEmpty } }

    /// `sealctl queue list --json`: address -> delay_reason of each pending recipient.
    func delayReasons() throws -> [String: String] {
        let r = try sealctl(["queue", "list", "--json"])
        XCTAssertEqual(r.status, 0, r.stderrText)
        var out: [String: String] = [:]
        for line in r.stdoutText.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            for rcpt in object?["recipients"] as? [[String: Any]] ?? [] {
                out[rcpt["address"] as? String ?? "?"] = rcpt["delay_reason"] as? String ?? ""
            }
        }
        return out
    }

    /// The reviewer's case: queued, then the disk fills, then three queue runs. Before, each
    /// run sent to the accepted recipient again (its state could not be written): 3 copies.
    /// Now a run that cannot reserve the state sends nothing and says why; once there is
    /// room the accepted recipient gets its one copy, and later runs on a full disk record
    /// the deferred one's progress in place.
    func testAFullDiskNeverSendsAnAcceptedRecipientTwice() throws {
        try writeText(rules, "b@y.example 450 4.2.1 mailbox busy, try later\n")
        let q = try submitOK(["-f", "s@x.example", "a@x.example", "b@y.example"], "Subject: full\n\nbody\n")
        try fill()
        for run in 1...3 {
            let r = try sealmail(["-q"])
            XCTAssertEqual(r.status, 75, "run \(run): the caller learns that the run stopped: \(r.stderrText)")
            XCTAssertTrue(r.stderrText.contains("No space left on device"), r.stderrText)
        }
        XCTAssertEqual(try copies("a@x.example"), 0, "nothing sent while its outcome could not be recorded")
        var reasons = try delayReasons()
        XCTAssertEqual(Set(reasons.keys), ["a@x.example", "b@y.example"])
        for (address, reason) in reasons {
            XCTAssertTrue(reason.contains("No space left on device"), "\(address): \(reason)")
        }
        XCTAssertTrue(try sealmail(["-bp"]).stdoutText.contains("No space left on device"), "mailq shows it too")

        free()
        let partial = try sealmail(["-q"])
        XCTAssertEqual(partial.status, 0, partial.stderrText)
        XCTAssertEqual(try copies("a@x.example"), 1)
        XCTAssertEqual(try copies("b@y.example"), 0)

        try fill()
        for run in 1...3 {
            let r = try sealmail(["-q"])
            XCTAssertEqual(r.status, 0, "run \(run) on a full disk records in place: \(r.stderrText)")
        }
        XCTAssertEqual(try copies("a@x.example"), 1, "the accepted recipient got exactly one copy")
        reasons = try delayReasons()
        XCTAssertEqual(Array(reasons.keys), ["b@y.example"])
        XCTAssertTrue(reasons["b@y.example"]?.contains("450 4.2.1 mailbox busy") ?? false, "\(reasons)")
        let show = try sealctl(["queue", "show", q.id])
        XCTAssertTrue(show.stdoutText.contains("attempts: 4\n"), show.stdoutText)
        XCTAssertEqual(relay.recipientLog().filter { $0.hasPrefix("a@x.example") }.count, 1, "a was offered once")

        // Accepted at last (still on the full disk): once, and the message leaves the queue.
        try writeText(rules, "")
        let last = try sealmail(["-q"])
        XCTAssertEqual(last.status, 0, last.stderrText)
        XCTAssertEqual(try copies("b@y.example"), 1)
        XCTAssertEqual(try copies("a@x.example"), 1)
        XCTAssertEqual(queuedIDs, [])
    }

    /// A permanent refusal on a full disk: the failure is recorded (with a mark that a bounce
    /// is owed) before the bounce is queued; the bounce cannot be queued, so the run stops;
    /// later runs neither send to the accepted recipient again nor try the refused one, and
    /// the first run with room queues and sends the bounce, once.
    func testABounceThatCannotBeQueuedIsQueuedLaterAndNothingIsSentTwice() throws {
        try writeText(rules, "a@x.example 450 4.3.0 later\nc@y.example 450 4.3.0 later\n")
        _ = try submitOK(["-f", "s@x.example", "a@x.example", "c@y.example"], "Subject: refused\n\nbody\n")
        XCTAssertEqual(try sealmail(["-q"]).status, 0)  // both deferred: the state is reserved now

        try fill()
        try writeText(rules, "c@y.example 550 5.1.1 no such user\n")
        for run in 1...2 {
            let r = try sealmail(["-q"])
            XCTAssertEqual(r.status, 75, "run \(run): \(r.stderrText)")
            XCTAssertTrue(r.stderrText.contains("non-delivery notification"), r.stderrText)
        }
        XCTAssertEqual(try copies("a@x.example"), 1)
        XCTAssertEqual(try bounces().count, 0)
        XCTAssertEqual(queuedIDs.count, 1, "the message stays until its bounce is queued")
        XCTAssertEqual(relay.recipientLog().filter { $0.hasPrefix("c@y.example") }, ["c@y.example 450", "c@y.example 550"],
                       "the refused recipient is not tried again")

        free()
        let r = try sealmail(["-q"])
        XCTAssertEqual(r.status, 0, r.stderrText)
        let sent = try bounces()
        XCTAssertEqual(sent.count, 1)
        XCTAssertTrue(sent.first?.text.contains("Final-Recipient: rfc822; c@y.example") ?? false)
        XCTAssertTrue(sent.first?.text.contains("550 5.1.1 no such user") ?? false)
        XCTAssertEqual(sent.first?.rcptTos, ["s@x.example"])
        XCTAssertEqual(try copies("a@x.example"), 1, "nothing sent twice")
        XCTAssertEqual(queuedIDs, [])
    }
}
