#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MailMessage

/// A folder of certificates (PEM; `.der`/`.cer` DER too) and CRLs (PEM `.crl` or CRL blocks in
/// any PEM file): the recipients' certificates, found by e-mail address (RFC 8550 3).
public final class CertificateStore {
    /// A certificate and the file it came from.
    public struct Entry {
        /// The certificate.
        public let certificate: Certificate
        /// The file it was read from.
        public let path: String
    }

    /// The folder read.
    public let directory: String
    /// Every certificate read, in file-name order.
    public let entries: [Entry]
    /// Every CRL read.
    public let crls: [RevocationList]
    /// Files that could not be read or held nothing usable (reported, not fatal).
    public let loadErrors: [SMIMEError]

    /// Reads every regular file of `directory` (not recursive; dot-files skipped).
    /// Throws `.unreadableFile` when the folder itself cannot be listed.
    public init(directory: String) throws {
        self.directory = directory
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw SMIMEError(.unreadableFile, "cannot list the certificate folder", path: directory, openSSLErrors: [])
        }
        var entries: [Entry] = [], crls: [RevocationList] = [], errors: [SMIMEError] = []
        for name in names where !name.hasPrefix(".") {
            let path = directory + "/" + name
            var st = stat()
            guard stat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFDIR else { continue }
            let fileCRLs = (try? Certificate.loadCRLs(contentsOf: path)) ?? []
            crls += fileCRLs
            do {
                entries += try Certificate.load(contentsOf: path).map { Entry(certificate: $0, path: path) }
            } catch let error as SMIMEError {
                if fileCRLs.isEmpty && !name.hasSuffix(".crl") { errors.append(error) }
            }
        }
        self.entries = entries
        self.crls = crls
        self.loadErrors = errors
    }

    /// Whether `certificate` names `address`: local part exact, domain case-insensitive
    /// (RFC 8550 3; RFC 5321 2.4). Compared as bytes with the domain's ASCII case folded:
    /// String comparison would take canonically equivalent local parts, or a domain with a
    /// Kelvin sign (it lowercases to `k`), as the certificate's address.
    public static func matches(_ certificate: Certificate, address: String) -> Bool {
        guard let want = split(address) else { return false }
        return certificate.emailAddresses.contains { candidate in
            guard let have = split(candidate) else { return false }
            return have.local == want.local && have.domain == want.domain
        }
    }

    /// Local part and ASCII-lowercased domain, as bytes, split at the last byte '@'.
    private static func split(_ address: String) -> (local: [UInt8], domain: [UInt8])? {
        let bytes = Array(address.utf8)
        guard let at = bytes.lastIndex(of: UInt8(ascii: "@")) else { return nil }
        return (Array(bytes[..<at]), bytes[(at + 1)...].map(TextLines.asciiLowercased))
    }

    /// The end-entity certificates naming `address`.
    public func candidates(for address: String) -> [Entry] {
        entries.filter { !$0.certificate.isCA && Self.matches($0.certificate, address: address) }
    }

    /// Chooses the certificate to use for `address`: every candidate is validated for
    /// `purpose` at `date` against `anchors` (chain, validity, KU/EKU per RFC 8550 4.4, CRLs of
    /// this folder and of the anchors' files); the newest usable one (latest notBefore, then
    /// latest notAfter) wins. Rejected candidates keep their reasons.
    public func select(for address: String, purpose: CertificatePurpose = .encryption,
                       anchors: TrustSettings, at date: Date) -> Selection {
        let intermediates = entries.map(\.certificate).filter(\.isCA)
        let trust = TrustSettings(anchors: anchors.anchors, intermediates: anchors.intermediates + intermediates,
                                  crls: anchors.crls + crls)
        let validator = CertificateValidator(trust: trust)
        let judged = candidates(for: address).map {
            Candidate(entry: $0, problems: validator.problems($0.certificate, for: purpose, at: date))
        }
        let usable = judged.filter(\.isUsable).sorted {
            ($0.entry.certificate.notBefore, $0.entry.certificate.notAfter)
                > ($1.entry.certificate.notBefore, $1.entry.certificate.notAfter)
        }
        let chosen = usable.first
        let others = judged.filter { candidate in chosen.map { !candidate.entry.certificate.isSame(as: $0.entry.certificate) } ?? true }
        return Selection(address: address, chosen: chosen, others: others)
    }

    /// A candidate certificate with the reasons it cannot be used (none: usable).
    public struct Candidate {
        /// The certificate and its file.
        public let entry: Entry
        /// Why it cannot be used (RFC 8550 6); empty when usable.
        public let problems: [CertificateProblem]
        /// Whether there is no problem.
        public var isUsable: Bool { problems.isEmpty }
    }

    /// The result of `select`: the certificate to use, if any, and every other candidate
    /// (usable but older, or rejected with reasons).
    public struct Selection {
        /// The address looked up.
        public let address: String
        /// The certificate to use: the newest usable one.
        public let chosen: Candidate?
        /// Every other candidate: older usable ones, and rejected ones with their reasons.
        public let others: [Candidate]
        /// The chosen certificate, or `.unusableCertificate` explaining why there is none.
        public func certificate() throws -> Certificate {
            if let chosen { return chosen.entry.certificate }
            let reasons = others.map { "\($0.entry.path): \($0.problems.map(\.description).joined(separator: "; "))" }
            throw SMIMEError(.unusableCertificate,
                             reasons.isEmpty ? "no certificate for \(address)"
                                             : "no usable certificate for \(address): " + reasons.joined(separator: " | "),
                             openSSLErrors: [])
        }
    }
}
