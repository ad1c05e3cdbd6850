import XCTest
import Foundation
import MailQueue
@testable import SendmailKit

/// Local recipients: aliases at submission, mbox delivery with its locks and its failures.
final class LocalDeliveryTests: XCTestCase {
    var dir: String!
    var user: String { String(cString: getpwuid(getuid())!.pointee.pw_name) }

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "sealmail-local-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/spool", withIntermediateDirectories: true)
        try "postmaster: \(user)\nteam: \(user), remote@x.example\nloopa: loopb\nloopb: loopa\n"
            .write(toFile: dir + "/aliases", atomically: true, encoding: .utf8)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func runtime() throws -> Runtime {
        let text = """
        hostname = "host.example.com"
        domain = "host.example.com"
        queue_dir = "\(dir!)/q"
        aliases = "\(dir!)/aliases"
        mail_spool = "\(dir!)/spool"
        """
        try text.write(toFile: dir + "/cfg.toml", atomically: true, encoding: .utf8)
        return try Runtime.load(configOption: dir + "/cfg.toml", verbose: false)
    }

    func submit(_ rt: Runtime, _ args: [String], _ text: String) throws -> QueuedEnvelope {
        var o = try SendmailOptions.parse(args)
        o.deliveryMode = .queue
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        let b = Array(text.utf8)
        _ = b.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
        close(fds[1]); defer { close(fds[0]) }
        return try Submission.submit(o, runtime: rt, inputFD: fds[0]).envelope
    }

    func run(_ rt: Runtime) throws -> [String: MessageReport] {
        try QueueRunner(runtime: rt, options: QueueRunOptions()).run()
    }

    var mailbox: String { (try? String(contentsOfFile: dir + "/spool/" + user, encoding: .utf8)) ?? "" }

    func testAliasesResolvedAtSubmission() throws {
        let rt = try runtime()
        let e = try submit(rt, ["postmaster", "team", "loopa", "someone@elsewhere.example"], "Subject: x\n\nhi\n")
        XCTAssertEqual(e.recipients.map(\.address), [user, "remote@x.example", "loopa", "someone@elsewhere.example"])
        XCTAssertEqual(e.recipients.map(\.local), [true, false, true, false])
        XCTAssertTrue(e.recipients[2].error?.contains("alias loop") ?? false)
        // -n: no alias expansion.
        let n = try submit(rt, ["-n", "postmaster"], "x\n")
        XCTAssertEqual(n.recipients.map(\.address), ["postmaster"])
        XCTAssertTrue(n.recipients[0].error?.contains("unknown local user") ?? false)
    }

    func testMboxFormatAndQuoting() throws {
        let rt = try runtime()
        _ = try submit(rt, ["-i", "-f", "sender@example.com", user], "Subject: mbox\n\nFrom the start\n>From quoted\nlast line\n")
        let r = try run(rt)
        XCTAssertEqual(r.values.first?.accepted, [user])
        let box = mailbox
        XCTAssertTrue(box.hasPrefix("From sender@example.com "), box)
        XCTAssertTrue(box.contains("\nReturn-Path: <sender@example.com>\n"))
        XCTAssertTrue(box.contains("\n>From the start\n>>From quoted\nlast line\n\n"), box)
        XCTAssertFalse(box.contains("\r"), "mbox has LF line ends")
        XCTAssertEqual(try rt.spool.list(), [])
        // A second message is appended after the first, with its own From_ line.
        _ = try submit(rt, [user], "Subject: second\n\nx\n")
        _ = try run(rt)
        XCTAssertEqual(mailbox.components(separatedBy: "\nFrom root").count + mailbox.components(separatedBy: "\nFrom \(user)").count - 2 >= 1, true)
        XCTAssertTrue(mailbox.contains("Subject: mbox") && mailbox.contains("Subject: second"))
    }

    func testLockedMailboxDefersAndKeepsTheMessage() throws {
        let rt = try runtime()
        let e = try submit(rt, [user], "Subject: locked\n\nx\n")
        FileManager.default.createFile(atPath: dir + "/spool/\(user).lock", contents: Data())
        let r = try run(rt)
        XCTAssertEqual(r[e.id]?.deferred.count, 1)
        XCTAssertTrue(r[e.id]?.deferred[0].reason.contains("locked") ?? false)
        XCTAssertEqual(try rt.spool.list(), [e.id])
        XCTAssertEqual(mailbox, "")
        try FileManager.default.removeItem(atPath: dir + "/spool/\(user).lock")
        _ = try run(rt)
        XCTAssertEqual(try rt.spool.list(), [])
        XCTAssertTrue(mailbox.contains("Subject: locked"))
    }

    func testUnknownUserAndLoopBounceToTheSender() throws {
        let rt = try runtime()
        _ = try submit(rt, ["-f", user, "no-such-user-xyz", "loopa"], "Subject: lost\n\nx\n")
        _ = try run(rt)
        let box = mailbox  // the bounce went to the (local) sender
        XCTAssertTrue(box.contains("Undelivered Mail Returned to Sender"), box)
        XCTAssertTrue(box.contains("Final-Recipient: rfc822; no-such-user-xyz"))
        XCTAssertTrue(box.contains("Status: 5.1.1"))
        XCTAssertTrue(box.contains("Status: 5.4.6"))
        XCTAssertEqual(try rt.spool.list(), [])
    }

    func testMboxSymlinkRefused() throws {
        let rt = try runtime()
        try FileManager.default.createSymbolicLink(atPath: dir + "/spool/" + user, withDestinationPath: dir + "/target")
        let e = try submit(rt, [user], "x\n")
        let r = try run(rt)
        XCTAssertEqual(r[e.id]?.deferred.count, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/target"))
    }

    /// /var/mail/USER as a symbolic link or a second hard link to a victim, and USER.lock as
    /// a link to it: delivery (as root) refuses with the reason, the victim is unchanged,
    /// the message stays queued; once the mailbox is a plain file again it is delivered.
    func testMailboxLinkedToAVictimIsNeverWritten() throws {
        let rt = try runtime()
        let victim = dir + "/victim", box = dir + "/spool/" + user
        let precious = "root's precious file\n"
        try precious.write(toFile: victim, atomically: false, encoding: .utf8)
        let e = try submit(rt, [user], "Subject: attack\n\nx\n")

        XCTAssertEqual(symlink(victim, box), 0)
        var r = try run(rt)
        XCTAssertTrue(r[e.id]?.deferred.first?.reason.contains("symbolic link") ?? false, "\(String(describing: r[e.id]))")
        unlink(box)

        XCTAssertEqual(link(victim, box), 0)
        r = try run(rt)
        XCTAssertTrue(r[e.id]?.deferred.first?.reason.contains("2 hard links") ?? false, "\(String(describing: r[e.id]))")
        unlink(box)

        XCTAssertEqual(symlink(victim, box + ".lock"), 0)
        r = try run(rt)
        XCTAssertTrue(r[e.id]?.deferred.first?.reason.contains("locked") ?? false, "\(String(describing: r[e.id]))")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: box + ".lock"), victim, "a live lock is left alone")
        unlink(box + ".lock")

        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), precious)
        XCTAssertEqual(try rt.spool.list(), [e.id])
        r = try run(rt)
        XCTAssertEqual(r[e.id]?.accepted, [user])
        XCTAssertTrue(mailbox.contains("Subject: attack"))
        var st = stat()
        XCTAssertEqual(lstat(box, &st), 0)
        XCTAssertEqual(st.st_nlink, 1)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFREG)
    }

    /// As root, a mailbox owned by another user is not written (it is not the recipient's);
    /// a missing one is created for the recipient.
    func testMailboxOfAnotherOwnerIsRefused() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (ownership of the mailbox)") }
        let rt = try runtime()
        let box = dir + "/spool/" + user
        FileManager.default.createFile(atPath: box, contents: Data("old\n".utf8))
        XCTAssertEqual(chown(box, 65534, 65534), 0)
        let e = try submit(rt, [user], "Subject: owner\n\nx\n")
        let r = try run(rt)
        XCTAssertTrue(r[e.id]?.deferred.first?.reason.contains("belongs to uid 65534") ?? false, "\(String(describing: r[e.id]))")
        XCTAssertEqual(mailbox, "old\n")
    }
}
