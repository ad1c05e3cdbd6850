import XCTest
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
    }

    func testAlreadyEncodedWith8BitIsRefused() {
        XCTAssertNil(convert("Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\né\r\n"))
        XCTAssertNil(convert("Content-Type: multipart/mixed\r\n\r\né\r\n"))
    }

    func testQuotedPrintableLineLength() {
        let long = String(repeating: "é", count: 60) + "\r\n"
        let out = String(decoding: QuotedPrintable.encode(Array(long.utf8)), as: UTF8.self)
        for line in out.components(separatedBy: "\r\n") { XCTAssertLessThanOrEqual(line.count, 76, line) }
        // Decoding the soft breaks gives the original back.
        XCTAssertEqual(out.replacingOccurrences(of: "=\r\n", with: "").utf8.count, 60 * 6 + 2)
        XCTAssertEqual(String(decoding: QuotedPrintable.encode(Array("a\tb\t\r\n".utf8)), as: UTF8.self), "a\tb=09\r\n")
    }
}
