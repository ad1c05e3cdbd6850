import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One message as the relay received it: the envelope and the DATA bytes.
public struct CapturedMessage {
    public var mailFrom: String
    public var rcptTos: [String]
    public var data: [UInt8]
    /// The client's port: one per connection (connection reuse shows as repeated peers).
    public var peer: Int
    /// The RCPT parameters the relay saw (NOTIFY=..., ORCPT=...), all recipients together.
    public var rcptOptions: [String]
    public var text: String { String(decoding: data, as: UTF8.self) }

    /// The header block (up to the first empty line), for field checks.
    public var headerText: String {
        guard let r = data.firstRange(of: Array("\r\n\r\n".utf8)) else { return text }
        return String(decoding: data[..<r.lowerBound], as: UTF8.self)
    }

    /// Values of the header fields called `name` (case-insensitive; unfolded).
    public func fields(_ name: String) -> [String] {
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
public final class CaptureRelay {
    public let server: PeerProcess
    public let outDir: String
    public var port: UInt16 { server.port }

    /// The capture script, found from this file's path (Sources/PeerTestSupport/..).
    static let script: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Tests/peers/smtp_capture.py").path

    /// - Parameters:
    ///   - delay: seconds each reply to MAIL, RCPT and end of DATA waits (a slow relay).
    ///   - rules: a file of `ADDRESS REPLY` lines (see smtp_capture.py), read at every RCPT:
    ///     those recipients get that reply instead of 250.
    /// - Throws: `PeerUnavailable` without aiosmtpd; `PeerError` when it does not start.
    ///   - port: the port to listen on (default: a free one).
    public init(delay: Double = 0, rules: String? = nil, port fixedPort: UInt16? = nil) throws {
        try Peers.requirePythonModule("aiosmtpd", package: "python3-aiosmtpd")
        guard FileManager.default.fileExists(atPath: Self.script) else { throw PeerError("missing \(Self.script)") }
        var template = Array(((ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/sealmail-relay-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw PeerError("mkdtemp: \(String(cString: strerror(errno)))") }
        outDir = String(cString: made)
        if let fixedPort, PeerProcess.canConnect(fixedPort) {
            throw PeerError("port \(fixedPort) of 127.0.0.1 is in use")
        }
        let port = fixedPort ?? PeerProcess.freePort()
        var options: [String] = []
        if delay > 0 { options += ["--delay", "\(delay)"] }
        if let rules { options += ["--rules", rules] }
        server = try PeerProcess(executable: Peers.python, arguments: [Self.script, "\(port)", outDir] + options,
                                 port: port)
    }

    public func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: outDir)
    }

    /// Forgets what was captured so far (between tests; the server is idle then).
    public func clear() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: outDir)) ?? [] {
            unlink(outDir + "/" + name)
        }
    }

    /// Every RCPT seen so far, as `ADDRESS CODE` (only with rules).
    public func recipientLog() -> [String] {
        ((try? String(contentsOfFile: outDir + "/rcpt.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Every message captured so far, in arrival order.
    public func messages() throws -> [CapturedMessage] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: outDir)) ?? [])
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
        return try names.map { name in
            let data = try Data(contentsOf: URL(fileURLWithPath: outDir + "/" + name))
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let from = object["mail_from"] as? String, let rcpts = object["rcpt_tos"] as? [String],
                  let b64 = object["data"] as? String, let bytes = Data(base64Encoded: b64) else {
                throw PeerError("\(name): not a capture record")
            }
            return CapturedMessage(mailFrom: from, rcptTos: rcpts, data: Array(bytes), peer: object["peer"] as? Int ?? 0,
                                   rcptOptions: object["rcpt_options"] as? [String] ?? [])
        }
    }

    /// Waits until at least `count` messages arrived (a background delivery), then returns all.
    public func waitForMessages(_ count: Int, timeout: Double = 20) throws -> [CapturedMessage] {
        let deadline = Date().addingTimeInterval(timeout)
        var got = try messages()
        while got.count < count && Date() < deadline {
            usleep(50_000)
            got = try messages()
        }
        return got
    }
}
