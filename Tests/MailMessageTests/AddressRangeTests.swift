// Byte ranges of mailboxes: exact values, invariants over every golden input, and the splice that
// qualifies unqualified addresses (`root` -> `root@example.com`) leaving every other byte alone.
import XCTest
@testable import MailMessage

final class AddressRangeTests: XCTestCase {
    private func only(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Mailbox? {
        let mailboxes = AddressParser.parseList(text).mailboxes
        XCTAssertEqual(mailboxes.count, 1, "input: \(text.debugDescription)", file: file, line: line)
        return mailboxes.first
    }

    private func slice(_ text: String, _ range: Range<Int>) -> String {
        String(decoding: Array(text.utf8)[range], as: UTF8.self)
    }

    /// Exact offsets (RFC 5322 3.4.1 addr-spec without the angle brackets).
    func testExactRanges() throws {
        let cases: [(String, addrSpec: String, local: String, domain: String?)] = [
            ("John Doe <jd@example.com>", "jd@example.com", "jd", "example.com"),
            (#""a b"@c"#, #""a b"@c"#, #""a b""#, "c"),
            ("john . doe @ example . com", "john . doe @ example . com", "john . doe", "example . com"),
            ("john(x).doe@(y)example.com (z)", "john(x).doe@(y)example.com", "john(x).doe", "example.com"),
            ("user@[192.0.2.1]", "user@[192.0.2.1]", "user", "[192.0.2.1]"),
            ("<@a,@b:user@c>", "user@c", "user", "c"),
            ("José <josé@exämple.com>", "josé@exämple.com", "josé", "exämple.com"),
            ("root (Cron Daemon)", "root", "root", nil),
            ("x@y, Friends: a@b, \"C D\" <c@d>;", "x@y", "x", "y"),
        ]
        for (input, addrSpec, local, domain) in cases {
            let mailbox = try XCTUnwrap(AddressParser.parseList(input).mailboxes.first, input)
            XCTAssertEqual(slice(input, mailbox.addrSpecRange), addrSpec, input)
            XCTAssertEqual(slice(input, mailbox.localPartRange), local, input)
            XCTAssertEqual(mailbox.domainRange.map { slice(input, $0) }, domain, input)
        }
        let group = AddressParser.parseList("x@y, Friends: a@b, \"C D\" <c@d>;").mailboxes
        XCTAssertEqual(group.map { $0.addrSpecRange }, [0..<3, 14..<17, 26..<29])
    }

    /// For every mailbox of every golden input, the ranges point at text that parses back to the same
    /// local part, domain and addr-spec.
    func testRangesReparseOverGoldenTables() {
        for golden in AddressGoldenTests.all + AddressGoldenRecoveryTests.all {
            let input = golden.input
            for mailbox in AddressParser.parseList(input).mailboxes {
                let where_ = "input: \(input.debugDescription) mailbox: \(mailbox.addrSpec)"
                XCTAssertEqual(mailbox.addrSpecRange.lowerBound, mailbox.localPartRange.lowerBound, where_)
                XCTAssertEqual(mailbox.addrSpecRange.upperBound,
                               (mailbox.domainRange ?? mailbox.localPartRange).upperBound, where_)
                XCTAssertEqual(mailbox.domain == nil, mailbox.domainRange == nil, where_)
                XCTAssertEqual(only(slice(input, mailbox.addrSpecRange))?.addrSpec, mailbox.addrSpec, where_)
                XCTAssertEqual(only(slice(input, mailbox.localPartRange))?.localPart, mailbox.localPart, where_)
                if let range = mailbox.domainRange {
                    XCTAssertEqual(only("x@" + slice(input, range))?.domain, mailbox.domain, where_)
                }
            }
        }
    }

    /// Inserts `@example.com` after the local part of each unqualified mailbox, from the end backwards.
    private func qualify(_ text: String) -> String {
        var bytes = Array(text.utf8)
        for mailbox in AddressParser.parseList(text).mailboxes.reversed() where mailbox.domain == nil {
            bytes.insert(contentsOf: Array("@example.com".utf8), at: mailbox.localPartRange.upperBound)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func testSpliceQualifiesAndKeepsEverythingElse() {
        let cases: [(String, String)] = [
            ("root", "root@example.com"),
            ("root (Cron Daemon)", "root@example.com (Cron Daemon)"),
            ("Cron Daemon <root>", "Cron Daemon <root@example.com>"),
            ("<root> (Cron Daemon)", "<root@example.com> (Cron Daemon)"),
            ("Logwatch", "Logwatch@example.com"),
            ("root, admin@example.org, <www-data>", "root@example.com, admin@example.org, <www-data@example.com>"),
            (#""john doe""#, #""john doe"@example.com"#),
            ("john . doe (x)", "john . doe@example.com (x)"),
            (#"=?utf-8?q?Jos=C3=A9?= "Q." <jose>"#, #"=?utf-8?q?Jos=C3=A9?= "Q." <jose@example.com>"#),
            ("Team: root, a@b.c, (ops) ops;", "Team: root@example.com, a@b.c, (ops) ops@example.com;"),
            ("a@b.c", "a@b.c"),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(qualify(input), expected)
        }
    }

    /// Over the golden tables: after the splice, each mailbox is the same but for its domain.
    func testSpliceOverGoldenTables() {
        for golden in AddressGoldenTests.all + AddressGoldenRecoveryTests.all {
            let before = AddressParser.parseList(golden.input).mailboxes
            let after = AddressParser.parseList(qualify(golden.input)).mailboxes
            XCTAssertEqual(before.count, after.count, golden.input.debugDescription)
            for (old, new) in zip(before, after) {
                XCTAssertEqual(new.localPart, old.localPart, golden.input.debugDescription)
                XCTAssertEqual(new.domain, old.domain ?? "example.com", golden.input.debugDescription)
                XCTAssertEqual(new.displayName, old.displayName, golden.input.debugDescription)
                XCTAssertEqual(new.comment, old.comment, golden.input.debugDescription)
                XCTAssertEqual(new.route, old.route, golden.input.debugDescription)
            }
        }
    }
}
