import XCTest
import Foundation
@testable import MailQueue

/// The delivery state file (version 2): reserved once, then written in place into the older
/// of two slots, so that a torn write leaves the previous record readable and no record after
/// the reservation needs space. Version-1 files are still read.
final class StateFileTests: XCTestCase {
    var dir: String!
    var spool: Spool!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "sealmail-state-\(UUID().uuidString)"
        spool = Spool(root: dir)
        try spool.prepare()
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func queue(recipients: Int) throws -> QueuedEnvelope {
        let rcpts = (0..<recipients).map { QueuedRecipient(address: "r\($0)@y.example") }
        return try QueueWriter(spool: spool, envelope: QueuedEnvelope(id: QueueID.generate(), arrivalMicros: 1, sender: "s@x.example",
                                                                      recipients: rcpts, uid: 0, user: "root")).commit()
    }

    func state(attempts: Int, reason: String = "450 4.2.1 busy") -> DeliveryState {
        var s = DeliveryState()
        s.attempts = attempts
        s.lastAttemptMicros = 1_700_000_000_000_000 + UInt64(attempts)
        s.recipients[0] = .init(status: .sent, dsn: "2.0.0", reason: "250 ok", relay: "relay.example[192.0.2.1]:25")
        s.recipients[1] = .init(status: .deferred, dsn: "4.2.1", reason: reason, relay: "relay.example[192.0.2.1]:25")
        return s
    }

    var size: Int { Int((try? FileManager.default.attributesOfItem(atPath: stateFile)[.size] as? Int) ?? -1) }
    var stateFile: String = ""

    /// Reserved before the attempt: the whole file is written then (its size never changes
    /// afterwards), and reading it before any record gives a fresh state.
    func testReservationTakesTheWholeFileOnce() throws {
        let e = try queue(recipients: 2)
        stateFile = spool.statePath(e.id)
        let file = try spool.openState(e.id, recipients: 2)
        XCTAssertFalse(file.isReserved)
        try file.reserve()
        XCTAssertTrue(file.isReserved)
        XCTAssertEqual(size, 2 * 4096)
        var st = stat()
        XCTAssertEqual(stat(stateFile, &st), 0)
        XCTAssertEqual(Int(st.st_blocks) * 512, 2 * 4096, "the blocks are allocated, not a sparse file")
        XCTAssertEqual(try spool.state(e.id), DeliveryState())
        for n in 1...5 { try file.record(state(attempts: n)) }
        XCTAssertEqual(size, 2 * 4096)
        XCTAssertEqual(try spool.state(e.id), state(attempts: 5))
        // A second opener (the next run) continues from the newest record.
        let again = try spool.openState(e.id, recipients: 2)
        XCTAssertTrue(again.isReserved)
        XCTAssertEqual(again.state, state(attempts: 5))
        try again.record(state(attempts: 6))
        XCTAssertEqual(try spool.state(e.id), state(attempts: 6))
    }

    /// A write torn anywhere in the newest slot (header or payload) leaves the previous
    /// record; damage to the older slot changes nothing.
    func testATornSlotFallsBackToThePreviousRecord() throws {
        let e = try queue(recipients: 2)
        let file = try spool.openState(e.id, recipients: 2)
        try file.record(state(attempts: 1))  // slot 0
        try file.record(state(attempts: 2))  // slot 1, the newest
        let path = spool.statePath(e.id)
        for offset in [4096 + 20, 4096 + 40, 4096 + 64 + 5] {
            let fd = open(path, O_RDWR)
            var original: UInt8 = 0
            XCTAssertEqual(pread(fd, &original, 1, off_t(offset)), 1)
            var flipped = original ^ 0x5A
            XCTAssertEqual(pwrite(fd, &flipped, 1, off_t(offset)), 1)
            XCTAssertEqual(try spool.state(e.id), state(attempts: 1), "damage at \(offset)")
            XCTAssertEqual(pwrite(fd, &original, 1, off_t(offset)), 1)
            close(fd)
        }
        XCTAssertEqual(try spool.state(e.id), state(attempts: 2))
        // The next record goes to the slot that does not hold the newest (slot 0 here).
        let fd = open(path, O_RDWR)
        var junk: [UInt8] = Array(repeating: 0xFF, count: 64)
        XCTAssertEqual(pwrite(fd, &junk, 64, 0), 64)
        close(fd)
        XCTAssertEqual(try spool.state(e.id), state(attempts: 2))
    }

    /// Reasons are shortened to fit the reservation, the longest first; statuses never are.
    func testLongReasonsAreCutToFitStatusesNever() throws {
        let e = try queue(recipients: 40)
        let file = try spool.openState(e.id, recipients: 40)
        var s = DeliveryState()
        for i in 0..<40 {
            let long = String(repeating: "é", count: 20_000) + " end"
            s.recipients[i] = .init(status: i % 2 == 0 ? .deferred : .failed, dsn: "4.\(i).0",
                                    reason: i == 3 ? "short reason" : long, relay: String(repeating: "h", count: 500))
        }
        s.bouncePending = Set(stride(from: 1, to: 40, by: 2))
        try file.record(s)
        let read = try spool.state(e.id)
        XCTAssertEqual(read.recipients.count, 40)
        XCTAssertEqual(read.bouncePending, s.bouncePending)
        for i in 0..<40 {
            XCTAssertEqual(read.recipients[i]?.status, s.recipients[i]?.status, "recipient \(i)")
            XCTAssertEqual(read.recipients[i]?.dsn, s.recipients[i]?.dsn)
        }
        XCTAssertEqual(read.recipients[3]?.reason, "short reason", "a short reason is kept whole")
        let cut = try XCTUnwrap(read.recipients[0]?.reason)
        XCTAssertTrue(cut.hasSuffix("..."), cut)
        XCTAssertTrue(cut.hasPrefix("ééé"))
        XCTAssertFalse(cut.contains("\u{FFFD}"), "cut at a character boundary")
        XCTAssertGreaterThan(cut.utf8.count, 60, "a useful part of the reason is kept")
    }

    func testEncodeWithLimitCutsAtCharacterBoundaries() {
        XCTAssertEqual(RecordText.encode("abc", limit: 10), "abc")
        XCTAssertEqual(RecordText.encode("abcdefghijkl", limit: 8), "abcde...")
        // é is %C3%A9 (6 bytes encoded): never half of it.
        XCTAssertEqual(RecordText.encode("aéé", limit: 12), "a%C3%A9...")
        XCTAssertEqual(RecordText.decode(RecordText.encode("a b%c", limit: 100)), "a b%c")
    }

    /// Queues already on disk keep their version-1 state; the reservation replaces the file
    /// by a version-2 one with the same content.
    func testVersion1FilesAreReadAndReplacedByVersion2() throws {
        let e = try queue(recipients: 2)
        let v1 = "sealmail-state 1\nattempts 1\nlast_attempt 1700000000000001\n"
            + "rcpt 0 sent 2.0.0 relay.example[192.0.2.1]:25 250%20ok\n"
            + "rcpt 1 deferred 4.2.1 relay.example[192.0.2.1]:25 450%204.2.1%20busy\n"
        try v1.write(toFile: spool.statePath(e.id), atomically: false, encoding: .utf8)
        XCTAssertEqual(try spool.state(e.id), state(attempts: 1))
        let file = try spool.openState(e.id, recipients: 2)
        XCTAssertEqual(file.state, state(attempts: 1))
        XCTAssertFalse(file.isReserved, "a version-1 file is not written in place")
        try file.reserve()
        let head = try String(contentsOfFile: spool.statePath(e.id), encoding: .isoLatin1).prefix(17)
        XCTAssertEqual(head, "sealmail-state 2 ")
        XCTAssertEqual(try spool.state(e.id), state(attempts: 1), "the reservation kept the state")
        try file.record(state(attempts: 2))
        XCTAssertEqual(try spool.state(e.id), state(attempts: 2))
    }

    func testNewerOrForeignStateFilesAreRefused() throws {
        let e = try queue(recipients: 1)
        try "sealmail-state 3 whatever\n".write(toFile: spool.statePath(e.id), atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try spool.state(e.id)) { XCTAssertTrue("\($0)".contains("newer"), "\($0)") }
        try "something else\n".write(toFile: spool.statePath(e.id), atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try spool.state(e.id)) { XCTAssertEqual(($0 as? QueueError)?.code, .corrupt) }
        // An empty file (created, then a crash before its reservation): nothing recorded,
        // and the reservation makes it again.
        try "".write(toFile: spool.statePath(e.id), atomically: false, encoding: .utf8)
        XCTAssertEqual(try spool.state(e.id), DeliveryState())
        let file = try spool.openState(e.id, recipients: 1)
        try file.record(state(attempts: 1))
        XCTAssertEqual(try spool.state(e.id), state(attempts: 1))
    }

    /// A reservation never written to (every recipient accepted at once) is kept by the
    /// process and moved to the next message's state instead of a new file; one that was
    /// written to is removed, never reused.
    func testAReservationNeverWrittenIsReused() throws {
        func inode(_ path: String) -> ino_t { var st = stat(); return stat(path, &st) == 0 ? st.st_ino : 0 }
        func names(_ sub: String) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: dir + "/" + sub)) ?? [] }
        let e1 = try queue(recipients: 2)
        let f1 = try spool.openState(e1.id, recipients: 2)
        try f1.reserve()
        let reserved = inode(spool.statePath(e1.id))
        try spool.remove(e1.id, state: f1)
        XCTAssertEqual(names("state"), [])
        XCTAssertEqual(names("tmp").count, 1, "kept as a spare")

        let e2 = try queue(recipients: 2)
        let f2 = try spool.openState(e2.id, recipients: 2)
        try f2.reserve()
        XCTAssertEqual(inode(spool.statePath(e2.id)), reserved, "the spare was reused")
        XCTAssertEqual(names("tmp"), [])
        XCTAssertEqual(try spool.state(e2.id), DeliveryState())
        try f2.record(state(attempts: 1))
        try spool.remove(e2.id, state: f2)
        XCTAssertEqual(names("tmp"), [], "a file that was written to is not kept")

        let e3 = try queue(recipients: 2)
        let f3 = try spool.openState(e3.id, recipients: 2)
        try f3.reserve()
        XCTAssertEqual(try spool.state(e3.id), DeliveryState(), "a new reservation holds nothing")
        try spool.remove(e3.id, state: f3)
        XCTAssertEqual(names("tmp").count, 1)
        spool.releaseSpareStateFiles()
        XCTAssertEqual(names("tmp"), [])
        XCTAssertEqual(names("state"), [])
    }

    /// The run status: written in place, read back, cleared.
    func testRunStopIsKeptInPlace() throws {
        XCTAssertNil(spool.lastRunStop())
        try spool.recordRunStop(RunStop(micros: 42, reason: "cannot reserve: No space left on device"))
        XCTAssertEqual(spool.lastRunStop(), RunStop(micros: 42, reason: "cannot reserve: No space left on device"))
        try spool.recordRunStop(nil)
        XCTAssertNil(spool.lastRunStop())
        var st = stat()
        XCTAssertEqual(stat(dir + "/run-status", &st), 0)
        XCTAssertEqual(st.st_size, 8192)
    }
}
