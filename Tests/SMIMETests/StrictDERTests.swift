import Foundation
import XCTest
import PeerTestSupport
@testable import SMIME

/// What sealmail encrypts or signs opaquely is DER (X.690 10.1), so strict DER readers open it
/// (issue 14): Python cryptography, whose rust-asn1 parser refuses the BER that OpenSSL streams
/// (`30 80`, chunked OCTET STRINGs), decrypts it (its pkcs7 reader, or its primitives for
/// OAEP, ECDH and GCM) and its primitives verify the signatures, through
/// Tests/peers/cms_reader.py, which also walks every element for DER.
final class StrictDERTests: XCTestCase {
    /// A python3 whose cryptography has pkcs7_decrypt_der (45 or later): the machine's pip one
    /// (Debian 12's python3-cryptography is 38, without it), or else a venv made once for it.
    static let python: String? = {
        func usable(_ python: String) -> Bool {
            let probe = "from cryptography.hazmat.primitives.serialization.pkcs7 import pkcs7_decrypt_der"
            return (try? sh([python, "-c", probe]).status) == 0
        }
        for candidate in ["python3", "/usr/bin/python3"] where usable(candidate) { return candidate }
        let venv = NSTemporaryDirectory() + "/sealmail-cms-reader-venv"
        if !usable(venv + "/bin/python3") {
            _ = try? sh(["python3", "-m", "venv", venv])
            _ = try? sh([venv + "/bin/pip", "install", "-q", "cryptography>=45"])
        }
        return usable(venv + "/bin/python3") ? venv + "/bin/python3" : nil
    }()

    static let reader = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("peers/cms_reader.py").path

    func read(_ args: [String]) throws -> Run {
        guard let python = Self.python else { throw XCTSkip("no Python cryptography with pkcs7_decrypt_der") }
        return try sh([python, Self.reader] + args)
    }

    func protection(to recipients: [String] = [], sign: Bool = false) throws -> Protection {
        var p = Protection(signer: sign ? try Fixture.alice() : nil, recipients: try recipients.map { try Fixture.cert($0) })
        p.now = { Fixture.labTime }
        return p
    }

    /// The message with a body of about `size` bytes of text, so that lengths take several octets.
    func message(_ size: Int) -> String {
        InteropTests.mixedMessage.replacingOccurrences(
            of: "last line\r\n", with: String(repeating: "a line of text in a large message, 0123456789.\r\n",
                                              count: size / 48) + "last line\r\n")
    }

    /// The checker refuses what OpenSSL streams: the positive tests below mean something.
    func testOpenSSLStreamedBERIsRefused() throws {
        let dir = TempDir()
        let entity = dir.write("entity", Array("Content-Type: text/plain\r\n\r\nhello\r\n".utf8))
        let ber = try sh(["openssl", "cms", "-encrypt", "-stream", "-aes-256-cbc", "-in", entity,
                          "-out", dir.file("ber.eml"), Fixture.lab("bob.crt")])
        XCTAssertEqual(ber.status, 0, ber.stderr)
        let crlf = String(decoding: dir.read("ber.eml"), as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n")
        dir.write("ber-crlf.eml", Array(crlf.utf8))
        let der = try read(["der", dir.file("ber-crlf.eml")])
        XCTAssertEqual(der.status, 1)
        XCTAssertTrue(der.stderr.contains("indefinite length"), der.stderr)
        let dec = try read(["decrypt", dir.file("ber-crlf.eml"), Fixture.lab("bob.crt"), Fixture.lab("bob.key")])
        XCTAssertEqual(dec.status, 1, "Python cryptography read BER: " + dec.out)
        XCTAssertTrue(dec.stderr.contains("InvalidLength"), dec.stderr)
    }

    /// EnvelopedData (CBC) by cryptography's pkcs7_decrypt_der; AuthEnvelopedData (GCM), which it
    /// does not read, by AES-GCM over the DER walk. Bodies large enough for 3-octet lengths too.
    func testEnvelopedAndAuthEnvelopedDataAreDERAndDecrypt() throws {
        let enveloped = "1.2.840.113549.1.7.3\n", authEnveloped = "1.2.840.113549.1.9.16.1.23\n"
        for (cipher, size, type) in [(ContentCipher.aes256CBC, 0, enveloped), (.aes128CBC, 0, enveloped),
                                     (.aes256CBC, 300_000, enveloped), (.aes256GCM, 0, authEnveloped),
                                     (.aes128GCM, 200_000, authEnveloped)] {
            let dir = TempDir()
            var p = try protection(to: ["bob.crt"])
            p.encryption.cipher = cipher
            _ = try protect(message(size), p, in: dir)
            let der = try read(["der", dir.file("out.eml")])
            XCTAssertEqual(der.status, 0, "\(cipher) \(size): " + der.stderr)
            XCTAssertEqual(der.out, type)
            let dec = try read(["decrypt", dir.file("out.eml"), Fixture.lab("bob.crt"), Fixture.lab("bob.key")])
            XCTAssertEqual(dec.status, 0, "\(cipher) \(size): " + dec.stderr)
            let openssl = try opensslDecrypt(dir.file("out.eml"), cert: Fixture.lab("bob.crt"), key: Fixture.lab("bob.key"))
            XCTAssertEqual(openssl.status, 0, openssl.stderr)
            XCTAssertEqual(dec.stdout, openssl.stdout, "\(cipher) \(size): the readers disagree")
            XCTAssertTrue(dec.out.hasPrefix("Content-Type: multipart/mixed"), dec.out)
            XCTAssertGreaterThan(dec.stdout.count, size)
        }
    }

    /// RSA-OAEP key transport and ECDH key agreement (the recipient with an EC key), with each
    /// cipher: DER, and decrypted by the reader (cryptography's RSA-OAEP, ECDH, X9.63 KDF and
    /// AES key wrap over the DER walk) to the same entity as openssl. With NSS 3.87 and gpgsm
    /// 2.2 unable to open these, this and Bouncy Castle (ClientMatrixTests) are the readers
    /// other than OpenSSL that open them.
    func testOAEPAndECDHRecipientsDecrypt() throws {
        for (recipient, oaep) in [("bob", true), ("carol", false)] {
            for cipher in [ContentCipher.aes256CBC, .aes128GCM] {
                let dir = TempDir()
                var p = try protection(to: ["\(recipient).crt"])
                p.encryption.cipher = cipher
                if oaep { p.encryption.rsaKeyTransport = .oaep }
                _ = try protect(message(100_000), p, in: dir)
                let what = "\(recipient) \(cipher)"
                XCTAssertEqual(try read(["der", dir.file("out.eml")]).status, 0, what)
                let dec = try read(["decrypt", dir.file("out.eml"), Fixture.lab("\(recipient).crt"), Fixture.lab("\(recipient).key")])
                XCTAssertEqual(dec.status, 0, "\(what): " + dec.stderr)
                let openssl = try opensslDecrypt(dir.file("out.eml"), cert: Fixture.lab("\(recipient).crt"), key: Fixture.lab("\(recipient).key"))
                XCTAssertEqual(openssl.status, 0, openssl.stderr)
                XCTAssertEqual(dec.stdout, openssl.stdout, "\(what): the readers disagree")
                XCTAssertTrue(dec.out.hasPrefix("Content-Type: multipart/mixed"), dec.out)
                // The wrong key opens nothing: the checks are real.
                let other = recipient == "bob" ? "carol" : "bob"
                let wrong = try read(["decrypt", dir.file("out.eml"), Fixture.lab("\(other).crt"), Fixture.lab("\(other).key")])
                XCTAssertEqual(wrong.status, 1, what)
            }
        }
    }

    /// An EC recipient beside an RSA one (a KeyAgreeRecipientInfo and a KeyTransRecipientInfo
    /// in one message): DER, and each recipient decrypts it with its own key.
    func testMixedRecipientsAreDER() throws {
        for cipher in [ContentCipher.aes256CBC, .aes128GCM] {
            let dir = TempDir()
            var p = try protection(to: ["carol.crt", "bob.crt"])
            p.encryption.cipher = cipher
            _ = try protect(message(100_000), p, in: dir)
            let der = try read(["der", dir.file("out.eml")])
            XCTAssertEqual(der.status, 0, "\(cipher): " + der.stderr)
            for recipient in ["bob", "carol"] {
                let dec = try read(["decrypt", dir.file("out.eml"), Fixture.lab("\(recipient).crt"), Fixture.lab("\(recipient).key")])
                XCTAssertEqual(dec.status, 0, "\(cipher) \(recipient): " + dec.stderr)
                XCTAssertTrue(dec.out.hasPrefix("Content-Type: multipart/mixed"), dec.out)
            }
        }
    }

    func testSignThenEncryptDecryptsAndVerifies() throws {
        for (cipher, size) in [(ContentCipher.aes256CBC, 0), (.aes256GCM, 0), (.aes256CBC, 150_000)] {
            let dir = TempDir()
            var p = try protection(to: ["bob.crt"], sign: true)
            p.encryption.cipher = cipher
            _ = try protect(message(size), p, in: dir)
            XCTAssertEqual(try read(["der", dir.file("out.eml")]).status, 0)
            let dec = try read(["decrypt", dir.file("out.eml"), Fixture.lab("bob.crt"), Fixture.lab("bob.key")])
            XCTAssertEqual(dec.status, 0, "\(cipher): " + dec.stderr)
            XCTAssertTrue(dec.out.hasPrefix("Content-Type: multipart/signed;"), dec.out)
            dir.write("inner.eml", Array(dec.stdout))
            let ver = try read(["verify", dir.file("inner.eml"), Fixture.lab("ca.crt")])
            XCTAssertEqual(ver.status, 0, "\(cipher): " + ver.stderr)
            XCTAssertTrue(ver.out.hasPrefix("Content-Type: multipart/mixed"), ver.out)
            XCTAssertEqual(try opensslVerify(dir.file("inner.eml")).status, 0)
        }
    }

    /// RSA (PKCS #1 v1.5 and PSS) and ECDSA signers (an ECDSA or PSS signature's bytes are
    /// known only once made).
    func testOpaqueSignedDataIsDERAndVerifies() throws {
        for (signer, size, pss) in [("alice", 0, false), ("carol", 0, false), ("alice", 400_000, false), ("alice", 0, true)] {
            let dir = TempDir()
            var p = try protection()
            p.signer = try SigningIdentity.loadPEM(certificate: Fixture.lab("\(signer).crt"), key: Fixture.lab("\(signer).key"))
            p.signing.form = .opaque
            if pss { p.signing.rsaScheme = .pss }
            _ = try protect(message(size), p, in: dir)
            let der = try read(["der", dir.file("out.eml")])
            XCTAssertEqual(der.status, 0, "\(signer): " + der.stderr)
            XCTAssertEqual(der.out, "1.2.840.113549.1.7.2\n")
            let ver = try read(["verify", dir.file("out.eml"), Fixture.lab("ca.crt")])
            XCTAssertEqual(ver.status, 0, "\(signer): " + ver.stderr)
            XCTAssertTrue(ver.out.hasPrefix("Content-Type: multipart/mixed"), ver.out)
            XCTAssertGreaterThan(ver.stdout.count, size)
            let openssl = try opensslVerify(dir.file("out.eml"))
            XCTAssertEqual(openssl.status, 0, openssl.stderr)
            XCTAssertEqual(ver.stdout, openssl.stdout, "\(signer): the readers disagree")
        }
    }

    /// The detached signature of multipart/signed was DER already; it stays so.
    func testDetachedSignatureVerifies() throws {
        let dir = TempDir()
        _ = try protect(message(0), try protection(sign: true), in: dir)
        let ver = try read(["verify", dir.file("out.eml"), Fixture.lab("ca.crt")])
        XCTAssertEqual(ver.status, 0, ver.stderr)
    }

    /// A change of the checked bytes is caught: the signature check is real.
    func testTamperedOpaqueContentIsRefused() throws {
        let dir = TempDir()
        var p = try protection(sign: true)
        p.signing.form = .opaque
        _ = try protect(message(0), p, in: dir)
        let text = String(decoding: dir.read("out.eml"), as: UTF8.self)
        let split = try XCTUnwrap(text.range(of: "\r\n\r\n"))
        var der = try XCTUnwrap(Data(base64Encoded: String(text[split.upperBound...]), options: .ignoreUnknownCharacters))
        let at = try XCTUnwrap(der.range(of: Data("last line".utf8)))
        der[at.lowerBound] ^= 0x01
        dir.write("tampered.eml", Array(text[..<split.upperBound].utf8) + Array(der.base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed]).utf8) + [0x0D, 0x0A])
        let ver = try read(["verify", dir.file("tampered.eml"), Fixture.lab("ca.crt")])
        XCTAssertEqual(ver.status, 1)
        XCTAssertTrue(ver.stderr.contains("messageDigest"), ver.stderr)
    }
}
