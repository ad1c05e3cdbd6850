import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MailPolicy
import SMIME
import SendmailKit

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check the config file.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report every problem in the config at once, with line numbers.",
            discussion: """
            Unknown keys and bad values; missing or unreadable files; secrets, keys and the \
            password_command's program that sealmail would refuse to trust (owned by another \
            user, writable by group or others, a secret readable by others, or a folder above \
            them that others can change); a key that does not match its certificate; \
            certificates expired or expiring within 30 days; rules that contradict each other or \
            can never match. Exit status 78 when a problem is found.
            """)
        @OptionGroup var options: ConfigOption

        func run() throws {
            let rt = try options.runtime(checkingFiles: false)
            let problems = ConfigAudit(config: rt.config, trust: rt.trust).problems()
            for p in problems { Stderr.write("\(rt.configPath): \(p)\n") }
            if problems.contains(where: { !$0.message.hasPrefix("warning:") }) {
                throw ExitWithCode(code: SendmailKit.ExitCode.config.rawValue)
            }
            Stdout.write("\(rt.configPath): OK (\(rt.config.relays.count) relay(s), \(rt.config.smime.sign.count) sign rule(s), \(rt.config.smime.encrypt.count) encrypt rule(s), queue \(rt.config.queueDir), hostname \(rt.hostname), domain \(rt.domain))\n")
        }
    }
}

/// The checks of `sealctl config check` that need the file system and the S/MIME engine.
struct ConfigAudit {
    let config: SealmailConfig
    /// The owners sealmail trusts for this config; its judgement is sealmail's own.
    let trust: FileTrust
    var now = Date()

    func problems() -> [ConfigDiagnostic] {
        var out = Policy.check(config)
        // Exactly the files sealmail refuses to run with (FileTrust), with the same words.
        let untrusted = trust.problems(in: config)
        out += untrusted.map { ConfigDiagnostic(line: $0.line, message: "\($0)") }
        let refused = Set(untrusted.map(\.path))
        for relay in config.relays {
            for (what, path) in [("ca_file", relay.caFile), ("password_file", relay.passwordFile),
                                 ("client_certificate", relay.clientCertificate),
                                 ("proxy_password_file", relay.proxyPasswordFile)] {
                if let path { out += readable(path, what: what, line: relay.line) }
            }
            if let key = relay.clientKey { out += readable(key, what: "client_key", line: relay.line) }
        }
        let s = config.smime
        if let dir = s.certificates {
            var isDir: ObjCBool = false
            if !FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) || !isDir.boolValue {
                out.append(ConfigDiagnostic(line: nil, message: "[smime] certificates = \"\(dir)\" is not a folder"))
            }
        }
        if let anchors = s.trustAnchors { out += readable(anchors, what: "trust_anchors", line: nil) }
        // Digest and cipher names were checked, on their lines, as the config was read.
        // The signers' certificates are judged as sealmail judges them before signing.
        var signerTrust: TrustSettings?
        if !s.sign.isEmpty {
            let store = s.certificates.flatMap { try? CertificateStore(directory: $0) }
            do { signerTrust = try SignerCheck.trust(s, store: store) } catch {
                if s.trustAnchors.map({ access($0, R_OK) == 0 }) ?? true {
                    out.append(ConfigDiagnostic(line: nil, message: "[smime] \(error): no signing certificate can be checked, and sealmail signs nothing"))
                }
            }
        }
        for rule in s.sign {
            let before = out.count
            out += readable(rule.certificate, what: "certificate", line: rule.line)
            out += readable(rule.key, what: "key", line: rule.line)
            if let pw = rule.keyPassphraseFile { out += readable(pw, what: "key_passphrase_file", line: rule.line) }
            // A key sealmail would not trust is not opened here either.
            let untrustedKey = refused.contains(rule.key) || rule.keyPassphraseFile.map(refused.contains) == true
            guard out.count == before, !untrustedKey else { continue }
            do {
                let id = try SigningIdentity.loadPEM(certificate: rule.certificate, key: rule.key,
                                                     passphraseFile: rule.keyPassphraseFile, chain: rule.chain)
                out += expiry(id.certificate, what: "signing certificate \(rule.certificate)", line: rule.line)
                if let signerTrust {
                    // Dates are expiry()'s, with its 30-day warning.
                    let problems = SignerCheck.problems(id, trust: signerTrust, at: now)
                        .filter { $0.kind != .expired && $0.kind != .notYetValid }
                    if !problems.isEmpty {
                        out.append(ConfigDiagnostic(line: rule.line, message: "signing certificate \(rule.certificate) cannot be used: "
                                                    + problems.map(\.description).joined(separator: "; ")
                                                    + (s.trustAnchors == nil ? " (checked against the system trust store: set trust_anchors in [smime])" : "")))
                    }
                }
            } catch {
                out.append(ConfigDiagnostic(line: rule.line, message: "[[smime.sign]]: \(error)"))
            }
        }
        out += clientWarnings()
        return out.sorted { ($0.line ?? 0) < ($1.line ?? 0) }
    }

    /// Warnings for what the config makes that mainstream clients cannot open (`ClientSupport`,
    /// as the tests measured it): an AES-GCM cipher, OAEP key transport, a certificate with
    /// an EC key (ECDH) or one that asks for OAEP, an `rsa_scheme` an EC key ignores.
    func clientWarnings() -> [ConfigDiagnostic] {
        let s = config.smime
        var out: [ConfigDiagnostic] = []
        func warn(_ line: Int?, _ setting: String, _ construct: ClientSupport.Construct) {
            out.append(ConfigDiagnostic(line: line, message: "warning: \(setting): " + ClientSupport.warning(construct)))
        }
        if (try? ContentCipher(name: s.cipher))?.isAuthenticated == true { warn(nil, "[smime] cipher = \"\(s.cipher)\"", .authEnveloped) }
        if s.keyTransport == .oaep { warn(nil, "[smime] key_transport = \"oaep\"", .rsaOAEP) }
        for rule in s.encrypt where rule.mode != .never {
            if let c = rule.cipher, (try? ContentCipher(name: c))?.isAuthenticated == true {
                warn(rule.line, "[[smime.encrypt]] cipher = \"\(c)\"", .authEnveloped)
            }
            if rule.keyTransport == .oaep { warn(rule.line, "[[smime.encrypt]] key_transport = \"oaep\"", .rsaOAEP) }
        }
        for rule in s.sign where rule.rsaScheme == .pss {
            if let cert = try? Certificate.load(contentsOf: rule.certificate).first, case .ec = cert.keyAlgorithm {
                out.append(ConfigDiagnostic(line: rule.line, message: "warning: rsa_scheme = \"pss\" has no effect: \(rule.certificate) has an \(cert.keyAlgorithm) key, which signs with ECDSA"))
            }
        }
        // The certificates mail may be encrypted to.
        guard !s.encrypt.isEmpty || s.secureTag != nil, let dir = s.certificates,
              let store = try? CertificateStore(directory: dir) else { return out }
        let anyAuto = s.keyTransport == .auto || s.encrypt.contains { $0.keyTransport == .auto }
        for entry in store.entries where !entry.certificate.isCA {
            let who = "\(entry.path) (\(entry.certificate.emailAddresses.joined(separator: ", ")))"
            switch entry.certificate.keyAlgorithm {
            case .ec: warn(nil, "[smime] certificates: \(who) has an EC key", .ecdh)
            case .rsa where anyAuto && entry.certificate.advertisesOAEP:
                warn(nil, "[smime] certificates: \(who) asks for RSAES-OAEP (SMIMECapabilities) and key_transport = \"auto\" gives it", .rsaOAEP)
            default: break
            }
        }
        return out
    }

    func readable(_ path: String, what: String, line: Int?) -> [ConfigDiagnostic] {
        if access(path, R_OK) == 0 { return [] }
        return [ConfigDiagnostic(line: line, message: "\(what) \(path): \(String(cString: strerror(errno)))")]
    }

    func expiry(_ cert: Certificate, what: String, line: Int?) -> [ConfigDiagnostic] {
        if cert.notAfter < now {
            return [ConfigDiagnostic(line: line, message: "\(what) expired on \(cert.notAfter)")]
        }
        if cert.notAfter < now.addingTimeInterval(30 * 86400) {
            return [ConfigDiagnostic(line: line, message: "warning: \(what) expires on \(cert.notAfter), within 30 days")]
        }
        if cert.notBefore > now {
            return [ConfigDiagnostic(line: line, message: "\(what) is not valid before \(cert.notBefore)")]
        }
        return []
    }
}
