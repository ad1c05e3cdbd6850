import XCTest

/// The invocations that real callers make (../shared/reference/peers.md section 4, "What
/// callers actually invoke"), with the input they write, checked against the queued bytes.
final class CallerFormTests: SealmailTestCase {
    /// bsd-mailx (`mail -s S a b -c c -b secret`): `-i -t`, no From/Date/Message-ID, a Bcc
    /// header that the MTA must strip.
    func testBsdMailx() throws {
        let input = """
        To: a@x.example, b@y.example
        Cc: c@x.example
        Bcc: secret@z.example
        Subject: S
        MIME-Version: 1.0
        Content-Type: text/plain; charset="UTF-8"
        Content-Transfer-Encoding: 8bit

        hello

        """
        let q = try submitOK(["-i", "-t"], input)
        XCTAssertEqual(q.recipients, ["a@x.example", "b@y.example", "c@x.example", "secret@z.example"])
        XCTAssertEqual(q.sender, qualifiedUser)
        XCTAssertEqual(q.fields("Bcc"), [], "Bcc must be removed")
        XCTAssertFalse(contains(q.message, "secret@z.example"), "a Bcc address must not appear in the message")
        XCTAssertEqual(q.fields("From"), ["\(Self.fullName) <\(qualifiedUser)>"])
        XCTAssertEqual(q.fields("Date").count, 1)
        XCTAssertEqual(q.fields("Message-ID").count, 1)
        XCTAssertEqual(q.value("message-id"), q.fields("Message-ID").first, "the record keeps the Message-ID")
        XCTAssertEqual(q.fields("To"), ["a@x.example, b@y.example"])
        XCTAssertEqual(q.fields("Content-Type"), ["text/plain; charset=\"UTF-8\""])
        XCTAssertEqual(q.fieldNames.first, "Received", "Received goes on top")
        XCTAssertEqual(q.body, "hello\r\n".bytes)
    }

    /// GNU mailutils: `-oi -f user@<bare hostname> -t`, `To: <a>,<b>` without spaces, a Date
    /// but no From or Message-ID. The bare host is this machine, so it becomes `domain`.
    func testMailutils() throws {
        let input = """
        Subject: S
        To: <a@x.example>,<root>
        User-Agent: mail (GNU Mailutils 3.15)
        Date: Sun, 29 Nov 2026 10:00:00 +0000

        hi

        """
        let q = try submitOK(["-oi", "-f", "root@\(Self.shortHostname)", "-t"], input)
        XCTAssertEqual(q.sender, "root@\(Self.domain)", "the machine's own bare name is qualified to the domain")
        XCTAssertEqual(q.recipients, ["a@x.example", "root@\(Self.domain)"])
        XCTAssertEqual(q.fields("To"), ["<a@x.example>,<root@\(Self.domain)>"], "only the domain is spliced in")
        XCTAssertEqual(q.fields("Date"), ["Sun, 29 Nov 2026 10:00:00 +0000"], "an existing Date is kept, not doubled")
        XCTAssertEqual(q.fields("From"), ["\(Self.fullName) <root@\(Self.domain)>"], "From: is added from -f")
        XCTAssertEqual(q.fields("Message-ID").count, 1)
        XCTAssertEqual(q.fields("User-Agent"), ["mail (GNU Mailutils 3.15)"])
        XCTAssertEqual(q.body, "hi\r\n".bytes)
    }

    /// `-f user@barehost` where barehost is not this machine: Postfix's append_dot_mydomain.
    func testMailutilsOtherBareHost() throws {
        let other = Self.shortHostname == "otherbox" ? "otherbox2" : "otherbox"
        let q = try submitOK(["-oi", "-f", "joe@\(other)", "-t"], "To: a@x.example\nSubject: S\n\nhi\n")
        XCTAssertEqual(q.sender, "joe@\(other).\(Self.domain)")
        XCTAssertFalse(q.fields("From").isEmpty)
        XCTAssertTrue(q.fields("From")[0].hasSuffix("<joe@\(other).\(Self.domain)>"), q.fields("From")[0])
    }

    /// Debian cron: `-FCronDaemon -i -B8BITMIME -oem root` (recipient on argv, no -t, no -f),
    /// `From: root (Cron Daemon)`, no Date or Message-ID, 8-bit body.
    func testCron() throws {
        let input = "From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@vm> ls /nonexistent\n"
            + "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n"
            + "X-Cron-Env: <SHELL=/bin/sh>\nX-Cron-Env: <HOME=/root>\n\n"
            + "ls: cannot access '/nonexistent': caf\u{e9}\n"
        let q = try submitOK(["-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root"], input)
        XCTAssertEqual(q.recipients, ["root@\(Self.domain)"])
        XCTAssertEqual(q.sender, qualifiedUser)
        XCTAssertEqual(q.fields("From"), ["root@\(Self.domain) (Cron Daemon)"], "qualified, comment kept")
        XCTAssertEqual(q.fields("To"), ["root@\(Self.domain)"])
        XCTAssertEqual(q.fields("Subject"), ["Cron <root@vm> ls /nonexistent"], "Subject is not an address field")
        XCTAssertEqual(q.fields("X-Cron-Env"), ["<SHELL=/bin/sh>", "<HOME=/root>"])
        XCTAssertEqual(q.fields("Date").count, 1)
        XCTAssertEqual(q.fields("Message-ID").count, 1)
        XCTAssertFalse(contains(q.message, "CronDaemon"), "-F is only used for a From: we add")
        XCTAssertEqual(q.summary["body"], "8bitmime")
        XCTAssertEqual(q.body, "ls: cannot access '/nonexistent': caf\u{e9}\r\n".bytes)
    }

    /// PHP mail(): `-t -i -fbounce@x` (glued), CRLF headers and an LF body with a trailing
    /// CRLF, i.e. mixed line ends: all become CRLF, and no bare CR or LF is left.
    func testPHPMail() throws {
        var input = "To: a@x.example\r\nSubject: Order 42\r\nX-Mailer: PHP/8.2\r\nMIME-Version: 1.0\r\n"
        input += "Content-Type: text/plain; charset=UTF-8\r\n\r\n"
        input += "line1\nline2\n\nline4 with a bare\rCR\nlast line\r\n"
        let q = try submitOK(["-t", "-i", "-fbounce@x.example"], input)
        XCTAssertEqual(q.sender, "bounce@x.example")
        XCTAssertEqual(q.recipients, ["a@x.example"])
        XCTAssertEqual(q.fields("X-Mailer"), ["PHP/8.2"])
        XCTAssertEqual(q.fields("From"), ["\(Self.fullName) <bounce@x.example>"])
        XCTAssertTrue(hasOnlyCRLFLineEnds(q.message))
        XCTAssertEqual(q.bodyText, "line1\r\nline2\r\n\r\nline4 with a bare CR\r\nlast line\r\n",
                       "LF and CRLF both become CRLF; a bare CR inside a line becomes a space")
    }

    /// s-nail: `-i -f from -- rcpt…`; Bcc recipients only on argv, never in the header.
    func testSNail() throws {
        let input = "Date: Sun, 29 Nov 2026 10:00:00 +0000\nTo: rcpt@y.example\nSubject: S\nUser-Agent: s-nail v14.9.24\n\nhi\n"
        let q = try submitOK(["-i", "-f", "from@x.example", "--", "rcpt@y.example", "hidden@z.example"], input)
        XCTAssertEqual(q.sender, "from@x.example")
        XCTAssertEqual(q.recipients, ["rcpt@y.example", "hidden@z.example"])
        XCTAssertFalse(contains(q.message, "hidden@z.example"))
        XCTAssertEqual(q.fields("From"), ["\(Self.fullName) <from@x.example>"])
        XCTAssertEqual(q.fields("Date"), ["Sun, 29 Nov 2026 10:00:00 +0000"])
    }

    /// git send-email: `[-f envelope] -i <all recipients>`, no -t, a complete header that
    /// must come through byte for byte (nothing added but Received).
    func testGitSendEmail() throws {
        let header = "From: Dev Eloper <dev@x.example>\r\nTo: a@x.example\r\nCc: b@y.example\r\n"
            + "Subject: [PATCH 1/2] fix the frobnicator\r\nDate: Sun, 29 Nov 2026 10:00:00 +0000\r\n"
            + "Message-ID: <20261129100000.1-1-dev@x.example>\r\nX-Mailer: git-send-email 2.39.5\r\n"
            + "MIME-Version: 1.0\r\nContent-Transfer-Encoding: 8bit\r\n"
        let body = "---\r\n foo.c | 2 +-\r\n\r\ndiff --git a/foo.c b/foo.c\r\n-old\r\n+new\r\n.\r\n-- \r\n2.39.5\r\n"
        let input = (header + "\r\n" + body).replacingOccurrences(of: "\r\n", with: "\n")
        let q = try submitOK(["-i", "a@x.example", "b@y.example", "c@z.example"], input)
        XCTAssertEqual(q.recipients, ["a@x.example", "b@y.example", "c@z.example"])
        XCTAssertEqual(q.sender, qualifiedUser)
        XCTAssertEqual(q.fieldNames.first, "Received")
        // Everything after our Received field is the input header, untouched.
        let received = q.fields[0]
        XCTAssertTrue(received.value.hasPrefix("by \(Self.hostname) (sealmail"), received.value)
        XCTAssertTrue(q.headerText.hasSuffix(header), "the caller's header must be kept byte for byte:\n\(q.headerText)")
        XCTAssertEqual(q.value("message-id"), "<20261129100000.1-1-dev@x.example>")
        XCTAssertEqual(q.bodyText, body, "with -i a lone '.' is body text")

        // With sendemail.envelopeSender set, git passes -f first.
        let q2 = try submitOK(["-f", "env@x.example", "-i", "a@x.example"], input)
        XCTAssertEqual(q2.sender, "env@x.example")
        XCTAssertEqual(q2.fields("From"), ["Dev Eloper <dev@x.example>"])
    }

    /// logwatch: `-t` without -i, so a lone '.' ends the input; `From: Logwatch` is bare.
    func testLogwatchWithoutDashIStopsAtLoneDot() throws {
        let input = "To: root\nFrom: Logwatch\nSubject: Logwatch for vm (Linux)\nAuto-Submitted: auto-generated\n"
            + "Precedence: bulk\nMIME-Version: 1.0\n\n ##### Logwatch #####\nline before\n.\nline after the dot\n"
        let q = try submitOK(["-t"], input)
        XCTAssertEqual(q.bodyText, " ##### Logwatch #####\r\nline before\r\n", "the body stops at the lone dot")
        XCTAssertFalse(contains(q.message, "line after the dot"))
        XCTAssertEqual(q.fields("From"), ["Logwatch@\(Self.domain)"])
        XCTAssertEqual(q.recipients, ["root@\(Self.domain)"])
        XCTAssertEqual(q.fields("Auto-Submitted"), ["auto-generated"])
    }

    /// The same with -i: the lone dot is an ordinary line.
    func testLogwatchWithDashIKeepsLoneDot() throws {
        let input = "To: root\nFrom: Logwatch\nSubject: S\n\nline before\n.\nline after the dot\n"
        let q = try submitOK(["-t", "-i"], input)
        XCTAssertEqual(q.bodyText, "line before\r\n.\r\nline after the dot\r\n")
    }

    /// A lone dot written with CRLF also ends the input without -i (Postfix strips the CR).
    func testLoneDotWithCRLFEndsInputWithoutDashI() throws {
        let q = try submitOK(["-t"], "To: a@x.example\r\n\r\nkept\r\n.\r\nlost\r\n")
        XCTAssertEqual(q.bodyText, "kept\r\n")
    }

    /// unattended-upgrades and mdadm: `-oi -t`, `From: root` unqualified, no Date/Message-ID.
    func testUnattendedUpgrades() throws {
        let input = "Subject: unattended-upgrades result for vm: SUCCESS\nFrom: root\nTo: root\n"
            + "Auto-Submitted: auto-generated\nMIME-Version: 1.0\nContent-Type: text/plain; charset=\"utf-8\"\n"
            + "Content-Transfer-Encoding: quoted-printable\n\nUnattended upgrade result: All upgrades installed\n"
        let q = try submitOK(["-oi", "-t"], input)
        XCTAssertEqual(q.fields("From"), ["root@\(Self.domain)"])
        XCTAssertEqual(q.fields("To"), ["root@\(Self.domain)"])
        XCTAssertEqual(q.recipients, ["root@\(Self.domain)"])
        XCTAssertEqual(q.fields("Date").count, 1)
        XCTAssertEqual(q.fields("Message-ID").count, 1)
    }
}
