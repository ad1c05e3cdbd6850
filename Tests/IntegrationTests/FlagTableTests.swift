import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The flag table of DESIGN.md: every Postfix sendmail flag is accepted (with its meaning, or
/// ignored), with sendmail's argument grammar (glued or separate), so that no flag argument
/// ever turns into a recipient.
final class FlagTableTests: SealmailTestCase {
    let message = "To: a@x.example\nSubject: s\n\nhi\n.\nafter\n"

    func testEveryDesignFlagIsAccepted() throws {
        let args = ["-t", "-i", "-oi", "-oem", "-oep", "-oeq", "-oew", "-odb", "-odi", "-odq", "-bm",
                    "-B", "8BITMIME", "-N", "success,delay", "-R", "hdrs", "-V", "envid1", "-v",
                    "-X", dir + "/never-written", "-L", "tagword", "-O", "DeliveryMode=b", "-o", "Xoption",
                    "-h", "17", "-n", "-U", "-G", "-Am", "-Ac", "-F", "Full Name", "-r", "r@x.example",
                    "-f", "f@x.example", "extra@y.example"]
        let q = try submitOK(args, message)
        XCTAssertEqual(q.recipients, ["extra@y.example", "a@x.example"], "flag arguments never become recipients")
        XCTAssertEqual(q.sender, "f@x.example", "the last -f/-r wins")
        XCTAssertEqual(q.bodyText, "hi\r\n.\r\nafter\r\n", "-i/-oi keep the lone dot")
        XCTAssertEqual(q.summary["body"], "8bitmime", "-B 8BITMIME")
        XCTAssertEqual(q.fields("From"), ["Full Name <f@x.example>"])
        XCTAssertNotEqual(access(dir + "/never-written", F_OK), 0)
    }

    /// Glued and separate arguments mean the same; options cluster (`-ti`).
    func testGluedSeparateAndClustered() throws {
        let a = try submitOK(["-ti", "-fs@x.example", "-FName", "-B8BITMIME", "-N", "never"], message)
        let b = try submitOK(["-t", "-i", "-f", "s@x.example", "-F", "Name", "-B", "8BITMIME", "-Nnever"], message)
        for q in [a, b] {
            XCTAssertEqual(q.recipients, ["a@x.example"])
            XCTAssertEqual(q.sender, "s@x.example")
            XCTAssertEqual(q.fields("From"), ["Name <s@x.example>"])
            XCTAssertEqual(q.bodyText, "hi\r\n.\r\nafter\r\n")
            XCTAssertEqual(q.recipientLines, ["a@x.example notify=NEVER"])
        }
    }

    /// Modes that run no daemon are clear usage errors, never "exit 0 and drop".
    func testDaemonModesAreUsageErrors() throws {
        for flag in ["-bd", "-bD", "-bl", "-bt"] {
            let r = try sealmail([flag, "a@x.example"], input: message)
            XCTAssertEqual(r.status, 64, "\(flag): \(r.stderrText)")
            XCTAssertTrue(r.stderrText.contains(flag), "\(flag): \(r.stderrText)")
        }
        assertNothingQueued()
    }

    /// `-B` takes only 7BIT or 8BITMIME; `-od` only b, i, q (and d); `-oe` only m, p, q, w, e.
    func testBadOptionValues() throws {
        for args in [["-B", "9BIT"], ["-odx"], ["-oex"], ["-q!x"]] {
            let r = try sealmail(args + ["a@x.example"], input: message)
            XCTAssertEqual(r.status, 64, "\(args): \(r.stderrText)")
        }
        assertNothingQueued()
    }

    /// `-bi` and a link named newaliases do nothing and succeed.
    func testNewaliases() throws {
        let bi = try sealmail(["-bi"])
        XCTAssertEqual(bi.status, 0, bi.stderrText)
        let link = dir + "/newaliases"
        XCTAssertEqual(symlink(Binaries.sealmail, link), 0)
        let r = try Child(link, ["-C", configPath], environment: childEnvironment(), outputDir: dir).wait()
        XCTAssertEqual(r.status, 0, r.stderrText)
        assertNothingQueued()
    }

    /// -odq queues; -odb queues and returns at once (the deliverer is detached); -odi waits
    /// for an attempt and still exits 0 when the message stays queued. With no relay
    /// configured the attempt defers, so each message stays in the queue.
    func testDeliveryModesQueue() throws {
        let q = try submitOK(["-odq", "-t"], message)
        XCTAssertEqual(files(in: queueDir + "/state"), [], "-odq makes no attempt")
        let qi = try submitOK(["-odi", "-t"], message)
        XCTAssertTrue(files(in: queueDir + "/state").contains(qi.id), "-odi made an attempt and recorded it")
        let qb = try submitOK(["-odb", "-t"], message)
        // Wait for the detached deliverer to record its attempt, so it is done before tearDown.
        let deadline = Date().addingTimeInterval(10)
        while !files(in: queueDir + "/state").contains(qb.id) && Date() < deadline { usleep(10_000) }
        XCTAssertTrue(files(in: queueDir + "/state").contains(qb.id), "-odb attempted delivery in the background")
        usleep(100_000)
        XCTAssertEqual(Set(queuedIDs), Set([q.id, qi.id, qb.id]))
    }
}
