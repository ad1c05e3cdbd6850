import Foundation
import XCTest
import PeerTestSupport
@testable import SMIME

/// Our verify/decrypt on foreign input: the lab messages (made by OpenSSL) and the RFC 9216
/// samples (made by CryptoSys, independent of OpenSSL), and on our own output.
final class VerifyDecryptTests: XCTestCase {
    func labMessage(_ name: String) throws -> String {
        try Fixture.lab("../messages/" + name)
    }

    func verifier(crl: Bool = false) throws -> SMIMEVerifier {
        var v = SMIMEVerifier(trust: try Fixture.labTrust(crl: crl))
        v.now = { Fixture.labTime }
        return v
    }

    func testLabSignedMessagesVerify() throws {
        for name in ["signed.multipart.eml", "signed.multipart.allattrs.eml", "signed.opaque-signed-data.eml"] {
            let dir = TempDir()
            let fd = open(dir.file("content"), O_WRONLY | O_CREAT, 0o600)
            let signers = try verifier().verify(messageAt: labMessage(name), contentOutput: fd)
            close(fd)
            XCTAssertEqual(signers.first?.certificate.emailAddresses, ["alice@example.test"], name)
            XCTAssertEqual(signers.first?.digest, "SHA256", name)
            XCTAssertGreaterThan(dir.read("content").count, 100, name)
        }
    }

    func testLabBadSignersRejected() throws {
        let cases = [("signed.by-expired-cert.eml", false, "expired"),
                     ("signed.by-revoked-cert.eml", true, "revoked"),
                     ("signed.by-serverAuth-only-cert.eml", false, "purpose")]
        for (name, crl, reason) in cases {
            XCTAssertThrowsError(try verifier(crl: crl).verify(messageAt: labMessage(name)), name) { error in
                let e = error as? SMIMEError
                XCTAssertEqual(e?.code, .verificationFailed, name)
                XCTAssertTrue(e?.description.contains(reason) ?? false, "\(name): \(String(describing: e))")
            }
        }
        XCTAssertNoThrow(try verifier(crl: false).verify(messageAt: labMessage("signed.by-revoked-cert.eml")),
                         "without the CRL the revoked signer's message verifies: the CRL is what rejects it")
    }

    func testLabEncryptedMessagesDecrypt() throws {
        for (name, who) in [("signed-then-encrypted.cbc.eml", "bob"), ("signed-then-encrypted.gcm.eml", "bob"),
                            ("signed-then-encrypted.oaep.eml", "bob"), ("signed-then-encrypted.ecdh256.eml", "carol")] {
            let dir = TempDir()
            let decryptor = try SMIMEDecryptor(certificate: Fixture.cert("\(who).crt"),
                                               key: PrivateKey.load(path: Fixture.lab("\(who).key")))
            let fd = open(dir.file("inner.eml"), O_WRONLY | O_CREAT, 0o600)
            try decryptor.decrypt(messageAt: labMessage(name), to: fd)
            close(fd)
            let signers = try verifier().verify(messageAt: dir.file("inner.eml"))
            XCTAssertEqual(signers.count, 1, name)
        }
    }

    func testWrongRecipientKeyFailsWithoutOutput() throws {
        let dir = TempDir()
        let decryptor = try SMIMEDecryptor(certificate: Fixture.cert("alice.crt"), key: PrivateKey.load(path: Fixture.lab("alice.key")))
        let fd = open(dir.file("inner.eml"), O_WRONLY | O_CREAT, 0o600)
        defer { close(fd) }
        XCTAssertThrowsError(try decryptor.decrypt(messageAt: labMessage("signed-then-encrypted.cbc.eml"), to: fd)) {
            XCTAssertEqual(($0 as? SMIMEError)?.code, .decryptionFailed)
        }
        XCTAssertEqual(dir.read("inner.eml").count, 0)
    }

    func testOwnOutputRoundTrips() throws {
        let dir = TempDir()
        var p = Protection(signer: try Fixture.alice(), recipients: [try Fixture.cert("carol.crt")])
        p.now = { Fixture.labTime }
        p.encryption.cipher = .aes256GCM
        _ = try protect(InteropTests.mixedMessage, p, in: dir)
        let decryptor = try SMIMEDecryptor(certificate: Fixture.cert("carol.crt"), key: PrivateKey.load(path: Fixture.lab("carol.key")))
        let fd = open(dir.file("inner.eml"), O_WRONLY | O_CREAT, 0o600)
        try decryptor.decrypt(messageAt: dir.file("out.eml"), to: fd)
        close(fd)
        let cfd = open(dir.file("content"), O_WRONLY | O_CREAT, 0o600)
        let signers = try verifier().verify(messageAt: dir.file("inner.eml"), contentOutput: cfd)
        close(cfd)
        XCTAssertEqual(signers.first?.certificate.emailAddresses, ["alice@example.test"])
        XCTAssertNotNil(signers.first?.signingTime)
        XCTAssertTrue(String(decoding: dir.read("content"), as: UTF8.self).hasPrefix("Content-Type: multipart/mixed"))
    }

    // MARK: RFC 9216

    func rfcVerifier() throws -> SMIMEVerifier {
        SMIMEVerifier(trust: TrustSettings(anchors: try Certificate.load(
            contentsOf: Fixture.rfc9216("certs/Sample_LAMPS_RSA_Certification_Authority.selfsigned.pem"))))
    }

    func bobDecryptor() throws -> SMIMEDecryptor {
        try SMIMEDecryptor(certificate: Certificate.load(contentsOf: Fixture.rfc9216("certs/bob@smime.example.enc.pem"))[0],
                           key: PrivateKey.load(path: Fixture.rfc9216("keys/lamps-bob.decrypt.p8.pem")))
    }

    func testRFC9216SignedSamplesVerify() throws {
        for name in ["signedByAliceRSA.p7m", "signedByAliceRSAPSS.p7m"] {
            let signers = try rfcVerifier().verify(messageAt: Fixture.rfc9216("cms-samples/" + name), format: .der)
            XCTAssertEqual(signers.first?.certificate.emailAddresses, ["alice@smime.example"], name)
        }
        let signers = try rfcVerifier().verify(messageAt: Fixture.rfc9216("alice-signed.multipart.eml"))
        XCTAssertEqual(signers.count, 1)
    }

    func testRFC9216EncryptedSamplesDecrypt() throws {
        for name in ["encryptedForBobRSAOaep.p7m", "encryptedForBobAndDana.p7m"] {
            let dir = TempDir()
            let fd = open(dir.file("plain"), O_WRONLY | O_CREAT, 0o600)
            try bobDecryptor().decrypt(messageAt: Fixture.rfc9216("cms-samples/" + name), format: .der, to: fd)
            close(fd)
            XCTAssertGreaterThan(dir.read("plain").count, 0, name)
        }
        let dir = TempDir()
        let fd = open(dir.file("inner"), O_WRONLY | O_CREAT, 0o600)
        try bobDecryptor().decrypt(messageAt: Fixture.rfc9216("alice-signed-then-encrypted-to-bob.eml"), to: fd)
        close(fd)
        XCTAssertEqual(try rfcVerifier().verify(messageAt: dir.file("inner")).count, 1)
    }

    /// OpenSSL 3.0 has no ChaCha20-Poly1305, X25519 key agreement or Ed25519 in CMS: these
    /// samples fail with a clear error. If this test fails, the OpenSSL in use gained support:
    /// move the sample to the tests above.
    func testRFC9216SamplesBeyondOpenSSL30FailClearly() throws {
        let dir = TempDir()
        let fd = open(dir.file("plain"), O_WRONLY | O_CREAT, 0o600)
        defer { close(fd) }
        XCTAssertThrowsError(try bobDecryptor().decrypt(
            messageAt: Fixture.rfc9216("cms-samples/authEnvelopedForBobChaCha20Poly1305.p7m"), format: .der, to: fd))
        let dana = try Certificate.load(contentsOf: Fixture.rfc9216("certs/dana@smime.example.enc.pem"))[0]
        XCTAssertEqual(dana.keyAlgorithm, .x25519)
        XCTAssertThrowsError(try SMIMEDecryptor(certificate: dana, key: PrivateKey.load(path: Fixture.rfc9216("keys/lamps-dana.decrypt.p8.pem")))
            .decrypt(messageAt: Fixture.rfc9216("cms-samples/authEnvelopedForDanaX25519HKDF.p7m"), format: .der, to: fd))
        let ed = SMIMEVerifier(trust: TrustSettings(anchors: try Certificate.load(
            contentsOf: Fixture.rfc9216("certs/Sample_LAMPS_Ed25519_Certification_Authority.selfsigned.pem"))))
        XCTAssertThrowsError(try ed.verify(messageAt: Fixture.rfc9216("cms-samples/signedByCarlosEd25519.p7m"), format: .der))
        XCTAssertEqual(dir.read("plain").count, 0)
    }
}
