import Foundation
import XCTest
import SMTPProtocol
import PeerTestSupport
@testable import SMTPTransport

/// Against a stock aiosmtpd (Debian's python3-aiosmtpd; nothing here wrote it): its DATA
/// refuses a line over 1001 octets with `500 Line too long`, a permanent failure, so a long
/// line sent as it is would bounce. One server offers SMTPUTF8, one does not; each records
/// the MAIL parameters with the message. Stopped by pid in class tearDown.
final class AiosmtpdLineLimitTests: XCTestCase {
    static let python = "/usr/bin/python3"
    static var servers: [String: PeerProcess] = [:]
    static var directory = ""
    static var setupError: Error?

    static let script = """
import os, sys, threading
from aiosmtpd.controller import Controller

port, utf8, outdir = int(sys.argv[1]), sys.argv[2] == "utf8", sys.argv[3]

class Handler:
    async def handle_DATA(self, server, session, envelope):
        n = len(os.listdir(outdir))
        with open(os.path.join(outdir, "msg%03d.eml" % n), "wb") as f:
            f.write(("MAIL %s\\n" % " ".join(envelope.mail_options)).encode())
            f.write(envelope.original_content or envelope.content)
        return "250 2.0.0 Ok"

Controller(Handler(), hostname="127.0.0.1", port=port, enable_SMTPUTF8=utf8).start()
threading.Event().wait()
"""

    /// Sends one message with a 1500-octet line straight through smtplib (which does not
    /// break lines) and prints the server's code: proof that the limit is there.
    static let rawProbe = """
import smtplib, sys
try:
    smtplib.SMTP("127.0.0.1", int(sys.argv[1])).sendmail("a@x.test", ["b@x.test"], "Subject: raw\\r\\n\\r\\n" + "x" * 1500 + "\\r\\n")
    print(250)
except smtplib.SMTPDataError as e:
    print(e.smtp_code)
"""

    override class func setUp() {
        super.setUp()
        guard FileManager.default.isExecutableFile(atPath: python) else { return }
        do {
            let check = Process()
            check.executableURL = URL(fileURLWithPath: python)
            check.arguments = ["-c", "import aiosmtpd"]
            check.standardError = FileHandle.nullDevice
            try check.run()
            check.waitUntilExit()
            guard check.terminationStatus == 0 else { return }
            directory = NSTemporaryDirectory() + "sealmail-linelimit-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            for mode in ["utf8", "ascii"] {
                try FileManager.default.createDirectory(atPath: directory + "/" + mode, withIntermediateDirectories: true)
            }
            try script.write(toFile: directory + "/server.py", atomically: true, encoding: .utf8)
            for mode in ["utf8", "ascii"] {
                let port = PeerProcess.freePort()
                servers[mode] = try PeerProcess(executable: python, arguments: [directory + "/server.py", String(port), mode,
                                                                                directory + "/" + mode], port: port)
            }
        } catch {
            setupError = error
        }
    }

    override class func tearDown() {
        for server in servers.values { server.stop() }
        servers = [:]
        if !directory.isEmpty { try? FileManager.default.removeItem(atPath: directory) }
        super.tearDown()
    }

    private func send(_ message: String, to mode: String, configure: (inout SMTPEnvelope) -> Void = { _ in }) throws -> (SMTPDeliveryResult, String) {
        if let error = Self.setupError { throw error }
        guard let server = Self.servers[mode] else { throw XCTSkip("python3-aiosmtpd is not installed for \(Self.python)") }
        let marker = "m-\(UUID().uuidString)"
        var env = envelope("b@example.test")
        configure(&env)
        let client = SMTPClient(relay: localRelay(port: server.port, timeout: 10))
        try client.connect()
        let result = try client.send(envelope: env, message: .bytes(Array("X-Marker: \(marker)\r\n\(message)".utf8)))
        client.quit()
        let dir = Self.directory + "/" + mode
        for file in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            if let text = try? String(contentsOfFile: dir + "/" + file, encoding: .utf8), text.contains(marker) {
                return (result, text)
            }
        }
        return (result, "")
    }

    func testTheServerRefusesALongLineSentAsItIs() throws {
        if let error = Self.setupError { throw error }
        guard let server = Self.servers["utf8"] else { throw XCTSkip("python3-aiosmtpd is not installed") }
        let code = try runTool(Self.python, ["-c", Self.rawProbe, String(server.port)], in: Self.directory)
        XCTAssertEqual(code.trimmingCharacters(in: .whitespacesAndNewlines), "500")
    }

    func testLongBodyLineIsEncodedAndAccepted() throws {
        let long = String(repeating: "x", count: 1500)
        let (result, got) = try send("Subject: long\r\n\r\n\(long)\r\nshort\r\n", to: "utf8") { $0.hasLongLines = true }
        XCTAssertEqual(result.message.kind, .accepted, result.message.diagnostic)
        XCTAssertTrue(got.contains("Content-Transfer-Encoding: quoted-printable\r\n"), got)
        XCTAssertFalse(got.components(separatedBy: "\r\n").contains { $0.utf8.count > 998 })
    }

    func testLongHeaderWithoutWhiteSpaceIsBrokenAndAccepted() throws {
        let (result, got) = try send("X-Long: \(String(repeating: "z", count: 1500))\r\n\r\nbody\r\n", to: "utf8") { $0.hasLongLines = true }
        XCTAssertEqual(result.message.kind, .accepted, result.message.diagnostic)
        XCTAssertTrue(got.contains("X-Long: \(String(repeating: "z", count: 990))\r\n z"), got)
    }

    func testUTF8HeaderSentWithSMTPUTF8() throws {
        let (result, got) = try send("Subject: café über 日本\r\n\r\nbody\r\n", to: "utf8") {
            $0.prefersSMTPUTF8 = true
            $0.body = .eightBitMIME
        }
        XCTAssertEqual(result.message.kind, .accepted, result.message.diagnostic)
        let mail = got.split(separator: "\n").first.map(String.init) ?? ""
        XCTAssertTrue(mail.contains("SMTPUTF8"), mail)
        XCTAssertTrue(got.contains("Subject: café über 日本\r\n"))
    }

    func testUTF8HeaderEncodedForAServerWithoutSMTPUTF8() throws {
        let (result, got) = try send("Subject: café über 日本\r\n\r\nbody\r\n", to: "ascii") {
            $0.prefersSMTPUTF8 = true
            $0.body = .eightBitMIME
        }
        XCTAssertEqual(result.message.kind, .accepted, result.message.diagnostic)
        XCTAssertFalse(got.split(separator: "\n").first?.contains("SMTPUTF8") ?? true, got)
        XCTAssertTrue(got.contains("Subject: =?UTF-8?B?Y2Fmw6kgw7xiZXIg5pel5pys?=\r\n"), got)
    }
}
