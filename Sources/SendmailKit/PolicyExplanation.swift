import MailPolicy
import SMIME

/// `sealctl policy explain`: the policy's plan in words.
public enum PolicyExplanation {
    public static func groups(of user: String) -> [String] { PolicyApplication.groups(of: user) }

    /// The plan as text, and the refusal sealmail would meet, if any.
    public static func explain(_ input: PolicyInput, runtime rt: Runtime) -> (String, PolicyRefused?) {
        var app = PolicyApplication(runtime: rt)
        var answers: [[UInt8]: CertificateAnswer] = [:]
        let decision = Policy.decide(rt.config, input, lookup: { address in
            let a = app.lookup(address)
            answers[Array(address.utf8)] = a
            return a
        })
        var out = "from <\(input.from ?? input.sender)>, user \(input.user)\n"
        if let tag = rt.config.smime.secureTag, Policy.secureTagged(rt.config, subject: input.subject) {
            out += "subject tag \(tag): every recipient must be encrypted; the Subject is sent as \""
                + Policy.removingTag(tag, from: input.subject ?? "") + "\"\n"
        }
        switch decision {
        case .refuse(let refusals):
            out += "REFUSED: nothing would be sent to anyone\n"
            for r in refusals { out += "  \(r)\n" }
            return (out, PolicyRefused(refusals: refusals))
        case .send(let copies):
            for (n, c) in copies.enumerated() {
                out += "copy \(n + 1): \(c.recipients.map { "<\($0)>" }.joined(separator: ", "))\n"
                if let i = c.signRule {
                    let rule = rt.config.smime.sign[i]
                    let form = !c.encryptTo.isEmpty || rule.form == .detached ? "multipart/signed" : "opaque signed-data"
                    let scheme = rule.rsaScheme == .pss ? ", RSASSA-PSS for an RSA key" : ""
                    out += "  signed with \(rule.certificate) (rule on line \(rule.line ?? 0), digest \(rule.digest ?? rt.config.smime.digest), \(form)\(scheme))\n"
                } else {
                    out += "  not signed\n"
                }
                if c.encryptTo.isEmpty {
                    out += "  not encrypted\n"
                } else {
                    out += encryption(c, rt.config.smime)
                }
                if c.headerProtection {
                    out += c.encryptTo.isEmpty ? "  header protection (RFC 9788): header fields copied inside the signature\n"
                                               : "  header protection (RFC 9788): header fields inside the encryption, outer Subject \"[...]\""
                                                 + (c.legacyDisplay ? ", the real Subject at the top of the text (legacy display)\n" : "\n")
                }
            }
            for (key, answer) in answers.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                let address = String(decoding: key, as: UTF8.self)
                if case .unusable(let reasons) = answer {
                    out += "note: <\(address)> sent without encryption: " + reasons.joined(separator: "; ") + "\n"
                }
            }
            return (out, nil)
        }
    }

    /// The encryption of one copy: the cipher, each certificate with its key transport, and a
    /// warning for each construct that mainstream clients cannot open (`ClientSupport`).
    static func encryption(_ c: PlannedCopy, _ s: SMIMEConfig) -> String {
        let cipherName = c.cipher ?? s.cipher
        var out = "  encrypted (\(cipherName)) to:\n"
        var limited: [ClientSupport.Construct] = []
        if (try? ContentCipher(name: cipherName))?.isAuthenticated == true { limited.append(.authEnveloped) }
        for path in c.encryptTo {
            guard let cert = try? Certificate.load(contentsOf: path).first else { out += "    \(path)\n"; continue }
            switch cert.keyAlgorithm {
            case .ec:
                out += "    \(path) (\(cert.keyAlgorithm): ECDH key agreement)\n"
                limited.append(.ecdh)
            case .rsa:
                let oaep = PolicyApplication.keyTransport(c.keyTransport[path] ?? s.keyTransport).usesOAEP(for: cert)
                out += "    \(path) (\(cert.keyAlgorithm): \(oaep ? "RSAES-OAEP" : "RSA PKCS #1 v1.5") key transport)\n"
                if oaep { limited.append(.rsaOAEP) }
            default:
                out += "    \(path) (\(cert.keyAlgorithm))\n"
            }
        }
        for construct in ClientSupport.Construct.allCases where limited.contains(construct) {
            out += "  warning: " + ClientSupport.warning(construct) + "\n"
        }
        return out
    }
}
