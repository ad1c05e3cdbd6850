import ArgumentParser
import Foundation
import SMIME
import SendmailKit

/// `sealctl cert list|show|check`: what the certificate store holds, and which certificate
/// would be used for an address and why the others are not (RFC 8550 3, 4.4).
public struct CertCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cert",
        abstract: "Inspect the recipients' certificate store.",
        subcommands: [List.self, Show.self, Check.self])

    public init() {}

    /// Options shared by the subcommands. Without `--store`, the folder and the trust anchors
    /// are the config's (`[smime] certificates` and `trust_anchors`, the system's trust store
    /// without that key): what sealmail itself would use for the address.
    public struct StoreOptions: ParsableArguments {
        @OptionGroup var configOption: ConfigOption

        @Option(name: .customLong("store"), help: "The certificate folder (PEM certificates and CRLs); default: the config's [smime] certificates.")
        var store: String?

        @Option(name: .customLong("ca"), help: "Trust anchors (PEM); repeatable. Default, without --store: the config's [smime] trust_anchors.")
        var anchors: [String] = []

        @Option(name: .customLong("at"), help: "Judge validity at this time (seconds since the epoch) instead of now.")
        var at: Int?

        @Flag(name: .customLong("signing"), help: "Judge certificates for signing instead of encryption.")
        var signing = false

        public init() {}

        var date: Date { at.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? Date() }
        var purpose: CertificatePurpose { signing ? .signing : .encryption }

        /// Whether the chain is checked: always with the config's folder, and with `--store`
        /// when `--ca` is given.
        var checksChain: Bool { store == nil || !anchors.isEmpty }

        func load() throws -> (CertificateStore, TrustSettings) {
            if let store { return (try CertificateStore(directory: store), try TrustSettings.load(anchorFiles: anchors)) }
            let rt = try configOption.runtime(checkingFiles: false)
            let smime = rt.config.smime
            guard let folder = smime.certificates else {
                Stderr.write("sealctl: \(rt.configPath): no [smime] certificates (the recipients' certificate folder); "
                             + "set it, or give --store DIR\n")
                throw ExitWithCode(code: ExitCode.config.rawValue)
            }
            let trust = anchors.isEmpty ? try SignerCheck.trust(smime) : try TrustSettings.load(anchorFiles: anchors)
            return (try CertificateStore(directory: folder), trust)
        }
    }

    /// `sealctl cert list`: every certificate, its addresses and whether it is usable.
    public struct List: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "List the certificates in the store.")
        @OptionGroup var options: StoreOptions
        public init() {}

        public func run() throws {
            try reportingErrors {
                let (store, trust) = try options.load()
                let withCRLs = TrustSettings(anchors: trust.anchors, intermediates: trust.intermediates,
                                             crls: trust.crls + store.crls)
                let validator = CertificateValidator(trust: options.checksChain ? withCRLs : nil,
                                                     intermediates: store.entries.map(\.certificate).filter(\.isCA))
                for entry in store.entries {
                    let cert = entry.certificate
                    let problems = cert.isCA ? [] : validator.problems(cert, for: options.purpose, at: options.date)
                    let usable = options.checksChain ? "usable" : "usable (chain not checked: no --ca)"
                    let state = cert.isCA ? "CA" : problems.isEmpty ? usable : problems.map(\.description).joined(separator: "; ")
                    print("\(entry.path)\t\(cert.emailAddresses.joined(separator: ","))\t"
                          + "until \(day(cert.notAfter))\t\(state)")
                }
                for error in store.loadErrors { print("\(error.path ?? "?")\tskipped: \(error.reason)") }
                if store.crls.count > 0 { print("\(store.crls.count) CRL(s)") }
            }
        }
    }

    /// `sealctl cert show ADDRESS`: details of every certificate naming the address.
    public struct Show: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Show the certificates for an address.")
        @Argument(help: "The e-mail address.") var address: String
        @OptionGroup var options: StoreOptions
        public init() {}

        public func run() throws {
            try reportingErrors {
                let (store, trust) = try options.load()
                let selection = store.select(for: address, purpose: options.purpose, anchors: trust, at: options.date)
                let all = (selection.chosen.map { [$0] } ?? []) + selection.others
                if all.isEmpty { print("no certificate for \(address)") }
                for candidate in all {
                    let cert = candidate.entry.certificate
                    print("file: \(candidate.entry.path)")
                    print("  subject: \(cert.subject)")
                    print("  issuer: \(cert.issuer)")
                    print("  serial: \(cert.serialHex)")
                    print("  addresses: \(cert.emailAddresses.joined(separator: ", "))")
                    print("  key: \(cert.keyAlgorithm)")
                    print("  valid: \(day(cert.notBefore)) to \(day(cert.notAfter))")
                    print("  sha256: \(cert.sha256Fingerprint)")
                    print("  status: " + (candidate.isUsable ? "usable" : candidate.problems.map(\.description).joined(separator: "; ")))
                }
            }
        }
    }

    /// `sealctl cert check ADDRESS`: the certificate that would be used, and why each other
    /// candidate is not. Exit status 0 when one is usable, 67 when none is.
    public struct Check: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Show which certificate would be used for an address, and why the others are rejected.")
        @Argument(help: "The e-mail address.") var address: String
        @OptionGroup var options: StoreOptions
        public init() {}

        public func validate() throws {
            guard options.checksChain else { throw ValidationError("with --store, give at least one trust anchor with --ca FILE") }
        }

        public func run() throws {
            try reportingErrors {
                let (store, trust) = try options.load()
                let selection = store.select(for: address, purpose: options.purpose, anchors: trust, at: options.date)
                if let chosen = selection.chosen {
                    print("use: \(chosen.entry.path) (\(chosen.entry.certificate.subject), until \(day(chosen.entry.certificate.notAfter)))")
                } else {
                    print("no usable certificate for \(address)")
                }
                for other in selection.others {
                    let why = other.isUsable ? "usable, but a newer one is preferred"
                                             : other.problems.map(\.description).joined(separator: "; ")
                    print("not used: \(other.entry.path): \(why)")
                }
                // What `smime` says of a certificate the caller named that cannot be used.
                if selection.chosen == nil {
                    throw ExitWithCode(code: ExitCodes.code(for: .unusableCertificate, origin: .caller).rawValue)
                }
            }
        }
    }
}

private func day(_ date: Date) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withFullDate]
    return f.string(from: date)
}
