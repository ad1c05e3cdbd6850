#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A throwaway GnuPG home for gpgsm (GnuPG 2.2: libksba + libgcrypt, independent of OpenSSL),
/// trusting one CA, with the clock optionally faked (e.g. to a lab PKI's time). The agent is
/// killed at deinit. gpgsm 2.2 cannot read AES-GCM (authEnveloped-data) nor RSA-OAEP.
public final class GpgSM {
    public let dir = TempDir()
    public var home: String { dir.file("home") }
    private var env: [String: String] { ["GNUPGHOME": home] }
    private let fakedTime: String?

    /// - Parameter fakedTime: `--faked-system-time` (`YYYYMMDDTHHMMSS`), nil for the real clock.
    /// - Throws: `PeerUnavailable` when gpgsm is not installed.
    public init(trusting caPath: String, fakedTime: String? = nil) throws {
        self.fakedTime = fakedTime
        guard (try? sh(["gpgsm", "--version"]))?.status == 0 else { throw PeerUnavailable("gpgsm not installed (Debian package gpgsm)") }
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        dir.write("home/gpgsm.conf", "disable-crl-checks\n")
        dir.write("home/gpg-agent.conf", "allow-loopback-pinentry\n")
        let imported = try sh(["gpgsm", "--batch", "--import", caPath], env: env)
        guard imported.status == 0 else { throw GpgError(what: "import CA", run: imported) }
        let fpr = try sh(["openssl", "x509", "-in", caPath, "-noout", "-fingerprint", "-sha1"]).out
            .split(separator: "=").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        dir.write("home/trustlist.txt", "\(fpr) S relax\n")
    }

    private var clock: [String] { fakedTime.map { ["--faked-system-time", $0] } ?? [] }

    deinit { _ = try? sh(["gpgconf", "--kill", "gpg-agent"], env: env) }

    public struct GpgError: Error, CustomStringConvertible {
        public let what: String
        public let run: Run
        public var description: String { "gpgsm \(what) failed (\(run.status)): \(run.stderr)" }
    }

    /// Imports a key and certificate through a PKCS #12 with the legacy algorithms gpgsm 2.2 reads.
    ///
    /// gpgsm 2.2 now and then refuses a correct PKCS #12 ("data error at shrouded_key_bag" or
    /// "data.oid": 5 of 300 fresh files here, each with the right passphrase): its parser
    /// trips on some random salts and IVs. So a fresh file is made and the
    /// import tried again, up to three times, before failing.
    public func importKey(cert: String, key: String) throws {
        var last: Run?
        for attempt in 1...3 {
            let p12 = dir.file("import-\(attempt).p12")
            let made = try sh(["openssl", "pkcs12", "-export", "-inkey", key, "-in", cert, "-passout", "pass:test",
                                "-out", p12, "-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1"])
            guard made.status == 0 else { throw GpgError(what: "p12 export", run: made) }
            let imported = try sh(["gpgsm", "--batch", "--pinentry-mode", "loopback", "--passphrase-fd", "0", "--import", p12],
                                   stdin: Data("test\n".utf8), env: env)
            if imported.status == 0 { return }
            last = imported
        }
        throw GpgError(what: "import p12 (3 attempts)", run: last!)
    }

    /// gpgsm --verify of a detached signature over `content`; status lines on stdout.
    public func verify(signature: [UInt8], content: [UInt8]) throws -> Run {
        let sig = dir.write("sig.der", signature), data = dir.write("content", content)
        return try sh(["gpgsm", "--batch", "--status-fd", "1"] + clock + ["--verify", sig, data],
                       env: env)
    }

    /// gpgsm --verify of a detached signature over a file (for content too large to hold).
    public func verifyFiles(signature: String, content: String) throws -> Run {
        try sh(["gpgsm", "--batch", "--status-fd", "1"] + clock + ["--verify", signature, content], env: env)
    }

    /// gpgsm --verify of an opaque signature; the content goes to `contentPath`.
    public func verifyOpaque(_ der: [UInt8], contentPath: String) throws -> Run {
        let sig = dir.write("opaque.der", der)
        return try sh(["gpgsm", "--batch", "--status-fd", "1"] + clock
                        + ["--output", contentPath, "--verify", sig], env: env)
    }

    /// Imports a certificate without a key (a recipient to encrypt to).
    public func importCertificate(_ path: String) throws {
        let imported = try sh(["gpgsm", "--batch", "--import", path], env: env)
        guard imported.status == 0 else { throw GpgError(what: "import certificate", run: imported) }
    }

    /// gpgsm --sign (opaque signed-data) or --detach-sign with the imported key of `signer`
    /// (an e-mail address); the DER signature.
    public func sign(_ content: [UInt8], signer: String, detached: Bool) throws -> [UInt8] {
        let data = dir.write("sign-content", content), out = dir.file("sign-\(UUID().uuidString).der")
        let run = try sh(["gpgsm", "--batch", "--pinentry-mode", "loopback", "--passphrase-fd", "0"] + clock
                           + ["-u", signer, "--output", out, detached ? "--detach-sign" : "--sign", data],
                         stdin: Data("test\n".utf8), env: env)
        guard run.status == 0 else { throw GpgError(what: "sign", run: run) }
        return dir.read(URL(fileURLWithPath: out).lastPathComponent)
    }

    /// gpgsm --encrypt to imported certificates (e-mail addresses); the DER enveloped-data
    /// (gpgsm 2.2 picks AES-128-CBC and RSA PKCS #1 v1.5).
    public func encrypt(_ content: [UInt8], to recipients: [String]) throws -> [UInt8] {
        let data = dir.write("encrypt-content", content), out = dir.file("encrypt-\(UUID().uuidString).der")
        let run = try sh(["gpgsm", "--batch"] + clock + recipients.flatMap { ["-r", $0] } + ["--output", out, "--encrypt", data],
                         env: env)
        guard run.status == 0 else { throw GpgError(what: "encrypt", run: run) }
        return dir.read(URL(fileURLWithPath: out).lastPathComponent)
    }

    /// gpgsm --decrypt; the plaintext is stdout, status lines on stderr.
    public func decrypt(_ der: [UInt8]) throws -> Run {
        let enc = dir.write("enc.der", der)
        return try sh(["gpgsm", "--batch", "--pinentry-mode", "loopback", "--passphrase-fd", "0", "--status-fd", "2"]
                        + clock + ["--decrypt", enc], stdin: Data("test\n".utf8), env: env)
    }
}

/// Our own minimal splitting of an S/MIME message, for the tools that do not parse MIME
/// (gpgsm): the signed bytes are exactly those between `--boundary CRLF` and the next
/// `CRLF--boundary` (RFC 2046 5.1.1).
public enum MIMESplit {
    public static func headerAndBody(_ bytes: [UInt8]) -> (header: String, body: [UInt8]) {
        let sep: [UInt8] = [13, 10, 13, 10]
        guard let at = find(sep, in: bytes, from: 0) else { return (String(decoding: bytes, as: UTF8.self), []) }
        return (String(decoding: bytes[..<at], as: UTF8.self), Array(bytes[(at + 4)...]))
    }

    public static func boundary(_ header: String) -> String? {
        guard let range = header.range(of: "boundary=\"") else { return nil }
        return String(header[range.upperBound...].prefix { $0 != "\"" })
    }

    /// (signed content, signature DER) of a multipart/signed message.
    public static func signed(_ bytes: [UInt8]) -> (content: [UInt8], signature: [UInt8])? {
        let (header, body) = headerAndBody(bytes)
        guard let b = boundary(header) else { return nil }
        let open = Array("--\(b)\r\n".utf8), delimiter = Array("\r\n--\(b)".utf8)
        guard let start = find(open, in: body, from: 0) else { return nil }
        let contentStart = start + open.count
        guard let end = find(delimiter, in: body, from: contentStart) else { return nil }
        let content = Array(body[contentStart..<end])
        let sigPart = Array(body[(end + delimiter.count + 2)...])
        guard let sigEnd = find(delimiter, in: sigPart, from: 0) else { return nil }
        let (_, sigBody) = headerAndBody(Array(sigPart[..<sigEnd]))
        return (content, base64(sigBody))
    }

    /// The DER inside an application/pkcs7-mime message.
    public static func pkcs7(_ bytes: [UInt8]) -> [UInt8] { base64(headerAndBody(bytes).body) }

    public static func base64(_ bytes: [UInt8]) -> [UInt8] {
        let text = String(decoding: bytes.filter { $0 != 13 && $0 != 10 }, as: UTF8.self)
        return Array(Data(base64Encoded: text) ?? Data())
    }

    public static func find(_ needle: [UInt8], in hay: [UInt8], from: Int) -> Int? {
        guard from + needle.count <= hay.count else { return nil }
        return hay.withUnsafeBytes { h -> Int? in
            needle.withUnsafeBytes { n -> Int? in
                let base = h.baseAddress!.assumingMemoryBound(to: UInt8.self)
                var i = from
                while i + n.count <= h.count {
                    guard let hit = memchr(base + i, Int32(needle[0]), h.count - n.count + 1 - i) else { return nil }
                    let at = UnsafeRawPointer(hit) - h.baseAddress!
                    if memcmp(h.baseAddress! + at, n.baseAddress!, n.count) == 0 { return at }
                    i = at + 1
                }
                return nil
            }
        }
    }
}
