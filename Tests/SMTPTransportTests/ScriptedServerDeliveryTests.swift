import Foundation
import XCTest
import SMTPProtocol
import SMTPTestSupport
@testable import SMTPTransport

/// SMTPClient against the scripted server: the normal path, reuse, sources, observers.
final class ScriptedServerDeliveryTests: XCTestCase {
    func testSendsOneMessageWithPerRecipientResults() throws {
        let server = try ScriptedSMTPServer(script: .init(steps: ["RCPT": [.reply("250 2.1.5 Ok"), .reply("550 5.1.1 <nobody@example.test>: unknown")]]))
        defer { server.stop() }
        let log = ObserverLog()
        let client = SMTPClient(relay: localRelay(port: server.port), observers: log.observers)
        try client.connect()
        XCTAssertTrue(client.isConnected)
        XCTAssertTrue(client.capabilities.pipelining)
        let result = try client.send(envelope: envelope("b@example.test", "nobody@example.test"), message: .bytes(sampleMessage))
        client.quit()
        XCTAssertFalse(client.isConnected)
        XCTAssertEqual(result.recipients.map(\.outcome.kind), [.accepted, .permanent])
        XCTAssertEqual(result.recipients[1].outcome.reply?.verbatim, "550 5.1.1 <nobody@example.test>: unknown")
        XCTAssertEqual(result.recipients[1].outcome.enhancedStatus, EnhancedStatusCode(5, 1, 1))
        XCTAssertEqual(result.message.diagnostic, "250 2.0.0 Ok: queued as SCRIPTED")
        XCTAssertEqual(result.relay.description, "127.0.0.1[127.0.0.1]:\(server.port)")
        XCTAssertEqual(server.messages.first.map { String(decoding: $0, as: UTF8.self) },
                       "From: a@client.test\r\nTo: b@example.test\r\nSubject: test\r\n\r\nHello.\r\n..leading dot\r\n")
        XCTAssertTrue(server.transcript().contains("MAIL FROM:<sender@client.test> SIZE=\(sampleMessage.count)\r\nRCPT TO:<b@example.test>\r\nRCPT TO:<nobody@example.test>\r\nDATA\r\n"))
        XCTAssertTrue(server.transcript().hasSuffix("QUIT\r\n"))
        XCTAssertEqual(log.statuses.first, .connecting(host: "127.0.0.1", port: server.port))
        XCTAssertTrue(log.statuses.contains(.ready))
        XCTAssertEqual(log.statuses.last, .disconnected)
        XCTAssertEqual(log.progress.last, SMTPTransferProgress(bytesSent: Int64(sampleMessage.count), totalBytes: Int64(sampleMessage.count)))
        XCTAssertTrue(log.trace.contains(">>> DATA"))
        XCTAssertTrue(log.trace.contains("<<< 250 2.0.0 Ok: queued as SCRIPTED"))
    }

    func testReusesTheConnectionWithRSET() throws {
        let server = try ScriptedSMTPServer()
        defer { server.stop() }
        let client = SMTPClient(relay: localRelay(port: server.port))
        try client.connect()
        for i in 0..<3 {
            let r = try client.send(envelope: envelope("r\(i)@example.test"), message: .bytes(sampleMessage))
            XCTAssertEqual(r.message.kind, .accepted)
        }
        client.quit()
        XCTAssertEqual(server.connections.count, 1)
        XCTAssertEqual(server.messages.count, 3)
        XCTAssertEqual(server.count("RSET"), 2)
        XCTAssertTrue(server.transcript().contains("RSET\r\nMAIL FROM:<sender@client.test>"))
    }

    func testFileDescriptorSourceAndLargeMessage() throws {
        let server = try ScriptedSMTPServer()
        defer { server.stop() }
        var body = Array("Subject: big\n\n".utf8)
        for i in 0..<20000 { body += Array("line \(i) with bare LF\n".utf8); if i % 1000 == 0 { body += Array(".\n".utf8) } }
        let path = NSTemporaryDirectory() + "sealmail-smtp-\(getpid()).msg"
        let prefix = Array("JUNK".utf8)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(prefix + body)))
        defer { unlink(path) }
        let fd = open(path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let client = SMTPClient(relay: localRelay(port: server.port))
        try client.connect()
        let r = try client.send(envelope: envelope("b@example.test"),
                                message: .file(descriptor: fd, offset: Int64(prefix.count), length: Int64(body.count)))
        client.quit()
        XCTAssertEqual(r.message.kind, .accepted)
        let received = try XCTUnwrap(server.messages.first)
        XCTAssertEqual(received, DataEncoder.encodeAll(body).dropLast(3).map { $0 }, "CRLF everywhere, dots stuffed")
    }

    func testBDATWhenChunkingIsOffered() throws {
        let server = try ScriptedSMTPServer(script: .init(ehloReply: "250-scripted.test\n250-PIPELINING\n250-CHUNKING\n250 8BITMIME"))
        defer { server.stop() }
        let client = SMTPClient(relay: localRelay(port: server.port))
        try client.connect()
        let message = Array("Subject: x\n\n.dot\nbare\rcr".utf8)
        let r = try client.send(envelope: envelope("b@example.test"), message: .bytes(message))
        client.quit()
        XCTAssertEqual(r.message.kind, .accepted)
        XCTAssertEqual(server.messages.first.map { String(decoding: $0, as: UTF8.self) }, "Subject: x\r\n\r\n.dot\r\nbare\r\ncr\r\n")
        XCTAssertTrue(server.transcript().contains("BDAT 30 LAST\r\n"))
        XCTAssertFalse(server.transcript().contains("DATA\r\n"))
    }

    func testSmugglingPayloadNeverEndsTheDataEarly() throws {
        let server = try ScriptedSMTPServer()
        defer { server.stop() }
        let client = SMTPClient(relay: localRelay(port: server.port))
        try client.connect()
        let payload = "Subject: x\r\n\r\nhi\n.\nMAIL FROM:<evil@x>\r\nRCPT TO:<victim@y>\r\nDATA\r\nforged\r\n\r.\r\nQUIT\r\n"
        _ = try client.send(envelope: envelope("b@example.test"), message: .bytes(Array(payload.utf8)))
        client.quit()
        XCTAssertEqual(server.messages.count, 1)
        XCTAssertEqual(server.count("MAIL"), 1, "no smuggled second transaction")
        XCTAssertEqual(server.count("."), 1)
    }

    func testEightBitIsConvertedForARelayWithout8BITMIME() throws {
        let server = try ScriptedSMTPServer(script: .init(ehloReply: "250-scripted.test\n250 PIPELINING"))
        defer { server.stop() }
        let client = SMTPClient(relay: localRelay(port: server.port))
        try client.connect()
        var env = envelope("b@example.test")
        env.body = .eightBitMIME
        let message = Array("Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGrüße\r\n".utf8)
        let r = try client.send(envelope: env, message: .bytes(message))
        client.quit()
        XCTAssertTrue(r.convertedTo7Bit)
        XCTAssertEqual(r.message.kind, .accepted)
        let got = String(decoding: try XCTUnwrap(server.messages.first), as: UTF8.self)
        XCTAssertTrue(got.contains("Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe\r\n"), got)
        XCTAssertFalse(server.transcript().contains("BODY=8BITMIME"))
    }

    func testSizeAndSMTPUTF8AreRefusedBeforeMAIL() throws {
        let server = try ScriptedSMTPServer(script: .init(ehloReply: "250-scripted.test\n250-PIPELINING\n250 SIZE 50"))
        defer { server.stop() }
        let client = SMTPClient(relay: localRelay(port: server.port))
        try client.connect()
        let big = try client.send(envelope: envelope("b@example.test"), message: .bytes(sampleMessage))
        XCTAssertEqual(big.message.kind, .permanent)
        XCTAssertEqual(big.message.enhancedStatus, EnhancedStatusCode(5, 3, 4))
        let intl = try client.send(envelope: envelope("jörg@bücher.example"), message: .bytes(Array("Subject: x\r\n\r\nx\r\n".utf8)))
        XCTAssertEqual(intl.recipients[0].outcome.kind, .permanent)
        XCTAssertEqual(intl.recipients[0].outcome.enhancedStatus, EnhancedStatusCode(5, 6, 7))
        XCTAssertTrue(client.isConnected, "local refusals keep the session")
        client.quit()
        XCTAssertEqual(server.count("MAIL"), 0)
    }

    func testVerifyExpandRawCommand() throws {
        let server = try ScriptedSMTPServer(script: .init(steps: ["XTEST": [.reply("250 2.0.0 raw ok")]]))
        defer { server.stop() }
        let client = SMTPClient(relay: localRelay(port: server.port))
        try client.connect()
        XCTAssertEqual(try client.verify("postmaster").code, 252)
        XCTAssertEqual(try client.expand("staff").lines, ["first@scripted.test", "second@scripted.test"])
        XCTAssertEqual(try client.rawCommand("XTEST arg").verbatim, "250 2.0.0 raw ok")
        XCTAssertEqual(try client.noop().code, 250)
        XCTAssertEqual(client.lastReply?.code, 250)
        assertSMTPError(.invalidArgument) { try client.rawCommand("NOOP\r\nQUIT") }
        XCTAssertFalse(client.isConnected)
        XCTAssertFalse(server.transcript().contains("NOOP\r\nQUIT"))
    }

    func testMisuse() throws {
        let client = SMTPClient(relay: localRelay(port: 9))
        assertSMTPError(.invalidState) { try client.send(envelope: envelope("a@b"), message: .bytes([])) }
        assertSMTPError(.invalidState) { try client.verify("x") }
        client.quit()
    }
}
