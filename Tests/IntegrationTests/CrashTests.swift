import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A submission killed at any point leaves no entry in the queue; an acknowledged one
/// (exit 0) is there with every byte (DESIGN.md "Queue", issue 2).
final class CrashTests: SealmailTestCase {
    let header = "To: a@x.example\nSubject: crash test\n\n"

    /// 300 KB of numbered body lines (more than the writer's buffer, so some reach the file).
    func bodyLines(_ count: Int) -> String {
        (0..<count).map { String(format: "line %06d of the body, padded to a fixed width .....................", $0) + "\n" }.joined()
    }

    /// Starts a submission, writes the header and part of the body, and waits until the
    /// queue writer has its file in tmp/ (so the kill lands in the middle of the body).
    func startHalfWritten(file: StaticString = #filePath, line: UInt = #line) throws -> Child {
        let child = try startSealmail(["-t", "-i"])
        XCTAssertTrue(child.write(header + bodyLines(4000)), "sealmail stopped reading early", file: file, line: line)
        let deadline = Date().addingTimeInterval(20)
        while files(in: tmpDir).isEmpty && Date() < deadline { usleep(5_000) }
        XCTAssertFalse(files(in: tmpDir).isEmpty, "the submission never created its file in tmp/", file: file, line: line)
        usleep(100_000)  // let it arm its signal handlers and block on the pipe again
        return child
    }

    func testKill9MidMessageCommitsNothing() throws {
        let child = try startHalfWritten()
        child.kill(SIGKILL)
        let r = child.wait()
        XCTAssertEqual(r.termination.signal, SIGKILL, "\(r.termination)")
        XCTAssertEqual(queuedIDs, [], "a killed submission must not be in messages/ (a tmp/ leftover is allowed)")
        // A later queue listing does not show it either.
        let list = try sealmail(["-bp"])
        XCTAssertEqual(list.stdoutText, "Mail queue is empty\n")
    }

    func testSIGTERMMidMessageExits75AndCleansUp() throws {
        let child = try startHalfWritten()
        child.kill(SIGTERM)
        let r = child.wait()
        XCTAssertEqual(r.termination, Termination(exitStatus: 75, signal: nil), r.stderrText)
        assertNothingQueued("after SIGTERM")
    }

    /// SIGINT, SIGHUP and SIGQUIT are handled like SIGTERM.
    func testOtherSignalsMidMessageExit75AndCleanUp() throws {
        for sig in [SIGINT, SIGHUP, SIGQUIT] {
            let child = try startHalfWritten()
            child.kill(sig)
            let r = child.wait()
            XCTAssertEqual(r.termination, Termination(exitStatus: 75, signal: nil), "signal \(sig): \(r.stderrText)")
            assertNothingQueued("after signal \(sig)")
        }
    }

    /// Killed while the header is still being read: nothing anywhere, and no success status.
    func testSIGTERMWhileReadingHeaderLeavesNothing() throws {
        let child = try startSealmail(["-t", "-i"])
        child.write("To: a@x.example\nSubject: half a hea")
        usleep(200_000)
        child.kill(SIGTERM)
        let r = child.wait()
        XCTAssertNotEqual(r.termination, Termination(exitStatus: 0, signal: nil))
        assertNothingQueued("after SIGTERM in the header")
    }

    /// Written slowly in pieces, then closed: exit 0, and the queue file holds every byte.
    func testCompleteMessageIsQueuedWhole() throws {
        let child = try startSealmail(["-t", "-i"])
        let body = bodyLines(4000)
        let all = Array((header + body).utf8)
        var offset = 0
        var piece = 1
        while offset < all.count {
            let end = min(all.count, offset + piece)
            XCTAssertTrue(child.write(Array(all[offset..<end])))
            offset = end
            piece = piece * 3 + 7  // odd sizes, so lines and CRLFs straddle reads
            if piece < 5000 { usleep(1_000) }
        }
        let r = child.wait()
        XCTAssertEqual(r.status, 0, r.stderrText)
        let q = try onlyQueued()
        assertWellFormed(q)
        XCTAssertEqual(q.bodyText, body.replacingOccurrences(of: "\n", with: "\r\n"))
        XCTAssertEqual(files(in: tmpDir), [], "tmp/ is empty after a commit")
    }
}
