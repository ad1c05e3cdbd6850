import Foundation
import XCTest
import PeerTestSupport
import SMTPProtocol
@testable import SMTPTransport

/// The client against stock aiosmtpd servers (Debian's python3-aiosmtpd, nothing here wrote
/// them), and what arrives checked with Python's email package:
/// - `pipelining`: 8BITMIME and PIPELINING (added to EHLO by the handler), no SMTPUTF8, no
///   limit on recipients per transaction, RCPT replies that echo the address (as Sendmail's
///   do) and 4 KiB socket buffers (a slow link's window); it writes each reply with
///   `drain()`, so a client that writes on without reading blocks it, and then itself;
/// - `sevenbit`: neither 8BITMIME nor SMTPUTF8 (`decode_data=True`): data with any 8-bit octet
///   is refused with `500 Error: strict ASCII mode`;
/// - `eightbit`: 8BITMIME without SMTPUTF8.
/// Each server records a message as JSON (MAIL parameters, recipients, data in base64).
final class AiosmtpdHardeningTests: XCTestCase {
    static let python = Peers.python
    static var servers: [String: PeerProcess] = [:]
    static var directory = ""
    static var setupError: Error?

    static let script = """
import base64, json, os, socket, sys, threading
from aiosmtpd.controller import Controller

port, mode, outdir = int(sys.argv[1]), sys.argv[2], sys.argv[3]

class Handler:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if mode == "pipelining":
            responses.insert(len(responses) - 1, "250-PIPELINING")
            # A small window, as on a slow link (RFC 2920 3.1: "usually 4K octets").
            sock = server.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        # Sendmail's wording, which echoes the address.
        return "250 2.1.5 <%s>... Recipient ok" % address

    async def handle_DATA(self, server, session, envelope):
        n = len([f for f in os.listdir(outdir) if f.endswith(".json")])
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        record = {"mail_options": envelope.mail_options, "rcpt_tos": envelope.rcpt_tos,
                  "data": base64.b64encode(data).decode("ascii")}
        tmp = os.path.join(outdir, ".%06d.tmp" % n)
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(outdir, "%06d.json" % n))
        return "250 2.0.0 Ok: recorded as %06d" % n

# The Controller offers SMTPUTF8 unless told not to.
Controller(Handler(), hostname="127.0.0.1", port=port, decode_data=(mode == "sevenbit"), enable_SMTPUTF8=False).start()
threading.Event().wait()
"""

    override class func setUp() {
        super.setUp()
        do {
            try Peers.requirePythonModule("aiosmtpd", package: "python3-aiosmtpd")
            directory = NSTemporaryDirectory() + "sealmail-hardening-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try script.write(toFile: directory + "/server.py", atomically: true, encoding: .utf8)
            for mode in ["pipelining", "sevenbit", "eightbit"] {
                try FileManager.default.createDirectory(atPath: directory + "/" + mode, withIntermediateDirectories: true)
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

    /// A message recorded by a server.
    struct Received {
        var mailOptions: [String]
        var recipients: [String]
        var data: [UInt8]
    }

    func server(_ mode: String) throws -> PeerProcess {
        if let error = Self.setupError {
            if error is PeerUnavailable { throw XCTSkip("\(error)") }
            throw error
        }
        guard let server = Self.servers[mode] else { throw XCTSkip("no \(mode) server") }
        return server
    }

    /// Sends `message` (an `X-Marker` field is put first) and returns the result and what the
    /// server recorded for it (nil when nothing arrived).
    func send(_ message: [UInt8], to mode: String, envelope env: SMTPEnvelope = envelope("b@example.test"),
              log: ObserverLog? = nil,
              relay configure: (inout SMTPRelay) -> Void = { _ in }) throws -> (SMTPDeliveryResult, Received?) {
        let peer = try server(mode)
        let marker = "m-\(UUID().uuidString)"
        var relay = localRelay(port: peer.port, timeout: 20)
        configure(&relay)
        let client = SMTPClient(relay: relay, observers: log?.observers ?? SMTPClientObservers())
        try client.connect()
        defer { client.quit() }
        let result = try client.send(envelope: env, message: .bytes(Array("X-Marker: \(marker)\r\n".utf8) + message))
        return (result, try received(mode, marker: marker))
    }

    func received(_ mode: String, marker: String) throws -> Received? {
        let dir = Self.directory + "/" + mode
        for file in try FileManager.default.contentsOfDirectory(atPath: dir) where file.hasSuffix(".json") {
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/" + file)))
            guard let record = json as? [String: Any], let b64 = record["data"] as? String,
                  let data = Data(base64Encoded: b64) else { continue }
            let bytes = Array(data)
            guard String(decoding: bytes.prefix(200), as: UTF8.self).contains(marker) else { continue }
            return Received(mailOptions: record["mail_options"] as? [String] ?? [],
                            recipients: record["rcpt_tos"] as? [String] ?? [], data: bytes)
        }
        return nil
    }

    /// Runs a Python program with the received data on stdin; returns its stdout.
    func python(_ program: String, input: [UInt8]) throws -> String {
        let r = try sh([Self.python, "-c", program], stdin: Data(input))
        guard r.status == 0 else { throw PeerError("python failed: \(r.stderr)") }
        return r.out
    }

    // MARK: pipelining (issue 11 item 15)

    /// 5,000 recipients in one transaction: sent in groups of at most 100 commands, each
    /// written only after the replies to the one before (the trace shows no more than 100
    /// commands between two replies; the old client wrote all 5,002 at once), every recipient
    /// accepted and the message recorded with all of them, well within the timeouts.
    func testFiveThousandRecipientsPipelinedInBoundedGroups() throws {
        let count = 5000
        let recipients = (0..<count).map { SMTPRecipient("recipient-\($0)@bulk.example.test") }
        let env = SMTPEnvelope(sender: "sender@client.test", recipients: recipients)
        let log = ObserverLog()
        let started = Date()
        let (result, got) = try send(Array("Subject: many\r\n\r\nbody\r\n".utf8), to: "pipelining", envelope: env, log: log)
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(result.message.kind, .accepted, result.message.diagnostic)
        XCTAssertEqual(result.recipients.count, count)
        XCTAssertEqual(result.recipients.filter { $0.outcome.kind == .accepted }.count, count)
        let received = try XCTUnwrap(got, "nothing arrived")
        XCTAssertEqual(received.recipients, recipients.map(\.address))
        XCTAssertLessThan(elapsed, 15, "no wait for a timeout (\(elapsed) s)")
        var longestRun = 0, run = 0
        for line in log.trace {
            if line.hasPrefix(">>> ") { run += 1; longestRun = max(longestRun, run) } else { run = 0 }
        }
        XCTAssertLessThanOrEqual(longestRun, 100, "commands written before a reply was read")
        XCTAssertGreaterThanOrEqual(log.trace.filter { $0.hasPrefix(">>> RCPT TO:") }.count, count)
    }

    // MARK: NUL octets (issue 11 item 4)

    /// Python: the leaf parts of the message on stdin, decoded (`get_payload(decode=True)`),
    /// as base64 in a JSON list.
    static let decodeParts = """
import base64, email, json, sys
from email import policy
data = sys.stdin.buffer.read()
msg = email.message_from_bytes(data, policy=policy.default)
parts = [p for p in msg.walk() if not p.is_multipart()]
print(json.dumps([base64.b64encode(p.get_payload(decode=True)).decode() for p in parts]))
"""

    func decodedParts(_ data: [UInt8]) throws -> [[UInt8]] {
        let out = try python(Self.decodeParts, input: data)
        let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String])
        return list.map { Array(Data(base64Encoded: $0) ?? Data()) }
    }

    /// A message given as bytes with NUL in a plain body (the issue's `\0.\r\n`) and in an
    /// attachment: what arrives has no NUL and decodes to the original bytes. The old client
    /// sent the NUL as they were, without BODY= or encoding.
    func testNULIsEncodedAndDecodesToTheOriginal() throws {
        let text: [UInt8] = Array("line one\r\n".utf8) + [0, 0x2E, 13, 10] + Array("x\0y after\r\n".utf8)
        let binary: [UInt8] = [0, 1, 2, 0, 0xFE, 0x2E, 0x0D, 0x0A, 0x2E, 0]
        let message = Array("Subject: nul\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n--zz\r\n".utf8)
            + Array("Content-Type: text/plain; charset=us-ascii\r\n\r\n".utf8) + text
            + Array("\r\n--zz\r\nContent-Type: application/octet-stream\r\n\r\n".utf8) + binary
            + Array("\r\n--zz--\r\n".utf8)
        for mode in ["eightbit", "sevenbit"] {
            let (result, got) = try send(message, to: mode)
            XCTAssertEqual(result.message.kind, .accepted, "\(mode): \(result.message.diagnostic)")
            let received = try XCTUnwrap(got, "\(mode): nothing arrived")
            XCTAssertFalse(received.data.contains(0), "\(mode): NUL on the wire")
            XCTAssertEqual(try decodedParts(received.data), [text, binary], mode)
        }
    }

    /// A single-part message with no MIME header at all gets one, and decodes back.
    func testNULInAPlainMessage() throws {
        let body: [UInt8] = Array("before\r\n".utf8) + [0, 0x2E, 13, 10] + Array("after\r\n".utf8)
        let (result, got) = try send(Array("Subject: plain\r\n\r\n".utf8) + body, to: "eightbit")
        XCTAssertEqual(result.message.kind, .accepted, result.message.diagnostic)
        let received = try XCTUnwrap(got)
        XCTAssertFalse(received.data.contains(0))
        XCTAssertEqual(try decodedParts(received.data), [body])
    }

    /// NUL inside multipart/signed cannot be encoded without breaking the signature: refused
    /// with a permanent reason, nothing sent.
    func testNULInsideASignedPartIsRefused() throws {
        let message = Array(("MIME-Version: 1.0\r\nContent-Type: multipart/signed; boundary=\"s\"; "
                             + "protocol=\"application/pkcs7-signature\"\r\n\r\n--s\r\nContent-Type: text/plain\r\n\r\nsigned ").utf8)
            + [0] + Array("\r\n--s\r\nContent-Type: application/pkcs7-signature\r\n\r\nAAAA\r\n--s--\r\n".utf8)
        let (result, got) = try send(message, to: "eightbit")
        XCTAssertEqual(result.message.kind, .permanent)
        XCTAssertEqual(result.message.enhancedStatus, EnhancedStatusCode(5, 6, 5))
        XCTAssertTrue(result.message.diagnostic.contains("NUL"), result.message.diagnostic)
        XCTAssertNil(got, "nothing may arrive")
    }

    // MARK: 8-bit header fields without SMTPUTF8 (issue 11 item 6)

    /// Python: the received message's Subject (joined `decode_header` parts) and each From and
    /// Cc display name (policy.default; octets of unknown-8bit words come back as they were),
    /// base64 in JSON, and whether any octet of the header is 8-bit.
    static let decodeHeader = """
import base64, email, json, sys
from email import policy
from email.header import decode_header
data = sys.stdin.buffer.read()
header = data.split(b"\\r\\n\\r\\n", 1)[0]
compat = email.message_from_bytes(data)
subject = b"".join(p if isinstance(p, bytes) else p.encode("ascii") for p, _ in decode_header(compat["Subject"]))
msg = email.message_from_bytes(data, policy=policy.default)
names = []
for field in ("From", "Cc"):
    for a in msg[field].addresses:
        names.append([base64.b64encode(a.display_name.encode("utf-8", "surrogateescape")).decode(), a.addr_spec])
print(json.dumps({"subject": base64.b64encode(subject).decode(), "names": names,
                  "eightBitHeader": any(b >= 0x80 for b in header)}))
"""

    struct DecodedHeader {
        var subject: [UInt8]
        var names: [(name: [UInt8], address: String)]
        var eightBitHeader: Bool
    }

    func decodedHeader(_ data: [UInt8]) throws -> DecodedHeader {
        let out = try python(Self.decodeHeader, input: data)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], out)
        let names = (json["names"] as? [[String]] ?? []).map { (Array(Data(base64Encoded: $0[0]) ?? Data()), $0[1]) }
        return DecodedHeader(subject: Array(Data(base64Encoded: json["subject"] as? String ?? "") ?? Data()),
                             names: names, eightBitHeader: json["eightBitHeader"] as? Bool ?? true)
    }

    /// The Subject (octets that are not UTF-8), a UTF-8 display name, a Latin-1 one and
    /// a UTF-8 comment, and an 8-bit body, given as bytes (no flag: the client finds them), to a relay without
    /// SMTPUTF8 (one without 8BITMIME too, one with it: 8BITMIME is for the body only). What
    /// arrives has a 7-bit header that Python decodes to the very octets; MAIL has no SMTPUTF8.
    /// The old client sent the raw octets, which the 7-bit server refused (`500`).
    func testEightBitHeaderIsEncodedForARelayWithoutSMTPUTF8() throws {
        let subject: [UInt8] = [0xFF, 0xFE, 0xC3, 0x28]
        let latin1: [UInt8] = Array("J".utf8) + [0xFC] + Array("rgen".utf8)
        let header: [UInt8] = Array("Subject: ".utf8) + subject + Array("\r\nFrom: Jürgen Müller <j@example.net>\r\n".utf8)
            + Array("Cc: ".utf8) + latin1 + Array(" <l@example.net>, c@example.net (Büro)\r\n".utf8)
        for mode in ["sevenbit", "eightbit"] {
            let (result, got) = try send(header + Array("\r\nun corps en UTF-8: é\r\n".utf8), to: mode)
            XCTAssertEqual(result.message.kind, .accepted, "\(mode): \(result.message.diagnostic)")
            let received = try XCTUnwrap(got, "\(mode): nothing arrived")
            XCTAssertFalse(received.mailOptions.contains("SMTPUTF8"), "\(mode): \(received.mailOptions)")
            let decoded = try decodedHeader(received.data)
            XCTAssertFalse(decoded.eightBitHeader, "\(mode): an 8-bit octet left in the header")
            XCTAssertEqual(decoded.subject, subject, mode)
            XCTAssertEqual(decoded.names.map(\.name), [Array("Jürgen Müller".utf8), latin1, []], mode)
            XCTAssertEqual(decoded.names.map(\.address), ["j@example.net", "l@example.net", "c@example.net"], mode)
            XCTAssertTrue(String(decoding: received.data, as: UTF8.self).contains("(=?UTF-8?B?QsO8cm8=?=)"), mode)
            if mode == "eightbit" {
                XCTAssertTrue(String(decoding: received.data, as: UTF8.self).contains("é\r\n"), "the body stays 8-bit")
                XCTAssertEqual(received.mailOptions.filter { !$0.hasPrefix("SIZE=") }, ["BODY=8BITMIME"])
            } else {
                XCTAssertFalse(received.data.contains { $0 >= 0x80 }, "the body is encoded for the 7-bit relay")
                XCTAssertEqual(received.mailOptions.filter { !$0.hasPrefix("SIZE=") }, [])
            }
        }
    }

    /// 8-bit octets RFC 2047 cannot encode (a Received comment, an address) make the message
    /// refused for this relay, with a reason naming the field; nothing arrives.
    func testUnencodableEightBitHeaderIsRefused() throws {
        for (field, name) in [("Received: from h (höst) by x; Mon, 1 Jan 2024 00:00:00 +0000", "Received"),
                              ("From: Jürgen <jürgen@example.net>", "From")] {
            for mode in ["sevenbit", "eightbit"] {
                let (result, got) = try send(Array("\(field)\r\nSubject: s\r\n\r\nbody\r\n".utf8), to: mode)
                XCTAssertEqual(result.message.kind, .permanent, "\(mode) \(name)")
                XCTAssertEqual(result.message.enhancedStatus, EnhancedStatusCode(5, 6, 9), "\(mode) \(name)")
                XCTAssertTrue(result.message.diagnostic.contains(name) && result.message.diagnostic.contains("SMTPUTF8"),
                              result.message.diagnostic)
                XCTAssertNil(got, "\(mode) \(name): nothing may arrive")
            }
        }
    }
}
