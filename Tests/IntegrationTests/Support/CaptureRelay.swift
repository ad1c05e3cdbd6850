import Foundation
import PeerTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// One message as the relay received it: the envelope and the DATA bytes.
struct CapturedMessage {
    var mailFrom: String
    var rcptTos: [String]
    var data: [UInt8]
    var text: String { String(decoding: data, as: UTF8.self) }

    /// The header block (up to the first empty line), for field checks.
    var headerText: String {
        guard let r = data.firstRange(of: Array("\r\n\r\n".utf8)) else { return text }
        return String(decoding: data[..<r.lowerBound], as: UTF8.self)
    }

    /// Values of the header fields called `name` (case-insensitive; unfolded).
    func fields(_ name: String) -> [String] {
        let unfolded = headerText.replacingOccurrences(of: "\r\n\t", with: " ").replacingOccurrences(of: "\r\n ", with: " ")
        return unfolded.components(separatedBy: "\r\n").compactMap { line in
            guard let colon = line.firstIndex(of: ":"),
                  line[..<colon].lowercased() == name.lowercased() else { return nil }
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
    }
}

/// aiosmtpd (Tests/peers/smtp_capture.py, run with /usr/bin/python3) on a free port of
/// 127.0.0.1: a relay no one here wrote, which keeps every message it accepts as a JSON file
/// with its envelope. Started per test class and stopped by pid.
final class CaptureRelay {
    let server: PeerProcess
    let outDir: String
    var port: UInt16 { server.port }

    /// The capture script, found from this file's path (Tests/IntegrationTests/Support/..).
    static let script: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("peers/smtp_capture.py").path

    /// - Parameter rules: a file of `ADDRESS REPLY` lines (see smtp_capture.py), read at every
    ///   RCPT: those recipients get that reply instead of 250.
    /// - Throws: `PeerUnavailable` without aiosmtpd; `PeerError` when it does not start.
    init(rules: String? = nil) throws {
        try Peers.requirePythonModule("aiosmtpd", package: "python3-aiosmtpd")
        guard FileManager.default.fileExists(atPath: Self.script) else { throw PeerError("missing \(Self.script)") }
        var template = Array(((ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/sealmail-relay-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw HarnessError("mkdtemp: \(errnoText())") }
        outDir = String(cString: made)
        let port = PeerProcess.freePort()
        server = try PeerProcess(executable: Peers.python, arguments: [Self.script, "\(port)", outDir] + (rules.map { [$0] } ?? []),
                                 port: port)
    }

    func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: outDir)
    }

    /// Forgets what was captured so far (between tests; the server is idle then).
    func clear() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: outDir)) ?? [] {
            unlink(outDir + "/" + name)
        }
    }

    /// Every RCPT seen so far, as `ADDRESS CODE` (only with rules).
    func recipientLog() -> [String] {
        ((try? String(contentsOfFile: outDir + "/rcpt.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Every message captured so far, in arrival order.
    func messages() throws -> [CapturedMessage] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: outDir)) ?? [])
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
        return try names.map { name in
            let data = try Data(contentsOf: URL(fileURLWithPath: outDir + "/" + name))
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let from = object["mail_from"] as? String, let rcpts = object["rcpt_tos"] as? [String],
                  let b64 = object["data"] as? String, let bytes = Data(base64Encoded: b64) else {
                throw HarnessError("\(name): not a capture record")
            }
            return CapturedMessage(mailFrom: from, rcptTos: rcpts, data: Array(bytes))
        }
    }

    /// Waits until at least `count` messages arrived (a background delivery), then returns all.
    func waitForMessages(_ count: Int, timeout: Double = 20) throws -> [CapturedMessage] {
        let deadline = Date().addingTimeInterval(timeout)
        var got = try messages()
        while got.count < count && Date() < deadline {
            usleep(50_000)
            got = try messages()
        }
        return got
    }
}
