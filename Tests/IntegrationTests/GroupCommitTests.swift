import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The copies of one submission are committed as a group (issue 11, item 12): a signed
/// message To: a with two Bcc recipients is three queue files (the visible copy and one per
/// hidden recipient). A failure at any copy's commit queues none of them and the caller is
/// told; a signal during the commit never leaves some copies queued and others swept.
final class GroupCommitTests: PolicyTestCase {
    var shim = ""

    override func setUpWithError() throws {
        try super.setUpWithError()
        shim = try LibcShim.build(in: dir)
        try writePolicy(rules: signRule())
    }

    var input: String { message(to: [Self.partner("a")], bcc: [Self.partner("b"), Self.partner("c")]) }

    func submit(_ shimEnvironment: [String: String], signalAfter mark: String? = nil) throws -> RunResult {
        var env = shimEnvironment
        env["LD_PRELOAD"] = shim
        if mark != nil { env["SEALMAIL_SHIM_MARK"] = dir + "/mark" }
        let child = try startSealmail(["-odq", "-t", "-f", Self.sender], environment: env)
        child.write(input)
        child.closeInput()
        if mark != nil {
            let deadline = Date().addingTimeInterval(20)
            while access(dir + "/mark", F_OK) != 0 && Date() < deadline { usleep(2_000) }
            XCTAssertEqual(access(dir + "/mark", F_OK), 0, "sealmail never reached the pause")
            usleep(50_000)
            child.kill(SIGTERM)
        }
        return child.wait()
    }

    func testAllCopiesAreQueued() throws {
        let r = try submit([:])
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertEqual(queuedIDs.count, 3, "the signed copy for a and one copy per Bcc recipient")
        XCTAssertEqual(files(in: tmpDir), [])
    }

    /// The second copy's link fails (ENOSPC): nothing queued, the caller gets 75.
    func testFailureAtTheSecondCopyQueuesNone() throws {
        let r = try submit(["SEALMAIL_SHIM_PAUSE": "faillink", "SEALMAIL_SHIM_LINK_N": "2"])
        XCTAssertEqual(r.status, 75, r.stderrText)
        assertNothingQueued("after the second copy could not be committed")
    }

    /// The third copy's failure too: the two already linked are taken back.
    func testFailureAtTheLastCopyTakesBackTheOthers() throws {
        let r = try submit(["SEALMAIL_SHIM_PAUSE": "faillink", "SEALMAIL_SHIM_LINK_N": "3"])
        XCTAssertEqual(r.status, 75, r.stderrText)
        assertNothingQueued("after the last copy could not be committed")
    }

    /// SIGTERM while the second copy is being linked: the signal waits for the commit, which
    /// completes: exit 0 and all three copies queued (b5b1990 exited 0 after the first copy
    /// and left the others to the sweep of tmp/).
    func testSignalDuringTheCommitWaitsForIt() throws {
        let r = try submit(["SEALMAIL_SHIM_PAUSE": "link", "SEALMAIL_SHIM_LINK_N": "2"], signalAfter: "link")
        XCTAssertEqual(r.termination, Termination(exitStatus: 0, signal: nil), r.stderrText)
        XCTAssertEqual(queuedIDs.count, 3, "every copy is queued when the caller is told 0")
        XCTAssertEqual(files(in: tmpDir), [])
    }
}
