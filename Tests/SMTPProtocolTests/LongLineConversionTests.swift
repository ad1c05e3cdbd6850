import XCTest
@testable import SMTPProtocol

/// Lines over 998 octets (RFC 5321 4.5.3.1.6): re-encoded where the MIME structure allows,
/// broken where it does not; never a line over the limit, never a bare CR or LF.
final class LongLineConversionTests: XCTestCase {
    private func convert(_ s: String, body: SMTPBodyType = .sevenBit,
                         reasons: EightBitDowngrade.Reasons = .longLines) -> (text: String, result: MessageConversion.Result) {
        let r = MessageConversion.convert(Array(s.utf8), body: body, for: reasons)
        return (String(decoding: r.message, as: UTF8.self), r)
    }

    private func assertWireSafe(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        var length = 0
        for (i, b) in bytes.enumerated() {
            if b == 13 {
                XCTAssertTrue(i + 1 < bytes.count && bytes[i + 1] == 10, "bare CR at \(i)", file: file, line: line)
            } else if b == 10 {
                XCTAssertTrue(i > 0 && bytes[i - 1] == 13, "bare LF at \(i)", file: file, line: line)
                length = 0
            } else {
                length += 1
                XCTAssertLessThanOrEqual(length, 998, "line over 998 octets at \(i)", file: file, line: line)
                if length > 998 { return }
            }
        }
    }

    /// Decodes quoted-printable (RFC 2045 6.7) for the round-trip checks.
    private func qpDecode(_ s: Substring) -> [UInt8] {
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            if b[i] == 61, i + 2 < b.count, b[i + 1] == 13, b[i + 2] == 10 { i += 3; continue }
            if b[i] == 61, i + 2 < b.count, let v = UInt8(String(decoding: b[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                out.append(v); i += 3; continue
            }
            out.append(b[i]); i += 1
        }
        return out
    }

    func testSinglePartBodyBecomesQuotedPrintable() throws {
        let long = String(repeating: "x", count: 1500)
        let (out, r) = convert("To: a@example.net\r\nSubject: long\r\n\r\n\(long)\r\nshort\r\n")
        assertWireSafe(r.message)
        XCTAssertTrue(out.hasPrefix("To: a@example.net\r\nSubject: long\r\nMIME-Version: 1.0\r\n"
                                    + "Content-Type: text/plain; charset=us-ascii\r\n"
                                    + "Content-Transfer-Encoding: quoted-printable\r\n\r\n"), out)
        let body = try XCTUnwrap(out.range(of: "\r\n\r\n")).upperBound
        XCTAssertEqual(qpDecode(out[body...]), Array("\(long)\r\nshort\r\n".utf8), "the text is intact once decoded")
        XCTAssertEqual(r.body, .sevenBit)
        XCTAssertFalse(r.convertedTo7Bit)
    }

    func testNineHundredNinetyNineOctets() {
        let (out, r) = convert("Subject: 999\r\n\r\n" + String(repeating: "b", count: 999) + "\r\n")
        assertWireSafe(r.message)
        XCTAssertTrue(out.contains("Content-Transfer-Encoding: quoted-printable"))
        let exact = String(repeating: "a", count: 998)
        XCTAssertEqual(convert("Subject: 998\r\n\r\n\(exact)\r\n").text, "Subject: 998\r\n\r\n\(exact)\r\n", "998 octets is allowed")
    }

    func testEightBitBodyAnnouncedAsSevenBitOnceEncoded() {
        let (out, r) = convert("Subject: s\r\n\r\n" + String(repeating: "é", count: 2500) + "\r\n", body: .eightBitMIME)
        assertWireSafe(r.message)
        XCTAssertTrue(out.contains("Content-Type: text/plain; charset=unknown-8bit\r\n"), out)
        XCTAssertFalse(EightBitDowngrade.has8Bit(r.message))
        XCTAssertEqual(r.body, .sevenBit, "8BITMIME was for content that is now encoded")
    }

    func testDeclaredEightBitMIMEStays() {
        let r = convert("Subject: s\r\n\r\n" + String(repeating: "x", count: 1200) + "\r\n", body: .eightBitMIME).result
        XCTAssertEqual(r.body, .eightBitMIME, "-B 8BITMIME on 7-bit content: as the submitter asked")
    }

    func testDeclaredCharsetKeptAndEightBitHeaderStaysEightBit() {
        let m = "Subject: café\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Transfer-Encoding: 8bit\r\n\r\n" + String(repeating: "ü", count: 600) + "\r\n"
        let (out, r) = convert(m, body: .eightBitMIME)
        assertWireSafe(r.message)
        XCTAssertTrue(out.hasPrefix("Subject: café\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                    + "Content-Transfer-Encoding: quoted-printable\r\n\r\n=C3=BC"), out)
        XCTAssertEqual(r.body, .eightBitMIME, "the header is still 8-bit")
    }

    func testMultipartOnlyTheLongPartIsEncoded() {
        let long = String(repeating: "y", count: 1100)
        let m = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
            + "Content-Type: text/plain\r\n\r\nshort part\r\n--b1\r\nContent-Type: text/csv\r\n\r\n\(long)\r\n"
            + "--b1\r\nContent-Type: application/octet-stream\r\n\r\n\(long)\r\n--b1--\r\n"
        let (out, r) = convert(m)
        assertWireSafe(r.message)
        XCTAssertTrue(out.contains("--b1\r\nContent-Type: text/plain\r\n\r\nshort part\r\n--b1\r\n"), out)
        XCTAssertTrue(out.contains("Content-Type: text/csv\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nyyy"), out)
        XCTAssertTrue(out.contains("Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\neXl5"), out)
    }

    func testSignedAndEncodedEntitiesAreOnlyBroken() {
        let long = String(repeating: "z", count: 1500)
        let signed = "MIME-Version: 1.0\r\nContent-Type: multipart/signed; boundary=s; protocol=\"application/pkcs7-signature\"\r\n\r\n"
            + "--s\r\nContent-Type: text/plain\r\n\r\n\(long)\r\n--s--\r\n"
        let (out, r) = convert(signed)
        assertWireSafe(r.message)
        XCTAssertFalse(out.contains("quoted-printable"), "a signed part is never re-encoded")
        XCTAssertTrue(out.contains("\r\n\r\n" + String(repeating: "z", count: 998) + "\r\n" + String(repeating: "z", count: 502) + "\r\n--s--"), out)
        let base64 = "MIME-Version: 1.0\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n\(long)\r\n"
        let b = convert(base64)
        assertWireSafe(b.result.message)
        XCTAssertFalse(b.text.contains("quoted-printable"))
    }

    func testHeaderWithoutWhiteSpaceIsBrokenLikePostfix() {
        let z = String(repeating: "z", count: 1500)
        let (out, r) = convert("X-Long: \(z)\r\nSubject: s\r\n\r\nbody\r\n")
        assertWireSafe(r.message)
        // Postfix: 998 octets, then CRLF and a space before each further piece of 997.
        let first = "X-Long: " + String(repeating: "z", count: 990)
        XCTAssertEqual(out, "\(first)\r\n " + String(repeating: "z", count: 510) + "\r\nSubject: s\r\n\r\nbody\r\n")
    }

    func testNothingToDoWithoutLongLines() {
        let m = "Subject: s\r\n\r\nbody\r\n"
        XCTAssertEqual(convert(m).text, m)
        XCTAssertEqual(MessageConversion.breakLongLines(Array(m.utf8)), Array(m.utf8))
    }

    func testReasons() {
        var e = SMTPEnvelope(sender: "s@x", recipients: [SMTPRecipient("a@y")], body: .eightBitMIME)
        let with8 = SMTPCapabilities(ehloReply: SMTPReply(code: 250, lines: ["mx", "8BITMIME"]))
        XCTAssertEqual(MessageConversion.reasons(for: e, capabilities: with8), [])
        XCTAssertEqual(MessageConversion.reasons(for: e, capabilities: SMTPCapabilities()), .eightBit)
        e.hasLongLines = true
        XCTAssertEqual(MessageConversion.reasons(for: e, capabilities: with8), .longLines)
        e.body = .binaryMIME
        XCTAssertEqual(MessageConversion.reasons(for: e, capabilities: with8), [], "BINARYMIME has no line limit")
    }
}
