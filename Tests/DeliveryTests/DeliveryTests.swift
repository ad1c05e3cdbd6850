import XCTest
import Foundation
import MailQueue
import SMTPTestSupport
@testable import SendmailKit

/// The queue runner against the scripted SMTP server: every fault ends with the message
/// delivered once, or still queued with a reason; never lost.
final class DeliveryTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "sealmail-delivery-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// A runtime whose relays are the given ports on 127.0.0.1 (plain SMTP).
    func runtime(ports: [UInt16], extra: String = "", commandTimeout: Int = 5, relayExtra: String = "") throws -> Runtime {
        var text = "hostname = \"host.example.com\"\ndomain = \"example.com\"\nqueue_dir = \"\(dir!)/q\"\n\(extra)\n"
        for p in ports {
            text += "[[relay]]\nhost = \"127.0.0.1\"\nport = \(p)\ntls = \"none\"\nconnect_timeout = 5\n"
                + "command_timeout = \(commandTimeout)\ndata_timeout = 5\n\(relayExtra)\n"
        }
        let path = dir + "/cfg.toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try Runtime.load(configOption: path, verbose: false)
    }

    /// Queues a message through the real submission pipeline (stdin from a pipe).
    @discardableResult
    func queue(_ rt: Runtime, _ text: String = "To: a@x.example, b@y.example\nSubject: test\n\nbody\n.\nmore\n",
               sender: String = "sender@example.com", args: [String] = ["-t", "-i"]) throws -> QueuedEnvelope {
        var opts = try SendmailOptions.parse(args + ["-f", sender])
        opts.deliveryMode = .queue
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
        close(fds[1])
        defer { close(fds[0]) }
        return try Submission.submit(opts, runtime: rt, inputFD: fds[0]).envelope
    }

    /// Queues raw octets (for input that is not UTF-8).
    func queueBytes(_ rt: Runtime, _ bytes: [UInt8], sender: String = "sender@example.com") throws -> QueuedEnvelope {
        var opts = try SendmailOptions.parse(["-t", "-i", "-f", sender])
        opts.deliveryMode = .queue
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        _ = bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
        close(fds[1])
        defer { close(fds[0]) }
        return try Submission.submit(opts, runtime: rt, inputFD: fds[0]).envelope
    }

    func run(_ rt: Runtime, report: Bool = false) throws -> [String: MessageReport] {
        var o = QueueRunOptions()
        o.reportPermanentFailures = report
        o.connections = 2
        return try QueueRunner(runtime: rt, options: o).run()
    }

    func queued(_ rt: Runtime) throws -> [String] { try rt.spool.list() }

    func testDeliversAndRemoves() throws {
        let server = try ScriptedSMTPServer()
        let rt = try runtime(ports: [server.port])
        let e = try queue(rt)
        let reports = try run(rt)
        XCTAssertEqual(reports[e.id]?.accepted, ["a@x.example", "b@y.example"])
        XCTAssertEqual(try queued(rt), [])
        XCTAssertEqual(server.messages.count, 1)
        let data = String(decoding: server.messages[0], as: UTF8.self)
        XCTAssertTrue(data.contains("Subject: test\r\n"))
        XCTAssertTrue(data.contains("\r\n..\r\nmore\r\n"), "lone dot must be stuffed on the wire:\n\(data)")
        XCTAssertTrue(server.transcript().contains("MAIL FROM:<sender@example.com>"))
    }

    /// compat/KNOWN-DIFFERENCES.md `smtputf8-not-requested` and `long-lines-unbroken`, end to
    /// end: a raw UTF-8 Subject asks for SMTPUTF8 (offered by the scripted server); a body
    /// line and a header word of 1500 octets leave in lines of at most 998.
    func testUTF8HeaderAndLongLinesThroughTheQueue() throws {
        let server = try ScriptedSMTPServer()
        let rt = try runtime(ports: [server.port])
        let z = String(repeating: "z", count: 1500), x = String(repeating: "x", count: 1500)
        let e = try queue(rt, "To: a@x.example\nSubject: café über 日本\nX-Long: \(z)\n\n\(x)\nshort\n")
        XCTAssertTrue(e.eightBitHeader)
        XCTAssertTrue(e.hasLongLines)
        let reports = try run(rt)
        XCTAssertEqual(reports[e.id]?.accepted, ["a@x.example"])
        XCTAssertTrue(server.transcript().contains(" BODY=8BITMIME SMTPUTF8\r\n"), server.transcript())
        let data = String(decoding: server.messages[0], as: UTF8.self)
        XCTAssertFalse(data.components(separatedBy: "\r\n").contains { $0.utf8.count > 998 }, data)
        XCTAssertTrue(data.contains("Subject: café über 日本\r\n"))
        XCTAssertTrue(data.contains("Content-Transfer-Encoding: quoted-printable\r\n"))
    }

    /// A body with NUL (flagged at submission) leaves quoted-printable, without a NUL on the
    /// wire: the queue's flag reaches the transport (the old run sent the NUL as it was).
    func testNULInTheBodyIsEncodedThroughTheQueue() throws {
        let server = try ScriptedSMTPServer()
        let rt = try runtime(ports: [server.port])
        let e = try queue(rt, "To: a@x.example\nSubject: nul\n\nbefore\n\u{0}.\nafter\n")
        XCTAssertTrue(e.hasNUL)
        let reports = try run(rt)
        XCTAssertEqual(reports[e.id]?.accepted, ["a@x.example"])
        XCTAssertEqual(server.messages.count, 1)
        XCTAssertFalse(server.messages[0].contains(0), "NUL on the wire")
        let data = String(decoding: server.messages[0], as: UTF8.self)
        XCTAssertTrue(data.contains("Content-Transfer-Encoding: quoted-printable\r\n\r\nbefore\r\n=00.\r\nafter\r\n"), data)
    }

    /// Through the queue (the header rewritten, the body still streamed from the file) to a
    /// relay with neither 8BITMIME nor SMTPUTF8: no 8-bit octet leaves, the Subject that is not
    /// UTF-8 goes as `unknown-8bit` encoded words; a Received with an 8-bit comment is refused.
    func testEightBitHeaderThroughTheQueueToASevenBitRelay() throws {
        let server = try ScriptedSMTPServer(script: .init(ehloReply: "250-scripted.test\n250-PIPELINING\n250 ENHANCEDSTATUSCODES"))
        let rt = try runtime(ports: [server.port])
        var input: [UInt8] = Array("To: a@x.example\nFrom: Jürgen <j@example.com>\nSubject: ".utf8) + [0xFF, 0xFE, 0xC3, 0x28]
        input += Array("\n\nbody é\n".utf8)
        let raw = try queueBytes(rt, input)
        XCTAssertTrue(raw.eightBitHeader)
        let reports = try run(rt)
        XCTAssertEqual(reports[raw.id]?.accepted, ["a@x.example"], "\(reports)")
        XCTAssertEqual(server.messages.count, 1)
        let data = server.messages[0]
        XCTAssertFalse(data.contains { $0 >= 0x80 }, String(decoding: data, as: UTF8.self))
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(text.contains("Subject: =?unknown-8bit?B?//7DKA==?=\r\n"), text)
        XCTAssertTrue(text.contains("From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.com>\r\n"), text)

        let refused = try queueBytes(rt, Array("To: a@x.example\nReceived: from h (höst) by x; Mon, 1 Jan 2024 00:00:00 +0000\nSubject: s\n\nbody\n".utf8))
        let second = try run(rt, report: true)
        XCTAssertEqual(second[refused.id]?.failed.first?.status, "5.6.9", "\(second)")
        XCTAssertTrue(second[refused.id]?.failed.first?.reason.contains("Received") ?? false, "\(second)")
        XCTAssertEqual(server.messages.count, 1, "nothing more sent")
    }

    /// A relay that trickles its replies one octet a second, each within command_timeout:
    /// the attempt ends at the relay's delivery_timeout (3 s), the message stays queued with
    /// a reason that names it, and the run does not wait on (the old run took minutes).
    func testDeliveryTimeoutEndsATricklingSession() throws {
        let server = try ScriptedSMTPServer(script: .init(secondsPerReplyOctet: 1))
        defer { server.stop() }
        let rt = try runtime(ports: [server.port], commandTimeout: 300, relayExtra: "delivery_timeout = 3")
        let e = try queue(rt)
        let start = Date()
        let reports = try run(rt)
        XCTAssertLessThan(Date().timeIntervalSince(start), 6)
        XCTAssertEqual(reports[e.id]?.deferred.count, 2)
        XCTAssertEqual(try queued(rt), [e.id])
        let reason = try rt.spool.state(e.id).recipients[0]?.reason ?? ""
        XCTAssertTrue(reason.contains("delivery_timeout (3 s)"), reason)
    }

    /// The run's time limit (-odi's interactive_timeout) cuts the attempt short: every copy
    /// stays queued, the reason says so, and no copy after the limit is tried.
    func testRunTimeLimitLeavesTheMessagesQueued() throws {
        let server = try ScriptedSMTPServer(script: .init(secondsPerReplyOctet: 1))
        defer { server.stop() }
        let rt = try runtime(ports: [server.port], commandTimeout: 300)
        let first = try queue(rt), second = try queue(rt)
        var o = QueueRunOptions()
        o.ids = [first.id, second.id]
        o.connections = 1
        o.reportPermanentFailures = true
        o.timeLimit = 2
        let start = Date()
        let reports = try QueueRunner(runtime: rt, options: o).run()
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertEqual(Set(try queued(rt)), [first.id, second.id])
        for id in [first.id, second.id] {
            let reason = try rt.spool.state(id).recipients[0]?.reason ?? ""
            XCTAssertTrue(reason.contains("interactive_timeout") && reason.contains("next queue run"), "\(id): \(reason)")
            XCTAssertTrue(reports[id]?.deferred.allSatisfy { $0.reason.contains("interactive_timeout") } ?? false)
        }
        XCTAssertEqual(server.connections.count, 1, "the second copy was not tried after the limit")
    }

    func testConnectionReusedAcrossMessagesWithOneSession() throws {
        let server = try ScriptedSMTPServer()
        let rt = try runtime(ports: [server.port])
        for _ in 0..<5 { try queue(rt) }
        var o = QueueRunOptions()
        o.connections = 1
        try QueueRunner(runtime: rt, options: o).run()
        XCTAssertEqual(server.messages.count, 5)
        XCTAssertEqual(server.connections.count, 1, "one session for the whole run")
        XCTAssertEqual(try queued(rt), [])
    }

    /// A drop or a temporary error at every step: the message stays queued with a reason,
    /// and a later run delivers it exactly once.
    func testEveryTransientFaultKeepsTheMessage() throws {
        let faults: [(String, ScriptStep)] = [
            ("GREETING", .drop), ("GREETING", .reply("421 4.3.2 not now")), ("EHLO", .drop),
            ("EHLO", .reply("421 4.3.2 closing")), ("MAIL", .drop), ("MAIL", .reply("451 4.3.0 try later")),
            ("MAIL", .reply("452 4.3.1 no space")), ("RCPT", .drop), ("RCPT", .reply("451 4.7.1 greylisted")),
            ("DATA", .drop), ("DATA", .reply("451 4.3.0 later")), (".", .drop), (".", .reply("451 4.3.0 queue full")),
            ("GREETING", .reply("421 4.3.2 busy")), ("DATA", .replyThenDrop("354 go ahead")),
        ]
        for (event, step) in faults {
            let server = try ScriptedSMTPServer(script: .init(steps: [event: [step]]))
            let rt = try runtime(ports: [server.port])
            try? FileManager.default.removeItem(atPath: dir + "/q")
            let e = try queue(rt, "To: a@x.example\nSubject: fault \(event)\n\nbody\n")
            try run(rt)
            XCTAssertEqual(try queued(rt), [e.id], "\(event) \(step): message lost")
            let state = try rt.spool.state(e.id)
            XCTAssertEqual(state.recipients[0]?.status, .deferred, "\(event) \(step)")
            XCTAssertFalse(state.recipients[0]?.reason.isEmpty ?? true)
            XCTAssertEqual(state.attempts, 1)
            XCTAssertNotNil(state.nextAttemptMicros)
            let before = server.messages.count
            try run(rt)  // forced: the script is used up, the server now accepts
            XCTAssertEqual(try queued(rt), [], "\(event) \(step): not delivered on retry")
            XCTAssertEqual(server.messages.count, before + 1, "\(event) \(step): delivered more than once")
            server.stop()
        }
    }

    func testNextRelayOnConnectionFailureOrTemporaryGreeting() throws {
        let busy = try ScriptedSMTPServer(script: .init(steps: ["GREETING": [.reply("421 4.3.2 too busy")]]))
        let good = try ScriptedSMTPServer()
        // port 1 on loopback refuses connections
        let rt = try runtime(ports: [1, busy.port, good.port])
        let e = try queue(rt)
        let reports = try run(rt)
        XCTAssertEqual(reports[e.id]?.accepted.count, 2)
        XCTAssertEqual(good.messages.count, 1)
        XCTAssertEqual(busy.messages.count, 0)
    }

    func testMixedRecipientResults() throws {
        let server = try ScriptedSMTPServer(script: .init(steps: [
            "RCPT": [.reply("250 2.1.5 ok"), .reply("450 4.2.1 mailbox busy"), .reply("550 5.1.1 no such user")]]))
        let rt = try runtime(ports: [server.port])
        let e = try queue(rt, "To: ok@x.example, busy@x.example, gone@x.example\nSubject: mixed\n\nbody\n")
        let r = try XCTUnwrap(try run(rt)[e.id])
        XCTAssertEqual(r.accepted, ["ok@x.example"])
        XCTAssertEqual(r.deferred.map(\.address), ["busy@x.example"])
        XCTAssertEqual(r.failed.map(\.address), ["gone@x.example"])
        // Still queued for the deferred recipient only, with the relay's reason for mailq.
        XCTAssertTrue(try queued(rt).contains(e.id))
        let entries = try QueueListing.entries(rt.spool, visibleTo: nil).entries
        let entry = try XCTUnwrap(entries.first { $0.envelope.id == e.id })
        XCTAssertEqual(entry.pendingRecipients.map(\.address), ["busy@x.example"])
        XCTAssertTrue(entry.pendingRecipients[0].reason?.contains("450 4.2.1 mailbox busy") ?? false)
        XCTAssertTrue(QueueListing.mailq(entries, utcOffset: 0).contains("450 4.2.1 mailbox busy"))
        // The 5xx recipient was bounced to the sender: an RFC 3464 report with the null sender.
        let bounce = try XCTUnwrap(server.messages.map { String(decoding: $0, as: UTF8.self) }
            .first { $0.contains("multipart/report") })
        XCTAssertTrue(bounce.contains("report-type=delivery-status"))
        XCTAssertTrue(bounce.contains("Final-Recipient: rfc822; gone@x.example"))
        XCTAssertTrue(bounce.contains("Status: 5.1.1"))
        XCTAssertTrue(bounce.contains("Action: failed"))
        XCTAssertTrue(bounce.contains("Subject: mixed"), "original message returned")
        XCTAssertTrue(server.transcript(server.connections.count - 1).contains("MAIL FROM:<>")
                      || server.connections.map { String(decoding: $0, as: UTF8.self) }.joined().contains("MAIL FROM:<>"))
    }

    func testNoBounceForNullSenderOrWhenReported() throws {
        let server = try ScriptedSMTPServer(script: .init(steps: ["RCPT": [.reply("550 5.1.1 no"), .reply("550 5.1.1 no")]]))
        let rt = try runtime(ports: [server.port])
        try queue(rt, "To: a@x.example\n\nbody\n", sender: "")
        try run(rt)
        try queue(rt, "To: a@x.example\n\nbody\n")
        try run(rt, report: true)
        // (The scripted server accepts a pipelined DATA after refused recipients, so it may
        // record empty transmissions; what matters is that no report went out.)
        XCTAssertFalse(server.messages.contains { String(decoding: $0, as: UTF8.self).contains("multipart/report") },
                       "no bounce may be sent")
        let transcripts = server.connections.map { String(decoding: $0, as: UTF8.self) }.joined()
        XCTAssertEqual(transcripts.components(separatedBy: "MAIL FROM:<>").count - 1, 1, "only the original null-sender message")
        XCTAssertEqual(try queued(rt), [])
    }

    func testExpiredMessageIsBounced() throws {
        let server = try ScriptedSMTPServer()
        let rt = try runtime(ports: [server.port], extra: "max_queue_lifetime = 1")
        let e = try queue(rt)
        usleep(1_100_000)
        try run(rt)
        XCTAssertFalse(try queued(rt).contains(e.id))
        XCTAssertEqual(server.messages.count, 1, "only the bounce goes out")
        let bounce = String(decoding: server.messages[0], as: UTF8.self)
        XCTAssertTrue(bounce.contains("Status: 4.4.7"))
        XCTAssertTrue(bounce.contains("To: <sender@example.com>"))
    }

    func testNoRelayConfiguredDefers() throws {
        let rt = try runtime(ports: [])
        let e = try queue(rt)
        try run(rt)
        XCTAssertEqual(try queued(rt), [e.id])
        XCTAssertTrue(try rt.spool.state(e.id).recipients[0]!.reason.contains("no relay configured"))
    }

    func testBusyLockedMessageIsSkipped() throws {
        let server = try ScriptedSMTPServer()
        let rt = try runtime(ports: [server.port])
        let e = try queue(rt)
        let lock = try XCTUnwrap(try rt.spool.lock(e.id))
        try run(rt)
        XCTAssertEqual(server.messages.count, 0, "a locked message belongs to another runner")
        lock.unlock()
        try run(rt)
        XCTAssertEqual(server.messages.count, 1)
    }

    /// `-odi`/`-odb` deliver every queue file of a submission (the S/MIME policy's copies),
    /// over one connection, and report their recipients together; a copy another runner
    /// holds stays queued and is reported as not delivered.
    func testDeliverNowDeliversEveryCopyAndMergesTheReports() throws {
        let server = try ScriptedSMTPServer()
        let rt = try runtime(ports: [server.port])
        let first = try queue(rt, "To: a@x.example\nSubject: copy 1\n\nbody\n")
        let second = try queue(rt, "To: b@y.example\nSubject: copy 2\n\nbody\n")
        let report = try XCTUnwrap(Delivery.deliverNow([first.id, second.id], rt, trace: false, report: true))
        XCTAssertEqual(report.accepted, ["a@x.example", "b@y.example"])
        XCTAssertTrue(report.deferred.isEmpty && report.failed.isEmpty)
        XCTAssertEqual(server.messages.count, 2)
        XCTAssertEqual(server.connections.count, 1, "one connection for the copies")
        XCTAssertEqual(try queued(rt), [])

        let third = try queue(rt, "To: c@z.example\nSubject: copy 3\n\nbody\n")
        let fourth = try queue(rt, "To: d@z.example\nSubject: copy 4\n\nbody\n")
        let lock = try XCTUnwrap(try rt.spool.lock(fourth.id))
        defer { lock.unlock() }
        let partial = try XCTUnwrap(Delivery.deliverNow([third.id, fourth.id], rt, trace: false, report: true))
        XCTAssertEqual(partial.accepted, ["c@z.example"])
        XCTAssertEqual(partial.deferred.map(\.address), [fourth.id], "the busy copy is not said to be delivered")
        XCTAssertEqual(try queued(rt), [fourth.id])
        XCTAssertNil(Delivery.merged([:], ids: [third.id]), "nothing attempted: no report")
    }

    func testRetryScheduleIsHonouredWhenNotForced() throws {
        let server = try ScriptedSMTPServer(script: .init(steps: ["MAIL": [.reply("451 4.3.0 later")]]))
        let rt = try runtime(ports: [server.port])
        let e = try queue(rt)
        try run(rt)
        var o = QueueRunOptions()
        o.force = false
        try QueueRunner(runtime: rt, options: o).run()
        XCTAssertEqual(try queued(rt), [e.id], "not due yet: left alone")
        XCTAssertEqual(server.count("MAIL"), 1)
    }

    func testRetryBackoff() {
        let s = RetrySchedule()
        XCTAssertEqual(s.nextAttempt(afterAttempts: 1, nowMicros: 0), 300_000_000)
        XCTAssertEqual(s.nextAttempt(afterAttempts: 2, nowMicros: 0), 600_000_000)
        XCTAssertEqual(s.nextAttempt(afterAttempts: 10, nowMicros: 0), 4_000_000_000)
    }
}
