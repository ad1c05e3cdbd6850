#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Bouncy Castle 1.72 (Debian's libbcmail-java, libbcpkix-java, libbcprov-java, with javax.mail
/// from libmail-java), the S/MIME of Java mail clients and gateways: Tests/peers/BCPeer.java,
/// compiled with javac once per test process into a temporary folder, run with `java` per
/// check. An implementation independent of OpenSSL, NSS and gpgsm; it reads every construct
/// sealmail can make (bcmail 1.72 has no class for authEnveloped-data, so BCPeer opens that
/// with bcpkix's CMS classes).
public final class BouncyCastle {
    /// The jars BCPeer needs, in /usr/share/java, with the Debian package of each.
    static let jars: [(jar: String, package: String)] = [
        ("bcmail.jar", "libbcmail-java"), ("bcpkix.jar", "libbcpkix-java"), ("bcprov.jar", "libbcprov-java"),
        ("bcutil.jar", "libbcutil-java"), ("javax.mail.jar", "libmail-java"), ("javax.activation.jar", "libactivation-java"),
    ]
    static let javaDir = "/usr/share/java"
    static let source: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Tests/peers/BCPeer.java").path

    /// The compiled class folder, made once per process (javac takes seconds).
    private static let compiled: Swift.Result<String, Error> = Swift.Result {
        for program in ["java", "javac"] {
            guard (try? sh([program, "-version"]))?.status == 0 else {
                throw PeerUnavailable("\(program) is not installed (Debian package default-jdk-headless)")
            }
        }
        for (jar, package) in jars where !FileManager.default.fileExists(atPath: javaDir + "/" + jar) {
            throw PeerUnavailable("\(javaDir)/\(jar) is missing (Debian package \(package))")
        }
        guard FileManager.default.fileExists(atPath: source) else { throw PeerError("missing \(source)") }
        var template = Array(((ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/sealmail-bc-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw PeerError("mkdtemp: \(String(cString: strerror(errno)))") }
        let classes = String(cString: made)
        let run = try sh(["javac", "-nowarn", "-Xlint:-options", "-d", classes, "-cp", classpath, source])
        guard run.status == 0 else { throw PeerError("javac BCPeer.java failed: \(run.stderr)") }
        atexit { if let dir = try? BouncyCastle.compiled.get() { try? FileManager.default.removeItem(atPath: dir) } }
        return classes
    }

    static var classpath: String { jars.map { javaDir + "/" + $0.jar }.joined(separator: ":") }

    /// Bouncy Castle's version, from the versioned jar Debian's bcprov.jar links to (e.g. "1.72").
    public static func version() -> String {
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: javaDir + "/bcprov.jar")) ?? ""
        guard target.hasPrefix("bcprov-"), target.hasSuffix(".jar") else { return "?" }
        return String(target.dropFirst("bcprov-".count).dropLast(".jar".count))
    }

    public let dir = TempDir()
    private let classes: String

    /// - Throws: `PeerUnavailable` when Java or a jar is missing; `PeerError` when javac fails.
    public init() throws { classes = try Self.compiled.get() }

    /// One run of BCPeer; stdout holds its report lines.
    public func run(_ arguments: [String]) throws -> Run {
        try sh(["java", "-cp", classes + ":" + Self.classpath, "BCPeer"] + arguments)
    }

    /// What BCPeer made of a message: its report, and the bytes it wrote.
    public struct Outcome {
        public let run: Run
        public let output: [UInt8]
        public var succeeded: Bool { run.status == 0 }
    }

    private func run(_ verb: String, input: [UInt8], _ arguments: [String]) throws -> Outcome {
        let name = UUID().uuidString
        let inPath = dir.write("\(verb)-in-\(name)", input), outPath = dir.file("\(verb)-out-\(name)")
        let run = try self.run([verb, "--in", inPath, "--out", outPath] + arguments)
        return Outcome(run: run, output: Array(FileManager.default.contents(atPath: outPath) ?? Data()))
    }

    /// Decrypts an S/MIME message (enveloped-data or authEnveloped-data) with a recipient's
    /// certificate and key (PEM); the output is the inner entity. Prints `DECRYPTED <type>
    /// <content cipher OID> <key encryption OID>`.
    public func decrypt(_ message: [UInt8], cert: String, key: String) throws -> Outcome {
        try run("decrypt", input: message, ["--cert", cert, "--key", key])
    }

    /// Verifies a signed S/MIME message (multipart/signed or signed-data) and each signer's
    /// chain to `ca` at `at` (now when nil); the output is the signed entity. Prints `GOODSIG
    /// <subject> <signature algorithm OID>` per signer; exit 2 for a bad signature, 3 untrusted.
    public func verify(_ message: [UInt8], ca: String, at: Date? = nil) throws -> Outcome {
        try run("verify", input: message, ["--ca", ca] + (at.map { ["--at", String(Int($0.timeIntervalSince1970))] } ?? []))
    }

    /// Signs a MIME entity into a complete message with `headers` ("Name: value").
    public func sign(_ entity: [UInt8], cert: String, key: String, opaque: Bool = false, pss: Bool = false,
                     headers: [String]) throws -> [UInt8] {
        var arguments = ["--cert", cert, "--key", key] + headers.flatMap { ["--header", $0] }
        if opaque { arguments.append("--opaque") }
        if pss { arguments.append("--pss") }
        let result = try run("sign", input: entity, arguments)
        guard result.succeeded else { throw PeerError("BCPeer sign failed: \(result.run.stderr)") }
        return result.output
    }

    /// Encrypts a MIME entity to `certs` into a complete message with `headers`.
    /// - Parameter cipher: aes-256-cbc, aes-128-cbc or aes-256-gcm (authEnveloped-data).
    public func encrypt(_ entity: [UInt8], certs: [String], oaep: Bool = false, cipher: String = "aes-256-cbc",
                        headers: [String]) throws -> [UInt8] {
        var arguments = certs.flatMap { ["--cert", $0] } + ["--cipher", cipher] + headers.flatMap { ["--header", $0] }
        if oaep { arguments.append("--oaep") }
        let result = try run("encrypt", input: entity, arguments)
        guard result.succeeded else { throw PeerError("BCPeer encrypt failed: \(result.run.stderr)") }
        return result.output
    }
}
