import Foundation
import XCTest
import PeerTestSupport
@testable import SMIME

/// Every construct sealmail can emit, opened by every independent implementation on this
/// system: OpenSSL's `cms` (the reference), NSS's cmsutil (Thunderbird's engine), Bouncy Castle
/// (Java clients, CipherMail) and gpgsm. The measured table must equal `expected` (a change in
/// either the engine or a client shows here), and what `ClientSupport` tells administrators
/// (`sealctl config check`, `policy explain`) must be what was measured. The table is printed:
/// it is the README's.
final class ClientMatrixTests: XCTestCase {
    enum Client: String, CaseIterable { case openssl = "OpenSSL", nss = "NSS", bouncyCastle = "Bouncy Castle", gpgsm }

    /// One construct: how to make it, and whose key opens it.
    struct Construct {
        var name: String
        /// The `ClientSupport` construct this one is, if it is one of those with limits.
        var limited: ClientSupport.Construct?
        var signer: String?
        var recipient: String?
        var configure: (inout Protection) -> Void
    }

    static let constructs: [Construct] = [
        Construct(name: "multipart/signed, RSA PKCS #1 v1.5, SHA-256", signer: "alice") { _ in },
        Construct(name: "multipart/signed, RSASSA-PSS", signer: "alice") { $0.signing.rsaScheme = .pss },
        Construct(name: "multipart/signed, ECDSA P-256", signer: "carol") { _ in },
        Construct(name: "opaque signed-data", signer: "alice") { $0.signing.form = .opaque },
        Construct(name: "enveloped-data AES-256-CBC, RSA PKCS #1 v1.5", recipient: "bob") { _ in },
        Construct(name: "enveloped-data AES-128-CBC, RSA PKCS #1 v1.5", recipient: "bob") { $0.encryption.cipher = .aes128CBC },
        Construct(name: "authEnveloped-data AES-256-GCM", limited: .authEnveloped, recipient: "bob") {
            $0.encryption.cipher = .aes256GCM
        },
        Construct(name: "authEnveloped-data AES-128-GCM", limited: .authEnveloped, recipient: "bob") {
            $0.encryption.cipher = .aes128GCM
        },
        Construct(name: "enveloped-data AES-256-CBC, RSA-OAEP", limited: .rsaOAEP, recipient: "bob") {
            $0.encryption.rsaKeyTransport = .oaep
        },
        Construct(name: "enveloped-data AES-256-CBC, ECDH P-256", limited: .ecdh, recipient: "carol") { _ in },
        Construct(name: "authEnveloped-data AES-256-GCM, ECDH P-256", limited: .ecdh, recipient: "carol") {
            $0.encryption.cipher = .aes256GCM
        },
    ]

    /// The measured table: the clients that cannot open each construct (every other one opens
    /// it, content intact).
    static let expectedFailures: [String: Set<Client>] = [
        "authEnveloped-data AES-256-GCM": [.nss, .gpgsm],
        "authEnveloped-data AES-128-GCM": [.nss, .gpgsm],
        "enveloped-data AES-256-CBC, RSA-OAEP": [.nss, .gpgsm],
        "enveloped-data AES-256-CBC, ECDH P-256": [.nss, .gpgsm],
        "authEnveloped-data AES-256-GCM, ECDH P-256": [.nss, .gpgsm],
    ]

    /// A PKI valid now (NSS has no faked clock): alice signs (RSA), bob receives (RSA), carol
    /// both (EC P-256).
    static var pki: ThrowawayPKI?
    static var keys: [String: (cert: String, key: String)] = [:]

    override class func setUp() {
        guard let pki = try? ThrowawayPKI() else { return }
        Self.pki = pki
        keys["alice"] = try? pki.issue(name: "alice", keyArgs: ["-newkey", "rsa:2048"],
                                       keyUsage: "digitalSignature,nonRepudiation,keyEncipherment")
        keys["bob"] = try? pki.issue(name: "bob", keyArgs: ["-newkey", "rsa:2048"],
                                     keyUsage: "digitalSignature,keyEncipherment")
        keys["carol"] = try? pki.issue(name: "carol", keyArgs: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
                                       keyUsage: "digitalSignature,keyAgreement")
    }

    override class func tearDown() { pki = nil }

    func peers() throws -> (ThrowawayPKI, NSS, BouncyCastle, GpgSM) {
        guard let pki = Self.pki, Self.keys.count == 3 else { throw XCTSkip("openssl could not make the throwaway PKI") }
        do {
            let nss = try NSS(trusting: pki.caCert)
            for (name, pair) in Self.keys { try nss.importKey(cert: pair.cert, key: pair.key, nickname: name) }
            let gpg = try GpgSM(trusting: pki.caCert)
            return (pki, nss, try BouncyCastle(), gpg)
        } catch let e as PeerUnavailable {
            throw XCTSkip(e.description)
        }
    }

    /// The result of one client on one construct: nil when it opened it (content intact), else why not.
    typealias Outcome = String?

    func testEveryConstructAgainstEveryClient() throws {
        let (pki, nss, bc, gpg) = try peers()
        var gpgKeys: [String: String] = [:]
        for name in ["bob", "carol"] {
            do { try gpg.importKey(cert: Self.keys[name]!.cert, key: Self.keys[name]!.key) } catch {
                gpgKeys[name] = "gpgsm cannot import the key: \(error)".prefix(120).description
            }
        }
        var table: [(String, [Client: Outcome])] = []
        for construct in Self.constructs {
            let dir = TempDir()
            var p = Protection()
            if let s = construct.signer {
                p.signer = try SigningIdentity.loadPEM(certificate: Self.keys[s]!.cert, key: Self.keys[s]!.key)
            }
            if let r = construct.recipient { p.recipients = try Certificate.load(contentsOf: Self.keys[r]!.cert) }
            construct.configure(&p)
            let out = try protect(InteropTests.plainMessage, p, in: dir)
            let path = dir.file("out.eml")
            var row: [Client: Outcome] = [:]
            if let r = construct.recipient {
                let (cert, key) = Self.keys[r]!
                let der = MIMESplit.pkcs7(out)
                let ossl = try opensslDecrypt(path, cert: cert, key: key)
                row[.openssl] = ossl.status == 0 ? Self.intact(Array(ossl.stdout)) : ossl.stderr
                let n = try nss.decode(der)
                row[.nss] = n.opened ? Self.intact(n.content) : n.run.stderr
                let b = try bc.decrypt(out, cert: cert, key: key)
                row[.bouncyCastle] = b.succeeded ? Self.intact(b.output) : b.run.stderr
                if let refused = gpgKeys[r] {
                    row[.gpgsm] = refused
                } else {
                    let g = try gpg.decrypt(der)
                    row[.gpgsm] = g.status == 0 && g.stderr.contains("DECRYPTION_OKAY") ? Self.intact(Array(g.stdout)) : g.stderr
                }
            } else {
                let ossl = try sh(["openssl", "cms", "-verify", "-in", path, "-CAfile", pki.caCert, "-purpose", "smimesign"])
                row[.openssl] = ossl.status == 0 ? Self.intact(Array(ossl.stdout)) : ossl.stderr
                let b = try bc.verify(out, ca: pki.caCert)
                row[.bouncyCastle] = b.succeeded && b.run.out.contains("GOODSIG") ? Self.intact(b.output) : b.run.out + b.run.stderr
                if p.signing.form == .opaque {
                    let der = MIMESplit.pkcs7(out)
                    let n = try nss.decode(der)
                    row[.nss] = n.verified ? Self.intact(n.content) : "\(n.signerStatus) \(n.run.stderr)"
                    let g = try gpg.verifyOpaque(der, contentPath: dir.file("gpg-content"))
                    row[.gpgsm] = g.out.contains("GOODSIG") ? Self.intact(dir.read("gpg-content")) : g.out + g.stderr
                } else {
                    let split = try XCTUnwrap(MIMESplit.signed(out))
                    let n = try nss.decode(split.signature, detachedContent: split.content)
                    row[.nss] = n.verified ? Self.intact(split.content) : "\(n.signerStatus) \(n.run.stderr)"
                    let g = try gpg.verify(signature: split.signature, content: split.content)
                    row[.gpgsm] = g.out.contains("GOODSIG") && g.out.contains("TRUST_FULLY") ? nil : g.out + g.stderr
                }
            }
            table.append((construct.name, row))
        }
        print(Self.markdown(table))
        for (name, row) in table {
            for client in Client.allCases {
                if let reason = row[client] ?? nil {
                    let first = reason.split(whereSeparator: \.isNewline)
                        .last { $0.lowercased().contains("error") || $0.contains("Segmentation") } ?? ""
                    print("- \(name), \(client.rawValue): \(first.prefix(160))")
                }
            }
        }
        for (name, row) in table {
            let failed = Set(row.filter { $0.value != nil }.map(\.key))
            XCTAssertEqual(failed, Self.expectedFailures[name] ?? [],
                           "\(name): " + row.compactMap { k, v in v.map { "\(k.rawValue): \($0.prefix(200))" } }.joined(separator: " | "))
        }
        // What administrators are told must be what was measured.
        for construct in Self.constructs {
            guard let limited = construct.limited else { continue }
            let measured = Self.expectedFailures[construct.name] ?? []
            for client in [Client.nss, .gpgsm] {
                let claimed = ClientSupport.clients(thatCannotOpen: limited).contains { $0.hasPrefix(client == .nss ? "NSS" : "gpgsm") }
                XCTAssertEqual(claimed, measured.contains(client), "\(construct.name): ClientSupport on \(client)")
            }
        }
    }

    /// nil when `entity` is the plain message's text part, else what is wrong.
    static func intact(_ entity: [UInt8]) -> Outcome {
        let text = String(decoding: entity, as: UTF8.self)
        return text.contains("Content-Type: text/plain; charset=utf-8") && text.contains("last line") ? nil
            : "content not intact: " + text.prefix(120)
    }

    static func markdown(_ table: [(String, [Client: Outcome])]) -> String {
        let versions = [Client.openssl: (try? sh(["openssl", "version"]).out.split(separator: " ").dropFirst().first.map(String.init)) ?? "?",
                        .nss: NSS.version(), .bouncyCastle: BouncyCastle.version(),
                        .gpgsm: (try? sh(["gpgsm", "--version"]).out.split(separator: "\n").first?.split(separator: " ").last.map(String.init)) ?? "?"]
        var out = "| construct | " + Client.allCases.map { "\($0.rawValue) \(versions[$0] ?? "?")" }.joined(separator: " | ") + " |\n"
        out += "|---|" + Client.allCases.map { _ in "---" }.joined(separator: "|") + "|\n"
        for (name, row) in table {
            out += "| \(name) | " + Client.allCases.map { (row[$0] ?? nil) == nil ? "opens" : "fails" }.joined(separator: " | ") + " |\n"
        }
        return out
    }

    /// What sealmail sends by default, a multipart/signed inside enveloped-data (AES-256-CBC,
    /// RSA PKCS #1 v1.5): NSS and Bouncy Castle decrypt it and verify the signature inside.
    func testSignedThenEncryptedOpensInNSSAndBouncyCastle() throws {
        let (pki, nss, bc, _) = try peers()
        let dir = TempDir()
        var p = Protection(signer: try SigningIdentity.loadPEM(certificate: Self.keys["alice"]!.cert, key: Self.keys["alice"]!.key),
                           recipients: try Certificate.load(contentsOf: Self.keys["bob"]!.cert))
        p.headerProtection = true
        let out = try protect(InteropTests.mixedMessage, p, in: dir)
        let n = try nss.decode(MIMESplit.pkcs7(out))
        XCTAssertTrue(n.opened, n.run.stderr)
        let inner = try XCTUnwrap(MIMESplit.signed(n.content), "NSS's plaintext is multipart/signed")
        let verified = try nss.decode(inner.signature, detachedContent: inner.content)
        XCTAssertTrue(verified.verified, "\(verified.signerStatus) \(verified.run.stderr)")
        let d = try bc.decrypt(out, cert: Self.keys["bob"]!.cert, key: Self.keys["bob"]!.key)
        XCTAssertEqual(d.run.status, 0, d.run.stderr)
        let v = try bc.verify(d.output, ca: pki.caCert)
        XCTAssertEqual(v.run.status, 0, v.run.out + v.run.stderr)
        XCTAssertTrue(String(decoding: v.output, as: UTF8.self).contains("last line"))
    }
}
