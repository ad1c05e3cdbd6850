import Foundation
import XCTest
import PeerTestSupport

/// A large message signed then encrypted by the sealmail binary: the submission hands the
/// body's figures to the S/MIME engine, which then signs on a second thread while it encrypts
/// (`signAndEncryptConcurrently`). What arrives at the relay opens in openssl: decrypted with
/// the recipient's key, the signature verified, the body whole. Also a body of 8-bit text with
/// lines that need quoted-printable, which takes the one-thread path, as good.
final class LargeProtectedMessageTests: PolicyTestCase {
    func largeMessage(to: String, line: (Int) -> String) -> String {
        var text = "From: Sender <\(Self.sender)>\nTo: \(to)\nSubject: large\n\n"
        for i in 0..<40_000 { text += line(i) + "\n" }
        return text
    }

    func deliverAndOpen(_ input: String, to a: String) throws -> String {
        try writePolicy(rules: signRule() + encryptRules([(["*"], "required")]))
        try deliver(input)
        let arrived = try XCTUnwrap(try relay.waitForMessages(1).first)
        XCTAssertTrue(arrived.fields("Content-Type").first?.hasPrefix("application/pkcs7-mime") ?? false, arrived.headerText)
        let inner = try openssl.decrypt(arrived.data, cert: pki.cert("a"), key: pki.key("a"))
        return String(decoding: try openssl.verify(inner).content, as: UTF8.self)
    }

    func testLargeSignedAndEncryptedMessageOpensInOpenSSL() throws {
        let a = Self.partner("a")
        let content = try deliverAndOpen(largeMessage(to: a) { "line \($0) of a large message, signed and encrypted" }, to: a)
        XCTAssertTrue(content.contains("\r\n\r\nline 0 of a large message, signed and encrypted\r\n"), String(content.prefix(300)))
        XCTAssertTrue(content.hasSuffix("line 39999 of a large message, signed and encrypted\r\n"), String(content.suffix(300)))
        XCTAssertEqual(content.components(separatedBy: "\r\n").filter { $0.hasPrefix("line ") }.count, 40_000)
    }

    func testLargeMessageThatNeedsQuotedPrintable() throws {
        relay.clear()
        let a = Self.partner("a")
        let content = try deliverAndOpen(largeMessage(to: a) { "From line \($0), caf\u{e9}, trailing space " }, to: a)
        XCTAssertTrue(content.contains("Content-Transfer-Encoding: quoted-printable\r\n"), String(content.prefix(300)))
        XCTAssertTrue(content.contains("=46rom line 39999, caf=C3=A9, trailing space=20\r\n"), String(content.suffix(300)))
    }
}
