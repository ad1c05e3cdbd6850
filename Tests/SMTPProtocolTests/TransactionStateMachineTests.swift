import XCTest
@testable import SMTPProtocol

/// Transcript tests for mail transactions: pipelined and not, DATA and BDAT, every refusal.
final class TransactionStateMachineTests: XCTestCase {
    private let two = SMTPEnvelope(sender: "s@x", recipients: [SMTPRecipient("a@y"), SMTPRecipient("b@y")])

    private func ready(_ ehlo: String = "250-mx\n250-PIPELINING\n250-8BITMIME\n250 SIZE 1000",
                       pipelining: Bool = true, chunking: Bool = true) -> Transcript {
        var t = Transcript(plainConfig(pipelining: pipelining, chunking: chunking))
        XCTAssertEqual(t.establish(ehlo: ehlo), .ready)
        t.sent = ""
        t.writes = []
        t.waits = []
        return t
    }

    func testPipelinedGroupAndPerRecipientResults() throws {
        var t = ready()
        let end = t.run(t.machine.beginTransaction(two), ["250 2.1.0 ok", "250 2.1.5 ok", "550 5.1.1 no such user", "354 go", "250 2.0.0 queued as X"])
        let result = try XCTUnwrap(transactionResult(end))
        XCTAssertEqual(t.writes.first, "MAIL FROM:<s@x>\r\nRCPT TO:<a@y>\r\nRCPT TO:<b@y>\r\nDATA\r\n", "one group (RFC 2920)")
        XCTAssertEqual(t.sent.hasSuffix("<BODY>"), true)
        XCTAssertEqual(result.recipients.map(\.outcome.kind), [.accepted, .permanent])
        XCTAssertEqual(result.recipients[0].outcome.diagnostic, "250 2.0.0 queued as X")
        XCTAssertEqual(result.recipients[1].outcome.enhancedStatus, EnhancedStatusCode(5, 1, 1))
        XCTAssertEqual(result.recipients[1].outcome.reply?.verbatim, "550 5.1.1 no such user")
        XCTAssertEqual(result.message.kind, .accepted)
        XCTAssertEqual(t.machine.phase, .ready)
        XCTAssertEqual(t.waits, [.mail, .rcpt, .rcpt, .dataInitiation],
                       "waits follow the pipelined replies")
    }

    func testNonPipelinedOneCommandAtATime() throws {
        var t = ready("250-mx\n250 8BITMIME")
        let end = t.run(t.machine.beginTransaction(two), ["250 ok", "250 ok", "250 ok", "354 go", "250 queued"])
        XCTAssertEqual(t.writes, ["MAIL FROM:<s@x>\r\n", "RCPT TO:<a@y>\r\n", "RCPT TO:<b@y>\r\n", "DATA\r\n"])
        XCTAssertEqual(try XCTUnwrap(transactionResult(end)).recipients.map(\.outcome.kind), [.accepted, .accepted])
        XCTAssertEqual(t.waits, [.mail, .rcpt, .rcpt, .dataInitiation])
    }

    func testNonPipelinedMailRefusedStops() throws {
        var t = ready("250-mx\n250 8BITMIME")
        let result = try XCTUnwrap(transactionResult(t.run(t.machine.beginTransaction(two), ["451 4.3.0 later"])))
        XCTAssertEqual(t.sent, "MAIL FROM:<s@x>\r\n")
        XCTAssertEqual(result.message.kind, .transient)
        XCTAssertEqual(result.recipients.map(\.outcome.kind), [.transient, .transient])
    }

    func testNonPipelinedNoRecipientAcceptedSendsNoDATA() throws {
        var t = ready("250-mx\n250 8BITMIME")
        let result = try XCTUnwrap(transactionResult(t.run(t.machine.beginTransaction(two), ["250 ok", "550 no", "452 4.2.2 full"])))
        XCTAssertFalse(t.sent.contains("DATA"))
        XCTAssertEqual(result.recipients.map(\.outcome.kind), [.permanent, .transient])
        XCTAssertEqual(result.message.kind, .transient, "a transient recipient keeps the message queued")
    }

    func testPipelinedMailRefused() throws {
        var t = ready()
        let result = try XCTUnwrap(transactionResult(t.run(t.machine.beginTransaction(two),
            ["553 5.7.1 sender refused", "503 5.5.1 need MAIL", "503 5.5.1 need MAIL", "503 5.5.1 need RCPT"])))
        XCTAssertEqual(result.message.reply?.code, 553)
        XCTAssertEqual(result.recipients.map(\.outcome.kind), [.permanent, .permanent])
        XCTAssertEqual(result.recipients[0].outcome.reply?.code, 553)
        XCTAssertFalse(t.sent.contains("<BODY>"))
    }

    func testPipelinedAllRefusedButDATAAcceptedSendsLoneDot() throws {
        var t = ready()
        let result = try XCTUnwrap(transactionResult(t.run(t.machine.beginTransaction(two),
            ["250 ok", "550 no", "550 no", "354 go", "554 no valid recipients"])))
        XCTAssertEqual(t.writes.last, ".\r\n")
        XCTAssertEqual(t.waits.last, .dataTermination)
        XCTAssertEqual(result.recipients.map(\.outcome.kind), [.permanent, .permanent])
        XCTAssertEqual(result.message.kind, .permanent)
    }

    func testDATARefused() throws {
        var t = ready()
        let result = try XCTUnwrap(transactionResult(t.run(t.machine.beginTransaction(two),
            ["250 ok", "250 ok", "250 ok", "451 4.3.0 try later"])))
        XCTAssertEqual(result.recipients.map(\.outcome.kind), [.transient, .transient])
        XCTAssertEqual(result.recipients[0].outcome.reply?.code, 451)
        var u = ready()
        let r2 = try XCTUnwrap(transactionResult(u.run(u.machine.beginTransaction(two), ["250 ok", "550 no", "503 no", "503 no"])))
        XCTAssertEqual(r2.recipients.map(\.outcome.kind), [.permanent, .permanent])
    }

    func testFinalReplyDecidesForAcceptedRecipients() throws {
        var t = ready()
        let result = try XCTUnwrap(transactionResult(t.run(t.machine.beginTransaction(two),
            ["250 ok", "250 ok", "550 no", "354 go", "554 5.6.0 content rejected"])))
        XCTAssertEqual(result.recipients.map(\.outcome.kind), [.permanent, .permanent])
        XCTAssertEqual(result.recipients[0].outcome.reply?.code, 554)
        XCTAssertEqual(result.recipients[1].outcome.reply?.code, 550)
        XCTAssertEqual(result.message.kind, .permanent)
    }

    func testServiceClosingMidTransactionFailsTheSession() {
        var t = ready()
        let f = failure(t.run(t.machine.beginTransaction(two), ["250 ok", "421 4.4.2 timeout"]))
        XCTAssertEqual(f?.kind, .serviceClosing)
        XCTAssertEqual(f?.isTransient, true)
        var u = ready()
        XCTAssertEqual(failure(u.run(u.machine.beginTransaction(two), ["250 ok", "250 ok", "250 ok", "354 go", "421 bye"]))?.kind, .serviceClosing)
    }

    func testSecondTransactionStartsWithRSET() throws {
        var t = ready()
        let one = SMTPEnvelope(sender: nil, recipients: [SMTPRecipient("a@y")])
        _ = t.run(t.machine.beginTransaction(one), ["250 ok", "250 ok", "354 go", "250 queued"])
        t.writes = []
        let end = t.run(t.machine.beginTransaction(one), ["250 reset", "250 ok", "250 ok", "354 go", "250 queued"])
        XCTAssertEqual(t.writes.first, "RSET\r\nMAIL FROM:<>\r\nRCPT TO:<a@y>\r\nDATA\r\n")
        XCTAssertEqual(transactionResult(end)?.message.kind, .accepted)
        var u = ready()
        _ = u.run(u.machine.beginTransaction(one), ["250 ok", "250 ok", "354 go", "250 queued"])
        XCTAssertEqual(failure(u.run(u.machine.beginTransaction(one), ["500 what"]))?.kind, .unexpectedReply)
    }

    func testNonPipelinedRSETIsItsOwnStep() {
        var t = ready("250-mx\n250 8BITMIME")
        let one = SMTPEnvelope(sender: nil, recipients: [SMTPRecipient("a@y")])
        _ = t.run(t.machine.beginTransaction(one), ["250 ok", "250 ok", "354 go", "250 queued"])
        t.writes = []
        _ = t.run(t.machine.beginTransaction(one), ["250 reset", "250 ok", "250 ok", "354 go", "250 queued"])
        XCTAssertEqual(t.writes, ["RSET\r\n", "MAIL FROM:<>\r\n", "RCPT TO:<a@y>\r\n", "DATA\r\n"])
    }

    func testBDATWhenChunkingOffered() throws {
        var t = ready("250-mx\n250-PIPELINING\n250-CHUNKING\n250 8BITMIME")
        var action = t.run(t.machine.beginTransaction(two), ["250 ok", "250 ok", "250 ok"])
        XCTAssertEqual(action, .sendBody(.chunked(binary: false)))
        XCTAssertEqual(t.writes.first, "MAIL FROM:<s@x>\r\nRCPT TO:<a@y>\r\nRCPT TO:<b@y>\r\n")
        action = t.machine.receive(Transcript.reply("250 2.0.0 queued"))
        XCTAssertEqual(transactionResult(action)?.message.kind, .accepted)
        var u = ready("250-mx\n250-CHUNKING\n250 8BITMIME", chunking: false)
        _ = u.run(u.machine.beginTransaction(two), ["250 ok", "250 ok", "250 ok", "354 go"])
        XCTAssertTrue(u.sent.hasSuffix("DATA\r\n<BODY>"), "useChunking false keeps DATA")
    }

    func testBDATWithNoRecipientAcceptedSendsNothing() throws {
        var t = ready("250-mx\n250-PIPELINING\n250 CHUNKING")
        let result = try XCTUnwrap(transactionResult(t.run(t.machine.beginTransaction(two), ["250 ok", "550 no", "550 no"])))
        XCTAssertEqual(result.message.kind, .permanent)
        XCTAssertFalse(t.sent.contains("<CHUNKS>"))
    }

    func testBinaryNeedsBINARYMIMEAndCHUNKING() throws {
        var env = two
        env.body = .binaryMIME
        var t = ready("250-mx\n250 CHUNKING")
        let r = try XCTUnwrap(transactionResult(t.machine.beginTransaction(env)))
        XCTAssertEqual(r.message.enhancedStatus, EnhancedStatusCode(5, 6, 3))
        XCTAssertEqual(t.sent, "")
        var u = ready("250-mx\n250-CHUNKING\n250 BINARYMIME", chunking: false)
        XCTAssertEqual(u.run(u.machine.beginTransaction(env), ["250 ok", "250 ok", "250 ok"]), .sendBody(.chunked(binary: true)))
        XCTAssertTrue(u.sent.hasPrefix("MAIL FROM:<s@x> BODY=BINARYMIME\r\n"))
    }

    func testSizeRefusedBeforeMAIL() throws {
        var t = ready()
        var env = two
        env.messageSize = 1001
        let r = try XCTUnwrap(transactionResult(t.machine.beginTransaction(env)))
        XCTAssertEqual(r.message.kind, .permanent)
        XCTAssertEqual(r.message.enhancedStatus, EnhancedStatusCode(5, 3, 4))
        XCTAssertTrue(r.message.diagnostic.contains("1000"))
        XCTAssertEqual(t.sent, "")
        env.messageSize = 1000
        _ = t.run(t.machine.beginTransaction(env), [])
        XCTAssertTrue(t.sent.hasPrefix("MAIL FROM:<s@x> SIZE=1000\r\n"))
    }

    func testSMTPUTF8() throws {
        let env = SMTPEnvelope(sender: "s@x", recipients: [SMTPRecipient("jörg@bücher.example")])
        var t = ready()
        let r = try XCTUnwrap(transactionResult(t.machine.beginTransaction(env)))
        XCTAssertEqual(r.message.enhancedStatus, EnhancedStatusCode(5, 6, 7))
        XCTAssertTrue(r.recipients[0].outcome.diagnostic.contains("SMTPUTF8"))
        XCTAssertEqual(t.sent, "")
        var u = ready("250-mx\n250-PIPELINING\n250 SMTPUTF8")
        _ = u.run(u.machine.beginTransaction(env), [])
        XCTAssertEqual(u.sent, "MAIL FROM:<s@x> SMTPUTF8\r\nRCPT TO:<jörg@bücher.example>\r\nDATA\r\n")
        var flagged = two
        flagged.requiresSMTPUTF8 = true
        var v = ready()
        XCTAssertEqual(transactionResult(v.machine.beginTransaction(flagged))?.message.enhancedStatus, EnhancedStatusCode(5, 6, 7))
    }

    /// UTF-8 header fields prefer SMTPUTF8 (RFC 6531 3.4): asked for when offered, and when
    /// not, the message still goes (Postfix does the same); addresses still require it.
    func testSMTPUTF8PreferredForUTF8Header() throws {
        var env = two
        env.prefersSMTPUTF8 = true
        env.body = .eightBitMIME
        var offered = ready("250-mx\n250-PIPELINING\n250-8BITMIME\n250 SMTPUTF8")
        _ = offered.run(offered.machine.beginTransaction(env), [])
        XCTAssertEqual(offered.sent, "MAIL FROM:<s@x> BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<a@y>\r\nRCPT TO:<b@y>\r\nDATA\r\n")
        var without = ready()
        XCTAssertNil(transactionResult(without.run(without.machine.beginTransaction(env), [])), "not refused")
        XCTAssertEqual(without.sent, "MAIL FROM:<s@x> BODY=8BITMIME\r\nRCPT TO:<a@y>\r\nRCPT TO:<b@y>\r\nDATA\r\n")
        var utf8Address = SMTPEnvelope(sender: "s@x", recipients: [SMTPRecipient("jörg@bücher.example")])
        utf8Address.prefersSMTPUTF8 = true
        var refused = ready()
        XCTAssertEqual(transactionResult(refused.machine.beginTransaction(utf8Address))?.message.enhancedStatus,
                       EnhancedStatusCode(5, 6, 7))
    }

    func testEightBit() throws {
        var env = two
        env.body = .eightBitMIME
        var t = ready("250-mx\n250 PIPELINING")
        XCTAssertEqual(transactionResult(t.machine.beginTransaction(env))?.message.enhancedStatus, EnhancedStatusCode(5, 6, 3))
        var u = ready()
        _ = u.run(u.machine.beginTransaction(env), [])
        XCTAssertTrue(u.sent.hasPrefix("MAIL FROM:<s@x> BODY=8BITMIME\r\n"))
    }

    func testDSNParametersOnlyWhenOffered() {
        let env = SMTPEnvelope(sender: "s@x", recipients: [SMTPRecipient("a@y", notify: [.failure, .delay], originalRecipient: "a@y")],
                               ret: .headers, envelopeID: "Q123")
        var t = ready()
        _ = t.run(t.machine.beginTransaction(env), [])
        XCTAssertEqual(t.sent, "MAIL FROM:<s@x>\r\nRCPT TO:<a@y>\r\nDATA\r\n")
        var u = ready("250-mx\n250-PIPELINING\n250 DSN")
        _ = u.run(u.machine.beginTransaction(env), [])
        XCTAssertEqual(u.sent, "MAIL FROM:<s@x> RET=HDRS ENVID=Q123\r\nRCPT TO:<a@y> NOTIFY=FAILURE,DELAY ORCPT=rfc822;a@y\r\nDATA\r\n")
    }

    func testBadArgumentsAndNoRecipients() throws {
        var t = ready()
        let bad = SMTPEnvelope(sender: "s@x", recipients: [SMTPRecipient("a@y\r\nRCPT TO:<evil@z>")])
        let r = try XCTUnwrap(transactionResult(t.machine.beginTransaction(bad)))
        XCTAssertEqual(r.message.kind, .permanent)
        XCTAssertEqual(t.sent, "")
        XCTAssertEqual(t.machine.phase, .ready)
        let none = SMTPEnvelope(sender: "s@x", recipients: [])
        XCTAssertEqual(transactionResult(t.machine.beginTransaction(none))?.message.kind, .permanent)
    }

    func testQuitDuringTransaction() {
        var t = ready()
        _ = t.run(t.machine.beginTransaction(two), ["250 ok"])
        XCTAssertEqual(t.machine.phase, .transaction)
        XCTAssertEqual(t.run(t.machine.quit(), ["221 bye"]), .close)
    }
}
