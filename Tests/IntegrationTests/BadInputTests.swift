import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Bad input gets a clear answer and loses nothing (issue 2): either a queued message that
/// holds every byte, or an error naming the problem with the sysexits code of DESIGN.md.
final class BadInputTests: SealmailTestCase {
    /// Empty input with an argv recipient: queued with our header fields and an empty body.
    func testEmptyInputWithArgvRecipient() throws {
        let q = try submitOK(["a@x.example"], [UInt8]())
        XCTAssertEqual(q.fieldNames, ["Received", "Message-Id", "Date", "From"])
        XCTAssertEqual(q.body, [])
        XCTAssertTrue(q.message.suffix(4) == "\r\n\r\n".bytes[...], "header, then the blank line, then nothing")
        XCTAssertEqual(q.recipients, ["a@x.example"])
    }

    /// Empty input with -t: no recipients, 64, nothing queued.
    func testEmptyInputWithDashT() throws {
        let r = try sealmail(["-t"], input: "")
        XCTAssertEqual(r.status, 64, r.stderrText)
        XCTAssertTrue(r.stderrText.contains("no recipients"), r.stderrText)
        assertNothingQueued()
    }

    /// No recipients at all (no argv, no -t): 64 before the input is read.
    func testNoRecipients() throws {
        let r = try sealmail([], input: message())
        XCTAssertEqual(r.status, 64, r.stderrText)
        XCTAssertTrue(r.stderrText.contains("no recipients"), r.stderrText)
        assertNothingQueued()
    }

    /// A header block that ends at end of input (no blank line, no final newline).
    func testHeaderBlockWithoutBody() throws {
        let q = try submitOK(["-t"], "To: a@x.example\nSubject: only a header")
        XCTAssertEqual(q.fields("Subject"), ["only a header"])
        XCTAssertEqual(q.body, [])
        XCTAssertEqual(Array(q.message.suffix(4)), "\r\n\r\n".bytes)
    }

    /// The first line is not a header field: it is all body, after our header and a blank line.
    func testFirstLineNotAHeader() throws {
        let q = try submitOK(["a@x.example"], "just some text, no header\nmore: this is body too\n\nend\n")
        XCTAssertEqual(q.fieldNames, ["Received", "Message-Id", "Date", "From"])
        XCTAssertEqual(q.bodyText, "just some text, no header\r\nmore: this is body too\r\n\r\nend\r\n")
    }

    /// A header block ended by a line that is not a field: that line starts the body, and a
    /// blank line is inserted before it (Postfix's rule).
    func testHeaderEndedByNonHeaderLine() throws {
        let q = try submitOK(["-t"], "To: a@x.example\nSubject: s\nthis line is not a header\nrest\n")
        XCTAssertEqual(q.fields("Subject"), ["s"])
        XCTAssertEqual(q.bodyText, "this line is not a header\r\nrest\r\n")
    }

    /// Binary junk with NUL bytes: queued byte for byte (CR and LF aside), summary nul=1.
    func testBinaryJunkAndNULBytes() throws {
        var junk: [UInt8] = []
        for b in 0...255 where b != 10 && b != 13 { junk.append(UInt8(b)) }
        var rng = SystemRandomNumberGenerator()
        var random: [UInt8] = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }
        random = random.map { $0 == 10 || $0 == 13 ? 0 : $0 }
        let input = "To: a@x.example\nSubject: junk\n\n".bytes + junk + [10] + random + [10] + [0, 0, 0]
        let q = try submitOK(["-t"], input)
        XCTAssertEqual(q.summary["nul"], "1")
        XCTAssertEqual(q.summary["body"], "8bitmime")
        XCTAssertTrue(sameBytes(q.body, junk + [13, 10] + random + [13, 10] + [0, 0, 0, 13, 10]),
                      "every byte of the junk is queued")
    }

    /// A NUL byte in a header field: the field is cut at the NUL, as Postfix does (no NUL may
    /// reach the wire in a header; compat/KNOWN-DIFFERENCES.md nul-in-header-sent).
    func testNULInHeader() throws {
        let q = try submitOK(["-t"], "To: a@x.example\nX-Junk: a\u{0}b\n\nbody\n".bytes)
        XCTAssertEqual(q.summary["nul"], "0")
        XCTAssertTrue(contains(q.header, "X-Junk: a\r\n".bytes))
        XCTAssertFalse(q.header.contains(0))
    }

    /// Raw 8-bit header values (UTF-8 and Latin-1) are kept byte for byte.
    func testEightBitHeaders() throws {
        let input = "To: J\u{f6}rg <a@x.example>\nSubject: caf\u{e9} \u{2603}\n".bytes + "X-Latin1: ".bytes + [0xe9, 0xe8] + "\n\nbody\n".bytes
        let q = try submitOK(["-t"], input)
        XCTAssertEqual(q.recipients, ["a@x.example"])
        XCTAssertTrue(contains(q.header, "To: J\u{f6}rg <a@x.example>\r\n".bytes))
        XCTAssertTrue(contains(q.header, "Subject: caf\u{e9} \u{2603}\r\n".bytes))
        XCTAssertTrue(contains(q.header, "X-Latin1: ".bytes + [0xe9, 0xe8] + [13, 10]))
        XCTAssertEqual(q.summary["body"], "8bitmime")
    }

    /// A 200 KB header line is never cut: without white space it is broken every 998 octets
    /// with CRLF + space, as Postfix does (RFC 5322 2.1.1: no line over 998; every byte kept,
    /// a space added at each break); with white space it is folded, and unfolding gives back
    /// every input byte.
    func testHugeHeaderLinesAreNeverCut() throws {
        let solid = String(repeating: "y", count: 200_000)
        let words = (0..<30_000).map { String(format: "w%05d", $0) }.joined(separator: " ")
        let input = "To: a@x.example\nX-Solid: \(solid)\nX-Words: \(words)\nSubject: after\n\nbody\n"
        let q = try submitOK(["-t"], input)
        XCTAssertEqual(q.summary["long"], "0", "no line over 998 octets is left")
        let header = String(decoding: q.header, as: UTF8.self)
        XCTAssertFalse(header.components(separatedBy: "\r\n").contains { $0.utf8.count > 998 })
        XCTAssertTrue(header.hasPrefix("Received:") && header.contains("X-Solid: " + String(repeating: "y", count: 989) + "\r\n y"), "Postfix's break points")
        XCTAssertEqual(q.fields("X-Solid").map { $0.replacingOccurrences(of: " ", with: "") }, [solid], "every byte kept")
        XCTAssertEqual(q.fields("X-Words"), [words], "unfolded, the field is exactly the input")
        XCTAssertEqual(q.fields("Subject"), ["after"], "the fields after it are intact")
        XCTAssertEqual(q.bodyText, "body\r\n")
    }

    /// A 5000-character body line is queued whole and flagged long=1.
    func testLongBodyLine() throws {
        let long = String(repeating: "0123456789", count: 500)
        let q = try submitOK(["-t"], "To: a@x.example\n\nshort\n\(long)\nshort\n")
        XCTAssertEqual(q.summary["long"], "1")
        XCTAssertEqual(q.bodyText, "short\r\n\(long)\r\nshort\r\n")
    }

    /// A message with only lines under 998 octets is not flagged.
    func testNormalMessageFlags() throws {
        let q = try submitOK(["-t"], message())
        XCTAssertEqual(q.summary["long"], "0")
        XCTAssertEqual(q.summary["nul"], "0")
        XCTAssertEqual(q.summary["body"], "7bit")
        XCTAssertEqual(q.summary["utf8"], "0")
    }

    /// An unknown flag: 64, and the message names it.
    func testUnknownFlag() throws {
        for (args, name) in [(["-Z", "a@x.example"], "-Z"), (["--frobnicate", "a@x.example"], "--frobnicate"),
                             (["-bz", "a@x.example"], "-bz"), (["-tZ", "a@x.example"], "-Z")] {
            let r = try sealmail(args, input: message())
            XCTAssertEqual(r.status, 64, "\(args): \(r.stderrText)")
            XCTAssertTrue(r.stderrText.contains(name), "\(args): the error should name \(name): \(r.stderrText)")
        }
        assertNothingQueued()
    }

    /// A config file named with -C that does not exist: 78, nothing created.
    func testMissingConfig() throws {
        let missing = dir + "/no-such.toml"
        let r = try sealmail(["-C", missing, "-t"], input: message(), withConfig: false)
        XCTAssertEqual(r.status, 78, r.stderrText)
        XCTAssertTrue(r.stderrText.contains(missing), r.stderrText)
        XCTAssertNotEqual(access(queueDir, F_OK), 0, "no queue folder is made")
    }

    /// The same through SEALMAIL_CONFIG; and SEALMAIL_CONFIG naming a good file is used.
    func testConfigFromEnvironment() throws {
        let r = try sealmail(["-t"], input: message(), withConfig: false, environment: ["SEALMAIL_CONFIG": dir + "/nope.toml"])
        XCTAssertEqual(r.status, 78, r.stderrText)
        let ok = try sealmail(["-t"], input: message(), withConfig: false, environment: ["SEALMAIL_CONFIG": configPath])
        XCTAssertEqual(ok.status, 0, ok.stderrText)
        XCTAssertEqual(queuedIDs.count, 1)
    }

    /// A malformed config: 78, and stderr gives the line number (sealmail and sealctl).
    func testMalformedConfig() throws {
        let unknownKey = dir + "/unknown.toml"
        try writeText(unknownKey, "hostname = \"h.example\"\ndomain = \"example.com\"\nqueue_dir = \"\(queueDir)\"\nfrobnicate = 1\n")
        let r = try sealmail(["-C", unknownKey, "-t"], input: message(), withConfig: false)
        XCTAssertEqual(r.status, 78, r.stderrText)
        XCTAssertTrue(r.stderrText.contains("line 4"), r.stderrText)
        XCTAssertTrue(r.stderrText.contains("frobnicate"), r.stderrText)

        let syntax = dir + "/syntax.toml"
        try writeText(syntax, "hostname = \"h.example\"\nqueue_dir = \n")
        let r2 = try sealmail(["-C", syntax, "-t"], input: message(), withConfig: false)
        XCTAssertEqual(r2.status, 78, r2.stderrText)
        XCTAssertTrue(r2.stderrText.contains("line 2"), r2.stderrText)

        let wrongType = dir + "/type.toml"
        try writeText(wrongType, "hostname = \"h.example\"\n\nqueue_dir = 42\n")
        let r3 = try sealmail(["-C", wrongType, "-t"], input: message(), withConfig: false)
        XCTAssertEqual(r3.status, 78, r3.stderrText)
        XCTAssertTrue(r3.stderrText.contains("line 3"), r3.stderrText)

        let c = try sealctl(["config", "check", "-C", unknownKey], withConfig: false)
        XCTAssertEqual(c.status, 78, c.stderrText)
        XCTAssertTrue(c.stderrText.contains("line 4"), c.stderrText)
        assertNothingQueued()
    }

    /// A queue folder that cannot be created (its parent is a file): 73, the path named.
    func testUnwritableQueueFolder() throws {
        let file = dir + "/somefile"
        try writeText(file, "not a folder\n")
        try writeConfig(queueDir: file + "/q")
        let r = try sealmail(["-t"], input: message())
        XCTAssertEqual(r.status, 73, r.stderrText)
        XCTAssertTrue(r.stderrText.contains(file + "/q"), r.stderrText)
    }

    /// Disk full: a 4 MiB message into a 1 MiB tmpfs exits 75 and leaves nothing behind.
    func testDiskFull() throws {
        let mnt = dir + "/small"
        guard mountTmpfs(mnt, size: "1m") else {
            throw XCTSkip("cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN): \(errnoText())")
        }
        try writeConfig(queueDir: mnt + "/q")
        let line = String(repeating: "a", count: 99) + "\n"
        let body = String(repeating: line, count: 4 * 1024 * 1024 / 100)
        let r = try sealmail(["-t"], input: "To: a@x.example\nSubject: big\n\n" + body)
        XCTAssertEqual(r.status, 75, r.stderrText)
        XCTAssertTrue(r.stderrText.contains("No space"), r.stderrText)
        XCTAssertEqual(files(in: mnt + "/q/messages"), [])
        XCTAssertEqual(files(in: mnt + "/q/tmp"), [])
        // The same queue still takes a small message afterwards.
        let ok = try sealmail(["-t"], input: message())
        XCTAssertEqual(ok.status, 0, ok.stderrText)
        XCTAssertEqual(files(in: mnt + "/q/messages").count, 1)
    }

    func message() -> String { "To: a@x.example\nSubject: s\n\nhi\n" }
}
