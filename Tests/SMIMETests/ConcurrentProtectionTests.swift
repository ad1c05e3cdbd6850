import Foundation
import XCTest
import PeerTestSupport
@testable import SMIME

/// Signing and encrypting a large message on two threads (`signAndEncryptConcurrently`):
/// taken when the caller measured the body (`knownBody`) and the key is RSA; opened by
/// openssl like the one-thread result; refused, not miswritten, when the caller's figures are
/// wrong; and not taken for an EC key, whose signature length is not known ahead.
final class ConcurrentProtectionTests: XCTestCase {
    /// A message of about 2 MiB with CRLF line ends, as sendmail's input makes it.
    func largeMessage(lineEnd: String = "\r\n") -> (bytes: [UInt8], bodyStart: Int) {
        let header = "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: large\r\n"
            + "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        var body = ""
        for i in 0..<30_000 { body += "line \(i) of a large message, signed then encrypted on two threads" + lineEnd }
        return (Array((header + body).utf8), header.utf8.count)
    }

    func protect(_ message: [UInt8], bodyStart: Int, _ protection: Protection, in dir: TempDir,
                 stats: BodyStats? = nil) throws -> [UInt8] {
        let input = dir.write("in.eml", message)
        let inFD = open(input, O_RDONLY)
        defer { close(inFD) }
        let measured = try stats ?? InputFile(path: input).bodyStats(bodyStart..<message.count)
        let outFD = open(dir.file("out.eml"), O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(outFD) }
        try MessageProtector(protection).protect(messageFD: inFD, to: outFD, knownBody: (bodyStart, measured))
        return dir.read("out.eml")
    }

    /// Decrypts with bob's key, verifies alice's signature; the signed entity's body.
    func opened(_ dir: TempDir) throws -> String {
        let decrypted = try opensslDecrypt(dir.file("out.eml"), cert: Fixture.lab("bob.crt"), key: Fixture.lab("bob.key"))
        XCTAssertEqual(decrypted.status, 0, decrypted.stderr)
        _ = dir.write("inner.eml", Array(decrypted.stdout))
        let verified = try opensslVerify(dir.file("inner.eml"))
        XCTAssertEqual(verified.status, 0, verified.stderr)
        return String(decoding: verified.stdout, as: UTF8.self)
    }

    func testSignedThenEncryptedOnTwoThreadsOpensInOpenSSL() throws {
        for scheme in [RSASignatureScheme.pkcs1v15, .pss] {
            let dir = TempDir()
            var protection = Protection(signer: try Fixture.alice(), recipients: [try Fixture.cert("bob.crt")])
            protection.now = { Fixture.labTime }
            protection.signing.rsaScheme = scheme
            let (message, bodyStart) = largeMessage()
            let before = MessageProtector.concurrentPasses
            let out = try protect(message, bodyStart: bodyStart, protection, in: dir)
            XCTAssertEqual(MessageProtector.concurrentPasses, before + 1, "\(scheme): the two-thread path was taken")
            assertWireSafe(out)
            let entity = try opened(dir)
            XCTAssertTrue(entity.hasPrefix("Content-Type: text/plain; charset=us-ascii\r\n\r\nline 0 of"), "\(scheme)")
            XCTAssertEqual(Array(entity.utf8).count, message.count - bodyStart + "Content-Type: text/plain; charset=us-ascii\r\n\r\n".utf8.count,
                           "\(scheme): the whole body, unchanged")
        }
    }

    /// The two-thread result read by an independent strict DER reader (Python cryptography over
    /// Tests/peers/cms_reader.py, as StrictDERTests): every length worked out ahead is right.
    func testTwoThreadResultIsStrictDER() throws {
        guard let python = StrictDERTests.python else { throw XCTSkip("no Python cryptography with pkcs7_decrypt_der") }
        let dir = TempDir()
        var protection = Protection(signer: try Fixture.alice(), recipients: [try Fixture.cert("bob.crt")])
        protection.now = { Fixture.labTime }
        let (message, bodyStart) = largeMessage()
        let before = MessageProtector.concurrentPasses
        _ = try protect(message, bodyStart: bodyStart, protection, in: dir)
        XCTAssertEqual(MessageProtector.concurrentPasses, before + 1)
        let der = try sh([python, StrictDERTests.reader, "der", dir.file("out.eml")])
        XCTAssertEqual(der.status, 0, der.stderr)
        let dec = try sh([python, StrictDERTests.reader, "decrypt", dir.file("out.eml"), Fixture.lab("bob.crt"), Fixture.lab("bob.key")])
        XCTAssertEqual(dec.status, 0, dec.stderr)
        _ = dir.write("inner.eml", Array(dec.stdout))
        let ver = try sh([python, StrictDERTests.reader, "verify", dir.file("inner.eml"), Fixture.lab("ca.crt")])
        XCTAssertEqual(ver.status, 0, ver.stderr)
        XCTAssertTrue(ver.out.hasSuffix("line 29999 of a large message, signed then encrypted on two threads\r\n"),
                      String(ver.out.suffix(200)))
    }

    /// Signed only (multipart/signed), large: signed on a second thread while copied out,
    /// whatever the key (nothing has to be known ahead); verified by openssl.
    func testSignedOnlyOnTwoThreads() throws {
        let carol = try SigningIdentity.loadPEM(certificate: Fixture.lab("carol.crt"), key: Fixture.lab("carol.key"))
        for signer in [try Fixture.alice(), carol] {
            let dir = TempDir()
            var protection = Protection(signer: signer)
            protection.now = { Fixture.labTime }
            let (message, bodyStart) = largeMessage()
            let before = MessageProtector.concurrentPasses
            let out = try protect(message, bodyStart: bodyStart, protection, in: dir)
            XCTAssertEqual(MessageProtector.concurrentPasses, before + 1)
            assertWireSafe(out)
            let verified = try opensslVerify(dir.file("out.eml"))
            XCTAssertEqual(verified.status, 0, verified.stderr)
            XCTAssertTrue(String(decoding: verified.stdout, as: UTF8.self).hasSuffix("line 29999 of a large message, signed then encrypted on two threads\r\n"))
        }
    }

    /// Figures that do not fit the file (a body said to have CRLF line ends that has LF ones)
    /// make the protection fail; nothing is passed off as a good message.
    func testWrongFiguresAreRefused() throws {
        let dir = TempDir()
        var protection = Protection(signer: try Fixture.alice(), recipients: [try Fixture.cert("bob.crt")])
        protection.now = { Fixture.labTime }
        let (message, bodyStart) = largeMessage(lineEnd: "\n")
        var lie = try InputFile(path: dir.write("measure.eml", message)).bodyStats(bodyStart..<message.count)
        XCTAssertTrue(lie.hasBareLF)
        lie.hasBareLF = false
        XCTAssertThrowsError(try protect(message, bodyStart: bodyStart, protection, in: dir, stats: lie))
    }

    /// An EC signer: one thread after the other (the ECDSA signature's DER length varies), the
    /// result as good.
    func testECSignerSignsFirst() throws {
        let dir = TempDir()
        let carol = try SigningIdentity.loadPEM(certificate: Fixture.lab("carol.crt"), key: Fixture.lab("carol.key"))
        var protection = Protection(signer: carol, recipients: [try Fixture.cert("bob.crt")])
        protection.now = { Fixture.labTime }
        let (message, bodyStart) = largeMessage()
        let before = MessageProtector.concurrentPasses
        _ = try protect(message, bodyStart: bodyStart, protection, in: dir)
        XCTAssertEqual(MessageProtector.concurrentPasses, before, "not taken for an EC key")
        XCTAssertTrue(try opened(dir).contains("line 29999 of a large message"))
    }

    /// Encrypted only, large: base64 and the writes on the writer thread (`sm_cms_bio_async`)
    /// while this one encrypts. openssl decrypts the whole body, and a strict DER reader finds
    /// every length right when there is one.
    func testEncryptedOnlyThroughTheWriterThread() throws {
        for cipher in ["aes-256-cbc", "aes-128-gcm"] {
            let dir = TempDir()
            var protection = Protection(recipients: [try Fixture.cert("bob.crt")])
            protection.now = { Fixture.labTime }
            protection.encryption.cipher = try ContentCipher(name: cipher)
            let (message, bodyStart) = largeMessage()
            let out = try protect(message, bodyStart: bodyStart, protection, in: dir)
            assertWireSafe(out)
            let decrypted = try opensslDecrypt(dir.file("out.eml"), cert: Fixture.lab("bob.crt"), key: Fixture.lab("bob.key"))
            XCTAssertEqual(decrypted.status, 0, "\(cipher): \(decrypted.stderr)")
            XCTAssertEqual(Array(decrypted.stdout.suffix(message.count - bodyStart)), Array(message[bodyStart...]), cipher)
            if cipher == "aes-256-cbc", let python = StrictDERTests.python {
                let der = try sh([python, StrictDERTests.reader, "der", dir.file("out.eml")])
                XCTAssertEqual(der.status, 0, der.stderr)
            }
        }
    }

    /// A write that fails on the writer thread (a full disk: /dev/full) fails the protection
    /// with the disk's reason, for encrypted and for signed-then-encrypted messages alike.
    func testAFullDiskUnderTheWriterThreadIsReported() throws {
        for signer in [nil, try Fixture.alice()] {
            let dir = TempDir()
            var protection = Protection(signer: signer, recipients: [try Fixture.cert("bob.crt")])
            protection.now = { Fixture.labTime }
            let (message, bodyStart) = largeMessage()
            let input = dir.write("in.eml", message)
            let inFD = open(input, O_RDONLY)
            defer { close(inFD) }
            let full = open("/dev/full", O_WRONLY)
            guard full >= 0 else { throw XCTSkip("no /dev/full") }
            defer { close(full) }
            let stats = try InputFile(path: input).bodyStats(bodyStart..<message.count)
            XCTAssertThrowsError(try MessageProtector(protection).protect(messageFD: inFD, to: full, knownBody: (bodyStart, stats))) {
                let e = $0 as? SMIMEError
                XCTAssertEqual(e?.code, .noSpace, "\($0)")
            }
        }
    }
}
