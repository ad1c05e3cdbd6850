import Foundation
import XCTest
import PeerTestSupport

/// Runs a program to completion in `directory`; throws with its stderr when it fails.
@discardableResult
func runTool(_ executable: String, _ arguments: [String], in directory: String) throws -> String {
    let r = try sh([executable] + arguments, cwd: directory)
    guard r.status == 0 else {
        throw PeerError("\(executable) \(arguments.joined(separator: " ")) failed: \(r.stderr)")
    }
    return r.out
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
