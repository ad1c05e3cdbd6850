import Foundation
import XCTest
import SMTPProtocol
import SMTPTestSupport
@testable import SMTPTransport

/// What SMTPClient does to a message before DATA: lines over 998 octets re-encoded or broken
/// (RFC 5321 4.5.3.1.6), raw UTF-8 header fields sent with SMTPUTF8 when offered and encoded
/// when not (RFC 6531 3.4). Against the scripted server; aiosmtpd: AiosmtpdLineLimitTests.
final class LineLimitAndUTF8DeliveryTests: XCTestCase {
    private let long = String(repeating: "x", count: 1500)

    private func longestLine(_ bytes: [UInt8]) -> Int {
        String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n").map { $0.utf8.count }.max() ?? 0
    }

    /// Sends `message` from a file (as the queue runner does) and returns what the server got.
    private func sendFromFile(_ message: String, envelope env: SMTPEnvelope, ehlo: String? = nil) throws -> (String, SMTPDeliveryResult, ScriptedSMTPServer) {
        let server = try ehlo.map { try ScriptedSMTPServer(script: .init(ehloReply: $0)) } ?? ScriptedSMTPServer()
        let path = NSTemporaryDirectory() + "sealmail-linelimit-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).msg"
        let bytes = Array(message.utf8)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(Array("JUNK".utf8) + bytes)))
        defer { unlink(path) }
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let client = SMTPClient(relay: localRelay(port: server.port))
        try client.connect()
        let result = try client.send(envelope: env, message: .file(descriptor: fd, offset: 4, length: Int64(bytes.count)))
        client.quit()
        server.stop()
        return (String(decoding: server.messages.first ?? [], as: UTF8.self), result, server)
    }

    func testFlaggedLongLinesAreEncodedBeforeData() throws {
        var env = envelope("b@example.test")
        env.hasLongLines = true
        let (got, result, _) = try sendFromFile("Subject: long\r\n\r\n\(long)\r\nshort\r\n", envelope: env)
        XCTAssertEqual(result.message.kind, .accepted)
        XCTAssertLessThanOrEqual(longestLine(Array(got.utf8)), 998, got)
        XCTAssertTrue(got.contains("Content-Transfer-Encoding: quoted-printable\r\n"), got)
        XCTAssertTrue(got.contains("xxx=\r\nxxx"), "soft line breaks: \(got)")
        XCTAssertTrue(got.hasSuffix("x\r\nshort\r\n"), got)
    }

    func testLongLinesFoundInAMessageGivenAsBytes() throws {
        let server = try ScriptedSMTPServer()
        defer { server.stop() }
        let client = SMTPClient(relay: localRelay(port: server.port))
        try client.connect()
        let message = Array("X-Long: \(long)\r\nSubject: s\r\n\r\n\(long)\r\n".utf8)
        let result = try client.send(envelope: envelope("b@example.test"), message: .bytes(message))
        client.quit()
        XCTAssertEqual(result.message.kind, .accepted)
        let got = try XCTUnwrap(server.messages.first)
        XCTAssertLessThanOrEqual(longestLine(got), 998)
        XCTAssertTrue(String(decoding: got, as: UTF8.self).hasPrefix("X-Long: " + String(repeating: "x", count: 990) + "\r\n x"))
    }

    func testUTF8HeaderRequestsSMTPUTF8WhenOffered() throws {
        var env = envelope("b@example.test")
        env.prefersSMTPUTF8 = true
        env.body = .eightBitMIME
        let message = "Subject: café über 日本\r\n\r\nbody\r\n"
        let (got, result, server) = try sendFromFile(message, envelope: env)
        XCTAssertEqual(result.message.kind, .accepted)
        XCTAssertTrue(server.transcript().contains("BODY=8BITMIME SMTPUTF8\r\n"), server.transcript())
        XCTAssertEqual(got, message, "sent as it is")
    }

    func testUTF8HeaderEncodedForARelayWithoutSMTPUTF8() throws {
        var env = envelope("b@example.test")
        env.prefersSMTPUTF8 = true
        env.body = .eightBitMIME
        let body = String(repeating: "line of the body\r\n", count: 10000)
        let (got, result, server) = try sendFromFile("Subject: café über 日本\r\nFrom: a@client.test\r\n\r\n" + body, envelope: env,
                                                     ehlo: "250-scripted.test\n250-PIPELINING\n250-8BITMIME\n250 SIZE 10000000")
        XCTAssertEqual(result.message.kind, .accepted, "delivered, not refused")
        XCTAssertFalse(server.transcript().contains("SMTPUTF8"))
        XCTAssertEqual(got, "Subject: =?UTF-8?B?Y2Fmw6kgw7xiZXIg5pel5pys?=\r\nFrom: a@client.test\r\n\r\n" + body)
        let size = "Subject: =?UTF-8?B?Y2Fmw6kgw7xiZXIg5pel5pys?=\r\nFrom: a@client.test\r\n\r\n".utf8.count + body.utf8.count
        XCTAssertTrue(server.transcript().contains("SIZE=\(size) BODY=8BITMIME"), "SIZE counts the rewritten header")
    }

    func testUTF8AddressStillRequiresSMTPUTF8() throws {
        var env = envelope("jörg@bücher.example")
        env.prefersSMTPUTF8 = true
        let (_, result, _) = try sendFromFile("Subject: x\r\n\r\nbody\r\n", envelope: env,
                                              ehlo: "250-scripted.test\n250-PIPELINING\n250 8BITMIME")
        XCTAssertEqual(result.message.kind, .permanent)
        XCTAssertEqual(result.message.enhancedStatus, EnhancedStatusCode(5, 6, 7))
    }
}
