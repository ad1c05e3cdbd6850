import Foundation
import XCTest
import PeerTestSupport
@testable import SMIME

/// Every output form checked by independent implementations: OpenSSL's `cms` tool (strict
/// purpose and CA checks) and GnuPG's gpgsm (libksba/libgcrypt).
final class InteropTests: XCTestCase {
    static let headers = "From: alice@example.test\r\nTo: bob@example.test\r\nCc: carol@example.test\r\n"
        + "Subject: quarterly figures\r\nDate: Sun, 29 Nov 2026 12:00:00 +0000\r\nMessage-ID: <42@example.test>\r\n"

    /// Text that needs protecting: 8-bit UTF-8, a long line, a `From ` line, trailing spaces,
    /// a lone dot.
    static let trickyText = "Grüße aus Zürich – naïve café.\r\n"
        + String(repeating: "long line ", count: 40) + "end\r\n"
        + "From the desk of Alice\r\n"
        + "trailing spaces   \r\n"
        + ".\r\n"
        + "last line\r\n"

    static var plainMessage: String {
        headers + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            + trickyText
    }

    static var mixedMessage: String {
        headers + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer-b\"\r\n\r\n"
            + "preamble\r\n--outer-b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + trickyText
            + "\r\n--outer-b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"a.bin\"\r\n\r\n"
            + "binary\u{01}\u{02}ÿ data\r\n--outer-b--\r\n"
    }

    func signer(_ digest: DigestAlgorithm = .sha256, form: SignatureForm = .detached) throws -> Protection {
        var p = Protection(signer: try Fixture.alice())
        p.signing.digest = digest
        p.signing.form = form
        p.now = { Fixture.labTime }
        return p
    }

    /// The text parts of `entity`, decoded by Python's email package (an independent MIME parser).
    func decodedTextParts(_ entity: [UInt8]) throws -> [String] {
        let script = """
        import email, sys
        m = email.message_from_bytes(sys.stdin.buffer.read())
        for part in m.walk():
            if part.get_content_maintype() == 'text':
                sys.stdout.write(part.get_payload(decode=True).decode(part.get_content_charset() or 'ascii') + '\\x00')
        """
        let r = try sh(["python3", "-c", script], stdin: Data(entity))
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.out.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    // MARK: Signing

    func testDetachedSignaturesEachDigestVerifyWithOpenSSLAndGpgsm() throws {
        let gpg = try GpgSM.lab()
        for digest in DigestAlgorithm.allCases {
            let dir = TempDir()
            let out = try protect(Self.plainMessage, signer(digest), in: dir)
            assertWireSafe(out)
            XCTAssertTrue(String(decoding: out, as: UTF8.self).contains("micalg=\(digest.micalg);"))
            let ossl = try opensslVerify(dir.file("out.eml"))
            XCTAssertEqual(ossl.status, 0, "\(digest): \(ossl.stderr)")
            let split = try XCTUnwrap(MIMESplit.signed(out))
            let g = try gpg.verify(signature: split.signature, content: split.content)
            XCTAssertEqual(g.status, 0, "\(digest): \(g.out) \(g.stderr)")
            XCTAssertTrue(g.out.contains("[GNUPG:] GOODSIG"), g.out)
            XCTAssertTrue(g.out.contains("[GNUPG:] TRUST_FULLY"), g.out)
            XCTAssertEqual(try decodedTextParts(split.content), [Self.trickyText])
        }
    }

    func testTamperedSignedContentFailsBothVerifiers() throws {
        let gpg = try GpgSM.lab()
        let dir = TempDir()
        var out = try protect(Self.plainMessage, signer(), in: dir)
        let split = try XCTUnwrap(MIMESplit.signed(out))
        var content = split.content
        content[content.count - 3] ^= 0x01
        XCTAssertNotEqual(try gpg.verify(signature: split.signature, content: content).status, 0)
        let at = try XCTUnwrap(MIMESplit.find(Array("last line".utf8), in: out, from: 0))
        out[at] = UInt8(ascii: "L")
        dir.write("tampered.eml", out)
        XCTAssertNotEqual(try opensslVerify(dir.file("tampered.eml")).status, 0)
    }

    func testSignedAttributesAreOurs() throws {
        let dir = TempDir()
        let out = try protect(Self.plainMessage, signer(), in: dir)
        let sig = dir.write("sig.der", try XCTUnwrap(MIMESplit.signed(out)).signature)
        let printed = try sh(["openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", sig]).out
        for attribute in ["signingTime", "messageDigest", "contentType", "S/MIME Capabilities",
                          "id-smime-aa-encrypKeyPref", "id-smime-aa-signingCertificateV2"] {
            XCTAssertTrue(printed.contains(attribute), "missing \(attribute)")
        }
        let caps = printed.components(separatedBy: "S/MIME Capabilities").last ?? ""
        for cipher in ["aes-256-gcm", "aes-128-gcm", "aes-256-cbc", "aes-128-cbc"] {
            XCTAssertTrue(caps.contains(cipher), "capability \(cipher)")
        }
        for legacy in ["des-ede3-cbc", "rc2-cbc", "des-cbc", "aes-192-cbc"] {
            XCTAssertFalse(caps.prefix(1200).contains(legacy), "OpenSSL default capability \(legacy) present")
        }
    }

    func testOpaqueSignatureVerifiesWithOpenSSLAndGpgsm() throws {
        let gpg = try GpgSM.lab()
        let dir = TempDir()
        let out = try protect(Self.mixedMessage, signer(form: .opaque), in: dir)
        assertWireSafe(out)
        XCTAssertTrue(String(decoding: out, as: UTF8.self).contains("smime-type=signed-data"))
        let ossl = try opensslVerify(dir.file("out.eml"))
        XCTAssertEqual(ossl.status, 0, ossl.stderr)
        let g = try gpg.verifyOpaque(MIMESplit.pkcs7(out), contentPath: dir.file("opaque-content"))
        XCTAssertEqual(g.status, 0, g.out + g.stderr)
        XCTAssertTrue(g.out.contains("GOODSIG"))
        XCTAssertEqual(try decodedTextParts(dir.read("opaque-content")).first,
                       Self.trickyText)
    }

    func testAttachmentsAreBase64AndSurviveVerification() throws {
        let gpg = try GpgSM.lab()
        let dir = TempDir()
        let out = try protect(Self.mixedMessage, signer(), in: dir)
        assertWireSafe(out)
        XCTAssertEqual(try opensslVerify(dir.file("out.eml")).status, 0)
        let split = try XCTUnwrap(MIMESplit.signed(out))
        XCTAssertEqual(try gpg.verify(signature: split.signature, content: split.content).status, 0)
        let script = """
        import email, sys
        m = email.message_from_bytes(sys.stdin.buffer.read())
        parts = [p for p in m.walk() if not p.is_multipart()]
        sys.stdout.buffer.write(parts[1].get_payload(decode=True))
        """
        let attachment = try sh(["python3", "-c", script], stdin: Data(split.content))
        XCTAssertEqual(Array(attachment.stdout), Array("binary\u{01}\u{02}ÿ data".utf8))
    }

    // MARK: Signers of other kinds

    func testECDSAP256SignerVerifies() throws {
        let gpg = try GpgSM.lab()
        let dir = TempDir()
        var p = try signer()
        p.signer = try SigningIdentity.loadPEM(certificate: Fixture.lab("carol.crt"), key: Fixture.lab("carol.key"))
        let out = try protect(Self.plainMessage, p, in: dir)
        XCTAssertEqual(try opensslVerify(dir.file("out.eml")).status, 0)
        let split = try XCTUnwrap(MIMESplit.signed(out))
        let g = try gpg.verify(signature: split.signature, content: split.content)
        XCTAssertTrue(g.out.contains("GOODSIG"), g.out + g.stderr)
    }

    func testGeneratedPSSAndP384SignersVerify() throws {
        let pki = try ThrowawayPKI()
        let gpg = try GpgSM.lab(trusting: pki.caCert)
        for (name, keyArgs, pss, digest) in [
            ("pss", ["-newkey", "rsa:2048"], true, DigestAlgorithm.sha256),
            ("p384", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"], false, DigestAlgorithm.sha384),
        ] {
            let (cert, key) = try pki.issue(name: name, keyArgs: keyArgs, keyUsage: "digitalSignature,nonRepudiation")
            var p = Protection(signer: try SigningIdentity.loadPEM(certificate: cert, key: key))
            p.signing.digest = digest
            p.signing.rsaScheme = pss ? .pss : .pkcs1v15
            let dir = TempDir()
            let out = try protect(Self.plainMessage, p, in: dir)
            let ossl = try sh(["openssl", "cms", "-verify", "-in", dir.file("out.eml"), "-CAfile", pki.caCert,
                                "-purpose", "smimesign", "-out", "/dev/null"])
            XCTAssertEqual(ossl.status, 0, "\(name): \(ossl.stderr)")
            let split = try XCTUnwrap(MIMESplit.signed(out))
            let printed = try sh(["openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in",
                                   dir.write("sig.der", split.signature)]).out
            if pss { XCTAssertTrue(printed.contains("rsassaPss"), "PSS not used") }
            if !pss { XCTAssertTrue(printed.contains("ecdsa-with-SHA384"), "ECDSA-SHA384 not used") }
            let g = try gpg.verify(signature: split.signature, content: split.content)
            XCTAssertTrue(g.out.contains("GOODSIG"), "\(name): \(g.out) \(g.stderr)")
        }
    }
}
