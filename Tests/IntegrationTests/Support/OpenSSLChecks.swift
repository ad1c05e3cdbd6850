import Foundation
import PeerTestSupport

/// What `openssl cms` says about a message that arrived at the relay: the reference checks
/// (gpgsm, in GpgSM, is the independent one).
struct OpenSSLChecks {
    /// Where the message files and outputs go (the test's folder).
    let dir: String
    let ca: String

    /// Writes `bytes` to a fresh file in `dir` and returns its path.
    func file(_ bytes: [UInt8], _ name: String) -> String {
        let path = dir + "/\(name)-\(UUID().uuidString.prefix(8))"
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    /// The RecipientInfos of an enveloped message, from `openssl cms -cmsout -print`: the
    /// issuer and serial of each (key transport with issuerAndSerialNumber), and how many
    /// RecipientInfos of any kind there are (so that none can hide from the list).
    func recipientInfos(_ message: [UInt8]) throws -> (identified: [PolicyPKI.IssuerSerial], count: Int, print: String) {
        let r = try sh(["openssl", "cms", "-cmsout", "-print", "-inform", "SMIME", "-in", file(message, "enveloped")])
        guard r.status == 0 else { throw HarnessError("openssl cms -cmsout -print failed: \(r.stderr)") }
        let lines = r.out.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let kinds: Set<String> = ["d.ktri:", "d.kari:", "d.kekri:", "d.pwri:", "d.ori:"]
        let count = lines.filter { kinds.contains($0) }.count
        var found: [PolicyPKI.IssuerSerial] = []
        for (i, line) in lines.enumerated() where line == "d.issuerAndSerialNumber:" && i + 2 < lines.count {
            guard lines[i + 1].hasPrefix("issuer: "), lines[i + 2].hasPrefix("serialNumber: ") else { continue }
            found.append(PolicyPKI.IssuerSerial(
                issuer: PolicyPKI.normalisedName(String(lines[i + 1].dropFirst(8))),
                serial: PolicyPKI.normalisedSerial(String(lines[i + 2].dropFirst(14)), hex: false)))
        }
        return (found, count, r.out)
    }

    /// `openssl cms -decrypt` with a recipient's certificate and key: the inner entity.
    func decrypt(_ message: [UInt8], cert: String, key: String) throws -> [UInt8] {
        let out = dir + "/decrypted-\(UUID().uuidString.prefix(8))"
        let r = try sh(["openssl", "cms", "-decrypt", "-in", file(message, "enveloped"), "-recip", cert,
                        "-inkey", key, "-binary", "-out", out])
        guard r.status == 0 else { throw HarnessError("openssl cms -decrypt failed: \(r.stderr)") }
        return try readFile(out)
    }

    /// `openssl cms -verify` against the CA with the S/MIME signing purpose. Returns the
    /// signed content and the signer's certificate (PEM path), or throws with openssl's words.
    /// (Not `-binary`: with it, openssl's MIME parser hands the signed part over with its
    /// line ends changed, and a correct signature fails.)
    func verify(_ message: [UInt8]) throws -> (content: [UInt8], signer: String) {
        let out = dir + "/verified-\(UUID().uuidString.prefix(8))", signer = out + ".signer.pem"
        let r = try sh(["openssl", "cms", "-verify", "-in", file(message, "signed"), "-CAfile", ca,
                        "-purpose", "smimesign", "-out", out, "-signer", signer])
        guard r.status == 0, r.stderr.contains("Verification successful") else {
            throw HarnessError("openssl cms -verify failed (\(r.status)): \(r.stderr)")
        }
        return (try readFile(out), signer)
    }

    /// Serial (upper-case hex) of a PEM certificate.
    func serial(ofCertificate path: String) throws -> String {
        let r = try sh(["openssl", "x509", "-in", path, "-noout", "-serial"])
        guard r.status == 0 else { throw HarnessError("openssl x509 failed: \(r.stderr)") }
        return PolicyPKI.normalisedSerial(String(r.out.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(7)), hex: true)
    }
}
