import Foundation
import XCTest
import PeerTestSupport

/// The contract program of issue 12 (Sources/SealmailExample/main.swift, compiled as
/// written) run against aiosmtpd on 127.0.0.1:2525, in a folder with the files it names:
/// it sends, queues and processes the queue, and what arrived is opened by openssl.
final class ExampleProgramTests: XCTestCase {
    static var example: String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("SealmailExample").path
    }

    func testTheContractProgramWorksAsWritten() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.example) else { throw XCTSkip("no SealmailExample at \(Self.example)") }
        let pki = try TestPKI()
        defer { pki.remove() }
        let relay: CaptureRelay
        do { relay = try CaptureRelay(port: 2525) } catch let e as PeerUnavailable { throw XCTSkip(e.description) }
        defer { relay.stop() }
        try? FileManager.default.removeItem(atPath: "/tmp/example-queue")
        defer { try? FileManager.default.removeItem(atPath: "/tmp/example-queue") }
        let dir = pki.dir
        FileManager.default.createFile(atPath: dir + "/logo.png", contents: Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<100).map { UInt8($0) }))
        FileManager.default.createFile(atPath: dir + "/report.pdf", contents: Data("%PDF-1.4\n".utf8 + (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }))

        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.example)
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, stderr)

        let lines = stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains { $0.hasPrefix("sent MAIL FROM:<bounces@example.com>") }, "the trace: \(lines.prefix(5))")
        for address in ["bob@partner.example", "carol@partner.example", "audit@example.com"] {
            XCTAssertTrue(lines.contains { $0.hasPrefix("\(address) accepted 250") }, "\(address): \(stdout)")
        }
        let last = try XCTUnwrap(lines.last).split(separator: " ")
        XCTAssertEqual(last.count, 4, "id delivered deferred bounced: \(lines.last!)")
        XCTAssertEqual(last[0].count, 16, "a queue id")
        XCTAssertEqual(last.dropFirst().map(String.init), ["3", "0", "0"], "the queued copies delivered to all three")

        // Sent twice (send, then the queue): each time one copy for To+Cc and one for Bcc.
        let got = try relay.waitForMessages(4)
        XCTAssertEqual(got.count, 4)
        XCTAssertEqual(got.filter { $0.rcptTos == ["audit@example.com"] }.count, 2)
        for m in got {
            XCTAssertEqual(m.mailFrom, "bounces@example.com")
            XCTAssertTrue(m.fields("Content-Type").first?.contains("enveloped-data") ?? false, m.headerText)
            XCTAssertFalse(m.text.contains("audit@example.com") && m.rcptTos != ["audit@example.com"])
        }
        let visible = try XCTUnwrap(got.first { $0.rcptTos.contains("bob@partner.example") })
        let file = dir + "/visible.eml"
        FileManager.default.createFile(atPath: file, contents: Data(visible.data))
        let inner = try pki.openssl(["cms", "-decrypt", "-in", file, "-recip", pki.cert("bob"), "-inkey", pki.key("bob")])
        FileManager.default.createFile(atPath: dir + "/inner.eml", contents: Data(inner))
        let content = try pki.openssl(["cms", "-verify", "-in", dir + "/inner.eml", "-CAfile", pki.caCert, "-purpose", "smimesign"])
        XCTAssertTrue(String(decoding: content, as: UTF8.self).contains("report.pdf"))
    }
}
