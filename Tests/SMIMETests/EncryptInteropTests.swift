import Foundation
import XCTest
import PeerTestSupport
@testable import SMIME

/// Enveloped and sign-then-encrypted output, opened by openssl and gpgsm.
final class EncryptInteropTests: XCTestCase {
    func protection(to recipients: [String], sign: Bool = false) throws -> Protection {
        var p = Protection(signer: sign ? try Fixture.alice() : nil,
                           recipients: try recipients.map { try Fixture.cert($0) })
        p.now = { Fixture.labTime }
        return p
    }

    func testEachCipherDecryptsWithOpenSSL() throws {
        let cases: [(ContentCipher, RSAKeyTransport, String, String)] = [
            (.aes256CBC, .pkcs1v15, "enveloped-data", "aes-256-cbc"),
            (.aes128CBC, .pkcs1v15, "enveloped-data", "aes-128-cbc"),
            (.aes256GCM, .pkcs1v15, "authEnveloped-data", "aes-256-gcm"),
            (.aes128GCM, .pkcs1v15, "authEnveloped-data", "aes-128-gcm"),
            (.aes256CBC, .oaep, "enveloped-data", "rsaesOaep"),
        ]
        for (cipher, transport, smimeType, printedName) in cases {
            let dir = TempDir()
            var p = try protection(to: ["bob.crt"])
            p.encryption.cipher = cipher
            p.encryption.rsaKeyTransport = transport
            let out = try protect(InteropTests.plainMessage, p, in: dir)
            assertWireSafe(out)
            XCTAssertTrue(String(decoding: out, as: UTF8.self).contains("smime-type=\(smimeType);"))
            let dec = try opensslDecrypt(dir.file("out.eml"), cert: Fixture.lab("bob.crt"), key: Fixture.lab("bob.key"))
            XCTAssertEqual(dec.status, 0, "\(cipher): \(dec.stderr)")
            XCTAssertTrue(dec.out.hasPrefix("Content-Type: text/plain; charset=utf-8\r\n"), dec.out)
            XCTAssertTrue(dec.out.contains("Content-Transfer-Encoding: quoted-printable\r\n"), dec.out)
            let printed = try sh(["openssl", "cms", "-cmsout", "-print", "-in", dir.file("out.eml")]).out
            XCTAssertTrue(printed.contains(printedName), "\(cipher): \(printedName) not in structure")
        }
    }

    func testCBCDecryptsWithGpgsmAndHeadersStayOutside() throws {
        let gpg = try GpgSM.lab()
        try gpg.importKey(cert: Fixture.lab("bob.crt"), key: Fixture.lab("bob.key"))
        for cipher in [ContentCipher.aes256CBC, .aes128CBC] {
            let dir = TempDir()
            var p = try protection(to: ["bob.crt"])
            p.encryption.cipher = cipher
            let out = try protect(InteropTests.plainMessage, p, in: dir)
            let header = MIMESplit.headerAndBody(out).header
            XCTAssertTrue(header.contains("Subject: quarterly figures\r\n"))
            XCTAssertTrue(header.contains("Message-ID: <42@example.test>"))
            XCTAssertFalse(header.contains("charset=utf-8"), "inner Content-Type leaked outside")
            let g = try gpg.decrypt(MIMESplit.pkcs7(out))
            XCTAssertEqual(g.status, 0, g.stderr)
            XCTAssertTrue(g.stderr.contains("DECRYPTION_OKAY"), g.stderr)
            XCTAssertTrue(g.out.contains("From=20the desk") || g.out.contains("=46rom the desk"), g.out)
        }
    }

    func testECDHRecipientAndMixedRecipients() throws {
        let dir = TempDir()
        var p = try protection(to: ["carol.crt", "bob.crt"])
        p.encryption.cipher = .aes128CBC
        _ = try protect(InteropTests.plainMessage, p, in: dir)
        let printed = try sh(["openssl", "cms", "-cmsout", "-print", "-in", dir.file("out.eml")]).out
        XCTAssertTrue(printed.contains("dhSinglePass-stdDH-sha256kdf-scheme"), "ECDH KDF")
        XCTAssertTrue(printed.contains("id-aes128-wrap"), "key wrap must match AES-128")
        XCTAssertEqual(printed.components(separatedBy: "d.kari:").count - 1, 1)
        XCTAssertEqual(printed.components(separatedBy: "d.ktri:").count - 1, 1)
        for who in ["carol", "bob"] {
            let dec = try opensslDecrypt(dir.file("out.eml"), cert: Fixture.lab("\(who).crt"), key: Fixture.lab("\(who).key"))
            XCTAssertEqual(dec.status, 0, "\(who): \(dec.stderr)")
        }
    }

    func testSignThenEncryptOpensWithOpenSSLAndGpgsm() throws {
        let gpg = try GpgSM.lab()
        try gpg.importKey(cert: Fixture.lab("bob.crt"), key: Fixture.lab("bob.key"))
        let dir = TempDir()
        let out = try protect(InteropTests.mixedMessage, try protection(to: ["bob.crt"], sign: true), in: dir)
        assertWireSafe(out)
        // openssl: decrypt, then verify the inner multipart/signed.
        let dec = try opensslDecrypt(dir.file("out.eml"), cert: Fixture.lab("bob.crt"), key: Fixture.lab("bob.key"))
        XCTAssertEqual(dec.status, 0, dec.stderr)
        XCTAssertTrue(dec.out.hasPrefix("Content-Type: multipart/signed;"), dec.out)
        dir.write("inner.eml", Array(dec.stdout))
        let ver = try opensslVerify(dir.file("inner.eml"))
        XCTAssertEqual(ver.status, 0, ver.stderr)
        // gpgsm: decrypt, split the inner signature ourselves, verify.
        let g = try gpg.decrypt(MIMESplit.pkcs7(out))
        XCTAssertEqual(g.status, 0, g.stderr)
        let inner = try XCTUnwrap(MIMESplit.signed(Array(g.stdout)))
        let gv = try gpg.verify(signature: inner.signature, content: inner.content)
        XCTAssertTrue(gv.out.contains("GOODSIG") && gv.out.contains("TRUST_FULLY"), gv.out + gv.stderr)
    }

    func testHeaderProtectionWhenEncrypting() throws {
        let dir = TempDir()
        var p = try protection(to: ["bob.crt"], sign: true)
        p.headerProtection = true
        let out = try protect(InteropTests.plainMessage, p, in: dir)
        let outer = MIMESplit.headerAndBody(out).header
        XCTAssertTrue(outer.contains("Subject: [...]\r\n"), outer)
        XCTAssertFalse(outer.contains("quarterly"))
        let dec = try opensslDecrypt(dir.file("out.eml"), cert: Fixture.lab("bob.crt"), key: Fixture.lab("bob.key"))
        let inner = try XCTUnwrap(MIMESplit.signed(Array(dec.stdout))).content
        let innerHeader = MIMESplit.headerAndBody(inner).header
        XCTAssertTrue(innerHeader.contains("Subject: quarterly figures\r\n"), innerHeader)
        XCTAssertTrue(innerHeader.contains("HP-Outer: Subject: [...]\r\n"), innerHeader)
        XCTAssertTrue(innerHeader.contains("HP-Outer: From: alice@example.test\r\n"), innerHeader)
        XCTAssertTrue(innerHeader.contains("hp=\"cipher\""), innerHeader)
    }

    /// RFC 9788 hcp_baseline: Keywords and Comments leave the outer header altogether (no
    /// HP-Outer for them: that is how a reader knows they were meant to be confidential);
    /// inside, the real values.
    func testHeaderProtectionRemovesKeywordsAndCommentsOutside() throws {
        let dir = TempDir()
        var p = try protection(to: ["bob.crt"])
        p.headerProtection = true
        let message = InteropTests.headers + "Keywords: merger, secret\r\nComments: draft 2\r\n"
            + "Content-Type: text/plain; charset=us-ascii\r\n\r\nbody\r\n"
        let out = try protect(message, p, in: dir)
        let outer = MIMESplit.headerAndBody(out).header
        XCTAssertFalse(outer.contains("Keywords") || outer.contains("merger") || outer.contains("Comments"), outer)
        XCTAssertTrue(outer.contains("Subject: [...]\r\n") && outer.contains("To: bob@example.test\r\n"), outer)
        let dec = try opensslDecrypt(dir.file("out.eml"), cert: Fixture.lab("bob.crt"), key: Fixture.lab("bob.key"))
        XCTAssertEqual(dec.status, 0, dec.stderr)
        let inner = MIMESplit.headerAndBody(Array(dec.stdout)).header
        XCTAssertTrue(inner.contains("Keywords: merger, secret\r\n") && inner.contains("Comments: draft 2\r\n"), inner)
        XCTAssertFalse(inner.contains("HP-Outer: Keywords") || inner.contains("HP-Outer: Comments"), inner)
        XCTAssertTrue(inner.contains("HP-Outer: To: bob@example.test\r\n"), inner)
        XCTAssertTrue(inner.contains("Content-Type: text/plain; charset=us-ascii; hp-legacy-display=\"1\"; hp=\"cipher\""), inner)
    }

    /// Signed only (RFC 9788 hp="clear"): the fields are copied inside the signature, the
    /// outer header is unchanged, no HP-Outer; openssl verifies it.
    func testHeaderProtectionWhenOnlySigning() throws {
        let dir = TempDir()
        var p = try protection(to: [], sign: true)
        p.headerProtection = true
        let out = try protect(InteropTests.plainMessage, p, in: dir)
        let outer = MIMESplit.headerAndBody(out).header
        XCTAssertTrue(outer.contains("Subject: quarterly figures\r\n"), outer)
        let signed = try XCTUnwrap(MIMESplit.signed(out)).content
        let inner = MIMESplit.headerAndBody(signed).header
        XCTAssertTrue(inner.contains("Subject: quarterly figures\r\n") && inner.contains("From: alice@example.test\r\n"), inner)
        XCTAssertTrue(inner.contains("hp=\"clear\""), inner)
        XCTAssertFalse(inner.contains("HP-Outer"), inner)
        XCTAssertEqual(try opensslVerify(dir.file("out.eml")).status, 0)
    }

    func testFiftyMegabyteBodyStreams() throws {
        let dir = TempDir()
        // 50 MB of 7-bit text lines plus one 8-bit line: the text part is re-encoded as QP.
        let line = Array("0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789\r\n".utf8)
        let path = dir.file("in-big.eml")
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        handle.write(Data(InteropTests.headers.utf8) + Data("Content-Type: text/plain; charset=utf-8\r\n\r\nzürich\r\n".utf8))
        let block = Data((0..<(1 << 20) / line.count).flatMap { _ in line })
        var written = 0
        while written < 50_000_000 { handle.write(block); written += block.count }
        try handle.close()
        var p = try protection(to: ["bob.crt"], sign: true)
        p.now = { Fixture.labTime }
        let fd = open(dir.file("big.eml"), O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try MessageProtector(p).protect(messageAt: path, to: fd)
        close(fd)
        let size = (try FileManager.default.attributesOfItem(atPath: dir.file("big.eml"))[.size] as? Int) ?? 0
        XCTAssertGreaterThan(size, 60_000_000)
        let dec = try sh(["openssl", "cms", "-decrypt", "-in", dir.file("big.eml"), "-recip", Fixture.lab("bob.crt"),
                          "-inkey", Fixture.lab("bob.key"), "-binary", "-out", dir.file("big-inner.eml")])
        XCTAssertEqual(dec.status, 0, dec.stderr)
        let ver = try opensslVerify(dir.file("big-inner.eml"), extra: ["-out", dir.file("big-content")])
        XCTAssertEqual(ver.status, 0, ver.stderr)
        let content = (try FileManager.default.attributesOfItem(atPath: dir.file("big-content"))[.size] as? Int) ?? 0
        XCTAssertGreaterThan(content, written)
    }
}
