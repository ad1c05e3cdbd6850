import Foundation
import XCTest
import PeerTestSupport
@testable import SMIME

/// RFC 9788 4.5.3 legacy display: with header protection, encrypted mail shows `Subject: [...]`
/// outside, so its main body parts begin with the real Subject, for clients without header
/// protection (Bouncy Castle's bcmail, Outlook, Thunderbird for S/MIME). Read back by Python's
/// email package (an independent MIME parser) and by Bouncy Castle (decrypt and verify).
final class LegacyDisplayTests: XCTestCase {
    func protection(display: Bool = true, encrypt: Bool = true) throws -> Protection {
        var p = Protection(signer: try Fixture.alice(), recipients: encrypt ? [try Fixture.cert("bob.crt")] : [])
        p.now = { Fixture.labTime }
        p.headerProtection = true
        p.legacyDisplay = display
        return p
    }

    /// Decrypts with openssl, checks the inner signature, and returns the signed entity.
    func signedEntity(_ dir: TempDir, file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8] {
        let dec = try opensslDecrypt(dir.file("out.eml"), cert: Fixture.lab("bob.crt"), key: Fixture.lab("bob.key"))
        XCTAssertEqual(dec.status, 0, dec.stderr, file: file, line: line)
        dir.write("inner.eml", Array(dec.stdout))
        XCTAssertEqual(try opensslVerify(dir.file("inner.eml")).status, 0, "the display is inside the signature", file: file, line: line)
        return try XCTUnwrap(MIMESplit.signed(Array(dec.stdout)), file: file, line: line).content
    }

    /// Every leaf as Python's email package sees it: content type, hp-legacy-display, text.
    func leaves(_ entity: [UInt8]) throws -> [(type: String, display: String?, text: String)] {
        let script = """
        import email, json, sys
        from email import policy
        m = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.compat32)
        out = []
        for part in m.walk():
            if part.is_multipart():
                continue
            payload = part.get_payload(decode=True)
            out.append([part.get_content_type(), part.get_param('hp-legacy-display'),
                        payload.decode(part.get_content_charset() or 'ascii')])
        print(json.dumps(out))
        """
        let r = try sh(["python3", "-c", script], stdin: Data(entity))
        XCTAssertEqual(r.status, 0, r.stderr)
        let parsed = try JSONSerialization.jsonObject(with: r.stdout) as? [[Any]] ?? []
        return parsed.map { ($0[0] as? String ?? "", $0[1] as? String, $0[2] as? String ?? "") }
    }

    static let subjectLine = "Subject: quarterly figures\r\n\r\n"

    func testPlainTextPartBeginsWithTheSubject() throws {
        let dir = TempDir()
        let out = try protect(InteropTests.plainMessage, protection(), in: dir)
        XCTAssertTrue(MIMESplit.headerAndBody(out).header.contains("Subject: [...]\r\n"))
        let parts = try leaves(signedEntity(dir))
        XCTAssertEqual(parts.count, 1)
        XCTAssertEqual(parts[0].display, "1")
        XCTAssertEqual(parts[0].text, Self.subjectLine + InteropTests.trickyText)
    }

    /// A UTF-8 Subject (encoded words) into an us-ascii 7bit part: the part is relabelled
    /// UTF-8 (a superset) and made quoted-printable, so the entity stays 7-bit.
    func testEncodedSubjectRelabelsAnASCIIPart() throws {
        let dir = TempDir()
        let message = "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe_aus_Z=C3=BCrich?=\r\n"
            + "Content-Type: text/plain; charset=us-ascii\r\n\r\nplain ascii = text\r\n"
        let out = try protect(message, protection(), in: dir)
        assertWireSafe(out)
        let entity = try signedEntity(dir)
        XCTAssertTrue(String(decoding: entity, as: UTF8.self).contains("Content-Transfer-Encoding: quoted-printable"))
        let parts = try leaves(entity)
        XCTAssertEqual(parts.first?.type, "text/plain")
        XCTAssertEqual(parts.first?.text, "Subject: Grüße aus Zürich\r\n\r\nplain ascii = text\r\n")
        XCTAssertTrue(String(decoding: entity, as: UTF8.self).contains("charset=utf-8; hp-legacy-display=\"1\""))
    }

    /// A base64 part: the element is base64 too, padded to whole groups so the part's own
    /// base64 follows it; the text after it is the original.
    func testBase64PartKeepsItsText() throws {
        let dir = TempDir()
        let text = "Grüße, ünïcödé body\r\nsecond line\r\n"
        let message = InteropTests.headers + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Transfer-Encoding: base64\r\n\r\n" + Data(text.utf8).base64EncodedString() + "\r\n"
        _ = try protect(message, protection(), in: dir)
        let parts = try leaves(signedEntity(dir))
        XCTAssertEqual(parts.first?.display, "1")
        let shown = try XCTUnwrap(parts.first?.text)
        XCTAssertTrue(shown.hasPrefix(Self.subjectLine), shown)
        XCTAssertTrue(shown.hasSuffix("\r\n" + text), shown)
    }

    /// multipart/mixed of multipart/alternative (text, html) and a text attachment: both
    /// alternatives get the element (the html one as a div, escaped), the attachment not.
    /// The HTML element escapes every '<', '>' and '&' byte of the Subject, whatever combines
    /// with it: `\u{0600}<` and `>\u{0301}` are single Characters that equal neither, and a
    /// Character-wise escape let `<img ... onerror=...>` into the HTML part (review, 2026-12-06).
    func testTheHTMLElementEscapesEveryByte() throws {
        let subject = "Ticket \u{0600}<img src=https://evil.example/x onerror=alert(1)\u{0600}> &\u{0301} <b>\u{0301}"
        let display = try XCTUnwrap(LegacyDisplay([.init(name: "Subject", text: subject, raw: subject)]))
        let html = String(decoding: display.element(html: true, decoded: true), as: UTF8.self)
        // Only the div's and the pre's own brackets are left.
        XCTAssertEqual(html.utf8.filter { $0 == UInt8(ascii: "<") }.count, 4, html)
        XCTAssertEqual(html.utf8.filter { $0 == UInt8(ascii: ">") }.count, 4, html)
        XCTAssertTrue(html.contains("Ticket \u{0600}&lt;img src=https://evil.example/x onerror=alert(1)\u{0600}&gt; &amp;\u{0301} &lt;b&gt;\u{0301}"), html)
    }

    func testOnlyMainBodyPartsGetIt() throws {
        let dir = TempDir()
        let message = InteropTests.headers.replacingOccurrences(of: "quarterly figures", with: "a <b> & c")
            + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"m\"\r\n\r\n"
            + "--m\r\nContent-Type: multipart/alternative; boundary=\"a\"\r\n\r\n"
            + "--a\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nthe text\r\n"
            + "--a\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n<html><body>the html</body></html>\r\n--a--\r\n"
            + "--m\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Disposition: attachment; filename=\"n.txt\"\r\n\r\n"
            + "a note\r\n--m--\r\n"
        _ = try protect(message, protection(), in: dir)
        let parts = try leaves(signedEntity(dir))
        XCTAssertEqual(parts.map(\.type), ["text/plain", "text/html", "text/plain"])
        XCTAssertEqual(parts.map(\.display), ["1", "1", nil])
        XCTAssertEqual(parts[0].text, "Subject: a <b> & c\r\n\r\nthe text", "the CRLF before a delimiter is the delimiter's")
        XCTAssertEqual(parts[1].text, "<div class=\"header-protection-legacy-display\"><pre>Subject: a &lt;b&gt; &amp; c</pre></div>\r\n"
                       + "<html><body>the html</body></html>")
        XCTAssertEqual(parts[2].text, "a note")
    }

    /// Not when the Subject is not hidden (signed only), not when turned off, not without a
    /// Subject.
    func testOnlyWhenTheSubjectIsHidden() throws {
        for (p, message, why) in [(try protection(encrypt: false), InteropTests.plainMessage, "signed only"),
                                  (try protection(display: false), InteropTests.plainMessage, "legacyDisplay off"),
                                  (try protection(), InteropTests.plainMessage.replacingOccurrences(of: "Subject: quarterly figures\r\n", with: ""),
                                   "no Subject")] {
            let dir = TempDir()
            let out = try protect(message, p, in: dir)
            let entity = p.recipients.isEmpty ? try XCTUnwrap(MIMESplit.signed(out)).content : try signedEntity(dir)
            let parts = try leaves(entity)
            XCTAssertNil(parts.first?.display, why)
            XCTAssertEqual(parts.first?.text, InteropTests.trickyText, why)
        }
    }

    /// Bouncy Castle (a reader without header protection) decrypts and verifies; what it
    /// hands on as the message text begins with the real Subject.
    func testBouncyCastleShowsTheSubject() throws {
        let bc: BouncyCastle
        do { bc = try BouncyCastle() } catch let e as PeerUnavailable { throw XCTSkip(e.description) }
        let dir = TempDir()
        let out = try protect(InteropTests.plainMessage, protection(), in: dir)
        let d = try bc.decrypt(out, cert: Fixture.lab("bob.crt"), key: Fixture.lab("bob.key"))
        XCTAssertEqual(d.run.status, 0, d.run.stderr)
        let v = try bc.verify(d.output, ca: Fixture.lab("ca.crt"), at: Fixture.labTime)
        XCTAssertEqual(v.run.status, 0, v.run.out + v.run.stderr)
        let parts = try leaves(v.output)
        XCTAssertEqual(parts.first?.text, Self.subjectLine + InteropTests.trickyText)
    }
}
