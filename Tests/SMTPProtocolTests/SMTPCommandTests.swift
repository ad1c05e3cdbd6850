import XCTest
import MailMessage
@testable import SMTPProtocol

final class SMTPCommandTests: XCTestCase {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    func testMailWithEveryParameter() throws {
        let p = MailParameters(size: 1234, body: .eightBitMIME, smtpUTF8: true, ret: .headers, envelopeID: "id+1=x")
        XCTAssertEqual(text(try SMTPCommand.mail(from: "a@b.example", p)),
                       "MAIL FROM:<a@b.example> SIZE=1234 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=id+2B1+3Dx\r\n")
        XCTAssertEqual(text(try SMTPCommand.mail(from: nil)), "MAIL FROM:<>\r\n")
        XCTAssertEqual(text(try SMTPCommand.mail(from: "a@b", MailParameters(body: .binaryMIME))),
                       "MAIL FROM:<a@b> BODY=BINARYMIME\r\n")
    }

    func testRcptWithDSN() throws {
        XCTAssertEqual(text(try SMTPCommand.rcpt(to: "x@y", RecipientParameters(notify: [.success, .failure], originalRecipient: "x+1@y"))),
                       "RCPT TO:<x@y> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x+2B1@y\r\n")
        XCTAssertEqual(text(try SMTPCommand.rcpt(to: "x@y", RecipientParameters(notify: .never))),
                       "RCPT TO:<x@y> NOTIFY=NEVER\r\n")
        XCTAssertEqual(text(try SMTPCommand.rcpt(to: "x@y", RecipientParameters(notify: [.delay]))),
                       "RCPT TO:<x@y> NOTIFY=DELAY\r\n")
    }

    func testSimpleCommands() throws {
        XCTAssertEqual(text(try SMTPCommand.ehlo("client.example")), "EHLO client.example\r\n")
        XCTAssertEqual(text(try SMTPCommand.helo("[192.0.2.1]")), "HELO [192.0.2.1]\r\n")
        XCTAssertEqual(text(SMTPCommand.data), "DATA\r\n")
        XCTAssertEqual(text(SMTPCommand.bdat(size: 10, last: true)), "BDAT 10 LAST\r\n")
        XCTAssertEqual(text(SMTPCommand.bdat(size: 5, last: false)), "BDAT 5\r\n")
        XCTAssertEqual(text(try SMTPCommand.vrfy("postmaster")), "VRFY postmaster\r\n")
        XCTAssertEqual(text(try SMTPCommand.expn("staff")), "EXPN staff\r\n")
        XCTAssertEqual(text(try SMTPCommand.auth("PLAIN", initialResponse: "AGEAYg==")), "AUTH PLAIN AGEAYg==\r\n")
        XCTAssertEqual(text(try SMTPCommand.auth("LOGIN", initialResponse: nil)), "AUTH LOGIN\r\n")
        XCTAssertEqual(text(try SMTPCommand.raw("XCLIENT NAME=x")), "XCLIENT NAME=x\r\n")
    }

    func testInjectionIsRefusedWhereBuilt() {
        let evil = ["a@b\r\nRCPT TO:<c@d>", "a@b\n", "a@b\r", "a\u{0}@b", "a@b\u{7F}", "a@b\u{1B}"]
        for e in evil {
            XCTAssertThrowsError(try SMTPCommand.mail(from: e), e.debugDescription)
            XCTAssertThrowsError(try SMTPCommand.rcpt(to: e), e.debugDescription)
            XCTAssertThrowsError(try SMTPCommand.vrfy(e), e.debugDescription)
            XCTAssertThrowsError(try SMTPCommand.expn(e), e.debugDescription)
            XCTAssertThrowsError(try SMTPCommand.raw(e), e.debugDescription)
            XCTAssertThrowsError(try SMTPCommand.ehlo(e), e.debugDescription)
            XCTAssertThrowsError(try SMTPCommand.mail(from: "a@b", MailParameters(envelopeID: e)), e.debugDescription)
            XCTAssertThrowsError(try SMTPCommand.rcpt(to: "a@b", RecipientParameters(originalRecipient: e)), e.debugDescription)
            XCTAssertThrowsError(try SMTPCommand.auth("PLAIN", initialResponse: e), e.debugDescription)
        }
        XCTAssertThrowsError(try SMTPCommand.mail(from: "a>b@c"))
        XCTAssertThrowsError(try SMTPCommand.rcpt(to: ""))
        XCTAssertThrowsError(try SMTPCommand.ehlo("two words"))
        XCTAssertThrowsError(try SMTPCommand.auth("PL AIN", initialResponse: nil))
        XCTAssertThrowsError(try SMTPCommand.mail(from: "a@b", MailParameters(size: -1)))
    }

    func testNonASCIIAddressNeedsSMTPUTF8() throws {
        XCTAssertThrowsError(try SMTPCommand.mail(from: "jöran@example"))
        XCTAssertThrowsError(try SMTPCommand.rcpt(to: "用户@例子.广告"))
        XCTAssertEqual(text(try SMTPCommand.rcpt(to: "用户@例子.广告", smtpUTF8: true)), "RCPT TO:<用户@例子.广告>\r\n")
        XCTAssertTrue(SMTPCommand.needsSMTPUTF8("jöran@example"))
        XCTAssertFalse(SMTPCommand.needsSMTPUTF8("joran@example"))
    }

    func testXtext() {
        XCTAssertEqual(SMTPCommand.xtext("a+b=c d"), "a+2Bb+3Dc+20d")
        XCTAssertEqual(SMTPCommand.xtext("é"), "+C3+A9")
    }

    func testBase64RoundTrip() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            let e = Base64.encode(Array(s.utf8))
            XCTAssertEqual(Base64.decode(e), Array(s.utf8))
        }
        XCTAssertEqual(Base64.encode(Array("foobar".utf8)), "Zm9vYmFy")
        XCTAssertNil(Base64.decode("Zm9v!"))
        XCTAssertNil(Base64.decode("Zg=a"))
    }
}
