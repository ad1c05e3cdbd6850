import XCTest
import Foundation
@testable import MailQueue

/// Anyone in the queue's group can put names in the queue folders (they are 2770). Whatever
/// they put there, a symbolic link, a hard link, a FIFO, a folder swapped for a link, the
/// queue (run as root) must never write through it nor hang on it: each attack below leaves
/// its victim unchanged and fails with a reason that names the problem.
final class QueueLinkTests: XCTestCase {
    var dir: String!
    var spool: Spool!
    var victim: String { dir + "/victim" }
    let precious = "root's precious file\n"

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "sealmail-links-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        spool = Spool(root: dir + "/q")
        try spool.prepare()
        try precious.write(toFile: victim, atomically: false, encoding: .utf8)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    var victimText: String { (try? String(contentsOfFile: victim, encoding: .utf8)) ?? "<gone>" }

    func queue(recipients: Int = 2) throws -> QueuedEnvelope {
        let rcpts = (0..<recipients).map { QueuedRecipient(address: "r\($0)@y.example") }
        let w = try QueueWriter(spool: spool, envelope: QueuedEnvelope(id: QueueID.generate(), arrivalMicros: 1, sender: "s@x.example",
                                                                       recipients: rcpts, uid: 0, user: "root"))
        try w.append(Array("Subject: x\r\n\r\nbody\r\n".utf8))
        return try w.commit()
    }

    func progress() -> DeliveryState {
        var s = DeliveryState()
        s.attempts = 1
        s.recipients[0] = .init(status: .sent, dsn: "2.0.0", reason: "250 ok", relay: "relay[127.0.0.1]:25")
        s.recipients[1] = .init(status: .deferred, dsn: "4.2.1", reason: "450 busy", relay: "relay[127.0.0.1]:25")
        return s
    }

    func message(_ error: Error) -> String { "\(error)" }

    /// The reviewer's attack: `ln -s victim queue/tmp/ID.state; sealmail -q` overwrote the
    /// victim with the state (written through tmp/ID.state and renamed).
    func testSymlinkInTmpNamedAfterTheStateIsNeverWrittenThrough() throws {
        let e = try queue()
        XCTAssertEqual(symlink(victim, spool.tmpDir + "/\(e.id).state"), 0)
        try spool.writeState(e.id, progress())
        XCTAssertEqual(victimText, precious)
        XCTAssertEqual(try spool.state(e.id), progress())
    }

    /// A version-1 state file is replaced through tmp/ID.state: a link put there is removed
    /// (a name only), never opened.
    func testMigrationOfAVersion1StateIgnoresALinkInTmp() throws {
        let e = try queue()
        let v1 = "sealmail-state 1\nattempts 1\nrcpt 0 sent 2.0.0 relay[127.0.0.1]:25 250%20ok\nrcpt 1 deferred 4.2.1 relay[127.0.0.1]:25 450%20busy\n"
        try v1.write(toFile: spool.statePath(e.id), atomically: false, encoding: .utf8)
        XCTAssertEqual(symlink(victim, spool.tmpDir + "/\(e.id).state"), 0)
        XCTAssertEqual(try spool.state(e.id), progress())
        var next = progress()
        next.attempts = 2
        try spool.writeState(e.id, next)
        XCTAssertEqual(victimText, precious)
        XCTAssertEqual(try spool.state(e.id), next)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: spool.tmpDir), [])
    }

    /// state/ID as a link to a victim: neither read nor written, refused with the reason.
    func testSymlinkInStateIsRefused() throws {
        let e = try queue()
        XCTAssertEqual(symlink(victim, spool.statePath(e.id)), 0)
        XCTAssertThrowsError(try spool.state(e.id)) { XCTAssertTrue(self.message($0).contains("symbolic link"), self.message($0)) }
        XCTAssertThrowsError(try spool.writeState(e.id, progress())) {
            XCTAssertTrue(self.message($0).contains("symbolic link"), self.message($0))
        }
        XCTAssertEqual(victimText, precious)
    }

    /// state/ID as a second hard link of a victim: refused (it has two links).
    func testHardLinkInStateIsRefused() throws {
        let e = try queue()
        XCTAssertEqual(link(victim, spool.statePath(e.id)), 0)
        XCTAssertThrowsError(try spool.writeState(e.id, progress())) {
            XCTAssertTrue(self.message($0).contains("hard links"), self.message($0))
        }
        XCTAssertThrowsError(try spool.state(e.id))
        XCTAssertEqual(victimText, precious)
    }

    /// messages/ID as a link or as another name of a file: not delivered (a queue run as
    /// root would send someone else's file, or write its state for it).
    func testLinkedMessageFilesAreRefused() throws {
        let e = try queue()
        let copy = dir + "/copy"
        try FileManager.default.copyItem(atPath: spool.messagePath(e.id), toPath: copy)
        let linked = QueueID.generate()
        XCTAssertEqual(symlink(copy, spool.messagePath(linked)), 0)
        XCTAssertThrowsError(try spool.lock(linked)) { XCTAssertTrue(self.message($0).contains("symbolic link"), self.message($0)) }
        XCTAssertThrowsError(try spool.envelope(linked))
        let hard = QueueID.generate()
        XCTAssertEqual(link(copy, spool.messagePath(hard)), 0)
        XCTAssertThrowsError(try spool.lock(hard)) { XCTAssertTrue(self.message($0).contains("hard links"), self.message($0)) }
        XCTAssertNotNil(try spool.lock(e.id), "the real message is still delivered")
    }

    /// A commit whose writer died between its link and its unlink leaves the message with
    /// two names (tmp/ID too): that is completed, not refused.
    func testACommitInterruptedAfterItsLinkIsCompleted() throws {
        let e = try queue()
        XCTAssertEqual(link(spool.messagePath(e.id), spool.tmpDir + "/" + e.id), 0)
        XCTAssertNotNil(try spool.lock(e.id))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: spool.tmpDir), [])
    }

    /// tmp/ and state/ swapped for links to another folder after the spool was opened: new
    /// files still go to the folders the spool holds, nothing into the link's target.
    func testFoldersSwappedForLinksDoNotRedirect() throws {
        let e = try queue()
        let elsewhere = dir + "/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        for sub in ["tmp", "state"] {
            XCTAssertEqual(rename(spool.root + "/" + sub, spool.root + "/" + sub + ".moved"), 0)
            XCTAssertEqual(symlink(elsewhere, spool.root + "/" + sub), 0)
        }
        try spool.writeState(e.id, progress())
        let w = try QueueWriter(spool: spool, envelope: QueuedEnvelope(id: QueueID.generate(), arrivalMicros: 1, sender: "",
                                                                       recipients: [QueuedRecipient(address: "a@b.example")],
                                                                       uid: 0, user: "root"))
        try w.append([65])
        let second = try w.commit()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: elsewhere), [], "nothing written through a link")
        XCTAssertTrue(FileManager.default.fileExists(atPath: spool.root + "/state.moved/" + e.id))
        XCTAssertTrue(try spool.list().contains(second.id))
        // A fresh process (a new Spool) refuses the linked folders instead of following them.
        let fresh = Spool(root: spool.root)
        XCTAssertThrowsError(try fresh.state(e.id)) { XCTAssertTrue(self.message($0).contains("not a directory"), self.message($0)) }
    }

    /// A FIFO or a link left in tmp/ or messages/ neither blocks a queue run (an open of a
    /// FIFO waits for a writer) nor is followed: the sweep removes the names, the lock refuses.
    func testFIFOsAndLinksInTheQueueNeitherBlockNorAreFollowed() throws {
        XCTAssertEqual(mkfifo(spool.tmpDir + "/fifo", 0o600), 0)
        XCTAssertEqual(symlink(victim, spool.tmpDir + "/link"), 0)
        let fifoID = QueueID.generate()
        XCTAssertEqual(mkfifo(spool.messagePath(fifoID), 0o600), 0)
        let done = DispatchSemaphore(value: 0)
        let spool = self.spool!
        var lockError: Error?
        Thread {
            spool.sweepTemporaryFiles(olderThan: -1, now: Int(Date().timeIntervalSince1970) + 10)
            do { _ = try spool.lock(fifoID) } catch { lockError = error }
            done.signal()
        }.start()
        guard done.wait(timeout: .now() + 5) == .success else {
            // Unblock the stuck opens so the process can end, then fail.
            for p in [spool.tmpDir + "/fifo", spool.messagePath(fifoID)] {
                let fd = open(p, O_WRONLY | O_NONBLOCK)
                if fd >= 0 { close(fd) }
            }
            return XCTFail("the queue blocked on a FIFO")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: spool.tmpDir), [])
        XCTAssertTrue(lockError.map { "\($0)".contains("not a regular file") } ?? false, "\(String(describing: lockError))")
        XCTAssertEqual(victimText, precious)
    }
}
