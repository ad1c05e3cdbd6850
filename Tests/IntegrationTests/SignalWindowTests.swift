import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM at the exact instants around the queue writer's critical steps. A small LD_PRELOAD
/// library (compiled here with cc) makes one libc call pause for a few seconds and drop a mark
/// file when it starts pausing; the test then sends SIGTERM while sealmail sits in that call.
/// This makes races that a random kill hits a few times in a hundred deterministic.
///
/// The contract (DESIGN.md "Queue"; issue 2): a submission killed at any point leaves no entry,
/// and the exit status tells the truth: 0 only if the message is queued, and a failure status
/// only if it is not (a caller that sees 75 submits again, so a queued message reported as a
/// failure is delivered twice).
final class SignalWindowTests: SealmailTestCase {
    var shim = ""

    override func setUpWithError() throws {
        try super.setUpWithError()
        shim = try LibcShim.build(in: dir)
    }

    /// Submits a small message with the shim pausing in `call`, sends `sig` once the pause
    /// has begun, and returns the result.
    func submitAndSignal(pausing call: String, _ sig: Int32 = SIGTERM,
                         file: StaticString = #filePath, line: UInt = #line) throws -> RunResult {
        let mark = dir + "/mark"
        let child = try startSealmail(["-odq", "-t"], environment: [
            "LD_PRELOAD": shim, "SEALMAIL_SHIM_PAUSE": call, "SEALMAIL_SHIM_MARK": mark,
        ])
        child.write("To: a@x.example\nSubject: signal window\n\nbody\n")
        child.closeInput()
        let deadline = Date().addingTimeInterval(20)
        while access(mark, F_OK) != 0 && Date() < deadline { usleep(2_000) }
        XCTAssertEqual(access(mark, F_OK), 0, "sealmail never reached \(call)", file: file, line: line)
        usleep(50_000)
        child.kill(sig)
        return child.wait()
    }

    /// The commit order of DESIGN.md "Queue": the file is fsync'd, then linked or renamed into
    /// messages/, then messages/ is fsync'd, all before exit 0.
    func testCommitOrderIsFsyncRenameFsyncFolder() throws {
        let tracePath = dir + "/trace"
        let child = try startSealmail(["-odq", "-t"], environment: ["LD_PRELOAD": shim, "SEALMAIL_SHIM_TRACE": tracePath])
        child.write("To: a@x.example\nSubject: order\n\nbody\n")
        let r = child.wait()
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertEqual(queuedIDs.count, 1)
        let calls = String(decoding: (try? readFile(tracePath)) ?? [], as: UTF8.self).split(separator: "\n").map(String.init)
        guard let commit = calls.firstIndex(where: { $0 == "link" || $0 == "rename" }) else {
            return XCTFail("no link or rename into messages/: \(calls)")
        }
        XCTAssertTrue(calls[..<commit].contains("filefsync"), "the file must be fsync'd before it is committed: \(calls)")
        XCTAssertTrue(calls[commit...].contains("dirfsync"), "messages/ must be fsync'd after the commit: \(calls)")
    }

    /// Control: killed while fsync'ing the file in tmp/ (before the commit): exit 75, nothing left.
    func testSIGTERMBeforeTheCommitExits75AndLeavesNothing() throws {
        let r = try submitAndSignal(pausing: "filefsync")
        XCTAssertEqual(r.termination, Termination(exitStatus: 75, signal: nil), r.stderrText)
        assertNothingQueued("after SIGTERM during the file's fsync")
    }

    /// Killed while fsync'ing messages/ after the rename (the message is committed): the
    /// status must not say "not queued" for a message that is in the queue.
    func testSIGTERMAfterTheCommitDoesNotReportFailureForAQueuedMessage() throws {
        let r = try submitAndSignal(pausing: "dirfsync")
        let queued = queuedIDs.count == 1
        if queued {
            XCTAssertNotEqual(r.termination, Termination(exitStatus: 75, signal: nil),
                              "the message is in messages/ (\(queuedIDs)) but sealmail exited 75 (temporary failure, "
                              + "the caller will submit it again): \(r.stderrText)")
        } else {
            XCTAssertNotEqual(r.termination.exitStatus, 0, "exit 0 but nothing queued")
        }
        XCTAssertEqual(files(in: tmpDir), [])
    }

    /// Killed right after the file in tmp/ was created (QueueWriter's flock, before the signal
    /// handlers are armed): exit 75 as for any kill during the write, and no tmp/ leftover.
    func testSIGTERMJustAfterTheTmpFileIsCreatedLeavesNothing() throws {
        let r = try submitAndSignal(pausing: "flock")
        XCTAssertEqual(r.termination, Termination(exitStatus: 75, signal: nil), r.stderrText)
        assertNothingQueued("after SIGTERM between creating tmp/ID and arming the signal handlers")
    }

    /// Killed while waiting for its input (nothing read yet): exit 75, so the caller knows the
    /// message was not queued (b5b1990 armed the handler only later and died by the signal).
    func testSIGTERMWhileWaitingForInputExits75() throws {
        let child = try startSealmail(["-odq", "-t"])
        // Wait until it blocks in read(2) on stdin: /proc/PID/syscall starts "0 0x0" (x86_64).
        let deadline = Date().addingTimeInterval(20)
        var waiting = false
        while !waiting && Date() < deadline {
            let text = (try? String(contentsOfFile: "/proc/\(child.pid)/syscall", encoding: .utf8)) ?? ""
            waiting = text.hasPrefix("0 0x0 ")
            if !waiting { usleep(2_000) }
        }
        XCTAssertTrue(waiting, "sealmail never blocked reading stdin")
        child.kill(SIGTERM)
        let r = child.wait()
        XCTAssertEqual(r.termination, Termination(exitStatus: 75, signal: nil), r.stderrText)
        assertNothingQueued("after SIGTERM before any input")
    }
}
