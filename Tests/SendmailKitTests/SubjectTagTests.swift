import XCTest
import MailMessage
@testable import SendmailKit

/// Taking the `secure_tag` out of the Subject fields that are queued: raw text edited where
/// that is exact, encoded afresh where the tag was inside an encoded word; other fields untouched.
final class SubjectTagTests: XCTestCase {
    func header(_ fields: [(String, String)]) -> HeaderBlock {
        HeaderBlock(fields.map { HeaderField(name: $0.0, rawValue: Array(" \($0.1)".utf8)) })
    }

    func subject(_ raw: String) -> String? {
        let h = SubjectTag.removing("[secure]", from: header([("From", "a@example.com"), ("Subject", raw), ("To", "b@example.com")]))
        XCTAssertEqual(h.fields.map(\.name), ["From", "Subject", "To"])
        XCTAssertEqual(h.fields[0].value, "a@example.com")
        return h.first("Subject")?.value
    }

    func testRemovedFromTheSubject() {
        XCTAssertEqual(subject("[secure] Quarterly figures"), "Quarterly figures")
        XCTAssertEqual(subject("Re: [SECURE] Quarterly figures"), "Re: Quarterly figures")
        XCTAssertEqual(subject("Quarterly figures"), "Quarterly figures")
        // The tag outside an encoded word: the encoded word is kept as it was.
        XCTAssertEqual(subject("[secure] =?UTF-8?Q?Gr=C3=BC=C3=9Fe?="), "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=")
        // Inside one: decoded, removed, encoded again.
        let inside = subject("=?UTF-8?Q?[secure]_Gr=C3=BC=C3=9Fe_aus_Z=C3=BCrich?=")
        XCTAssertEqual(inside.map(EncodedWord.decode), "Grüße aus Zürich")
        XCTAssertFalse(inside?.contains("secure") ?? true)
        // Removing it from between two encoded words would join them (RFC 2047 6.2): encoded afresh.
        let between = subject("=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= [secure] =?UTF-8?Q?Z=C3=BCrich?=")
        XCTAssertEqual(between.map(EncodedWord.decode), "Grüße Zürich")
    }

    func testEveryTaggedSubjectFieldAndOnlyThose() {
        let h = SubjectTag.removing("[secure]", from: header([("Subject", "[secure] one"), ("Subject", "two"), ("X-Note", "[secure] kept")]))
        XCTAssertEqual(h.fields.map(\.value), ["one", "two", "[secure] kept"])
        XCTAssertEqual(h.fields[1].rawValue, Array(" two".utf8), "a field without the tag is kept byte for byte")
        XCTAssertEqual(SubjectTag.subject(of: header([("Subject", "=?UTF-8?Q?[secure]_x?=")])), "[secure] x")
        XCTAssertNil(SubjectTag.subject(of: header([("To", "b@example.com")])))
    }
}
