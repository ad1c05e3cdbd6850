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
/// 77 for a user who may not use a sender or a key: `ExitCodes`).
public struct PolicyRefused: Error, Sendable, CustomStringConvertible {
    public var refusals: [PolicyRefusal]
    public init(refusals: [PolicyRefusal]) { self.refusals = refusals }
    public var description: String { refusals.map(\.description).joined(separator: "\n") }
}

/// An S/MIME step of a submission failed (a key that does not load, a certificate that went
/// bad, a disk that filled while signing): the caller asked for protection, so nothing is
/// queued, let alone sent unprotected. `cause` is the error as its module threw it (an
/// `SMIMEError`, a `FileTrustProblem`...), so the exit status follows what went wrong
/// (`ExitCodes`: a key or certificate of the config that cannot be used 78, a full disk 75).
public struct ProtectionError: Error, Sendable, CustomStringConvertible {
    /// What was being done, in words ("signing key of the rule on line 3").
    public var context: String
    /// What went wrong, typed.
    public var cause: any Error
    public init(_ context: String, cause: any Error) { self.context = context; self.cause = cause }
    /// `context: cause`.
    public var description: String { "\(context): \(cause)" }
}

/// Applies the policy of the config to a submission: looks up certificates, decides, and
/// writes each planned copy (signed and/or encrypted by the S/MIME engine) to the queue.
struct PolicyApplication {
    let rt: Runtime
    private var loaded = false
    private var store: CertificateStore?
    /// The anchors alone (what `CertificateStore.select` takes), or why they cannot be read.
    private var anchors: Result<TrustSettings, any Error>?

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

    /// The certificate folder and the trust settings, read once: the anchors of
    /// `trust_anchors` (the system's bundle without it) with their CRLs, and the folder's
    /// CA certificates (as intermediates) and CRLs. Recipients' certificates and the signer's
    /// are judged against the same settings.
    mutating func loadStore() {
        guard !loaded else { return }
        loaded = true
        if let dir = rt.config.smime.certificates { store = try? CertificateStore(directory: dir) }
        anchors = Result { try SignerCheck.trust(rt.config.smime) }
    }

    /// The certificate store's answer for one address.
    mutating func lookup(_ address: String) -> CertificateAnswer {
        loadStore()
        guard let store, case .success(let anchors)? = anchors else { return .none }
        let selection = store.select(for: address, purpose: .encryption, anchors: anchors, at: Date())
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

    /// The S/MIME settings for one copy. The signer's certificate must be usable for signing
    /// now and chain to the trust anchors, as recipients' certificates must; otherwise a
    /// `ProtectionError` names the certificate file and says why (exit 78).
    mutating func protection(for copy: PlannedCopy) throws -> Protection? {
        let s = rt.config.smime
        var signer: SigningIdentity?
        var digest = try DigestAlgorithm(name: s.digest)
        if let i = copy.signRule {
            let rule = s.sign[i]
            do {
                // The key and its passphrase are read by the paths FileTrust judged.
                let key = try rt.trust.resolve(rule.key, what: "key", use: .secret, line: rule.line).get()
                let passphrase = try rule.keyPassphraseFile.map {
                    try rt.trust.resolve($0, what: "key_passphrase_file", use: .secret, line: rule.line).get()
                }
                signer = try SigningIdentity.loadPEM(certificate: rule.certificate, key: key,
                                                     passphraseFile: passphrase, chain: rule.chain)
                if let d = rule.digest { digest = try DigestAlgorithm(name: d) }
            } catch {
                throw ProtectionError("signing key of the rule on line \(rule.line ?? 0)", cause: error)
            }
        }
        var recipients: [Certificate] = []
        var transports: [String: RSAKeyTransport] = [:]
        for path in copy.encryptTo {
            do {
                guard let cert = try Certificate.load(contentsOf: path).first else { continue }
                recipients.append(cert)
                transports[cert.sha256Fingerprint] = Self.keyTransport(copy.keyTransport[path] ?? s.keyTransport)
            } catch {
                throw ProtectionError("recipient certificate \(path)", cause: error)
            }
        }
        if signer == nil && recipients.isEmpty { return nil }
        loadStore()
        let trust = SignerCheck.adding(store, to: try anchors!.get())
        if let signer, let rule = copy.signRule.map({ s.sign[$0] }) {
            let problems = SignerCheck.problems(signer, trust: trust, at: Date())
            if !problems.isEmpty {
                let against = s.trustAnchors.map { "trust_anchors \($0)" } ?? "the system trust store \(SignerCheck.systemAnchors) (no trust_anchors in [smime])"
                let reason = problems.map(\.description).joined(separator: "; ") + "; checked against \(against)"
                throw ProtectionError("signing certificate \(rule.certificate) (rule on line \(rule.line ?? 0)) cannot be used",
                                      cause: SMIMEError(.unusableCertificate, reason, openSSLErrors: []))
            }
        }
        var p = Protection(signer: signer, recipients: recipients)
        p.trust = trust
        p.headerProtection = copy.headerProtection
        p.legacyDisplay = copy.legacyDisplay
        p.signing.digest = digest
        if let rule = copy.signRule.map({ s.sign[$0] }) {
            if rule.chain != nil { p.signing.certificates = .chain }
            p.signing.form = rule.form == .opaque ? .opaque : .detached
            // rsa_scheme is for RSA keys; an EC key signs with ECDSA whatever it says.
            if case .rsa? = signer?.certificate.keyAlgorithm, rule.rsaScheme == .pss { p.signing.rsaScheme = .pss }
        }
        p.encryption.cipher = try ContentCipher(name: copy.cipher ?? s.cipher)
        p.encryption.rsaKeyTransportByCertificate = transports
        return p
    }

    /// The engine's key transport for a config's `key_transport`.
    static func keyTransport(_ setting: EncryptRule.KeyTransport) -> RSAKeyTransport {
        switch setting {
        case .pkcs1: return .pkcs1v15
        case .oaep: return .oaep
        case .auto: return .asAdvertised
        }
    }
}

/// How sealmail judges a signer's certificate before signing with it, shared with `sealctl
/// config check`: usable for signing now (RFC 8550 4.4.2) and chained, through the rule's
/// `chain`, to the anchors of `[smime] trust_anchors`, or to the system's trust store when
/// that key is absent, as recipients' certificates are; not revoked by a CRL there.
public enum SignerCheck {
    /// The trust store used without `trust_anchors`.
    public static let systemAnchors = "/etc/ssl/certs/ca-certificates.crt"

    /// The anchors (`trust_anchors`, else the system's bundle) with the CRLs in their file,
    /// plus the CA certificates and CRLs of the certificate folder when given.
    public static func trust(_ s: SMIMEConfig, store: CertificateStore? = nil) throws -> TrustSettings {
        let path = s.trustAnchors ?? systemAnchors
        let anchors: TrustSettings
        let what = s.trustAnchors == nil ? "the system trust store (no trust_anchors in [smime])" : "trust_anchors"
        do { anchors = try TrustSettings.load(anchorFiles: [path]) } catch let e as SMIMEError {
            throw SMIMEError(e.code, "\(what): \(e.reason)", path: path, openSSLErrors: e.openSSLErrors)
        }
        guard !anchors.anchors.isEmpty else {
            throw SMIMEError(.malformedInput, "\(what): no certificate", path: path, openSSLErrors: [])
        }
        return adding(store, to: anchors)
    }

    /// `trust` with the CA certificates (as intermediates) and CRLs of `store`, as
    /// `CertificateStore.select` judges recipients' certificates.
    public static func adding(_ store: CertificateStore?, to trust: TrustSettings) -> TrustSettings {
        guard let store else { return trust }
        return TrustSettings(anchors: trust.anchors,
                             intermediates: trust.intermediates + store.entries.map(\.certificate).filter(\.isCA),
                             crls: trust.crls + store.crls)
    }

    /// Every reason `identity`'s certificate cannot sign at `date`; empty when it can.
    public static func problems(_ identity: SigningIdentity, trust: TrustSettings, at date: Date) -> [CertificateProblem] {
        CertificateValidator(trust: trust, intermediates: identity.chain).problems(identity.certificate, for: .signing, at: date)
    }
}
