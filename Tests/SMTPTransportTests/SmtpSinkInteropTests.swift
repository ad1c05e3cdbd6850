import Foundation
import XCTest
import PeerTestSupport
import SMTPProtocol
@testable import SMTPTransport

/// Interoperability with Postfix's smtp-sink (PIPELINING, 8BITMIME, DSN; this version announces no CHUNKING), started on
/// 127.0.0.1 by the test and stopped by pid.
final class SmtpSinkInteropTests: XCTestCase {
    static let binary = "/usr/sbin/smtp-sink"
    private var sink: PeerProcess?
    private var dumpDirectory = ""

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw XCTSkip("\(Self.binary) is missing (Postfix's smtp-sink)")
        }
        dumpDirectory = NSTemporaryDirectory() + "sealmail-sink-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dumpDirectory, withIntermediateDirectories: true)
        chmod(dumpDirectory, 0o777)
        let port = PeerProcess.freePort()
        // -d: dump each message to a file under the directory (the template's %M is a counter).
        sink = try PeerProcess(executable: Self.binary,
                               arguments: ["-u", "nobody", "-d", dumpDirectory + "/%M.", "127.0.0.1:\(port)", "256"],
                               port: port)
    }

    override func tearDown() {
        sink?.stop()
        sink = nil
        try? FileManager.default.removeItem(atPath: dumpDirectory)
    }

    private func dumped() -> [String] {
        let files = (try? FileManager.default.subpathsOfDirectory(atPath: dumpDirectory)) ?? []
        return files.compactMap { try? String(contentsOfFile: dumpDirectory + "/" + $0, encoding: .utf8) }
    }

    private func sendMany(count: Int) throws -> [SMTPDeliveryResult] {
        let relay = localRelay(port: try XCTUnwrap(sink?.port), timeout: 10)
        let client = SMTPClient(relay: relay)
        try client.connect()
        XCTAssertTrue(client.capabilities.pipelining)
        var results: [SMTPDeliveryResult] = []
        for i in 0..<count {
            let body = Array("Subject: sink \(i)\n\nline one\n.dot\nlast \(i)\n".utf8)
            results.append(try client.send(envelope: envelope("r\(i)@example.test", "s\(i)@example.test"), message: .bytes(body)))
        }
        client.quit()
        return results
    }

    func testPipelinedDATAOnOneConnection() throws {
        let results = try sendMany(count: 5)
        XCTAssertEqual(results.map(\.message.kind), Array(repeating: .accepted, count: 5))
        XCTAssertEqual(results.flatMap(\.recipients).map(\.outcome.kind), Array(repeating: .accepted, count: 10))
        // smtp-sink's dump holds the message as received, unstuffed, with its envelope.
        let files = dumped()
        XCTAssertEqual(files.count, 5)
        let last = try XCTUnwrap(files.first { $0.contains("Subject: sink 4") })
        XCTAssertTrue(last.contains("\nline one\n.dot\nlast 4\n"), last)
        XCTAssertTrue(last.contains("X-Rcpt-Args: <r4@example.test>"), last)
    }

    /// DSN parameters reach a server that announces DSN (smtp-sink records them in its dump).
    func testNullSenderAndDSNParameters() throws {
        let client = SMTPClient(relay: localRelay(port: try XCTUnwrap(sink?.port), timeout: 10))
        try client.connect()
        XCTAssertTrue(client.capabilities.dsn)
        let env = SMTPEnvelope(sender: nil,
                               recipients: [SMTPRecipient("r@example.test", notify: [.failure, .delay], originalRecipient: "orig+1@example.test")],
                               ret: .headers, envelopeID: "QID=42")
        let result = try client.send(envelope: env, message: .bytes(Array("Subject: dsn\n\nx\n".utf8)))
        client.quit()
        XCTAssertEqual(result.message.kind, .accepted)
        let dump = try XCTUnwrap(dumped().first)
        XCTAssertTrue(dump.contains("X-Mail-Args: <> RET=HDRS ENVID=QID+3D42\n"), dump)
        XCTAssertTrue(dump.contains("X-Rcpt-Args: <r@example.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;orig+2B1@example.test"), dump)
    }

    func testManyMessagesAreFast() throws {
        let start = Date()
        let results = try sendMany(count: 200)
        XCTAssertEqual(results.filter { $0.message.kind == .accepted }.count, 200)
        // Nagle/delayed-ACK would cost ~40 ms per message (8 s here); TCP_NODELAY keeps it small.
        XCTAssertLessThan(Date().timeIntervalSince(start), 4)
    }
}
