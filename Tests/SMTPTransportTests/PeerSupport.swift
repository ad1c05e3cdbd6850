import Foundation
import XCTest

/// A server process started by a test, stopped by its pid (never by name).
final class PeerProcess {
    let process: Process
    let port: UInt16
    let stderrPipe = Pipe()

    /// Starts `executable` and waits until 127.0.0.1:`port` accepts connections.
    init(executable: String, arguments: [String], port: UInt16, readyTimeout: Double = 15) throws {
        self.port = port
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderrPipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(readyTimeout)
        while Date() < deadline {
            if !process.isRunning {
                let err = String(decoding: stderrPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                throw PeerError("\(executable) exited early: \(err)")
            }
            if PeerProcess.canConnect(port) { return }
            usleep(50_000)
        }
        stop()
        throw PeerError("\(executable) did not listen on \(port) within \(readyTimeout)s")
    }

    /// SIGTERM by pid, then SIGKILL if it lingers; waits for it.
    func stop() {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }

    static func canConnect(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// A port that was free a moment ago (bind to 0, read it, close).
    static func freePort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return UInt16(bigEndian: addr.sin_port)
    }
}

struct PeerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a program to completion; throws with its stderr when it fails.
@discardableResult
func runTool(_ executable: String, _ arguments: [String], in directory: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    p.currentDirectoryURL = URL(fileURLWithPath: directory)
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw PeerError("\(executable) \(arguments.joined(separator: " ")) failed: \(String(decoding: errors, as: UTF8.self))")
    }
    return String(decoding: output, as: UTF8.self)
}

/// Throwaway certificates made with the openssl CLI: a CA, a server certificate for
/// 127.0.0.1 and localhost signed by it, one for another name (verification must fail) and
/// a client certificate.
struct TestPKI {
    let directory: String
    var caFile: String { directory + "/ca.pem" }
    var serverCert: String { directory + "/server.pem" }
    var serverKey: String { directory + "/server.key" }
    var wrongCert: String { directory + "/wrong.pem" }
    var wrongKey: String { directory + "/wrong.key" }
    var clientCert: String { directory + "/client.pem" }
    var clientKey: String { directory + "/client.key" }

    init() throws {
        let openssl = "/usr/bin/openssl"
        guard FileManager.default.isExecutableFile(atPath: openssl) else { throw XCTSkip("openssl CLI missing at \(openssl)") }
        directory = NSTemporaryDirectory() + "sealmail-pki-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try runTool(openssl, ["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                                                      "-subj", "/CN=sealmail test CA"], in: directory)
        for (name, san, usage) in [("server", "DNS:localhost,IP:127.0.0.1", "serverAuth"),
                                   ("wrong", "DNS:wrong.example", "serverAuth"),
                                   ("client", "DNS:client.test", "clientAuth")] {
            try "subjectAltName=\(san)\nbasicConstraints=CA:FALSE\nextendedKeyUsage=\(usage)\n"
                .write(toFile: directory + "/\(name).ext", atomically: true, encoding: .utf8)
            try runTool(openssl, ["req"] + ec + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(name)"], in: directory)
            try runTool(openssl, ["x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                                  "-CAcreateserial", "-out", "\(name).pem", "-days", "2", "-extfile", "\(name).ext"], in: directory)
        }
    }

    /// The SHA-256 fingerprint of a certificate, from `openssl x509 -fingerprint`.
    func fingerprint(_ certificate: String) throws -> String {
        let out = try runTool("/usr/bin/openssl", ["x509", "-in", certificate, "-noout", "-fingerprint", "-sha256"], in: directory)
        return out.split(separator: "=").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
