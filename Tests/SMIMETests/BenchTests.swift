import Foundation
import XCTest
import MailMessage
import PeerTestSupport
@testable import SMIME

/// Throughput and peak memory of the streaming path, against the OpenSSL CLI pipeline.
/// Skipped unless SEALMAIL_BENCH=1 (build with -c release for meaningful numbers):
///   swift build -c release --build-tests -Xswiftc -enable-testing
///   SEALMAIL_BENCH=1 swift test -c release --skip-build --filter BenchTests
/// Each operation runs in a child process (this test binary, filtered to `testDriveOnce`) under
/// /usr/bin/time -v, so its peak RSS is its own; the baseline of an idle child is reported too.
final class BenchTests: XCTestCase {
    /// The child side: SEALMAIL_BENCH_DRIVE=op:input:output (op = sign | encrypt | both | none).
    func testDriveOnce() throws {
        guard let spec = ProcessInfo.processInfo.environment["SEALMAIL_BENCH_DRIVE"] else {
            throw XCTSkip("bench driver: only run by testBenchmark")
        }
        let parts = spec.split(separator: ":").map(String.init)
        let (op, input, output) = (parts[0], parts[1], parts[2])
        if op == "none" { return }
        var p = Protection()
        p.now = { Fixture.labTime }
        if op != "encrypt" { p.signer = try Fixture.alice() }
        if op != "sign" { p.recipients = [try Fixture.cert("bob.crt")] }
        let fd = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try MessageProtector(p).protect(messageAt: input, to: fd)
        XCTAssertEqual(fsync(fd), 0)
        close(fd)
    }

    func testBenchmark() throws {
        guard ProcessInfo.processInfo.environment["SEALMAIL_BENCH"] == "1" else { throw XCTSkip("set SEALMAIL_BENCH=1") }
        let dir = TempDir()
        let (message, entity, size) = try makeInput(dir, megabytes: 100)
        let binary = CommandLine.arguments[0]
        var report: [String] = ["input: \(size) bytes (text part + base64 attachment)"]
        for op in ["none", "sign", "encrypt", "both"] {
            let (seconds, rss) = try timed([binary, "SMIMETests.BenchTests/testDriveOnce"],
                                           env: ["SEALMAIL_BENCH_DRIVE": "\(op):\(message):\(dir.file("out-\(op).eml"))"])
            let rate = op == "none" ? "" : String(format: "%.0f MB/s", Double(size) / 1e6 / seconds)
            report.append(String(format: "sealmail %-8@ %6.2f s  %@  peak RSS %d KiB", op as NSString, seconds, rate as NSString, rss))
        }
        let lab = try Fixture.lab("")
        let pipeline = "openssl cms -sign -stream -in \(entity) -signer \(lab)alice.crt -inkey \(lab)alice.key -md sha256 "
            + "| openssl cms -encrypt -aes256 -stream -out \(dir.file("openssl.eml")) \(lab)bob.crt && sync \(dir.file("openssl.eml"))"
        let (seconds, rss) = try timed(["sh", "-c", pipeline], env: [:])
        report.append(String(format: "openssl sign|encrypt+fsync %6.2f s  %.0f MB/s  peak RSS %d KiB (largest process)",
                             seconds, Double(size) / 1e6 / seconds, rss))
        let verify = try opensslDecrypt(dir.file("out-both.eml"), cert: Fixture.lab("bob.crt"), key: Fixture.lab("bob.key"))
        XCTAssertEqual(verify.status, 0)
        print(report.joined(separator: "\n"))
        try report.joined(separator: "\n").write(toFile: "/tmp/sealmail-smime-bench.txt", atomically: true, encoding: .utf8)
    }

    private func timed(_ args: [String], env: [String: String]) throws -> (Double, Int) {
        let start = Date()
        let r = try sh(["/usr/bin/time", "-v"] + args, env: env)
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(r.status, 0, r.stderr)
        let rss = r.stderr.split(separator: "\n").first { $0.contains("Maximum resident set size") }
            .flatMap { Int($0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) } ?? -1
        return (seconds, rss)
    }

    /// A message of about `megabytes` MB, and the same MIME entity without the header block.
    private func makeInput(_ dir: TempDir, megabytes: Int) throws -> (String, String, Int) {
        let entityPath = dir.file("entity.mime"), messagePath = dir.file("message.eml")
        FileManager.default.createFile(atPath: entityPath, contents: nil)
        let h = try XCTUnwrap(FileHandle(forWritingAtPath: entityPath))
        h.write(Data(("Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n"
                      + String(repeating: "A plain line of text for the benchmark.\r\n", count: 1000)
                      + "--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n").utf8))
        var random = [UInt8](repeating: 0, count: 57 * 1024)
        var line = Data()
        for i in 0..<random.count { random[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 13) }
        line = Data(Base64LineEncoder.encode(random))
        var written = 0
        while written < megabytes * 1_000_000 { h.write(line); written += line.count }
        h.write(Data("--b1--\r\n".utf8))
        try h.close()
        let headers = Data((InteropTests.headers + "MIME-Version: 1.0\r\n").utf8)
        FileManager.default.createFile(atPath: messagePath, contents: headers)
        let m = try XCTUnwrap(FileHandle(forWritingAtPath: messagePath))
        m.seekToEndOfFile()
        let e = try XCTUnwrap(FileHandle(forReadingAtPath: entityPath))
        while true {
            let chunk = e.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            m.write(chunk)
        }
        try m.close()
        let size = (try FileManager.default.attributesOfItem(atPath: messagePath)[.size] as? Int) ?? 0
        return (messagePath, entityPath, size)
    }
}
