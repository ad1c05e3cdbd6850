import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Values from argv can never add a header field or a recipient, and -X never writes a file
/// (DESIGN.md "Security model"; issue 2). Each refusal is a usage error with nothing queued.
final class InjectionTests: SealmailTestCase {
    let message = "To: a@x.example\nSubject: s\n\nhi\n"

    /// Runs sealmail expecting exit 64, nothing queued, and `mention` in the error.
    func assertRefused(_ args: [String], mention: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try sealmail(args, input: message)
        XCTAssertEqual(r.status, 64, "\(args): \(r.stderrText)", file: file, line: line)
        XCTAssertTrue(r.stderrText.contains(mention), "\(args): stderr should mention \(mention): \(r.stderrText)", file: file, line: line)
        assertNothingQueued("after \(args)", file: file, line: line)
    }

    func testFullNameWithNewlineIsRefused() throws {
        try assertRefused(["-t", "-F", "Evil\nBcc: x@y.example"], mention: "-F")
        try assertRefused(["-t", "-FEvil\r\nBcc: x@y.example"], mention: "-F")
    }

    func testSenderWithNewlineIsRefused() throws {
        try assertRefused(["-t", "-f", "a@b.example\nTo: x@y.example"], mention: "-f")
        try assertRefused(["-t", "-r", "a@b.example\rTo: x@y.example"], mention: "-r")
    }

    func testSenderWithTwoAddressesIsRefused() throws {
        try assertRefused(["-t", "-f", "a@b.example, c@d.example"], mention: "-f")
    }

    /// An address that would be read as an option by a later program is refused, even after `--`.
    func testRecipientStartingWithDashIsRefused() throws {
        try assertRefused(["--", "-oQ/tmp/x@y.example"], mention: "-oQ/tmp/x@y.example")
        try assertRefused(["-i", "--", "a@x.example", "-evil@y.example"], mention: "-evil@y.example")
        try assertRefused(["-t", "-f", "-bad@x.example"], mention: "-f")
    }

    func testRecipientWithNewlineIsRefused() throws {
        let r = try sealmail(["a@x.example\nBcc: b@y.example"], input: message)
        XCTAssertEqual(r.status, 64, r.stderrText)
        assertNothingQueued()
    }

    /// -N, -R, -V values outside their grammar are usage errors.
    func testBadDSNValuesAreRefused() throws {
        try assertRefused(["-t", "-N", "bogus"], mention: "-N")
        try assertRefused(["-t", "-N", "never,success"], mention: "-N")
        try assertRefused(["-t", "-N", "success\nBcc: x@y.example"], mention: "-N")
        try assertRefused(["-t", "-R", "bogus"], mention: "-R")
        try assertRefused(["-t", "-R", "full\nX: y"], mention: "-R")
        try assertRefused(["-t", "-V", "has space"], mention: "-V")
        try assertRefused(["-t", "-V", "a\nBcc: x@y.example"], mention: "-V")
        try assertRefused(["-t", "-V", String(repeating: "v", count: 101)], mention: "-V")
    }

    /// Good DSN values reach the envelope record.
    func testGoodDSNValuesAreRecorded() throws {
        let q = try submitOK(["-t", "-N", "success,delay", "-R", "hdrs", "-V", "env-1.2"], message)
        XCTAssertEqual(q.recipientLines, ["a@x.example notify=SUCCESS,DELAY"])
        XCTAssertEqual(q.value("ret"), "HDRS")
        XCTAssertEqual(q.value("envid"), "env-1.2")
        let q2 = try submitOK(["-t", "-N", "never", "-R", "full"], message)
        XCTAssertEqual(q2.recipientLines, ["a@x.example notify=NEVER"])
        XCTAssertEqual(q2.value("ret"), "FULL")
    }

    /// PHP's `mail($to, $s, $m, $h, "-f a@b -X/tmp/evil.php")` arrives as three argv words
    /// after `-t -i`: the mail is accepted and queued, and no file is written.
    func testPHPDashXDoesNotWriteAFile() throws {
        let evil = "/tmp/evil.php"
        unlink(evil)
        let own = dir + "/evil2.php"
        let php = "To: a@x.example\r\nSubject: <?php system($_GET['c']); ?>\r\n\r\n<?php phpinfo(); ?>\n"
        let q = try submitOK(["-t", "-i", "-f", "a@b.example", "-X/tmp/evil.php"], php)
        XCTAssertEqual(q.sender, "a@b.example")
        XCTAssertEqual(q.recipients, ["a@x.example"])
        XCTAssertEqual(q.bodyText, "<?php phpinfo(); ?>\r\n")
        XCTAssertNotEqual(access(evil, F_OK), 0, "\(evil) must not be created")

        let q2 = try submitOK(["-t", "-i", "-f", "a@b.example", "-X", own], php)
        XCTAssertEqual(q2.recipients, ["a@x.example"])
        XCTAssertNotEqual(access(own, F_OK), 0, "\(own) must not be created")
        XCTAssertFalse(q2.recipients.contains(own))
    }

    /// A display name with specials from -F is quoted: it cannot add an address to From.
    func testFullNameWithSpecialsIsQuoted() throws {
        let q = try submitOK(["-t", "-F", "Name (x) <evil@y.example>, other@z.example", "-f", "s@x.example"], message)
        XCTAssertEqual(q.fields("From"), ["\"Name (x) <evil@y.example>, other@z.example\" <s@x.example>"])
        XCTAssertEqual(q.recipients, ["a@x.example"])
    }
}
