import XCTest
@testable import SendmailKit

/// The flag table of DESIGN.md "Command line", in sendmail's own syntax.
final class SendmailOptionsTests: XCTestCase {
    func parse(_ args: String..., name: String = "sendmail") throws -> SendmailOptions {
        try SendmailOptions.parse(args, programName: name)
    }

    func assertUsage(_ args: [String], mentions text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SendmailOptions.parse(args), file: file, line: line) { error in
            guard let u = error as? UsageError else { return XCTFail("not a usage error: \(error)", file: file, line: line) }
            XCTAssertTrue(u.message.contains(text), "\(u.message) does not mention \(text)", file: file, line: line)
        }
    }

    func testCallersArgvFromPeersTable() throws {
        // bsd-mailx
        var o = try parse("-i", "-t")
        XCTAssertTrue(o.ignoreDots); XCTAssertTrue(o.extractRecipients); XCTAssertEqual(o.recipients, [])
        // GNU mailutils
        o = try parse("-oi", "-f", "root@vm", "-t")
        XCTAssertTrue(o.ignoreDots); XCTAssertEqual(o.sender, "root@vm"); XCTAssertTrue(o.extractRecipients)
        // Debian cron: glued -F, -B8BITMIME, -oem, recipient
        o = try parse("-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root")
        XCTAssertEqual(o.fullName, "CronDaemon"); XCTAssertEqual(o.bodyType, "8BITMIME")
        XCTAssertEqual(o.errorMode, "m"); XCTAssertEqual(o.recipients, ["root"])
        // Vixie cron
        o = try parse("-FCronDaemon", "-odi", "-oem", "-oi", "-t")
        XCTAssertEqual(o.deliveryMode, .interactive)
        // PHP with additional_params
        o = try parse("-t", "-i", "-fbounce@example.com")
        XCTAssertEqual(o.sender, "bounce@example.com")
        // s-nail: recipients after --
        o = try parse("-i", "-f", "me@example.com", "--", "a@example.org", "-b@example.org")
        XCTAssertEqual(o.recipients, ["a@example.org", "-b@example.org"])
        // git send-email
        o = try parse("-i", "a@x.example", "b@y.example")
        XCTAssertEqual(o.recipients, ["a@x.example", "b@y.example"])
        // logwatch, mdadm
        o = try parse("-t")
        XCTAssertFalse(o.ignoreDots)
        // at
        o = try parse("-i", "root")
        XCTAssertEqual(o.recipients, ["root"])
    }

    func testGluedAndSeparateArguments() throws {
        XCTAssertEqual(try parse("-fa@b").sender, "a@b")
        XCTAssertEqual(try parse("-f", "a@b").sender, "a@b")
        XCTAssertEqual(try parse("-ra@b").sender, "a@b")
        XCTAssertEqual(try parse("-r", "a@b").sender, "a@b")
        XCTAssertEqual(try parse("-f", "").sender, "")
        XCTAssertEqual(try parse("-f", "<>").sender, "<>")
        XCTAssertEqual(try parse("-F", "Full Name").fullName, "Full Name")
        XCTAssertEqual(try parse("-B", "8BITMIME").bodyType, "8BITMIME")
        XCTAssertEqual(try parse("-B7bit").bodyType, "7BIT")
        XCTAssertEqual(try parse("-C", "/x.toml").configPath, "/x.toml")
        XCTAssertEqual(try parse("-C/x.toml").configPath, "/x.toml")
        XCTAssertEqual(try parse("-o", "i").ignoreDots, true)
    }

    func testClusteredFlags() throws {
        let o = try parse("-tif", "s@x")
        XCTAssertTrue(o.extractRecipients); XCTAssertTrue(o.ignoreDots); XCTAssertEqual(o.sender, "s@x")
        XCTAssertEqual(try parse("-vv").verbose, 2)
        XCTAssertTrue(try parse("-toi").ignoreDots)
    }

    func testOptionsMayFollowRecipients() throws {
        let o = try parse("a@b", "-f", "s@x", "c@d")
        XCTAssertEqual(o.recipients, ["a@b", "c@d"]); XCTAssertEqual(o.sender, "s@x")
    }

    func testDeliveryAndErrorModes() throws {
        XCTAssertEqual(try parse("-odb").deliveryMode, .background)
        XCTAssertEqual(try parse("-odi").deliveryMode, .interactive)
        XCTAssertEqual(try parse("-odq").deliveryMode, .queue)
        XCTAssertEqual(try parse("-odd").deliveryMode, .queue)
        for m in ["m", "p", "q", "w", "e"] {
            XCTAssertEqual(try parse("-oe" + m).errorMode, Character(m))
            // Accepted and ignored, as Postfix does: -v says so (DESIGN.md "Command line").
            XCTAssertTrue(try parse("-oe" + m).notes.contains { $0.hasPrefix("-oe\(m) accepted and ignored") })
        }
        assertUsage(["-odx"], mentions: "-odx")
        assertUsage(["-oez"], mentions: "-oez")
        XCTAssertEqual(try parse("-oQ/var/spool").notes.count, 1)
    }

    func testModes() throws {
        XCTAssertEqual(try parse("-bm").mode, .deliver)
        XCTAssertEqual(try parse("-bp").mode, .listQueue)
        XCTAssertEqual(try parse("-bs").mode, .smtpOnStdio)
        XCTAssertEqual(try parse("-bv").mode, .verify)
        XCTAssertEqual(try parse("-bi").mode, .initAliases)
        XCTAssertEqual(try parse("-I").mode, .initAliases)
        XCTAssertEqual(try parse(name: "mailq").mode, .listQueue)
        XCTAssertEqual(try parse(name: "newaliases").mode, .initAliases)
        assertUsage(["-bd"], mentions: "-bd")
        assertUsage(["-bt"], mentions: "-bt")
    }

    func testQueueRuns() throws {
        XCTAssertEqual(try parse("-q").mode, .runQueue(.init()))
        XCTAssertEqual(try parse("-q30m").mode, .runQueue(.init(interval: 1800)))
        XCTAssertEqual(try parse("-q1h30m").mode, .runQueue(.init(interval: 5400)))
        XCTAssertEqual(try parse("-q15").mode, .runQueue(.init(interval: 900)))  // sendmail: minutes by default
        XCTAssertEqual(try parse("-qIabc").mode, .runQueue(.init(idFilter: "abc")))
        XCTAssertEqual(try parse("-qRexample.com").mode, .runQueue(.init(recipientFilter: "example.com")))
        XCTAssertEqual(try parse("-qSroot").mode, .runQueue(.init(senderFilter: "root")))
        XCTAssertEqual(try parse("-qf").mode, .runQueue(.init()))
        assertUsage(["-qX"], mentions: "-qX is not supported")  // not "needs a value": -qXabc is no better
        assertUsage(["-qXabc"], mentions: "-qXabc is not supported")
        assertUsage(["-qG"], mentions: "-qG is not supported")
        assertUsage(["-qI"], mentions: "-qI")
        assertUsage(["-q!Ifoo"], mentions: "negated")
        assertUsage(["-q!"], mentions: "negated")
    }

    func testDSNFlags() throws {
        XCTAssertEqual(try parse("-N", "never").notify, .never)
        XCTAssertEqual(try parse("-N", "success,delay").notify, .on(success: true, delay: true, failure: false))
        XCTAssertEqual(try parse("-Nfailure").notify, .on(success: false, delay: false, failure: true))
        XCTAssertEqual(try parse("-R", "hdrs").ret, "HDRS")
        XCTAssertEqual(try parse("-Rfull").ret, "FULL")
        XCTAssertEqual(try parse("-V", "envid-42").envid, "envid-42")
        assertUsage(["-N", "sometimes"], mentions: "sometimes")
        assertUsage(["-N", "never,success"], mentions: "never")
        assertUsage(["-R", "body"], mentions: "full or hdrs")
        assertUsage(["-V", "has space"], mentions: "envelope id")
        assertUsage(["-B", "BINARYMIME"], mentions: "7BIT or 8BITMIME")
    }

    func testAcceptedAndIgnored() throws {
        for args in [["-G"], ["-U"], ["-Am"], ["-Ac"], ["-L", "tag"], ["-h", "5"], ["-O", "DeliveryMode=b"],
                     ["-o", "x", "y"], ["-c"], ["-m"], ["-x"], ["-p", "smtp"], ["-n"]] {
            XCTAssertNoThrow(try SendmailOptions.parse(args + ["a@b"]), "\(args)")
        }
        XCTAssertTrue(try parse("-n").noAliases)
        // -h takes its argument: "5" is not a recipient (ssmtp's bug)
        XCTAssertEqual(try parse("-h", "5", "a@b").recipients, ["a@b"])
        XCTAssertEqual(try parse("-L", "tag", "a@b").recipients, ["a@b"])
    }

    func testXNeverWritesAndIsNoted() throws {
        let o = try parse("-f", "a@b", "-X/var/www/shell.php", "x@y")
        XCTAssertEqual(o.ignoredLogFile, "/var/www/shell.php")
        XCTAssertEqual(o.recipients, ["x@y"])
        XCTAssertTrue(o.notes.contains { $0.contains("-X") })
    }

    func testUnknownFlagsAreUsageErrorsNamingTheFlag() {
        assertUsage(["-k"], mentions: "-k")
        assertUsage(["-tZ"], mentions: "-Z")
        assertUsage(["--help"], mentions: "--help")
        assertUsage(["-d0.1"], mentions: "-d")
        assertUsage(["-f"], mentions: "-f requires an argument")
    }

    func testArgvValuesCannotCarryLineBreaks() {
        assertUsage(["-F", "Evil\nBcc: x@y"], mentions: "-F")
        assertUsage(["-f", "a@b\r\nTo: x"], mentions: "-f")
        assertUsage(["-V", "a\nb"], mentions: "envelope id")
    }

    func testDoubleDashEndsOptions() throws {
        let o = try parse("--", "-t")
        XCTAssertFalse(o.extractRecipients)
        XCTAssertEqual(o.recipients, ["-t"])
    }
}
