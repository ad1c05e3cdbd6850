import XCTest

/// Who the message goes to: argv, -t, Resent- fields, Bcc, groups, duplicates.
final class RecipientTests: SealmailTestCase {
    /// With -t, argv recipients are added to the header's (Postfix since 2.1; peers.md 4.2).
    func testDashTTakesTheUnionWithArgv() throws {
        let input = "To: a@x.example\nCc: c@x.example\nBcc: b@x.example\nSubject: s\n\nhi\n"
        let q = try submitOK(["-t", "extra@y.example", "a@x.example"], input)
        XCTAssertEqual(q.recipients, ["extra@y.example", "a@x.example", "c@x.example", "b@x.example"])
        XCTAssertEqual(q.fields("To"), ["a@x.example"])
        XCTAssertEqual(q.fields("Cc"), ["c@x.example"])
        XCTAssertEqual(q.fields("Bcc"), [])
        XCTAssertFalse(contains(q.message, "b@x.example"))
        XCTAssertFalse(contains(q.message, "extra@y.example"), "argv recipients are not written into the header")
    }

    /// With -t, what in To/Cc/Bcc cannot be read as an address is not sent to, and the caller
    /// is told on standard error without -v (the others still get the message, as with
    /// sendmail); when nothing is left, the refusal says what was skipped.
    func testUnreadableHeaderRecipientsAreReported() throws {
        let r = try sealmail(["-t"], input: "To: good@x.example, foo@, John Doe\nCc: x@[1.2.3\nSubject: s\n\nhi\n")
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertEqual(try onlyQueued().recipients, ["good@x.example"])
        for skipped in ["To: skipped \"foo@\": not an address", "To: skipped \"John Doe\": not an address",
                        "Cc: skipped \"x@[1.2.3\": not an address"] {
            XCTAssertTrue(r.stderrText.contains(skipped), r.stderrText)
        }
        let none = try sealmail(["-t"], input: "To: foo@\nSubject: s\n\nhi\n")
        XCTAssertEqual(none.status, 64)
        XCTAssertTrue(none.stderrText.contains("To: skipped \"foo@\""), none.stderrText)
        // Forms that lose nothing are no news: a group, quoted and commented commas, an
        // obsolete route, text after an address that is still sent to.
        for value in ["list:;, \"Smith, J\" <j@x.example>, <@r.example:k@x.example>",
                      "\"a,b\" <q@x.example>, (c,d) r@x.example, <s@x.example> (e,f)",
                      "a@x.example junk", "a@x.example (comment", "g: a@x.example, b@x.example;"] {
            let fine = try sealmail(["-t"], input: "To: \(value)\nSubject: s\n\nhi\n")
            XCTAssertEqual(fine.status, 0, fine.stderrText)
            XCTAssertEqual(fine.stderrText, "", value)
        }
    }

    /// A tab (or another control character) in a quoted local part is valid in a header
    /// (RFC 5322 quoted-pair) but cannot go into RCPT TO (RFC 5321 quoted-pairSMTP is printable
    /// ASCII): with -t it is skipped and named (the control shown as `?`, never written to the
    /// caller's terminal); as an argument it is a usage error. Found by fuzz-recipients.
    func testControlCharacterInAnAddressIsRefusedAtSubmission() throws {
        let r = try sealmail(["-t"], input: "To: \"a\\\tb\"@x.example, good@x.example\nSubject: s\n\nhi\n")
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertEqual(try onlyQueued().recipients, ["good@x.example"])
        XCTAssertTrue(r.stderrText.contains("To: skipped \"\"a?b\"@x.example\": a control character"), r.stderrText)
        XCTAssertFalse(r.stderrText.utf8.contains(9), "a control character reached the terminal: \(r.stderrText)")
        let arg = try sealmail(["\"a\tb\"@x.example"], input: "Subject: s\n\nhi\n")
        XCTAssertEqual(arg.status, 64, arg.stderrText)
        XCTAssertTrue(arg.stderrText.contains("a control character"), arg.stderrText)
        XCTAssertEqual(queuedIDs.count, 1, "nothing more was queued")
    }

    /// An address or word starting with '-' is refused however the next character combines:
    /// '-' followed by a combining mark (U+0613) is one Swift Character, so `hasPrefix("-")`
    /// let it through. Found by fuzz-recipients; the checks compare bytes now.
    func testDashFollowedByACombiningMarkIsStillADash() throws {
        let dash = "-\u{0613}x"
        let r = try sealmail(["-t"], input: "To: \(dash)@x.example, good@x.example\nSubject: s\n\nhi\n")
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertEqual(try onlyQueued().recipients, ["good@x.example"])
        XCTAssertTrue(r.stderrText.contains("not a deliverable address"), r.stderrText)
        for argv in [[dash + "@x.example"], ["-f", dash + "@x.example", "good@x.example"], ["--", dash + "@x.example"]] {
            let refused = try sealmail(argv, input: "Subject: s\n\nhi\n")
            XCTAssertEqual(refused.status, 64, "\(argv): \(refused.stderrText)")
        }
        XCTAssertEqual(queuedIDs.count, 1, "nothing more was queued")
    }

    /// A `;` between addresses (read as a comma, as Postfix does) neither hides what is
    /// skipped before it nor shifts what the message names; an address lost in a malformed
    /// group is named too.
    func testSkippedRecipientsAroundSemicolons() throws {
        let cases: [(value: String, queued: [String], skipped: [String])] = [
            ("foo@, John Doe, a@x.example; c@x.example", ["a@x.example", "c@x.example"], ["\"foo@\"", "\"John Doe\""]),
            ("a@x.example; c@x.example, foo@", ["a@x.example", "c@x.example"], ["\"foo@\""]),
            ("g: h: i@j.example;;, k@x.example", ["k@x.example"], ["i@j.example"]),
        ]
        for c in cases {
            let before = Set(queuedIDs)
            let r = try sealmail(["-t"], input: "To: \(c.value)\nSubject: s\n\nhi\n")
            XCTAssertEqual(r.status, 0, r.stderrText)
            let id = queuedIDs.first { !before.contains($0) }
            XCTAssertEqual(try id.map { try queued($0).recipients }, c.queued, c.value)
            let lines = r.stderrText.split(separator: "\n")
            XCTAssertEqual(lines.count, c.skipped.count, "\(c.value): \(r.stderrText)")
            for s in c.skipped { XCTAssertTrue(lines.contains { $0.contains("skipped") && $0.contains(s) }, "\(c.value): \(r.stderrText)") }
            XCTAssertFalse(r.stderrText.contains("a@x.example"), "what is sent is not called skipped: \(r.stderrText)")
        }
    }

    /// When Resent- fields are present, only Resent-To/Cc/Bcc give recipients; Bcc and
    /// Resent-Bcc are both removed; Resent-Message-Id and Resent-Date are added, not plain ones.
    func testResentFieldsGiveTheRecipients() throws {
        let input = "Resent-From: r@x.example\nResent-To: rt@x.example\nResent-Cc: rc@x.example\n"
            + "Resent-Bcc: rb@x.example\nFrom: o@x.example\nTo: orig@x.example\nCc: origcc@x.example\n"
            + "Bcc: origbcc@x.example\nDate: Sun, 29 Nov 2026 10:00:00 +0000\nMessage-ID: <m1@x.example>\nSubject: fwd\n\nhi\n"
        let q = try submitOK(["-t"], input)
        XCTAssertEqual(q.recipients, ["rt@x.example", "rc@x.example", "rb@x.example"])
        XCTAssertEqual(q.fields("Resent-Bcc"), [])
        XCTAssertEqual(q.fields("Bcc"), [])
        XCTAssertFalse(contains(q.message, "rb@x.example"))
        XCTAssertFalse(contains(q.message, "origbcc@x.example"))
        XCTAssertEqual(q.fields("To"), ["orig@x.example"], "the original To is kept (it is not a recipient)")
        XCTAssertEqual(q.fields("Cc"), ["origcc@x.example"])
        XCTAssertEqual(q.fields("Resent-To"), ["rt@x.example"])
        XCTAssertEqual(q.fields("Resent-Message-ID").count, 1)
        XCTAssertEqual(q.fields("Resent-Date").count, 1)
        XCTAssertEqual(q.fields("Resent-From"), ["r@x.example"])
        XCTAssertEqual(q.fields("Message-ID"), ["<m1@x.example>"])
        XCTAssertEqual(q.fields("Date"), ["Sun, 29 Nov 2026 10:00:00 +0000"])
        XCTAssertEqual(q.fields("From"), ["o@x.example"])
    }

    /// Bcc is removed with and without -t (Postfix's message_drop_headers), folded
    /// continuation lines included; without -t the Bcc addresses are not recipients.
    func testBccNeverQueued() throws {
        let input = "To: a@x.example\nBcc: b1@x.example,\n  b2@x.example\nResent-Bcc: nobody@x.example\nSubject: s\n\nhi\n"
        // Without -t: only argv recipients; the Bcc field still goes.
        let q1 = try submitOK(["-i", "a@x.example"], input.replacingOccurrences(of: "Resent-Bcc: nobody@x.example\n", with: ""))
        XCTAssertEqual(q1.recipients, ["a@x.example"])
        XCTAssertEqual(q1.fields("Bcc"), [])
        XCTAssertFalse(contains(q1.message, "b1@x.example"))
        XCTAssertFalse(contains(q1.message, "b2@x.example"), "the folded continuation is removed with its field")
        XCTAssertEqual(q1.fieldNames.filter { !["Received", "Message-Id", "Date", "From"].contains($0) }, ["To", "Subject"])

        // With -t and folded Bcc (no Resent- fields): both Bcc addresses in the envelope only.
        let q2 = try submitOK(["-t"], input.replacingOccurrences(of: "Resent-Bcc: nobody@x.example\n", with: ""))
        XCTAssertEqual(q2.recipients, ["a@x.example", "b1@x.example", "b2@x.example"])
        XCTAssertFalse(contains(q2.message, "b1@x.example"))
        XCTAssertFalse(contains(q2.message, "b2@x.example"))

        // Resent-Bcc alone makes a resent message; it is never queued either.
        let q3 = try submitOK(["-t", "z@x.example"], input)
        XCTAssertEqual(q3.recipients, ["z@x.example", "nobody@x.example"])
        XCTAssertEqual(q3.fields("Resent-Bcc"), [])
        XCTAssertEqual(q3.fields("Bcc"), [])
        XCTAssertFalse(contains(q3.message, "nobody@x.example"))
    }

    /// `To: undisclosed-recipients:;` is an empty group: kept in the header, no recipient.
    func testUndisclosedRecipients() throws {
        let q = try submitOK(["-t"], "To: undisclosed-recipients:;\nBcc: hid@x.example\nSubject: s\n\nhi\n")
        XCTAssertEqual(q.recipients, ["hid@x.example"])
        XCTAssertEqual(q.fields("To"), ["undisclosed-recipients:;"])
        XCTAssertFalse(contains(q.message, "hid@x.example"))

        // A group with members gives each member.
        let q2 = try submitOK(["-t"], "To: team: m1@x.example, Two <m2@x.example>;\nSubject: s\n\nhi\n")
        XCTAssertEqual(q2.recipients, ["m1@x.example", "m2@x.example"])

        // Only the empty group: no recipient at all, a usage error, nothing queued.
        let before = queuedIDs
        let r = try sealmail(["-t"], input: "To: undisclosed-recipients:;\nSubject: s\n\nhi\n")
        XCTAssertEqual(r.status, 64, r.stderrText)
        XCTAssertTrue(r.stderrText.contains("no recipients"), r.stderrText)
        XCTAssertEqual(queuedIDs, before)
    }

    /// The same address from argv, To, Cc and Bcc (domain case differing, qualified or not)
    /// is one recipient; order of first appearance is kept.
    func testDuplicatesRemoved() throws {
        let input = "To: a@x.example, a@X.Example\nCc: a@x.example, root\nBcc: a@x.EXAMPLE\nSubject: s\n\nhi\n"
        let q = try submitOK(["-t", "a@x.example", "root@\(Self.domain)"], input)
        XCTAssertEqual(q.recipients, ["a@x.example", "root@\(Self.domain)"])
        // The '@' is found as a byte: a combining mark after it (one Character with it) does
        // not make the domain's case count.
        let marked = try submitOK(["-t"], "To: b@\u{0301}X.example, b@\u{0301}x.example\nSubject: s\n\nhi\n")
        XCTAssertEqual(marked.recipients.count, 1, "\(marked.recipients)")
        // Addresses that differ in their bytes are two recipients, even when Swift's String
        // comparison takes them as equal (canonical equivalence: a precomposed and a
        // decomposed é); the second was dropped.
        let twins = try submitOK(["-t"], "To: caf\u{e9}@x.example, cafe\u{301}@x.example\nSubject: s\n\nhi\n")
        XCTAssertEqual(twins.recipients.count, 2, "\(twins.recipients)")
    }

    /// Unqualified header addresses get the domain; display names, quoted strings with commas
    /// and comments stay byte for byte.
    func testHeaderAddressesQualifiedAndNamesKept() throws {
        let input = "From: \"Ops, Team\" <ops>\nTo: Joe <joe>, \"Q, R\" <q@x.example>, bare (a comment)\nSubject: s\n\nhi\n"
        let q = try submitOK(["-t"], input)
        XCTAssertEqual(q.fields("From"), ["\"Ops, Team\" <ops@\(Self.domain)>"])
        XCTAssertEqual(q.fields("To"), ["Joe <joe@\(Self.domain)>, \"Q, R\" <q@x.example>, bare@\(Self.domain) (a comment)"])
        XCTAssertEqual(q.recipients, ["joe@\(Self.domain)", "q@x.example", "bare@\(Self.domain)"])
    }

    /// `-f ''` and `-f '<>'` give the null sender; `-r` is `-f`.
    func testNullSenderAndDashR() throws {
        let q1 = try submitOK(["-f", "", "a@x.example"], "Subject: s\n\nhi\n")
        XCTAssertEqual(q1.sender, "<>")
        let q2 = try submitOK(["-f<>", "a@x.example"], "Subject: s\n\nhi\n")
        XCTAssertEqual(q2.sender, "<>")
        let q3 = try submitOK(["-r", "r@x.example", "a@x.example"], "Subject: s\n\nhi\n")
        XCTAssertEqual(q3.sender, "r@x.example")
    }
}
