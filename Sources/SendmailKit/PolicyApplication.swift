#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MailMessage
import MailPolicy
import MailQueue
import SMIME

/// The policy refused the message: nothing was queued (exit 69 for a missing certificate,
/// 77 for a user who may not use a sender or a key).
public struct PolicyRefused: Error, Sendable, CustomStringConvertible {
    public var refusals: [PolicyRefusal]
    public var description: String { refusals.map(\.description).joined(separator: "\n") }
    var exitCode: ExitCode {
        refusals.contains { $0.kind == .notAuthorised } ? .noPerm : .unavailable
    }
}

/// An S/MIME operation failed (a key that does not load, a certificate that went bad): the
/// caller asked for protection, so nothing is sent unprotected (exit 78 for key/config
/// problems, 70 otherwise).
public struct ProtectionFailed: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Applies the policy of the config to a submission: looks up certificates, decides, and
/// writes each planned copy (signed and/or encrypted by the S/MIME engine) to the queue.
struct PolicyApplication {
    let rt: Runtime
    private var store: CertificateStore?
    private var trust: TrustSettings?

    init(runtime: Runtime) { rt = runtime }

    /// The groups of the submitting user (for `@group` in `users` and `senders`).
    static func groups(of user: String) -> [String] {
        var out: [String] = []
        var count: Int32 = 64
        var gids = [gid_t](repeating: 0, count: 64)
        guard let pw = getpwnam(user) else { return [] }
        if getgrouplist(user, pw.pointee.pw_gid, &gids, &count) < 0 { return [] }
        for g in gids.prefix(Int(count)) {
            if let gr = getgrgid(g) { out.append(String(cString: gr.pointee.gr_name)) }
        }
        return out
    }

    mutating func loadStore() {
        guard store == nil, let dir = rt.config.smime.certificates else { return }
        store = try? CertificateStore(directory: dir)
        let anchors = rt.config.smime.trustAnchors ?? "/etc/ssl/certs/ca-certificates.crt"
        trust = try? TrustSettings.load(anchorFiles: [anchors])
    }

    /// The certificate store's answer for one address.
    mutating func lookup(_ address: String) -> CertificateAnswer {
        loadStore()
        guard let store, let trust else { return .none }
        let selection = store.select(for: address, purpose: .encryption, anchors: trust, at: Date())
        if let chosen = selection.chosen, chosen.isUsable {
            return .usable(id: chosen.entry.path, description: chosen.entry.certificate.subject)
        }
        let all = ([selection.chosen].compactMap { $0 } + selection.others)
        if all.isEmpty { return .none }
        return .unusable(reasons: all.map { c in
            "\(c.entry.path): " + c.problems.map(\.description).joined(separator: ", ")
        })
    }

    /// Decides; throws `PolicyRefused` with every problem when the message may not go.
    mutating func decide(_ input: PolicyInput) throws -> [PlannedCopy] {
        switch Policy.decide(rt.config, input, lookup: { lookup($0) }) {
        case .refuse(let r): throw PolicyRefused(refusals: r)
        case .send(let copies): return copies
        }
    }

    /// The S/MIME settings for one copy.
    func protection(for copy: PlannedCopy) throws -> Protection? {
        let s = rt.config.smime
        var signer: SigningIdentity?
        var digest = try DigestAlgorithm(name: s.digest)
        if let i = copy.signRule {
            let rule = s.sign[i]
            do {
                signer = try SigningIdentity.loadPEM(certificate: rule.certificate, key: rule.key,
                                                     passphraseFile: rule.keyPassphraseFile, chain: rule.chain)
                if let d = rule.digest { digest = try DigestAlgorithm(name: d) }
            } catch {
                throw ProtectionFailed(description: "signing key of the rule on line \(rule.line ?? 0): \(error)")
            }
        }
        var recipients: [Certificate] = []
        for path in copy.encryptTo {
            do { recipients.append(contentsOf: try Certificate.load(contentsOf: path).prefix(1)) } catch {
                throw ProtectionFailed(description: "recipient certificate \(path): \(error)")
            }
        }
        if signer == nil && recipients.isEmpty { return nil }
        var p = Protection(signer: signer, recipients: recipients)
        p.signing.digest = digest
        if let rule = copy.signRule.map({ s.sign[$0] }), rule.chain != nil { p.signing.certificates = .chain }
        p.encryption.cipher = try ContentCipher(name: copy.cipher ?? s.cipher)
        return p
    }
}
