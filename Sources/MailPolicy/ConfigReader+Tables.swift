import MailMessage
import TOMLKit

extension Reader {
    static let topKeys: Set<String> = ["hostname", "domain", "queue_dir", "delivery", "aliases", "local_delivery", "mail_spool",
                                       "max_queue_lifetime", "trusted", "senders", "mailq_users", "syslog_ident", "max_connections",
                                       "interactive_timeout", "relay", "smime"]
    static let relayKeys: Set<String> = ["host", "port", "tls", "tls_verify", "ca_file", "tls_fingerprint",
                                         "client_certificate", "client_key", "auth", "user", "password_file",
                                         "password_command", "allow_plaintext_auth", "connect_timeout",
                                         "command_timeout", "data_timeout", "delivery_timeout", "proxy", "proxy_user",
                                         "proxy_password_file"]
    static let smimeKeys: Set<String> = ["certificates", "trust_anchors", "digest", "cipher", "sign", "encrypt",
                                         "header_protection", "secure_tag", "key_transport", "legacy_display"]
    static let signKeys: Set<String> = ["from", "certificate", "key", "key_passphrase_file", "chain", "users",
                                        "unauthorised", "digest", "form", "rsa_scheme"]
    static let encryptKeys: Set<String> = ["to", "mode", "cipher", "header_protection", "key_transport", "legacy_display"]

    mutating func readConfig(_ t: TOMLTable) -> SealmailConfig {
        var c = SealmailConfig()
        checkKeys(t, at: "", known: Self.topKeys)
        c.hostname = string(t, "hostname", "")
        c.domain = string(t, "domain", "")
        if let q = string(t, "queue_dir", "") {
            if q.hasBytePrefix("/") { c.queueDir = q } else { problem("queue_dir", "queue_dir must be an absolute path") }
        }
        if let d = enumValue(t, "delivery", "", DeliveryMode.self) { c.delivery = d }
        if let a = string(t, "aliases", "") { c.aliases = a }
        c.localDelivery = enumValue(t, "local_delivery", "", LocalDelivery.self)
        if let m = string(t, "mail_spool", "") { c.mailSpool = m }
        if let l = duration(t, "max_queue_lifetime", "") { c.maxQueueLifetime = l }
        if let tr = strings(t, "trusted", "") { c.trusted = tr }
        if let m = strings(t, "mailq_users", "") { c.mailqUsers = m }
        if let s = string(t, "syslog_ident", "") { c.syslogIdent = s }
        if let n = int(t, "max_connections", "", range: 1...64) { c.maxConnections = n }
        if let d = duration(t, "interactive_timeout", "", max: 86400) { c.interactiveTimeout = d }
        if let v = t["senders"] {
            if let st = v.table {
                var map: [String: [String]] = [:]
                for key in st.keys { map[key] = patterns(st, key, "senders") ?? [] }
                c.senders = map
            } else {
                problem("senders", "senders must be a table of user = [patterns]")
            }
        }
        for (i, rt) in tables(t, "relay", "").enumerated() {
            if let r = readRelay(rt, path: "relay[\(i)]") { c.relays.append(r) }
        }
        if let v = t["smime"] {
            if let st = v.table { c.smime = readSMIME(st) } else { problem("smime", "smime must be a table") }
        }
        for key in ["hostname", "domain"] {
            if let v = key == "hostname" ? c.hostname : c.domain, !Self.isHostName(v) {
                problem(key, "\(key) = \"\(v)\" is not a host name")
            }
        }
        return c
    }

    static func isHostName(_ s: String) -> Bool { HostName.isValid(s) }

    mutating func readRelay(_ t: TOMLTable, path: String) -> RelayConfig? {
        checkKeys(t, at: path, known: Self.relayKeys)
        guard let host = string(t, "host", path), !host.isEmpty else {
            problem(path, "[[relay]] needs host")
            return nil
        }
        let tls = enumValue(t, "tls", path, RelayTLS.self) ?? .starttls
        var r = RelayConfig(host: host, port: int(t, "port", path, range: 1...65535), tls: tls)
        r.line = locator.line(of: path)
        if let v = bool(t, "tls_verify", path) { r.tlsVerify = v }
        r.caFile = string(t, "ca_file", path)
        r.tlsFingerprints = strings(t, "tls_fingerprint", path) ?? []
        // A pin that cannot be read is an error, never dropped: with tls_verify = false (the
        // usual reason to pin) a dropped pin would accept any certificate.
        for f in r.tlsFingerprints where Hex.fingerprint(f) == nil {
            problem(join(path, "tls_fingerprint"), "tls_fingerprint \"\(f)\" is not a SHA-256 fingerprint: 64 hex digits, ':' between bytes allowed (openssl x509 -noout -fingerprint -sha256)")
        }
        r.clientCertificate = string(t, "client_certificate", path)
        r.clientKey = string(t, "client_key", path)
        r.user = string(t, "user", path)
        r.passwordFile = string(t, "password_file", path)
        r.passwordCommand = string(t, "password_command", path)
        r.auth = enumValue(t, "auth", path, RelayAuth.self) ?? (r.user == nil ? .none : .auto)
        if let v = bool(t, "allow_plaintext_auth", path) { r.allowPlaintextAuth = v }
        if let v = int(t, "connect_timeout", path, range: 1...3600) { r.connectTimeout = v }
        if let v = int(t, "command_timeout", path, range: 1...3600) { r.commandTimeout = v }
        if let v = int(t, "data_timeout", path, range: 1...7200) { r.dataTimeout = v }
        if let v = duration(t, "delivery_timeout", path, max: 86400) { r.deliveryTimeout = v }
        if r.passwordFile != nil && r.passwordCommand != nil {
            problem(path, "[[relay]] has both password_file and password_command; keep one")
        }
        if r.auth != .none && r.user == nil {
            problem(join(path, "auth"), "auth = \"\(r.auth.rawValue)\" needs user")
        }
        if (r.clientCertificate == nil) != (r.clientKey == nil) {
            problem(path, "client_certificate and client_key go together")
        }
        readProxy(t, path: path, into: &r)
        return r
    }

    /// `proxy`, `proxy_user`, `proxy_password_file`: a URL that parses, credentials only
    /// with a proxy, a password only with a user, and what each scheme can carry (RFC 1929:
    /// 1 to 255 octets; RFC 7617: no ':' in a Basic user name; SOCKS4a: a user id only).
    mutating func readProxy(_ t: TOMLTable, path: String, into r: inout RelayConfig) {
        if let url = string(t, "proxy", path) {
            switch RelayProxy.parse(url) {
            case .success(let proxy): r.proxy = proxy
            case .failure(let diagnostic): problem(join(path, "proxy"), diagnostic.message)
            }
        }
        r.proxyUser = string(t, "proxy_user", path)
        r.proxyPasswordFile = string(t, "proxy_password_file", path)
        if let file = r.proxyPasswordFile, r.proxyUser == nil {
            problem(join(path, "proxy_password_file"), "proxy_password_file = \"\(file)\" needs proxy_user")
        }
        if t["proxy"] == nil {
            for key in ["proxy_user", "proxy_password_file"] where t[key] != nil {
                problem(join(path, key), "\(key) without proxy")
            }
            return
        }
        guard let proxy = r.proxy, let user = r.proxyUser else { return }
        let userPath = join(path, "proxy_user")
        if user.utf8.contains(9) { problem(userPath, "proxy_user must not contain control characters") }
        switch proxy.scheme {
        case .socks4a:
            if r.proxyPasswordFile != nil {
                problem(join(path, "proxy_password_file"), "socks4a sends a user id and no password; use socks5 for a password")
            }
            if user.utf8.count > 255 { problem(userPath, "proxy_user must be at most 255 octets") }
        case .socks5, .socks5h:
            if !(1...255).contains(user.utf8.count) { problem(userPath, "proxy_user must be 1 to 255 octets (RFC 1929)") }
        case .http:
            if user.isEmpty || user.containsByte(UInt8(ascii: ":")) {
                problem(userPath, "proxy_user must be non-empty and without ':' (HTTP Basic, RFC 7617)")
            }
        }
        if proxy.scheme != .socks4a && t["proxy_password_file"] == nil {
            problem(userPath, "proxy_user needs proxy_password_file")
        }
    }

    mutating func readSMIME(_ t: TOMLTable) -> SMIMEConfig {
        var s = SMIMEConfig()
        checkKeys(t, at: "smime", known: Self.smimeKeys)
        s.certificates = string(t, "certificates", "smime")
        s.trustAnchors = string(t, "trust_anchors", "smime")
        if let d = algorithm(t, "digest", "smime", SMIMEConfig.digests) { s.digest = d }
        if let c = algorithm(t, "cipher", "smime", SMIMEConfig.ciphers) { s.cipher = c }
        if let h = bool(t, "header_protection", "smime") { s.headerProtection = h }
        if let k = enumValue(t, "key_transport", "smime", EncryptRule.KeyTransport.self) { s.keyTransport = k }
        if let l = bool(t, "legacy_display", "smime") { s.legacyDisplay = l }
        if let tag = string(t, "secure_tag", "smime"), !tag.isEmpty {
            let trimmed = tag.trimmingBlanks()
            if trimmed.isEmpty {
                problem("smime.secure_tag", "secure_tag = \"\(tag)\" is only white space; leave it empty or out to turn the tag off")
            } else {
                s.secureTag = trimmed
            }
        }
        for (i, st) in tables(t, "sign", "smime").enumerated() {
            let path = "smime.sign[\(i)]"
            checkKeys(st, at: path, known: Self.signKeys)
            guard let cert = string(st, "certificate", path), let key = string(st, "key", path) else {
                problem(path, "[[smime.sign]] needs certificate and key")
                continue
            }
            var rule = SignRule(from: patterns(st, "from", path) ?? [], certificate: cert, key: key,
                                keyPassphraseFile: string(st, "key_passphrase_file", path),
                                chain: string(st, "chain", path), users: strings(st, "users", path) ?? [],
                                unauthorised: string(st, "unauthorised", path) ?? "refuse",
                                digest: algorithm(st, "digest", path, SMIMEConfig.digests), line: locator.line(of: path))
            if let f = enumValue(st, "form", path, SignRule.Form.self) { rule.form = f }
            if let r = enumValue(st, "rsa_scheme", path, SignRule.RSAScheme.self) { rule.rsaScheme = r }
            if rule.from.isEmpty { problem(path, "[[smime.sign]] needs from (patterns on the From address)") }
            if !["refuse", "unsigned"].contains(rule.unauthorised) {
                problem(join(path, "unauthorised"), "unauthorised = \"\(rule.unauthorised)\" is not one of refuse | unsigned")
            }
            s.sign.append(rule)
        }
        for (i, et) in tables(t, "encrypt", "smime").enumerated() {
            let path = "smime.encrypt[\(i)]"
            checkKeys(et, at: path, known: Self.encryptKeys)
            guard let mode = enumValue(et, "mode", path, EncryptRule.Mode.self) else {
                if et["mode"] == nil { problem(path, "[[smime.encrypt]] needs mode") }
                continue
            }
            let rule = EncryptRule(to: patterns(et, "to", path) ?? [], mode: mode,
                                   cipher: algorithm(et, "cipher", path, SMIMEConfig.ciphers), line: locator.line(of: path),
                                   headerProtection: bool(et, "header_protection", path),
                                   keyTransport: enumValue(et, "key_transport", path, EncryptRule.KeyTransport.self),
                                   legacyDisplay: bool(et, "legacy_display", path))
            if rule.to.isEmpty { problem(path, "[[smime.encrypt]] needs to (patterns on recipient addresses)") }
            s.encrypt.append(rule)
        }
        return s
    }

    /// A digest or cipher name (`SMIMEConfig.digests`, `.ciphers`): one outside the list is
    /// an error on its line when the config is read, so that sealmail refuses every message
    /// until it is fixed, not only the first one to be signed or encrypted.
    mutating func algorithm(_ t: TOMLTable, _ key: String, _ path: String,
                            _ names: (all: [String], normalise: (String) -> String)) -> String? {
        guard let name = string(t, key, path) else { return nil }
        guard names.all.contains(names.normalise(name)) else {
            problem(join(path, key), "\(key) = \"\(name)\" is not one of \(names.all.joined(separator: " | "))")
            return nil
        }
        return name
    }

    /// Address patterns (`from`, `to`, `senders`): a string or an array of strings, each a
    /// valid `AddressPattern`. A pattern that is not one is an error on its line, so that a
    /// rule never silently matches nothing.
    mutating func patterns(_ t: TOMLTable, _ key: String, _ path: String) -> [String]? {
        guard let list = strings(t, key, path) else { return nil }
        for p in list {
            do { _ = try AddressPattern(p) } catch { problem(join(path, key), "\(key): \(error)") }
        }
        return list
    }
}
