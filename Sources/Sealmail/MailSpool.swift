#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MailQueue

/// A queue of messages in sealmail's own format (DESIGN.md "Queue"; the seed's QueueDir,
/// Queue and ProcessQueue): what `enqueue` writes, `sealmail -q` delivers when its
/// `queue_dir` is this folder, and `Mailer.processQueue` delivers what sealmail queued.
///
/// `enqueue` has sealmail's guarantee: once it returns, the message survives a crash (each
/// copy fsync'd in tmp/, all linked into messages/, the folder fsync'd); when it throws,
/// nothing was queued.
public final class MailSpool: Sendable {
    /// The queue folder (tmp/, messages/, state/ below it).
    public let directory: String
    /// KeepQueue: delivered messages are kept (moved to `sent/`) instead of deleted.
    public let keepQueue: Bool
    let spool: Spool
    /// The host name in generated Message-IDs.
    let hostname: String

    /// Opens (creating when needed) the queue at `directory`.
    /// - Throws: `MailError(.queue)` when the folders cannot be made or written.
    public init(directory: String, keepQueue: Bool = false, hostname: String? = nil) throws {
        self.directory = directory
        self.keepQueue = keepQueue
        self.hostname = hostname ?? Self.localHostName()
        spool = Spool(root: directory)
        do {
            try spool.prepare()
        } catch let e as QueueError {
            throw MailError(.queue, e.description, transient: e.code == .noSpace, underlying: e)
        }
    }

    /// Queues `mail` and returns the id of its (first) queue file. A signed or encrypted
    /// message with Bcc recipients is several queue files (`enqueueCopies` returns every id).
    @discardableResult
    public func enqueue(_ mail: Mail) throws -> String {
        try enqueueCopies(mail)[0]
    }

    /// Queues `mail`; returns the id of each queue file (one per planned copy).
    public func enqueueCopies(_ mail: Mail) throws -> [String] {
        let prepared = try PreparedMail(mail, hostname: hostname)
        let now = Date()
        let micros = UInt64(now.timeIntervalSince1970 * 1_000_000)
        let notify = Self.notifyText(mail.deliveryNotification)
        var writers: [QueueWriter] = []
        do {
            for (n, copy) in prepared.copies.enumerated() {
                let id = QueueID.make(microseconds: micros + UInt64(n), random: UInt64.random(in: 0...UInt64.max))
                var envelope = QueuedEnvelope(id: id, arrivalMicros: micros, sender: prepared.composed.sender,
                                              recipients: copy.recipients.map { QueuedRecipient(address: $0, notify: notify) },
                                              uid: getuid(), user: Self.userName())
                envelope.ret = mail.deliveryNotificationReturn?.rawValue
                envelope.messageID = "<\(prepared.composed.messageID)>"
                let writer = try QueueWriter(spool: spool, envelope: envelope)
                writers.append(writer)
                try writer.appendDirectly { fd in try prepared.render(copy, to: fd, tmpDir: spool.tmpDir) }
            }
            return try QueueWriter.commit(writers).map(\.id)
        } catch let e as QueueError {
            for w in writers { w.abort() }
            throw MailError(.queue, e.description, transient: e.code == .noSpace || e.code == .locked, underlying: e)
        } catch {
            for w in writers { w.abort() }
            throw error
        }
    }

    /// The ids of the messages queued now, oldest first.
    public func queuedIDs() throws -> [String] {
        do { return try spool.list() } catch let e as QueueError { throw MailError(.queue, e.description, underlying: e) }
    }

    static func notifyText(_ n: DSNNotify) -> String? {
        guard !n.isEmpty else { return nil }
        return [n.contains(.success) ? "success" : nil, n.contains(.delay) ? "delay" : nil,
                n.contains(.failure) ? "failure" : nil].compactMap { $0 }.joined(separator: ",")
    }

    static func userName() -> String {
        guard let pw = getpwuid(getuid()) else { return "uid\(getuid())" }
        return String(cString: pw.pointee.pw_name)
    }

    static func localHostName() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, buf.count - 1)
        let name = String(cString: buf)
        return name.isEmpty ? "localhost" : name
    }
}
