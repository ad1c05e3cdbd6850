#if canImport(Glibc)
import Glibc
#endif
import MailMessage
import MailPolicy
import SMTPProtocol
import SMTPTransport

/// Turns `[[relay]]` config tables into the SMTP engine's relay descriptions. Secrets are
/// read only when a session authenticates, from `password_file` (first line) or the output of
/// `password_command` (the proxy's from `proxy_password_file`, at each connection to the
/// proxy), and never logged. Each is judged by `FileTrust` again when it is used (a queue
/// run may last long after the config was loaded).
enum RelayFactory {
    static func relay(_ c: RelayConfig, heloName: String, trust: FileTrust) -> SMTPRelay {
        let tls: SMTPTLSMode
        switch c.tls {
        case .none: tls = .none
        case .starttls: tls = .startTLS
        case .tls: tls = .implicit
        }
        var r = SMTPRelay(host: c.host, port: UInt16(c.port), tls: tls, heloName: heloName)
        r.tlsSettings.verifyCertificate = c.tlsVerify
        r.tlsSettings.caFile = c.caFile
        // The config reader refuses a pin it cannot read; a config built otherwise still
        // fails closed: an unreadable pin becomes one no certificate matches.
        r.tlsSettings.pinnedSHA256 = c.tlsFingerprints.map { SMTPTLSSettings.fingerprint(hex: $0) ?? [] }
        r.tlsSettings.clientCertificateFile = c.clientCertificate
        r.tlsSettings.clientKeyFile = c.clientKey
        r.user = c.user
        r.allowPlaintextAuth = c.allowPlaintextAuth
        switch c.auth {
        case .none: r.auth = .none
        case .auto: r.auth = .auto
        case .plain: r.auth = .mechanism(.plain)
        case .login: r.auth = .mechanism(.login)
        case .cramMD5: r.auth = .mechanism(.cramMD5)
        case .scramSHA256: r.auth = .mechanism(.scramSHA256)
        case .xoauth2: r.auth = .mechanism(.xoauth2); r.secretIsOAuthToken = true
        }
        if let file = c.passwordFile {
            r.secretProvider = { try readSecretFile(file, trust: trust) }
        } else if let command = c.passwordCommand {
            r.secretProvider = { try runSecretCommand(command, trust: trust) }
        }
        r.proxy = c.proxy.map { proxy(_: $0, user: c.proxyUser, passwordFile: c.proxyPasswordFile, trust: trust) }
        var t = SMTPTimeouts()
        t.connect = Double(c.connectTimeout)
        t.greeting = Double(c.commandTimeout)
        t.tlsHandshake = Double(min(c.commandTimeout, 120))
        t.mail = Double(c.commandTimeout)
        t.rcpt = Double(c.commandTimeout)
        t.command = Double(c.commandTimeout)
        t.dataInitiation = Double(c.commandTimeout)
        t.dataBlock = Double(c.dataTimeout)
        t.dataTermination = Double(c.dataTimeout)
        t.delivery = Double(c.deliveryTimeout)
        r.timeouts = t
        return r
    }

    /// `proxy`, `proxy_user`, `proxy_password_file` (read at each connection to the proxy).
    static func proxy(_ p: RelayProxy, user: String?, passwordFile: String?, trust: FileTrust) -> SMTPProxy {
        let kind: SMTPProxy.Kind
        switch p.scheme {
        case .socks5: kind = .socks5
        case .socks5h: kind = .socks5h
        case .socks4a: kind = .socks4a
        case .http: kind = .http
        }
        var proxy = SMTPProxy(kind: kind, host: p.host, port: UInt16(p.port))
        proxy.user = user
        if let passwordFile {
            proxy.passwordProvider = { try readSecretFile(passwordFile, key: "proxy_password_file", trust: trust) }
        }
        return proxy
    }

    struct SecretError: Error, CustomStringConvertible { var description: String }

    static func readSecretFile(_ path: String, key: String = "password_file", trust: FileTrust) throws -> [UInt8] {
        let resolved: String
        switch trust.resolve(path, what: key, use: .secret) {
        case .success(let r): resolved = r
        case .failure(let p): throw SecretError(description: "\(p)")
        }
        switch Runtime.readBytes(resolved) {
        case .success(let bytes):
            // The first line, its LF or CRLF removed (by bytes: see TextLines).
            return Array(TextLines.firstLine(bytes))
        case .failure(let e):
            throw SecretError(description: "cannot read \(key) \(path): \(String(cString: strerror(e.code)))")
        }
    }

    /// Runs `password_command` through sh, its program named by the absolute path that
    /// `FileTrust.command` checked.
    static func runSecretCommand(_ command: String, trust: FileTrust) throws -> [UInt8] {
        let checked: String
        switch trust.command(command) {
        case .success(let c): checked = c
        case .failure(let p): throw SecretError(description: "\(p)")
        }
        guard let p = popen(checked, "r") else {
            throw SecretError(description: "cannot run password_command: \(String(cString: strerror(errno)))")
        }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while out.count < 65536 {
            let n = buf.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, p) }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        let status = pclose(p)
        guard status == 0 else { throw SecretError(description: "password_command exited with status \(status >> 8)") }
        return Array(TextLines.firstLine(out))
    }
}
