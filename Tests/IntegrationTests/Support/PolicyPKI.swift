import Foundation
import PeerTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway CA made with `openssl ca` (which, unlike `openssl x509 -req`, can set both
/// validity dates, so an expired certificate is issued today), and the S/MIME certificates the
/// policy tests use, valid around the real clock so that sealmail, openssl and gpgsm all judge
/// them at the real time:
/// - `sender@example.com`: the signing identity (digitalSignature, emailProtection);
/// - `a@`, `c@`, `d@partner.example`: valid recipients (keyEncipherment, emailProtection);
/// - `expired@partner.example`: expired last year;
/// - `server@partner.example`: extendedKeyUsage serverAuth only (wrong purpose).
/// No certificate exists for `b@partner.example`. `certificates` holds only the recipients'.
final class PolicyPKI {
    let dir: String
    var caCert: String { dir + "/ca.crt" }
    var certificates: String { dir + "/certs" }
    var keys: String { dir + "/keys" }

    static let recipients = ["a", "c", "d"]

    /// Issuer and serial of a certificate, as they appear in a RecipientInfo.
    struct IssuerSerial: Hashable, CustomStringConvertible {
        var issuer: String
        /// Upper-case hex without leading zeros.
        var serial: String
        var description: String { "\(issuer) #\(serial)" }
    }

    init() throws {
        try Peers.requireProgram("openssl", ["version"], package: "openssl")
        var template = Array(((ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/sealmail-pki-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw HarnessError("mkdtemp: \(errnoText())") }
        dir = String(cString: made)
        chmod(dir, 0o755)   // a throwaway submitting user reads the certificates
        for sub in ["certs", "keys", "newcerts"] { mkdir(dir + "/" + sub, 0o755) }
        try write("index.txt", "")
        try write("serial", "1000\n")
        try write("ca.cnf", """
            [ca]
            default_ca = ca_default
            [ca_default]
            dir = \(dir)
            database = $dir/index.txt
            new_certs_dir = $dir/newcerts
            serial = $dir/serial
            default_md = sha256
            policy = policy_any
            unique_subject = no
            copy_extensions = none
            email_in_dn = no
            [policy_any]
            commonName = supplied
            organizationName = optional
            """)
        try openssl(["req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/ca.key",
                     "-out", caCert, "-days", "30", "-subj", "/O=sealmail e2e/CN=Policy E2E CA",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        let day: TimeInterval = 86400
        try issue("sender", domain: "example.com", keyUsage: "digitalSignature,nonRepudiation",
                  eku: "emailProtection", from: Date() - day, to: Date() + 30 * day, folder: keys)
        for name in Self.recipients {
            try issue(name, domain: "partner.example", keyUsage: "digitalSignature,keyEncipherment",
                      eku: "emailProtection", from: Date() - day, to: Date() + 30 * day, folder: certificates)
        }
        try issue("expired", domain: "partner.example", keyUsage: "digitalSignature,keyEncipherment",
                  eku: "emailProtection", from: Date() - 400 * day, to: Date() - 35 * day, folder: certificates)
        try issue("server", domain: "partner.example", keyUsage: "digitalSignature,keyEncipherment",
                  eku: "serverAuth", from: Date() - day, to: Date() + 30 * day, folder: certificates)
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }

    /// A signing identity for `sender@example.com` that is fine in every way but one: it is
    /// issued by another throwaway CA, which nothing trusts. Made on first use, under
    /// `outsider/` (its CA certificate is `outsider/ca.crt`).
    func outsider() throws -> (cert: String, key: String, ca: String) {
        let o = dir + "/outsider"
        let result = (cert: o + "/sender.crt", key: o + "/sender.key", ca: o + "/ca.crt")
        if FileManager.default.fileExists(atPath: result.cert) { return result }
        mkdir(o, 0o755)
        try openssl(["req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", o + "/ca.key",
                     "-out", result.ca, "-days", "30", "-subj", "/O=sealmail e2e/CN=Outsider CA",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try write("outsider/sender.ext", """
            basicConstraints=critical,CA:FALSE
            keyUsage=critical,digitalSignature,nonRepudiation
            extendedKeyUsage=emailProtection
            subjectAltName=email:sender@example.com
            """)
        try openssl(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", result.key, "-out", o + "/sender.csr",
                     "-subj", "/O=sealmail e2e/CN=sender (outsider)"])
        try openssl(["x509", "-req", "-in", o + "/sender.csr", "-CA", result.ca, "-CAkey", o + "/ca.key",
                     "-CAcreateserial", "-days", "30", "-extfile", o + "/sender.ext", "-out", result.cert])
        chmod(result.key, 0o600)
        return result
    }

    /// The certificate of `name` (`sender` is under keys/, the others under certs/).
    func cert(_ name: String) -> String { (name == "sender" ? keys : certificates) + "/\(name).crt" }
    func key(_ name: String) -> String { keys + "/\(name).key" }

    /// The issuer (as `openssl cms -print` writes names) and serial of a certificate.
    func issuerSerial(_ name: String) throws -> IssuerSerial {
        let out = try openssl(["x509", "-in", cert(name), "-noout", "-serial", "-issuer", "-nameopt", "oneline"])
        var serial = "", issuer = ""
        for line in out.split(separator: "\n") {
            if line.hasPrefix("serial=") { serial = Self.normalisedSerial(String(line.dropFirst(7)), hex: true) }
            if line.hasPrefix("issuer=") { issuer = Self.normalisedName(String(line.dropFirst(7))) }
        }
        return IssuerSerial(issuer: issuer, serial: serial)
    }

    /// Hex or decimal serial to upper-case hex without leading zeros.
    static func normalisedSerial(_ text: String, hex: Bool) -> String {
        var t = text.trimmingCharacters(in: .whitespaces)
        var isHex = hex
        if t.lowercased().hasPrefix("0x") { t = String(t.dropFirst(2)); isHex = true }
        if !isHex, let n = UInt64(t) { t = String(n, radix: 16) }
        let trimmed = t.uppercased().drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }

    /// `O = x, CN = y` and `O=x, CN=y` to one form.
    static func normalisedName(_ text: String) -> String {
        text.replacingOccurrences(of: " = ", with: "=").trimmingCharacters(in: .whitespaces)
    }

    // MARK: making

    private func issue(_ name: String, domain: String, keyUsage: String, eku: String,
                       from: Date, to: Date, folder: String) throws {
        let key = keys + "/\(name).key", csr = dir + "/\(name).csr"
        try write("\(name).ext", """
            basicConstraints=critical,CA:FALSE
            keyUsage=critical,\(keyUsage)
            extendedKeyUsage=\(eku)
            subjectAltName=email:\(name)@\(domain)
            """)
        try openssl(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                     "-subj", "/O=sealmail e2e/CN=\(name)"])
        try openssl(["ca", "-batch", "-config", dir + "/ca.cnf", "-cert", caCert, "-keyfile", dir + "/ca.key",
                     "-in", csr, "-out", folder + "/\(name).crt", "-notext",
                     "-startdate", Self.asn1Time(from), "-enddate", Self.asn1Time(to),
                     "-extfile", dir + "/\(name).ext"])
        chmod(key, 0o600)
    }

    /// `YYYYMMDDHHMMSSZ` (GeneralizedTime, as `openssl ca -startdate` takes it).
    static func asn1Time(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMddHHmmss'Z'"
        return f.string(from: date)
    }

    private func write(_ name: String, _ text: String) throws {
        try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
    }

    @discardableResult
    private func openssl(_ args: [String]) throws -> String {
        let r = try sh(["openssl"] + args, cwd: dir)
        guard r.status == 0 else { throw HarnessError("openssl \(args.prefix(2).joined(separator: " ")) failed: \(r.stderr)") }
        return r.out
    }
}
