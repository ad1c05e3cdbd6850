import Foundation
import XCTest
import MailMessage
import SMTPProtocol
import SMTPTestSupport
@testable import SMTPTransport

/// Fault injection: a drop at every step, 421/451/452/554 at each command, slow, split and
/// malformed replies, timeouts, interrupt, TLS failure. Every fault ends either with a
/// result for each recipient or with an SMTPError that says whether to retry; never with
/// a message counted as delivered that the server did not accept.
final class FaultInjectionTests: XCTestCase {
    private func run(_ steps: [String: [ScriptStep]], ehlo: String? = nil, timeout: Double = 3,
                     relay configure: (inout SMTPRelay) -> Void = { _ in }) throws
        -> (Result<SMTPDeliveryResult, Error>, ScriptedSMTPServer, SMTPClient) {
        var script = ScriptedSMTPServer.Script(steps: steps)
        if let ehlo { script.ehloReply = ehlo }
        let server = try ScriptedSMTPServer(script: script)
        var relay = localRelay(port: server.port, timeout: timeout)
        configure(&relay)
        let client = SMTPClient(relay: relay)
        let result = Result { () throws -> SMTPDeliveryResult in
            try client.connect()
            return try client.send(envelope: envelope("b@example.test"), message: .bytes(sampleMessage))
        }
        return (result, server, client)
    }

    private func expectError(_ code: SMTPError.Code, transient: Bool = true, _ steps: [String: [ScriptStep]],
                             ehlo: String? = nil, timeout: Double = 3,
                             file: StaticString = #filePath, line: UInt = #line) throws -> ScriptedSMTPServer {
        let (result, server, client) = try run(steps, ehlo: ehlo, timeout: timeout)
        defer { server.stop() }
        switch result {
        case .success(let r):
            XCTFail("expected \(code), got \(r.message)", file: file, line: line)
        case .failure(let error):
            let e = try XCTUnwrap(error as? SMTPError, file: file, line: line)
            XCTAssertEqual(e.code, code, "\(e)", file: file, line: line)
            XCTAssertEqual(e.isTransient, transient, "\(e)", file: file, line: line)
            XCTAssertNotNil(e.relay, file: file, line: line)
        }
        XCTAssertFalse(client.isConnected, "the connection is closed after a failure", file: file, line: line)
        return server
    }

    func testDropAtEveryStep() throws {
        for event in ["GREETING", "EHLO", "MAIL", "RCPT", "DATA", "."] {
            let server = try expectError(.connectionClosed, [event: [.drop]])
            XCTAssertTrue(server.messages.count <= 1, event)
        }
        // A drop after 354, during the data, and after the final "." before the reply.
        _ = try expectError(.connectionClosed, ["DATA": [.replyThenDrop("354 go ahead")]])
        let afterDot = try expectError(.connectionClosed, [".": [.drop]])
        XCTAssertEqual(afterDot.messages.count, 1, "the server has the data but never said so: stays queued")
    }

    func testServiceClosingAtEachCommand() throws {
        for event in ["GREETING", "EHLO", "MAIL", "RCPT", "DATA", "."] {
            let code: SMTPError.Code = event == "GREETING" ? .greetingRejected : .serviceClosing
            let server = try expectError(code, [event: [.reply("421 4.3.2 Service shutting down")]])
            if event == "GREETING" { XCTAssertEqual(server.count("EHLO"), 0) }
        }
    }

    func testTransientAndPermanentRefusalsAtEachCommand() throws {
        let cases: [(String, String, SMTPOutcomeKind)] = [
            ("MAIL", "451 4.3.0 try later", .transient), ("MAIL", "554 5.7.1 sender refused", .permanent),
            ("RCPT", "452 4.2.2 mailbox full", .transient), ("RCPT", "554 5.7.1 relay denied", .permanent),
            ("DATA", "451 4.3.0 later", .transient), ("DATA", "554 5.5.0 no", .permanent),
            (".", "451 4.3.0 queue full", .transient), (".", "554 5.6.0 content refused", .permanent),
        ]
        for (event, reply, kind) in cases {
            let (result, server, client) = try run([event: [.reply(reply)]])
            defer { server.stop() }
            let r = try result.get()
            XCTAssertEqual(r.recipients[0].outcome.kind, kind, "\(event) \(reply)")
            XCTAssertEqual(r.recipients[0].outcome.reply?.verbatim, reply)
            XCTAssertEqual(r.message.kind, kind)
            XCTAssertTrue(client.isConnected, "a refusal is not a session failure")
            // The session is still usable for the next message.
            XCTAssertEqual(try client.send(envelope: envelope("c@example.test"), message: .bytes(sampleMessage)).message.kind, .accepted)
            client.quit()
        }
    }

    func testGreetingAndEHLORefusals() throws {
        _ = try expectError(.greetingRejected, transient: false, ["GREETING": [.reply("554 5.7.1 no service")]])
        _ = try expectError(.heloRejected, transient: false, ["EHLO": [.reply("500 no")], "HELO": [.reply("550 no")]])
        let (result, server, client) = try run(["EHLO": [.reply("502 5.5.1 EHLO not implemented")]])
        defer { server.stop() }
        XCTAssertEqual(try result.get().message.kind, .accepted, "HELO fallback")
        XCTAssertFalse(client.capabilities.isExtended)
        XCTAssertTrue(server.transcript().contains("HELO client.test\r\n"))
        XCTAssertFalse(server.transcript().contains("SIZE="), "no extensions after HELO")
    }

    func testSlowAndSplitReplies() throws {
        let (result, server, _) = try run([
            "GREETING": [.split(["2", "20 scripted", ".test ESMTP\r", "\n"], seconds: 0.02)],
            "EHLO": [.split(["250-scripted.test\r\n250-PIPE", "LINING\r\n250 8BIT", "MIME\r\n"], seconds: 0.02)],
            "MAIL": [.slow("250 2.1.0 slow but fine", seconds: 0.3)],
            ".": [.raw(Array("250-multi\n250 bare LF ok\n".utf8))],
        ])
        defer { server.stop() }
        let r = try result.get()
        XCTAssertEqual(r.message.kind, .accepted)
        XCTAssertEqual(r.message.reply?.lines, ["multi", "bare LF ok"])
    }

    func testSlowReplyBeyondTheTimeout() throws {
        let start = Date()
        _ = try expectError(.timeout, ["MAIL": [.slow("250 too late", seconds: 1.5)]], timeout: 0.5)
        _ = try expectError(.timeout, ["GREETING": [.silent]], timeout: 0.5)
        _ = try expectError(.timeout, [".": [.silent]], timeout: 0.5)
        XCTAssertLessThan(Date().timeIntervalSince(start), 6)
    }

    func testMalformedReplies() throws {
        _ = try expectError(.malformedReply, ["GREETING": [.raw(Array("hello there\r\n".utf8))]])
        _ = try expectError(.malformedReply, ["EHLO": [.raw(Array("250-a\r\n251 b\r\n".utf8))]])
        _ = try expectError(.malformedReply, ["RCPT": [.raw(Array("2500 what\r\n".utf8))]])
        _ = try expectError(.malformedReply, ["MAIL": [.raw(Array(repeating: UInt8(ascii: "2"), count: 10000) + [0x0D, 0x0A])]])
    }

    func testConnectionRefused() throws {
        let server = try ScriptedSMTPServer()
        let port = server.port
        server.stop()
        let client = SMTPClient(relay: localRelay(port: port))
        let e = assertSMTPError(.connect) { try client.connect() }
        XCTAssertEqual(e?.isTransient, true)
    }

    func testInterruptFromAnotherThread() throws {
        let server = try ScriptedSMTPServer(script: .init(steps: ["MAIL": [.silent]]))
        defer { server.stop() }
        let client = SMTPClient(relay: localRelay(port: server.port, timeout: 30))
        try client.connect()
        let start = Date()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { client.interrupt() }
        assertSMTPError(.interrupted) { try client.send(envelope: envelope("b@example.test"), message: .bytes(sampleMessage)) }
        XCTAssertLessThan(Date().timeIntervalSince(start), 3)
        XCTAssertFalse(client.isConnected)
        // A stale interrupt does not break the next operation.
        client.interrupt()
        try client.connect()
        XCTAssertEqual(try client.noop().code, 250)
        client.quit()
    }

    func testSTARTTLSRequiredButNotOffered() throws {
        let (result, server, _) = try run([:]) { $0.tls = .startTLS }
        defer { server.stop() }
        XCTAssertThrowsError(try result.get()) { XCTAssertEqual(($0 as? SMTPError)?.code, .tlsUnavailable) }
        XCTAssertFalse(server.transcript().contains("MAIL"), "never a downgrade to plaintext")
        XCTAssertEqual(server.count("STARTTLS"), 0)
    }

    func testSTARTTLSHandshakeFailure() throws {
        let (result, server, _) = try run(["STARTTLS": [.replyThenGarbage("220 2.0.0 go ahead")]],
                                          ehlo: "250-scripted.test\n250 STARTTLS") { $0.tls = .startTLS }
        defer { server.stop() }
        XCTAssertThrowsError(try result.get()) { XCTAssertEqual(($0 as? SMTPError)?.code, .tlsHandshake, "\($0)") }
        XCTAssertFalse(server.transcript().contains("MAIL"))
    }

    /// Plaintext bytes sent after "220" to STARTTLS must not be read as replies inside TLS
    /// (the client-side twin of CVE-2011-0411).
    func testSTARTTLSResponseInjection() throws {
        let (result, server, _) = try run(["STARTTLS": [.raw(Array("220 go ahead\r\n250 injected\r\n".utf8))]],
                                          ehlo: "250-scripted.test\n250 STARTTLS") { $0.tls = .startTLS }
        defer { server.stop() }
        XCTAssertThrowsError(try result.get()) { XCTAssertEqual(($0 as? SMTPError)?.code, .unexpectedReply, "\($0)") }
    }

    func testSTARTTLSRefused() throws {
        let (result, server, _) = try run(["STARTTLS": [.reply("454 4.7.0 TLS not available")]],
                                          ehlo: "250-scripted.test\n250 STARTTLS") { $0.tls = .startTLS }
        defer { server.stop() }
        XCTAssertThrowsError(try result.get()) { XCTAssertEqual(($0 as? SMTPError)?.code, .tlsRejected) }
    }

    func testCredentialsAreNotSentInClear() throws {
        let (result, server, _) = try run([:], ehlo: "250-scripted.test\n250 AUTH PLAIN LOGIN") {
            $0.auth = .auto
            $0.user = "user"
            $0.secretProvider = { Array("secret".utf8) }
        }
        defer { server.stop() }
        XCTAssertThrowsError(try result.get()) { XCTAssertEqual(($0 as? SMTPError)?.code, .plaintextAuthRefused) }
        XCTAssertFalse(server.transcript().contains("AUTH"))
        XCTAssertFalse(server.transcript().contains(Base64.encode(Array("secret".utf8))))
    }

    func testAuthWhenExplicitlyAllowedAndTraceIsRedacted() throws {
        let server = try ScriptedSMTPServer(script: .init(steps: ["AUTH": [.reply("334 VXNlcm5hbWU6")], "AUTHDATA": [.reply("334 UGFzc3dvcmQ6")]],
                                                          ehloReply: "250-scripted.test\n250 AUTH LOGIN"))
        defer { server.stop() }
        var relay = localRelay(port: server.port)
        relay.auth = .mechanism(.login)
        relay.user = "user"
        relay.secretProvider = { Array("s3cret".utf8) }
        relay.allowPlaintextAuth = true
        let log = ObserverLog()
        let client = SMTPClient(relay: relay, observers: log.observers)
        try client.connect()
        XCTAssertEqual(client.authenticatedMechanism, .login)
        XCTAssertTrue(log.statuses.contains(.authenticated(.login)))
        client.quit()
        XCTAssertTrue(server.transcript().contains("AUTH LOGIN\r\ndXNlcg==\r\nczNjcmV0\r\n"))
        XCTAssertTrue(log.trace.contains(">>> <redacted>"))
        XCTAssertFalse(log.trace.joined().contains("czNjcmV0"))
    }

    func testSecretProviderFailure() throws {
        let (result, server, _) = try run([:], ehlo: "250-scripted.test\n250 AUTH PLAIN") {
            $0.auth = .auto
            $0.user = "user"
            $0.secretProvider = { throw ScriptedServerErrorForTest() }
        }
        defer { server.stop() }
        XCTAssertThrowsError(try result.get()) { XCTAssertEqual(($0 as? SMTPError)?.code, .secretUnavailable) }
    }
}

private struct ScriptedServerErrorForTest: Error {}

/// BDAT faults: a refused chunk ends the data; a drop after the last chunk is an error.
final class ChunkingFaultTests: XCTestCase {
    private let ehlo = "250-scripted.test\n250-PIPELINING\n250-CHUNKING\n250 8BITMIME"

    func testRefusedChunkStopsTheData() throws {
        let server = try ScriptedSMTPServer(script: .init(steps: ["BDAT": [.reply("552 5.3.4 too big")]], ehloReply: ehlo))
        defer { server.stop() }
        let client = SMTPClient(relay: localRelay(port: server.port))
        try client.connect()
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 700_000)
        let r = try client.send(envelope: envelope("b@example.test"), message: .bytes(body))
        XCTAssertEqual(r.message.kind, .permanent)
        XCTAssertEqual(r.recipients[0].outcome.reply?.code, 552)
        XCTAssertEqual(server.count("BDAT"), 1, "no chunk after the refused one")
        // The next transaction starts with RSET and works.
        XCTAssertEqual(try client.send(envelope: envelope("c@example.test"), message: .bytes(sampleMessage)).message.kind, .accepted)
        client.quit()
        XCTAssertTrue(server.transcript().contains("RSET\r\n"))
    }

    func testLargeMessageInSeveralChunks() throws {
        let server = try ScriptedSMTPServer(script: .init(ehloReply: ehlo))
        defer { server.stop() }
        let client = SMTPClient(relay: localRelay(port: server.port))
        try client.connect()
        var body: [UInt8] = []
        for i in 0..<40_000 { body += Array("line \(i)\n".utf8) }
        let r = try client.send(envelope: envelope("b@example.test"), message: .bytes(body))
        client.quit()
        XCTAssertEqual(r.message.kind, .accepted)
        XCTAssertGreaterThan(server.count("BDAT"), 1)
        XCTAssertEqual(server.messages.first, DataEncoder.encodeAll(body, stuffDots: false))
    }

    func testDropAfterLastChunk() throws {
        let server = try ScriptedSMTPServer(script: .init(steps: ["BDAT": [.drop]], ehloReply: ehlo))
        defer { server.stop() }
        let client = SMTPClient(relay: localRelay(port: server.port))
        try client.connect()
        assertSMTPError(.connectionClosed) { try client.send(envelope: envelope("b@example.test"), message: .bytes(sampleMessage)) }
        XCTAssertEqual(server.messages.count, 1, "the server got the data, never confirmed it: stays queued")
    }
}
