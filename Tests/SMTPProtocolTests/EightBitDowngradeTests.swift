import XCTest
import MailMessage
@testable import SMTPProtocol

final class EightBitDowngradeTests: XCTestCase {
    private func convert(_ s: String) -> String? {
        EightBitDowngrade.convert(Array(s.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    func testSevenBitUnchanged() {
        let m = "Subject: x\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
        XCTAssertEqual(convert(m), m)
    }

    func testSinglePartText() throws {
        let m = "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße = 1 \r\n"
        let out = try XCTUnwrap(convert(m))
        XCTAssertEqual(out, "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe =3D 1=20\r\n")
        XCTAssertFalse(EightBitDowngrade.has8Bit(Array(out.utf8)))
    }

    func testNonMIMEMessageGetsHeaders() throws {
        let out = try XCTUnwrap(convert("Subject: x\n\ncafé\n"))
        XCTAssertTrue(out.contains("MIME-Version: 1.0\r\n"))
        XCTAssertTrue(out.contains("Content-Type: text/plain; charset=unknown-8bit\r\n"))
        XCTAssertTrue(out.hasSuffix("Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n"))
    }

    func testMultipart() throws {
        let m = """
        MIME-Version: 1.0\r
        Content-Type: multipart/mixed; boundary="b1"\r
        \r
        preamble\r
        --b1\r
        Content-Type: text/plain; charset=utf-8\r
        \r
        naïve\r
        --b1\r
        Content-Type: application/octet-stream\r
        Content-Transfer-Encoding: 8bit\r
        \r
        \u{00FF}\r
        --b1\r
        Content-Type: text/plain\r
        \r
        plain ascii\r
        --b1--\r
        epilogue\r

        """
        let out = try XCTUnwrap(convert(m))
        XCTAssertFalse(EightBitDowngrade.has8Bit(Array(out.utf8)), out)
        XCTAssertTrue(out.contains("--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nna=C3=AFve\r\n--b1\r\n"), out)
        XCTAssertTrue(out.contains("Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nw78=\r\n--b1\r\n"), out)
        XCTAssertTrue(out.contains("--b1\r\nContent-Type: text/plain\r\n\r\nplain ascii\r\n--b1--\r\nepilogue\r\n"), out)
        XCTAssertTrue(out.contains("preamble\r\n--b1\r\n"))
        XCTAssertTrue(out.hasPrefix("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npreamble\r\n"),
                      "the blank line after the multipart's header stays (it was dropped, making the body header lines): \(out)")
    }

    /// An encapsulated message keeps its own header block, blank line included; only its
    /// 8-bit body is encoded.
    func testEncapsulatedMessage() throws {
        let m = "MIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ncafé\r\n"
        XCTAssertEqual(try XCTUnwrap(convert(m)), "MIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n"
                       + "Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n")
    }

    /// A part of multipart/digest without Content-Type is a message (RFC 2046 5.1.5): its
    /// header stays a header, its body is encoded (it was encoded whole, as text).
    func testDigestPartIsAMessage() throws {
        let m = "MIME-Version: 1.0\r\nContent-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: first\r\n\r\nGrüße\r\n--d--\r\n"
        let out = try XCTUnwrap(convert(m))
        XCTAssertTrue(out.contains("--d\r\n\r\nSubject: first\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe\r\n--d--"), out)
    }

    /// A multipart whose boundary never occurs cannot be converted: refused, not sent as 7bit
    /// with its 8-bit octets (it was returned unchanged, and announced 7bit).
    func testMultipartWithoutItsBoundaryIsRefused() {
        XCTAssertNil(convert("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=nowhere\r\n\r\n--elsewhere\r\n\r\ncafé\r\n"))
    }

    func testAlreadyEncodedWith8BitIsRefused() {
        XCTAssertNil(convert("Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\né\r\n"))
        XCTAssertNil(convert("Content-Type: multipart/mixed\r\n\r\né\r\n"))
    }

    func testQuotedPrintableLineLength() {
        let long = String(repeating: "é", count: 60) + "\r\n"
        let out = String(decoding: QuotedPrintableEncoder.encode(Array(long.utf8), protectingLineStarts: false), as: UTF8.self)
        for line in out.components(separatedBy: "\r\n") { XCTAssertLessThanOrEqual(line.count, 76, line) }
        // Decoding the soft breaks gives the original back.
        XCTAssertEqual(out.replacingOccurrences(of: "=\r\n", with: "").utf8.count, 60 * 6 + 2)
        XCTAssertEqual(String(decoding: QuotedPrintableEncoder.encode(Array("a\tb\t\r\n".utf8), protectingLineStarts: false), as: UTF8.self), "a\tb=09\r\n")
    }
}
