import XCTest
@testable import SMTPProtocol

/// Pipelined groups bounded by `SMTPPipeliningWindow` (RFC 2920 3.1): without a bound, a
/// transaction with thousands of recipients went out in one write before any reply was read,
/// and both sides could block writing. Transcript tests, no IO.
final class PipeliningWindowTests: XCTestCase {
    private func ready(window: SMTPPipeliningWindow = SMTPPipeliningWindow()) -> Transcript {
        var configuration = plainConfig()
        configuration.pipeliningWindow = window
        var t = Transcript(configuration)
        XCTAssertEqual(t.establish(), .ready)
        t.sent = ""
        t.writes = []
        t.waits = []
        return t
    }

    private func envelope(_ count: Int, domain: String = "y") -> SMTPEnvelope {
        SMTPEnvelope(sender: "s@x", recipients: (0..<count).map { SMTPRecipient("r\($0)@\(domain)") })
    }

    private func commands(_ write: String) -> [String] {
        write.components(separatedBy: "\r\n").filter { !$0.isEmpty }
    }

    func testDefaultWindowIsAHundredCommandsPerGroup() throws {
        var t = ready()
        let replies = ["250 ok"] + Array(repeating: "250 ok", count: 250) + ["354 go", "250 queued"]
        let result = try XCTUnwrap(transactionResult(t.run(t.machine.beginTransaction(envelope(250)), replies)))
        XCTAssertEqual(t.writes.map { commands($0).count }, [100, 100, 52])
        XCTAssertEqual(commands(t.writes[0]).first, "MAIL FROM:<s@x>")
        XCTAssertEqual(commands(t.writes[1]).first, "RCPT TO:<r99@y>")
        XCTAssertEqual(commands(t.writes[2]).last, "DATA", "DATA ends the last group")
        XCTAssertEqual(t.sent.components(separatedBy: "RCPT TO:").count - 1, 250)
        XCTAssertEqual(result.recipients.count, 250)
        XCTAssertTrue(result.recipients.allSatisfy { $0.outcome.kind == .accepted })
        XCTAssertEqual(result.message.kind, .accepted)
        XCTAssertEqual(t.machine.phase, .ready)
    }

    func testEachGroupIsWrittenOnlyAfterThePreviousGroupsReplies() throws {
        var t = ready(window: SMTPPipeliningWindow(commands: 3))
        // Two replies of the first group (MAIL, RCPT r0): still waiting for the third.
        let pending = t.run(t.machine.beginTransaction(envelope(5)), ["250 ok", "250 ok"])
        XCTAssertEqual(pending, .read(.rcpt))
        XCTAssertEqual(t.writes, ["MAIL FROM:<s@x>\r\nRCPT TO:<r0@y>\r\nRCPT TO:<r1@y>\r\n"])
        // The third reply completes the group: the next one goes out, its first reply is a RCPT's.
        let next = t.machine.receive(Transcript.reply("250 ok"))
        guard case .send(let output, let wait) = next else { return XCTFail("expected the next group, got \(next)") }
        XCTAssertEqual(String(decoding: output.bytes, as: UTF8.self), "RCPT TO:<r2@y>\r\nRCPT TO:<r3@y>\r\nRCPT TO:<r4@y>\r\n")
        XCTAssertEqual(wait, .rcpt)
        XCTAssertEqual(output.trace, ["RCPT TO:<r2@y>", "RCPT TO:<r3@y>", "RCPT TO:<r4@y>"])
    }

    func testOctetLimitEndsAGroupBeforeTheCommandLimit() throws {
        let domain = String(repeating: "d", count: 200) + ".example"
        var t = ready()
        let end = t.run(t.machine.beginTransaction(envelope(40, domain: domain)),
                        Array(repeating: "250 ok", count: 41) + ["354 go", "250 queued"])
        XCTAssertEqual(transactionResult(end)?.message.kind, .accepted)
        XCTAssertGreaterThan(t.writes.count, 1)
        for write in t.writes {
            XCTAssertLessThanOrEqual(write.utf8.count, 4096, "a group fits the 4096-octet window")
        }
        XCTAssertEqual(t.writes.map { commands($0).count }.reduce(0, +), 42)
    }

    func testACommandLongerThanTheWindowGoesAlone() throws {
        var t = ready(window: SMTPPipeliningWindow(commands: 100, octets: 10))
        let end = t.run(t.machine.beginTransaction(envelope(2)), ["250 ok", "250 ok", "250 ok", "354 go", "250 queued"])
        XCTAssertEqual(t.writes, ["MAIL FROM:<s@x>\r\n", "RCPT TO:<r0@y>\r\n", "RCPT TO:<r1@y>\r\n", "DATA\r\n"])
        XCTAssertEqual(t.waits, [.mail, .rcpt, .rcpt, .dataInitiation])
        XCTAssertEqual(transactionResult(end)?.message.kind, .accepted)
    }

    func testMailRefusedInTheFirstGroupSendsNoMoreGroups() throws {
        var t = ready(window: SMTPPipeliningWindow(commands: 3))
        let result = try XCTUnwrap(transactionResult(t.run(t.machine.beginTransaction(envelope(10)),
            ["553 5.7.1 sender refused", "503 5.5.1 need MAIL", "503 5.5.1 need MAIL"])))
        XCTAssertEqual(t.writes.count, 1)
        XCTAssertEqual(result.message.reply?.code, 553)
        XCTAssertEqual(result.recipients.count, 10)
        XCTAssertTrue(result.recipients.allSatisfy { $0.outcome.reply?.code == 553 })
        XCTAssertEqual(t.machine.phase, .ready)
    }

    func testNoDATAWhenNoRecipientWasAcceptedAndDATAWouldStartAGroup() throws {
        var t = ready(window: SMTPPipeliningWindow(commands: 3))
        let result = try XCTUnwrap(transactionResult(t.run(t.machine.beginTransaction(envelope(2)),
            ["250 ok", "550 5.1.1 no", "450 4.2.1 later"])))
        XCTAssertFalse(t.sent.contains("DATA"))
        XCTAssertEqual(result.recipients.map(\.outcome.kind), [.permanent, .transient])
        XCTAssertEqual(t.machine.phase, .ready)
    }

    func testRefusalsInLaterGroupsAreKeptPerRecipient() throws {
        var t = ready(window: SMTPPipeliningWindow(commands: 2))
        let result = try XCTUnwrap(transactionResult(t.run(t.machine.beginTransaction(envelope(3)),
            ["250 ok", "250 ok", "550 5.1.1 r1 unknown", "250 ok", "354 go", "250 queued"])))
        XCTAssertEqual(t.writes.count, 3)
        XCTAssertEqual(result.recipients.map(\.outcome.kind), [.accepted, .permanent, .accepted])
        XCTAssertEqual(result.recipients[1].outcome.reply?.verbatim, "550 5.1.1 r1 unknown")
    }

    func testRSETOpensTheFirstGroupOfALaterTransaction() throws {
        var t = ready(window: SMTPPipeliningWindow(commands: 2))
        _ = t.run(t.machine.beginTransaction(envelope(1)), ["250 ok", "250 ok", "354 go", "250 queued"])
        t.writes = []
        t.waits = []
        let end = t.run(t.machine.beginTransaction(envelope(1)), ["250 reset", "250 ok", "250 ok", "354 go", "250 queued"])
        XCTAssertEqual(t.writes.prefix(2), ["RSET\r\nMAIL FROM:<s@x>\r\n", "RCPT TO:<r0@y>\r\nDATA\r\n"])
        XCTAssertEqual(t.waits.prefix(4), [.command, .mail, .rcpt, .dataInitiation])
        XCTAssertEqual(transactionResult(end)?.message.kind, .accepted)
    }
}
