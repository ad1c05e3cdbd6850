import Foundation
import PeerTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway CA and S/MIME certificates made with the openssl command: alice@example.com
/// (signer), bob@ and carol@partner.example and audit@example.com (recipients). Removed by
/// `remove()`.
final class TestPKI {
    let dir: String
    var caCert: String { dir + "/ca.crt" }

    init() throws {
        try Peers.requireProgram("openssl", ["version"], package: "openssl")
        var template = Array(((ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/sealmail-lib-pki-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw PeerError("mkdtemp failed") }
        dir = String(cString: made)
        try openssl(["req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/ca.key", "-out", caCert,
                     "-days", "30", "-subj", "/O=sealmail lib tests/CN=Library Test CA",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        for (name, address) in [("alice", "alice@example.com"), ("bob", "bob@partner.example"),
                                ("carol", "carol@partner.example"), ("audit", "audit@example.com")] {
            try issue(name, address)
        }
    }

    func cert(_ name: String) -> String { dir + "/\(name).crt" }
    func key(_ name: String) -> String { dir + "/\(name).key" }

    private func issue(_ name: String, _ address: String) throws {
        let ext = dir + "/\(name).ext"
        try Data("""
            basicConstraints=critical,CA:FALSE
            keyUsage=critical,digitalSignature,keyEncipherment
            extendedKeyUsage=emailProtection
            subjectAltName=email:\(address)
            """.utf8).write(to: URL(fileURLWithPath: ext))
        try openssl(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key(name), "-out", dir + "/\(name).csr",
                     "-subj", "/O=sealmail lib tests/CN=\(name)"])
        try openssl(["x509", "-req", "-in", dir + "/\(name).csr", "-CA", caCert, "-CAkey", dir + "/ca.key",
                     "-CAcreateserial", "-days", "30", "-extfile", ext, "-out", cert(name)])
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }

    @discardableResult
    func openssl(_ args: [String], input: [UInt8]? = nil) throws -> [UInt8] {
        try Self.run("/usr/bin/openssl", args, input: input)
    }

    /// Runs a program; its stdout, or an error with its stderr.
    static func run(_ program: String, _ args: [String], input: [UInt8]? = nil) throws -> [UInt8] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = args
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        if let input { inp.fileHandleForWriting.write(Data(input)) }
        try? inp.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw PeerError("\(program) \(args.joined(separator: " ")): \(String(decoding: errors, as: UTF8.self))")
        }
        return [UInt8](data)
    }
}

/// CPython's email package (Debian's /usr/bin/python3) as the independent reader.
enum PythonEmail {
    static func run(_ script: String, input: [UInt8]) throws -> String {
        String(decoding: try TestPKI.run(Peers.python, ["-c", script], input: input), as: UTF8.self)
    }
}
