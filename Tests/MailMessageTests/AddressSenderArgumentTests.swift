// Command-line addresses (-f, -r, argv recipients): exactly one mailbox, the null path, or a reason.
import XCTest
@testable import MailMessage

final class AddressSenderArgumentTests: XCTestCase {
    private func mailbox(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Mailbox? {
        guard case .mailbox(let mailbox) = AddressParser.parseSenderArgument(text) else {
            XCTFail("not a mailbox: \(text.debugDescription) -> \(AddressParser.parseSenderArgument(text))",
                    file: file, line: line)
            return nil
        }
        return mailbox
    }

    func testMailboxes() {
        let cases: [(String, addrSpec: String, name: String?)] = [
            ("a@b", "a@b", nil),
            ("<a@b>", "a@b", nil),
            ("Name <a@b>", "a@b", "Name"),
            (#""Doe, John" <jd@example.com>"#, "jd@example.com", "Doe, John"),
            ("  a@b  ", "a@b", nil),
            ("root", "root", nil),
            ("<root>", "root", nil),
            ("user@barehost", "user@barehost", nil),
            ("josé@exämple.com", "josé@exämple.com", nil),   // SMTPUTF8: accepted
            ("<@relay:a@b>", "a@b", nil),                     // obs-route: accepted, route kept
            (#""a b"@c"#, #""a b"@c"#, nil),
        ]
        for (input, addrSpec, name) in cases {
            let parsed = mailbox(input)
            XCTAssertEqual(parsed?.addrSpec, addrSpec, input)
            XCTAssertEqual(parsed?.displayName, name, input)
        }
        XCTAssertEqual(mailbox("root (Cron Daemon)")?.comment, "Cron Daemon")
        XCTAssertEqual(mailbox("<@relay:a@b>")?.route, ["relay"])
    }

    func testNullPath() {
        for input in ["", "<>", " <> ", "   ", "< >", "<> (bounce)"] {
            XCTAssertEqual(AddressParser.parseSenderArgument(input), .nullPath, input.debugDescription)
        }
    }

    func testInvalid() {
        let cases: [(String, String)] = [
            ("a@b, c@d", "more than one address"),
            ("a@b\nBcc: x", "contains a line break"),
            ("a@b\r", "contains a line break"),
            ("a\0b@c", "contains a NUL byte"),
            ("a\u{7}b@c", "contains a control character"),
            ("a@b,", "empty list element at offset 3"),
            ("undisclosed-recipients:;", "a group, not a single mailbox"),
            ("John Smith", "name without an address at offset 0"),
            (#""unterminated"#, "unterminated quoted string at offset 0"),
            ("a@", "missing domain after '@' at offset 1"),
            ("<a@b", "missing '>' at offset 0"),
            ("<a@b> x", "unexpected text after address at offset 6"),
            ("(only a comment)", "no address"),
        ]
        for (input, reason) in cases {
            XCTAssertEqual(AddressParser.parseSenderArgument(input), .invalid(reason: reason), input.debugDescription)
        }
    }
}
