import Foundation
import XCTest
import PeerTestSupport
@testable import SMIME

/// Every refusal is a clear SMIMEError naming the file and the reason, and nothing is written.
final class BadInputTests: XCTestCase {
    let message = InteropTests.plainMessage

    func assertRefused(_ code: SMIMEError.Code, mentioning words: [String], path: String? = nil,
                       file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let e = error as? SMIMEError else { return XCTFail("not an SMIMEError: \(error)", file: file, line: line) }
            XCTAssertEqual(e.code, code, e.description, file: file, line: line)
            for word in words { XCTAssertTrue(e.description.contains(word), "\(word) not in: \(e)", file: file, line: line) }
            if let path { XCTAssertEqual(e.path, path, file: file, line: line) }
        }
    }

    /// Protects into a fresh file and asserts that file stays empty when protection fails.
    func protectNothingEmitted(_ p: Protection) throws {
        let dir = TempDir()
        defer { XCTAssertEqual(dir.read("out.eml").count, 0, "output written despite the error") }
        _ = try protect(message, p, in: dir)
    }

    func encryptedAliceKey(_ dir: TempDir) throws -> String {
        let path = dir.file("alice.enc.key")
        let r = try sh(["openssl", "pkcs8", "-topk8", "-in", Fixture.lab("alice.key"), "-v2", "aes-256-cbc",
                        "-passout", "pass:right horse", "-out", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        return path
    }

    func testEncryptedKeyWithRightPassphraseSigns() throws {
        let dir = TempDir()
        let key = try encryptedAliceKey(dir)
        let pass = dir.write("pass", "right horse\n")
        var p = Protection(signer: try SigningIdentity.loadPEM(certificate: Fixture.lab("alice.crt"), key: key,
                                                               passphraseFile: pass))
        p.now = { Fixture.labTime }
        _ = try protect(message, p, in: dir)
        XCTAssertEqual(try opensslVerify(dir.file("out.eml")).status, 0)
    }

    func testWrongOrMissingPassphrase() throws {
        let dir = TempDir()
        let key = try encryptedAliceKey(dir)
        let wrong = dir.write("wrong", "wrong horse\n")
        assertRefused(.wrongPassphrase, mentioning: [key, "wrong passphrase"], path: key) {
            _ = try SigningIdentity.loadPEM(certificate: Fixture.lab("alice.crt"), key: key, passphraseFile: wrong)
        }
        assertRefused(.wrongPassphrase, mentioning: ["no passphrase file"], path: key) {
            _ = try SigningIdentity.loadPEM(certificate: Fixture.lab("alice.crt"), key: key)
        }
        let missing = dir.file("no-such-pass")
        assertRefused(.unreadableFile, mentioning: ["No such file"], path: missing) {
            _ = try SigningIdentity.loadPEM(certificate: Fixture.lab("alice.crt"), key: key, passphraseFile: missing)
        }
    }

    func testKeyNotMatchingCertificate() throws {
        assertRefused(.keyMismatch, mentioning: ["does not match", "alice"], path: try Fixture.lab("bob.key")) {
            _ = try SigningIdentity.loadPEM(certificate: Fixture.lab("alice.crt"), key: Fixture.lab("bob.key"))
        }
    }

    func testUnreadableKeyFile() throws {
        let dir = TempDir()
        let missing = dir.file("absent.key")
        assertRefused(.unreadableFile, mentioning: [missing, "No such file"], path: missing) {
            _ = try SigningIdentity.loadPEM(certificate: Fixture.lab("alice.crt"), key: missing)
        }
        // Root reads any file, so an unreadable one is made with a directory in its place.
        try FileManager.default.createDirectory(atPath: dir.file("dir.key"), withIntermediateDirectories: true)
        assertRefused(.unreadableFile, mentioning: ["Is a directory"], path: dir.file("dir.key")) {
            _ = try SigningIdentity.loadPEM(certificate: Fixture.lab("alice.crt"), key: dir.file("dir.key"))
        }
        let garbage = dir.write("garbage.key", "not a key\n")
        assertRefused(.malformedInput, mentioning: ["no private key"], path: garbage) {
            _ = try SigningIdentity.loadPEM(certificate: Fixture.lab("alice.crt"), key: garbage)
        }
    }

    func testPKCS12GoodWrongTruncatedGarbage() throws {
        let dir = TempDir()
        let pass = dir.write("pass", "test\n")
        let legacy = try SigningIdentity.loadPKCS12(Fixture.lab("bob.legacy3des.p12"), passphraseFile: pass)
        XCTAssertTrue(legacy.certificate.subject.contains("bob"))
        let modern = dir.file("modern.p12")
        XCTAssertEqual(try sh(["openssl", "pkcs12", "-export", "-inkey", Fixture.lab("alice.key"), "-in",
                               Fixture.lab("alice.crt"), "-certfile", Fixture.lab("ca.crt"), "-passout", "pass:test",
                               "-out", modern]).status, 0)
        let alice = try SigningIdentity.loadPKCS12(modern, passphraseFile: pass)
        XCTAssertEqual(alice.chain.count, 1)
        var p = Protection(signer: alice)
        p.signing.certificates = .chain
        p.now = { Fixture.labTime }
        _ = try protect(message, p, in: dir)
        XCTAssertEqual(try opensslVerify(dir.file("out.eml")).status, 0)

        let wrong = dir.write("wrong", "nope\n")
        assertRefused(.wrongPassphrase, mentioning: ["wrong passphrase"], path: modern) {
            _ = try SigningIdentity.loadPKCS12(modern, passphraseFile: wrong)
        }
        let bytes = dir.read("modern.p12")
        let truncated = dir.write("truncated.p12", Array(bytes.prefix(bytes.count / 2)))
        assertRefused(.malformedInput, mentioning: ["truncated or garbage"], path: truncated) {
            _ = try SigningIdentity.loadPKCS12(truncated, passphraseFile: pass)
        }
        let garbage = dir.write("garbage.p12", "PK\u{03}\u{04} this is a zip, not a p12")
        assertRefused(.malformedInput, mentioning: ["not a PKCS #12"], path: garbage) {
            _ = try SigningIdentity.loadPKCS12(garbage, passphraseFile: pass)
        }
    }

    func testExpiredOrRevokedSignerEmitsNothing() throws {
        var expired = Protection(signer: try SigningIdentity.loadPEM(certificate: Fixture.lab("eve.crt"),
                                                                     key: Fixture.lab("eve.key")))
        expired.now = { Fixture.labTime }
        assertRefused(.unusableCertificate, mentioning: ["signer", "expired"]) { try self.protectNothingEmitted(expired) }

        var revoked = Protection(signer: try SigningIdentity.loadPEM(certificate: Fixture.lab("bob.crt"),
                                                                     key: Fixture.lab("bob.key")))
        revoked.now = { Fixture.labTime }
        revoked.trust = try Fixture.labTrust()
        assertRefused(.unusableCertificate, mentioning: ["signer", "revoked"]) { try self.protectNothingEmitted(revoked) }
        revoked.trust = try Fixture.labTrust(crl: false)
        XCTAssertNoThrow(try protectNothingEmittedInverse(revoked), "without the CRL bob is a valid signer")
    }

    private func protectNothingEmittedInverse(_ p: Protection) throws {
        let dir = TempDir()
        _ = try protect(message, p, in: dir)
        XCTAssertGreaterThan(dir.read("out.eml").count, 0)
    }

    func testUnsuitableRecipientsEmitNothing() throws {
        for (name, reason) in [("mallory.crt", "emailProtection"), ("eve.crt", "expired")] {
            var p = Protection(signer: try Fixture.alice(), recipients: [try Fixture.cert("bob.crt"), try Fixture.cert(name)])
            p.now = { Fixture.labTime }
            assertRefused(.unusableCertificate, mentioning: ["recipient", reason]) { try self.protectNothingEmitted(p) }
        }
    }

    func testWeakDigestsAndUnknownCiphersRefused() {
        for name in ["sha1", "SHA-1", "md5"] {
            assertRefused(.unsupportedAlgorithm, mentioning: ["refused"]) { _ = try DigestAlgorithm(name: name) }
        }
        assertRefused(.unsupportedAlgorithm, mentioning: ["des-ede3-cbc"]) { _ = try ContentCipher(name: "des-ede3-cbc") }
        XCTAssertEqual(try DigestAlgorithm(name: "SHA-384"), .sha384)
    }

    func testNothingToDoAndNonRegularInput() throws {
        assertRefused(.noRecipients, mentioning: ["nothing to do"]) { try self.protectNothingEmitted(Protection()) }
        var p = Protection(signer: try Fixture.alice())
        p.now = { Fixture.labTime }
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { close(fds[0]); close(fds[1]) }
        assertRefused(.badMessage, mentioning: ["regular file"]) {
            try MessageProtector(p).protect(messageFD: fds[0], to: fds[1])
        }
    }
}
