import XCTest
import MailMessage
import MailQueue
@testable import SendmailKit

/// Submission semantics without IO: envelope, recipients and header completion.
final class SubmissionRulesTests: XCTestCase {
    let q = AddressQualifier(domain: "example.com", localNames: ["vm", "localhost"])

    func context(user: String = "root", fullName: String? = nil) -> SubmissionContext {
        SubmissionContext(qualifier: q, hostname: "vm.example.com", user: user, uid: 0, fullName: fullName,
                          epochSeconds: 1_795_965_220, utcOffset: 3600, queueID: "8DyyRLFYOfKbDWLY")
    }

    func header(_ text: String) -> HeaderBlock { HeaderBlock.parse(Array(text.utf8)).block }

    func wire(_ h: HeaderBlock) -> String { String(decoding: h.wireBytes, as: UTF8.self) }

    // MARK: qualification

    func testQualification() {
        XCTAssertEqual(q.qualify(Mailbox(localPart: "root")), "root@example.com")
        XCTAssertEqual(q.qualify(Mailbox(localPart: "root", domain: "vm")), "root@example.com")
        XCTAssertEqual(q.qualify(Mailbox(localPart: "root", domain: "LOCALHOST")), "root@example.com")
        XCTAssertEqual(q.qualify(Mailbox(localPart: "u", domain: "otherhost")), "u@otherhost.example.com")
        XCTAssertEqual(q.qualify(Mailbox(localPart: "u", domain: "x.org")), "u@x.org")
        XCTAssertEqual(q.qualify(Mailbox(localPart: "u", domain: "[192.0.2.1]")), "u@[192.0.2.1]")
    }

    /// An alias can name an address SMTP cannot carry (a tab in a quoted local part: the
    /// aliases file allows tabs as blanks): that recipient fails at once with the reason, as a
    /// program target does, instead of making RCPT TO fail the whole message at every run.
    func testAnAliasTargetWithAControlCharacterFailsAlone() throws {
        let resolve: (Mailbox) -> [QueuedRecipient] = { _ in
            [QueuedRecipient(address: "\"a\tb\"@x.example"), QueuedRecipient(address: "good@x.example")]
        }
        let r = try SubmissionRules.recipients(argv: ["ops"], header: nil, extract: false, notify: nil, qualifier: q, resolve: resolve)
        XCTAssertEqual(r.recipients.map(\.address), ["\"a\tb\"@x.example", "good@x.example"])
        XCTAssertEqual(r.recipients.map(\.error), [SubmissionRules.controlInAddress, nil])
    }

    func testFieldQualificationKeepsCommentsAndNames() {
        func field(_ s: String) -> String? { q.qualifyField(Array(s.utf8)).map { String(decoding: $0, as: UTF8.self) } }
        XCTAssertEqual(field("root (Cron Daemon)"), "root@example.com (Cron Daemon)")
        XCTAssertEqual(field("Logwatch"), "Logwatch@example.com")
        XCTAssertEqual(field("\"Doe, J\" <jd>, x@y.org"), "\"Doe, J\" <jd@example.com>, x@y.org")
        XCTAssertEqual(field("root@vm"), "root@example.com")
        XCTAssertNil(field("a@b.example, C <c@d.example>"))
        XCTAssertNil(field("undisclosed-recipients:;"))
    }

    // MARK: envelope sender

    func testEnvelopeSender() throws {
        XCTAssertEqual(try SubmissionRules.envelopeSender(nil, context: context(user: "alice")), "alice@example.com")
        XCTAssertEqual(try SubmissionRules.envelopeSender("", context: context()), "")
        XCTAssertEqual(try SubmissionRules.envelopeSender("<>", context: context()), "")
        XCTAssertEqual(try SubmissionRules.envelopeSender("bounce@x.org", context: context()), "bounce@x.org")
        XCTAssertEqual(try SubmissionRules.envelopeSender("<bounce@x.org>", context: context()), "bounce@x.org")
        XCTAssertEqual(try SubmissionRules.envelopeSender("root@vm", context: context()), "root@example.com")
        XCTAssertThrowsError(try SubmissionRules.envelopeSender("a@b.org, c@d.org", context: context()))
        XCTAssertThrowsError(try SubmissionRules.envelopeSender("a@b.org\nBcc: x@y", context: context()))
        XCTAssertThrowsError(try SubmissionRules.envelopeSender("-oQ/tmp@x", context: context()))
    }

    // MARK: recipients

    func rcpts(_ argv: [String], _ text: String? = nil, extract: Bool = false) throws -> [String] {
        try SubmissionRules.recipients(argv: argv, header: text.map(header), extract: extract, notify: nil, qualifier: q)
            .recipients.map(\.address)
    }

    func testArgvRecipients() throws {
        XCTAssertEqual(try rcpts(["a@x.org", "root", "b@y.org, c@z.org"]), ["a@x.org", "root@example.com", "b@y.org", "c@z.org"])
        XCTAssertEqual(try rcpts(["a@x.org", "a@X.ORG", "A@x.org"]), ["a@x.org", "A@x.org"])
        XCTAssertThrowsError(try rcpts(["-oQ@x"]))
        XCTAssertThrowsError(try rcpts(["a@b\nBcc: x@y"]))
        XCTAssertThrowsError(try rcpts(["<<<"]))
    }

    func testExtractAddsHeaderRecipientsToArgv() throws {
        let text = "To: to@x.org, root\nCc: \"C\" <cc@x.org>\nBcc: bcc@x.org,\n bcc2@x.org\nSubject: s\n\n"
        XCTAssertEqual(try rcpts(["argv@x.org"], text, extract: true),
                       ["argv@x.org", "to@x.org", "root@example.com", "cc@x.org", "bcc@x.org", "bcc2@x.org"])
        XCTAssertEqual(try rcpts(["argv@x.org"], text, extract: false), ["argv@x.org"])
    }

    func testResentFieldsReplaceToCcBcc() throws {
        let text = "To: to@x.org\nResent-To: rto@x.org\nResent-Bcc: rbcc@x.org\nResent-From: me@x.org\n\n"
        XCTAssertEqual(try rcpts([], text, extract: true), ["rto@x.org", "rbcc@x.org"])
    }

    func testGroupsAndUndisclosedRecipients() throws {
        XCTAssertEqual(try rcpts([], "To: undisclosed-recipients:;\n\n", extract: true), [])
        XCTAssertEqual(try rcpts([], "To: Friends: a@x.org, \"B\" <b@x.org>;, c@x.org\n\n", extract: true),
                       ["a@x.org", "b@x.org", "c@x.org"])
    }

    // MARK: header completion

    func testMissingHeadersAddedInPostfixOrder() {
        let h = SubmissionRules.finalHeader(header("To: a@x.org\nSubject: hi\n\n"), sender: "root@example.com",
                                            fullNameOption: nil, context: context(fullName: "Charlie Root"))
        XCTAssertEqual(h.fields.map(\.name), ["Received", "To", "Subject", "Message-Id", "Date", "From"])
        XCTAssertEqual(h.first("Message-Id")?.value, "<20261129151340.8DyyRLFYOfKbDWLY@vm.example.com>")
        XCTAssertEqual(h.first("Date")?.value, "Sun, 29 Nov 2026 16:13:40 +0100")
        XCTAssertEqual(h.first("From")?.value, "Charlie Root <root@example.com>")
        XCTAssertTrue(h.first("Received")!.value.hasPrefix("by vm.example.com (sealmail, from userid 0) id 8DyyRLFYOfKbDWLY;"))
    }

    func testExistingHeadersKept() {
        let h = SubmissionRules.finalHeader(header("From: x@y.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <a@b>\n\n"),
                                            sender: "root@example.com", fullNameOption: "Ignored", context: context())
        XCTAssertEqual(h.fields.map(\.name), ["Received", "From", "Date", "Message-ID"])
    }

    func testDroppedFields() {
        let h = SubmissionRules.finalHeader(
            header("To: a@x.org\nBcc: b@x.org,\n c@x.org\nResent-Bcc: d@x.org\nReturn-Path: <e@x.org>\nContent-Length: 12\nX-Keep: yes\n\n"),
            sender: "", fullNameOption: nil, context: context())
        let text = wire(h)
        for gone in ["Bcc", "b@x.org", "c@x.org", "d@x.org", "Return-Path", "Content-Length"] {
            XCTAssertFalse(text.contains(gone), "\(gone) leaked:\n\(text)")
        }
        XCTAssertTrue(text.contains("X-Keep: yes"))
    }

    func testResentPrefixForAddedHeaders() {
        let h = SubmissionRules.finalHeader(header("From: a@x.org\nDate: x\nMessage-ID: <m@x>\nResent-To: r@x.org\n\n"),
                                            sender: "me@example.com", fullNameOption: nil, context: context())
        XCTAssertEqual(Array(h.fields.map(\.name).suffix(3)), ["Resent-Message-Id", "Resent-Date", "Resent-From"])
    }

    func testNullSenderGetsMailerDaemonFrom() {
        let h = SubmissionRules.finalHeader(header("To: a@x.org\n\n"), sender: "", fullNameOption: nil, context: context())
        XCTAssertEqual(h.first("From")?.value, "MAILER-DAEMON@example.com")
    }

    func testFullNameCannotInjectHeaders() {
        for name in ["Evil\r\nBcc: x@y.org", "A, B <x@y.org>", "Müller, Jörg", "\"quoted\""] {
            let h = SubmissionRules.finalHeader(header("To: a@x.org\n\n"), sender: "me@example.com",
                                                fullNameOption: name, context: context())
            let text = wire(h)
            XCTAssertEqual(h.fields.count, 5)
            XCTAssertFalse(text.contains("\nBcc"), text)
            let from = h.first("From")!
            let parsed = AddressParser.parseList(from.unfoldedValue)
            XCTAssertEqual(parsed.mailboxes.map(\.addrSpec), ["me@example.com"], "\(name): \(from.value)")
            XCTAssertTrue(from.rawValue.allSatisfy { $0 < 128 }, "8-bit in From for \(name)")
        }
    }

    func testAddressHeadersQualifiedAndRefolded() {
        let h = SubmissionRules.finalHeader(header("From: root (Cron Daemon)\nTo: root\nSubject: root\n\n"),
                                            sender: "root@example.com", fullNameOption: nil, context: context())
        XCTAssertEqual(h.first("From")?.value, "root@example.com (Cron Daemon)")
        XCTAssertEqual(h.first("To")?.value, "root@example.com")
        XCTAssertEqual(h.first("Subject")?.value, "root")
    }

    func testOverlongHeaderLinesFoldedNotCut() {
        let words = (0..<400).map { "word\($0)" }.joined(separator: " ")
        let h = SubmissionRules.finalHeader(header("Subject: \(words)\n\n"), sender: "a@example.com",
                                            fullNameOption: nil, context: context())
        let subject = h.first("Subject")!
        XCTAssertLessThanOrEqual(HeaderFolding.longestLine(of: subject), 998)
        XCTAssertEqual(subject.value, words)
    }

    // MARK: found by the differential against Postfix (compat/KNOWN-DIFFERENCES.md)

    func testSemicolonSeparatesHeaderAddresses() throws {
        XCTAssertEqual(try rcpts([], "To: a@example.net; b@example.net\n\n", extract: true), ["a@example.net", "b@example.net"])
        XCTAssertEqual(try rcpts([], "To: Friends: a@x.org, b@x.org;, c@x.org\n\n", extract: true), ["a@x.org", "b@x.org", "c@x.org"])
    }

    func testTwoAtSignsRefused() {
        XCTAssertThrowsError(try rcpts(["a@b@example.net"]))
        XCTAssertEqual(try rcpts(["\"a@b\"@example.net"]), ["\"a@b\"@example.net"])
    }

    func testTrailingDotStripped() throws {
        XCTAssertEqual(try rcpts(["user@example.net."]), ["user@example.net"])
        XCTAssertEqual(q.qualifiedDomain("example.net."), "example.net")
    }

    func testNullSenderFromHasNoName() {
        let h = SubmissionRules.finalHeader(header("To: a@x.org\n\n"), sender: "", fullNameOption: "Someone",
                                            context: context(fullName: "Charlie Root"))
        XCTAssertEqual(h.first("From")?.value, "MAILER-DAEMON@example.com")
    }

    /// Found by Tests/Fuzz (fuzz-header): a -F name (or GECOS, NAME) or a -f sender of one word
    /// near 1000 octets made the added From: one line over 998 octets.
    func testAddedFieldsKeepTheLineLimit() {
        let name = String(repeating: "y", count: 993)
        let sender = String(repeating: "s", count: 1000) + "@example.com"
        for (fullName, from) in [(name, "root@example.com"), (nil, sender)] {
            let h = SubmissionRules.finalHeader(header("Subject: s\n\n"), sender: from, fullNameOption: fullName,
                                                context: context())
            let lines = wire(h).components(separatedBy: "\r\n")
            XCTAssertEqual(lines.filter { $0.utf8.count > 998 }.count, 0, "\(lines.map(\.utf8.count))")
            XCTAssertTrue(h.first("From")!.value.hasSuffix("@example.com>") || h.first("From")!.value.hasSuffix("@example.com"))
            XCTAssertEqual(HeaderBlock.parse(h.wireBytes + [13, 10]).block, h)
        }
    }

    func testHeaderWordOver998OctetsBrokenLikePostfix() {
        let z = String(repeating: "z", count: 1500)
        let h = SubmissionRules.finalHeader(header("X-Long: \(z)\n\n"), sender: "a@example.com",
                                            fullNameOption: nil, context: context())
        let field = h.first("X-Long")!
        XCTAssertLessThanOrEqual(HeaderFolding.longestLine(of: field), 998)
        XCTAssertEqual(String(decoding: field.wireBytes, as: UTF8.self),
                       "X-Long: " + String(repeating: "z", count: 990) + "\r\n " + String(repeating: "z", count: 510) + "\r\n")
    }

    func testNulCutsTheHeaderField() {
        let h = SubmissionRules.finalHeader(header("Subject: n\u{0}ul\nTo: a@x.org\n\n"), sender: "a@example.com",
                                            fullNameOption: nil, context: context())
        XCTAssertEqual(h.first("Subject")?.value, "n")
        XCTAssertFalse(h.wireBytes.contains(0))
    }
}
