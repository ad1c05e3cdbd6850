import XCTest
import Foundation
@testable import MailQueue

final class SpoolTests: XCTestCase {
    var dir: String!
    var spool: Spool!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "sealmail-spool-\(UUID().uuidString)"
        spool = Spool(root: dir)
        try spool.prepare()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func envelope(_ id: String = QueueID.generate()) -> QueuedEnvelope {
        var e = QueuedEnvelope(id: id, arrivalMicros: 1_795_965_220_000_000, sender: "a b@x.org",
                               recipients: [QueuedRecipient(address: "r1@y.org", original: "r1", notify: "SUCCESS,DELAY"),
                                            QueuedRecipient(address: "\"odd %\"@y.org")],
                               uid: 1000, user: "alice")
        e.ret = "HDRS"; e.envid = "env 1"; e.messageID = "<m@x>"
        return e
    }

    func files(_ sub: String) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: dir + "/" + sub)) ?? [] }

    func testCommitRoundTrip() throws {
        let w = try QueueWriter(spool: spool, envelope: envelope())
        try w.append(Array("Subject: x\r\n\r\nbody\r\n".utf8))
        let committed = try w.commit { $0.bodyType = .eightBitMIME; $0.hasNUL = true }
        XCTAssertEqual(files("tmp"), [])
        XCTAssertEqual(try spool.list(), [committed.id])
        let (read, offset) = try spool.envelope(committed.id)
        XCTAssertEqual(read, committed)
        XCTAssertEqual(read.size, 20)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: spool.messagePath(committed.id)))
        XCTAssertEqual(String(decoding: bytes[offset...], as: UTF8.self), "Subject: x\r\n\r\nbody\r\n")
    }

    /// A runner that opened a message just before another one delivered and removed it must
    /// not get the lock afterwards and send it again.
    func testARemovedMessageCannotBeLockedThroughAnEarlierOpen() throws {
        let w = try QueueWriter(spool: spool, envelope: envelope())
        try w.append(Array("Subject: x\r\n\r\nbody\r\n".utf8))
        let id = try w.commit().id
        let early = open(spool.messagePath(id), O_RDONLY | O_CLOEXEC)   // the second runner's open
        XCTAssertGreaterThanOrEqual(early, 0)
        let first = try XCTUnwrap(try spool.lock(id))
        XCTAssertNil(Spool.lock(opened: dup(early)), "held by the first runner")
        try spool.remove(id)
        first.unlockRemoved()
        DeferredCloser.shared.drain()
        XCTAssertNil(Spool.lock(opened: early), "the file has no name any more: not to be delivered again")
        XCTAssertThrowsError(try spool.lock(id))
    }

    func testAbortLeavesNothing() throws {
        let w = try QueueWriter(spool: spool, envelope: envelope())
        try w.append(Array(repeating: 65, count: 1 << 20))
        XCTAssertEqual(files("tmp").count, 1)
        w.abort()
        XCTAssertEqual(files("tmp"), [])
        XCTAssertEqual(try spool.list(), [])
    }

    func testDroppedWriterLeavesNothing() throws {
        do {
            let w = try QueueWriter(spool: spool, envelope: envelope())
            try w.append([1, 2, 3])
        }
        XCTAssertEqual(files("tmp"), [])
        XCTAssertEqual(try spool.list(), [])
    }

    func testCommitNeverReplacesAnExistingMessage() throws {
        let id = QueueID.generate()
        let first = try QueueWriter(spool: spool, envelope: envelope(id))
        try first.append(Array("first".utf8))
        _ = try first.commit()
        let second = try QueueWriter(spool: spool, envelope: envelope(id))
        try second.append(Array("second".utf8))
        XCTAssertThrowsError(try second.commit())
        let bytes = try Data(contentsOf: URL(fileURLWithPath: spool.messagePath(id)))
        XCTAssertTrue(String(decoding: bytes, as: UTF8.self).hasSuffix("first"))
        XCTAssertEqual(files("tmp"), [])
    }

    func testQueueIDsAreUniqueAndSortByTime() {
        var seen = Set<String>()
        for _ in 0..<10_000 { seen.insert(QueueID.generate()) }
        XCTAssertEqual(seen.count, 10_000)
        let a = QueueID.make(microseconds: 1_000_000, random: .max)
        let b = QueueID.make(microseconds: 1_000_001, random: 0)
        XCTAssertLessThan(a, b)
        XCTAssertTrue(QueueID.isValid(a))
        XCTAssertEqual(QueueID.arrivalSeconds(QueueID.make(microseconds: 1_795_965_220_123_456, random: 7)), 1_795_965_220)
        XCTAssertFalse(QueueID.isValid("../../etc/passwd"))
    }

    func testStateRoundTripAndPending() throws {
        let w = try QueueWriter(spool: spool, envelope: envelope())
        let e = try w.commit()
        XCTAssertEqual(try spool.state(e.id), DeliveryState())
        var s = DeliveryState()
        s.attempts = 2
        s.nextAttemptMicros = 123
        s.recipients[0] = .init(status: .deferred, dsn: "4.4.1", reason: "connect to relay[127.0.0.1]:25: Connection refused", relay: nil)
        s.recipients[1] = .init(status: .sent, dsn: "2.0.0", reason: "250 2.0.0 Ok: queued", relay: "relay[127.0.0.1]:25")
        try spool.writeState(e.id, s)
        XCTAssertEqual(try spool.state(e.id), s)
        XCTAssertEqual(s.pending(of: e), [0])
    }

    func testLocksExcludeEachOther() throws {
        let e = try QueueWriter(spool: spool, envelope: envelope()).commit()
        let lock = try XCTUnwrap(try spool.lock(e.id))
        XCTAssertTrue(spool.isLocked(e.id))
        XCTAssertNil(try spool.lock(e.id))
        lock.unlock()
        XCTAssertFalse(spool.isLocked(e.id))
        XCTAssertNotNil(try spool.lock(e.id))
    }

    func testRemove() throws {
        let e = try QueueWriter(spool: spool, envelope: envelope()).commit()
        try spool.writeState(e.id, DeliveryState())
        try spool.remove(e.id)
        XCTAssertEqual(try spool.list(), [])
        XCTAssertEqual(files("state"), [])
        XCTAssertThrowsError(try spool.remove(e.id))
    }

    func testSweepRemovesOnlyOldUnlockedTemporaryFiles() throws {
        let live = try QueueWriter(spool: spool, envelope: envelope())
        FileManager.default.createFile(atPath: spool.tmpDir + "/dead", contents: Data([1]))
        spool.sweepTemporaryFiles(olderThan: -1, now: Int(Date().timeIntervalSince1970) + 10)
        XCTAssertEqual(files("tmp"), [live.temporaryPath.split(separator: "/").last.map(String.init)!])
        live.abort()
    }

    func testCorruptAndFutureFilesAreRefused() throws {
        let id = QueueID.generate()
        FileManager.default.createFile(atPath: spool.messagePath(id), contents: Data("garbage\n".utf8))
        XCTAssertThrowsError(try spool.envelope(id)) { XCTAssertEqual(($0 as? QueueError)?.code, .corrupt) }
        let id2 = QueueID.generate()
        FileManager.default.createFile(atPath: spool.messagePath(id2), contents: Data("sealmail-queue 99\nid \(id2)\nmessage\n".utf8))
        XCTAssertThrowsError(try spool.envelope(id2)) { XCTAssertTrue(($0 as! QueueError).message.contains("newer")) }
    }
}
