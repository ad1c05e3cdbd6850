import XCTest
@testable import SMTPProtocol

/// NUL octets (RFC 2045 2.7, 2.8: neither 7bit nor 8bit data may hold them): the entities
/// holding them are re-encoded (quoted-printable for text, base64 otherwise); where that is
/// impossible the message is refused, never sent with NUL.
final class NULConversionTests: XCTestCase {
    private func convert(_ m: [UInt8], body: SMTPBodyType = .sevenBit,
                         reasons: EightBitDowngrade.Reasons = .nul) -> MessageConversion.Result {
        MessageConversion.convert(m, body: body, for: reasons)
    }

    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testTextWithNULBecomesQuotedPrintable() {
        // The smuggling shape of the issue: NUL, then a dot, then CRLF.
        let m = bytes("Subject: s\r\n\r\nbefore\r\n") + [0, 0x2E, 13, 10] + bytes("after\r\n")
        let r = convert(m)
        let text = String(decoding: r.message, as: UTF8.self)
        XCTAssertFalse(r.message.contains(0))
        XCTAssertFalse(r.hasNUL)
        XCTAssertTrue(text.contains("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
                                    + "Content-Transfer-Encoding: quoted-printable\r\n\r\nbefore\r\n=00.\r\nafter\r\n"), text)
        XCTAssertEqual(r.body, .sevenBit)
    }

    func testNonTextPartWithNULBecomesBase64AndOtherPartsStay() {
        let m = bytes("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
                      + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncafé\r\n--b\r\n"
                      + "Content-Type: application/octet-stream\r\n\r\n") + [1, 0, 2, 0xFF] + bytes("\r\n--b--\r\n")
        let r = convert(m, body: .eightBitMIME)
        let text = String(decoding: r.message, as: UTF8.self)
        XCTAssertFalse(r.message.contains(0))
        XCTAssertTrue(text.contains("Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAQAC/w==\r\n--b--"), text)
        XCTAssertTrue(text.contains("Content-Transfer-Encoding: 8bit\r\n\r\ncafé\r\n--b\r\n"), "the 8-bit text part is left: \(text)")
        XCTAssertEqual(r.body, .eightBitMIME, "8-bit content is still there")
    }

    func testNULInsideMultipartSignedIsRefused() {
        let m = bytes("MIME-Version: 1.0\r\nContent-Type: multipart/signed; boundary=\"s\"; protocol=\"application/pkcs7-signature\"\r\n\r\n"
                      + "--s\r\nContent-Type: text/plain\r\n\r\nsigned ") + [0] + bytes(" text\r\n--s\r\n"
                      + "Content-Type: application/pkcs7-signature\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--s--\r\n")
        let r = convert(m)
        XCTAssertTrue(r.hasNUL)
        XCTAssertEqual(r.message, m, "left as it was, to be refused")
    }

    func testNULInAnEncodedPartOrAHeaderIsRefused() {
        let qp = bytes("Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na") + [0] + bytes("b\r\n")
        XCTAssertTrue(convert(qp).hasNUL)
        let header = bytes("Subject: a") + [0] + bytes("b\r\n\r\nbody\r\n")
        XCTAssertTrue(convert(header).hasNUL)
    }

    func testWhenTheEightBitConversionFailsNULIsNotBlamed() {
        // The NUL part could be encoded; the 8-bit quoted-printable part cannot be.
        let m = bytes("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                      + "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncafé\r\n--b\r\n"
                      + "Content-Type: text/plain\r\n\r\nx") + [0] + bytes("\r\n--b--\r\n")
        let r = convert(m, body: .eightBitMIME, reasons: [.eightBit, .nul])
        XCTAssertFalse(r.hasNUL)
        XCTAssertEqual(r.body, .eightBitMIME, "the 8-bit refusal applies")
    }

    func testReasons() {
        let with8 = SMTPCapabilities(ehloReply: SMTPReply(code: 250, lines: ["mx", "8BITMIME"]))
        var e = SMTPEnvelope(sender: "s@x", recipients: [SMTPRecipient("a@y")], body: .eightBitMIME)
        XCTAssertEqual(MessageConversion.reasons(for: e, capabilities: with8), [])
        e.hasNUL = true
        XCTAssertEqual(MessageConversion.reasons(for: e, capabilities: with8), .nul, "8BITMIME does not allow NUL either")
        e.body = .binaryMIME
        XCTAssertEqual(MessageConversion.reasons(for: e, capabilities: with8), [], "BINARYMIME data may hold NUL")
    }

    func testTheStateMachineRefusesAMessageWithNULLeft() throws {
        var t = Transcript(plainConfig())
        XCTAssertEqual(t.establish(), .ready)
        t.sent = ""
        var e = SMTPEnvelope(sender: "s@x", recipients: [SMTPRecipient("a@y")])
        e.hasNUL = true
        let r = try XCTUnwrap(transactionResult(t.machine.beginTransaction(e)))
        XCTAssertEqual(r.message.kind, .permanent)
        XCTAssertEqual(r.message.enhancedStatus, EnhancedStatusCode(5, 6, 5))
        XCTAssertTrue(r.message.diagnostic.contains("NUL"), r.message.diagnostic)
        XCTAssertEqual(t.sent, "", "nothing sent, not even MAIL")
        XCTAssertEqual(t.machine.phase, .ready)
    }
}
