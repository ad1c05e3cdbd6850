#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import SMIME
import SendmailKit

/// `sealctl smime verify|decrypt`: check or open an S/MIME message (RFC 8551) with the SMIME
/// engine, for administrators and tests.
public struct SmimeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "smime",
        abstract: "Verify or decrypt an S/MIME message.",
        subcommands: [Verify.self, Decrypt.self])

    public init() {}

    /// `sealctl smime verify [FILE] --ca FILE…`
    public struct Verify: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Verify a signed message against trust anchors; print its signers.",
            discussion: "Exit status 0 when the signature verifies and the signer chains to a trust anchor, "
                + "65 when it does not, 66 when an input cannot be read.")

        @Argument(help: "The message (S/MIME, or DER with --der); standard input when omitted.")
        var message: String?

        @OptionGroup var configOption: ConfigOption

        @Option(name: .customLong("ca"), help: ArgumentHelp("Trust anchors (PEM); repeatable. CRL blocks in them are used too. "
                + "Default: the config's [smime] trust_anchors (the system trust store without it)."))
        var anchors: [String] = []

        @Option(name: .customLong("crl"), help: "A CRL file (PEM) to check the signer against; repeatable.")
        var crls: [String] = []

        @Option(name: .customLong("certfile"), help: "Extra intermediate certificates (PEM).")
        var certFile: String?

        @Option(name: .customLong("content"), help: "Write the signed content to this file.")
        var contentPath: String?

        @Option(name: .customLong("at"), help: "Check validity at this time (seconds since the epoch) instead of now.")
        var at: Int?

        @Flag(name: .customLong("der"), help: "The input is a DER CMS structure (.p7m/.p7s), not a MIME message.")
        var der = false

        public init() {}

        public func run() throws {
            // The anchors sealmail judges certificates against, unless the caller names others.
            let configured = anchors.isEmpty ? try configOption.runtime(checkingFiles: false).config.smime : nil
            try reportingErrors {
                var trust = try TrustSettings.load(anchorFiles: anchors, crlFiles: crls)
                if let configured {
                    let anchors = try SignerCheck.trust(configured)
                    trust = TrustSettings(anchors: anchors.anchors, intermediates: anchors.intermediates, crls: anchors.crls + trust.crls)
                }
                var verifier = SMIMEVerifier(trust: trust)
                if let at { verifier.now = { Date(timeIntervalSince1970: TimeInterval(at)) } }
                if let certFile { verifier.extraCertificates = try Certificate.load(contentsOf: certFile) }
                let output = try contentPath.map { try openForWriting($0) }
                defer { if let output { close(output) } }
                let signers = try verifier.verify(messageAt: message, format: der ? .der : .smime, contentOutput: output)
                print("Verification successful: \(signers.count) signer(s)")
                for signer in signers {
                    let time = signer.signingTime.map { ISO8601DateFormatter().string(from: $0) } ?? "none"
                    print("signer: \(signer.certificate.subject)")
                    print("  addresses: \(signer.certificate.emailAddresses.joined(separator: ", "))")
                    print("  digest: \(signer.digest), signing time: \(time)")
                    print("  certificate valid until: \(ISO8601DateFormatter().string(from: signer.certificate.notAfter))")
                }
            }
        }
    }

    /// `sealctl smime decrypt [FILE] --cert FILE --key FILE`
    public struct Decrypt: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Decrypt a message with a recipient's key; write the inner MIME entity.",
            discussion: "Exit status 0 on success, 65 when the message cannot be decrypted with this key, "
                + "66 when an input cannot be read.")

        @Argument(help: "The message (S/MIME, or DER with --der); standard input when omitted.")
        var message: String?

        @Option(name: .customLong("cert"), help: "The recipient's certificate (PEM), or use --p12.")
        var certPath: String?

        @Option(name: .customLong("key"), help: "The recipient's private key (PEM, possibly encrypted).")
        var keyPath: String?

        @Option(name: .customLong("p12"), help: "The recipient's key and certificate as PKCS #12.")
        var p12Path: String?

        @Option(name: .customLong("passphrase-file"), help: "File whose first line is the key's passphrase.")
        var passphraseFile: String?

        @Option(name: .customLong("out"), help: "Write the decrypted entity here instead of standard output.")
        var outPath: String?

        @Flag(name: .customLong("der"), help: "The input is a DER CMS structure, not a MIME message.")
        var der = false

        public init() {}

        public func validate() throws {
            guard p12Path != nil || (certPath != nil && keyPath != nil) else {
                throw ValidationError("give --cert FILE and --key FILE, or --p12 FILE")
            }
        }

        public func run() throws {
            try reportingErrors {
                let decryptor: SMIMEDecryptor
                if let p12Path {
                    let identity = try SigningIdentity.loadPKCS12(p12Path, passphraseFile: passphraseFile)
                    decryptor = try SMIMEDecryptor(identity: identity)
                } else {
                    decryptor = try SMIMEDecryptor(certificate: Certificate.load(contentsOf: certPath!)[0],
                                                   key: PrivateKey.load(path: keyPath!, passphraseFile: passphraseFile))
                }
                let output = try outPath.map { try openForWriting($0) } ?? STDOUT_FILENO
                defer { if output != STDOUT_FILENO { close(output) } }
                try decryptor.decrypt(messageAt: message, format: der ? .der : .smime, to: output)
            }
        }
    }
}

/// Runs `body`; an SMIMEError becomes one line on standard error and the sysexits status of
/// the one table, for files the caller named (65 bad data, 66 a file that cannot be read,
/// 67 a certificate that cannot be used, 75 a full disk...).
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as SMIMEError {
        FileHandle.standardError.write(Data("sealctl: \(error)\n".utf8))
        throw ExitWithCode(code: ExitCodes.code(for: error.code, origin: .caller).rawValue)
    }
}

func openForWriting(_ path: String) throws -> Int32 {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else {
        throw SMIMEError(.outputFailed, String(cString: strerror(errno)), path: path, openSSLErrors: [])
    }
    return fd
}
