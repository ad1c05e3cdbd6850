#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Mozilla's NSS (Network Security Services, the S/MIME engine of Thunderbird) through its
/// command-line tools from Debian's libnss3-tools: `certutil` (a throwaway certificate
/// database trusting one CA), `pk12util` (a test PKI's keys), and `cmsutil` (CMS decode, sign,
/// envelope). An implementation independent of OpenSSL and of gpgsm. NSS 3.87 cannot open
/// authEnveloped-data (AES-GCM), RSA-OAEP nor ECDH key agreement; it always checks
/// certificates at the real time (no faked clock), so the PKI must be valid now.
public final class NSS {
    public let dir = TempDir()
    /// The database argument (`sql:` format, no password).
    public var database: String { "sql:" + dir.file("db") }

    /// Throws `PeerUnavailable` unless certutil, pk12util and cmsutil are on PATH.
    public static func requireTools() throws {
        for tool in ["certutil", "pk12util", "cmsutil"] {
            guard (try? sh(["which", tool]))?.status == 0 else {
                throw PeerUnavailable("\(tool) is not installed (Debian package libnss3-tools)")
            }
        }
    }

    /// The NSS version of the shared library the tools use (e.g. "3.87.1").
    public static func version() -> String {
        let run = try? sh(["dpkg-query", "-W", "-f=${Version}", "libnss3"])
        return run.map { $0.out.split(separator: ":").last.map { String($0.split(separator: "-")[0]) } ?? $0.out } ?? "?"
    }

    /// A new database that trusts `caPath` (PEM) for e-mail.
    /// - Throws: `PeerUnavailable` when the NSS tools are not installed.
    public init(trusting caPath: String) throws {
        try Self.requireTools()
        try FileManager.default.createDirectory(atPath: dir.file("db"), withIntermediateDirectories: true)
        try check(sh(["certutil", "-N", "-d", database, "--empty-password"]), "certutil -N")
        try check(sh(["certutil", "-A", "-d", database, "-n", "test-ca", "-t", "C,C,C", "-i", caPath]), "certutil -A")
    }

    public struct NSSError: Error, CustomStringConvertible {
        public let what: String
        public let run: Run
        public var description: String { "\(what) failed (\(run.status)): \(run.stderr)" }
    }

    @discardableResult
    private func check(_ run: Run, _ what: String) throws -> Run {
        guard run.status == 0 else { throw NSSError(what: what, run: run) }
        return run
    }

    /// Imports a key and its certificate (PEM files) under `nickname`, through a PKCS #12
    /// made by openssl.
    public func importKey(cert: String, key: String, nickname: String) throws {
        let p12 = dir.file("\(nickname).p12")
        try check(sh(["openssl", "pkcs12", "-export", "-inkey", key, "-in", cert, "-name", nickname,
                      "-passout", "pass:test", "-out", p12]), "openssl pkcs12 -export")
        try check(sh(["pk12util", "-i", p12, "-d", database, "-W", "test"]), "pk12util -i")
    }

    /// Imports a certificate without its key (a recipient to encrypt to).
    public func importCertificate(_ cert: String, nickname: String) throws {
        try check(sh(["certutil", "-A", "-d", database, "-n", nickname, "-t", ",,", "-i", cert]), "certutil -A")
    }

    /// What `cmsutil -D` made of a CMS structure.
    public struct Decoded {
        /// cmsutil's exit status (0 even for a bad signature: see `signerStatus`).
        public let run: Run
        /// The content (decrypted, or encapsulated).
        public let content: [UInt8]
        /// `signerN.status=` values of the `-h` report (`GoodSignature`, `DigestMismatch`,
        /// `SigningCertNotTrusted`...), one per signer; empty for enveloped data.
        public let signerStatus: [String]
        /// The `type=` values of the `-h` report, outermost first (`envelopedData`, `signedData`...).
        public let types: [String]
        public var opened: Bool { run.status == 0 }
        public var verified: Bool { opened && !signerStatus.isEmpty && signerStatus.allSatisfy { $0 == "GoodSignature" } }
    }

    /// `cmsutil -D`: decrypts enveloped data with the database's keys, or verifies signed data
    /// (against `detachedContent` when given) with the database's trust, S/MIME signer usage.
    /// Run twice: once for the content, once (`-n -h`) for the report, which `-o` would mix
    /// into the content.
    public func decode(_ der: [UInt8], detachedContent: [UInt8]? = nil) throws -> Decoded {
        let input = dir.write("in-\(UUID().uuidString).der", der)
        let output = dir.file("out-\(UUID().uuidString)")
        var arguments = ["cmsutil", "-D", "-i", input, "-d", database, "-p", "", "-u", "4"]
        if let detachedContent { arguments += ["-c", dir.write("content-\(UUID().uuidString)", detachedContent)] }
        let run = try sh(arguments + ["-o", output])
        let report = run.status == 0 ? try sh(arguments + ["-n", "-h", "3"]).out : ""
        return Decoded(run: run, content: Array(FileManager.default.contents(atPath: output) ?? Data()),
                       signerStatus: Self.values(of: "status", in: report), types: Self.values(of: "type", in: report))
    }

    /// `name=value;` pairs of cmsutil's `-h` report (`signer0.status=...`).
    static func values(of name: String, in report: String) -> [String] {
        report.components(separatedBy: CharacterSet(charactersIn: "; \t\n")).compactMap { item in
            guard let eq = item.firstIndex(of: "=") else { return nil }
            let key = item[..<eq]
            guard key == name || key.hasSuffix("." + name) else { return nil }
            return String(item[item.index(after: eq)...])
        }
    }

    /// `cmsutil -S`: signed data over `content` by the key imported as `nickname`, with
    /// signingTime and SMIMECapabilities; detached (`-T`) or with the content inside.
    public func sign(_ content: [UInt8], nickname: String, detached: Bool) throws -> [UInt8] {
        let input = dir.write("sign-in-\(UUID().uuidString)", content), output = dir.file("sign-out-\(UUID().uuidString)")
        try check(sh(["cmsutil", "-S", "-N", nickname, "-G", "-P", "-H", "SHA256", "-i", input, "-o", output,
                      "-d", database, "-p", ""] + (detached ? ["-T"] : [])), "cmsutil -S")
        return Array(FileManager.default.contents(atPath: output) ?? Data())
    }

    /// `cmsutil -E`: enveloped data to the certificates imported as `recipients` (NSS picks
    /// the cipher: AES-128-CBC here, RSA PKCS #1 v1.5).
    public func encrypt(_ content: [UInt8], recipients: [String]) throws -> [UInt8] {
        let input = dir.write("enc-in-\(UUID().uuidString)", content), output = dir.file("enc-out-\(UUID().uuidString)")
        try check(sh(["cmsutil", "-E", "-r", recipients.joined(separator: ","), "-i", input, "-o", output,
                      "-d", database, "-p", ""]), "cmsutil -E")
        return Array(FileManager.default.contents(atPath: output) ?? Data())
    }
}
