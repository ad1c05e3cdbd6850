#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MailMessage
import MailPolicy
import MailQueue
import SMTPProtocol
import SMTPTransport

/// What a queue run should do.
public struct QueueRunOptions: Sendable {
    /// Try every message now, whatever its retry time (`-q`, `-qI…`, `sealctl queue flush`).
    public var force = true
    /// Only these messages (`-odi`, `-odb`: the one just queued).
    public var ids: [String]?
    /// `-qI`, `-qR`, `-qS` substrings.
    public var filter: SendmailOptions.QueueRun?
    /// `-v`: the SMTP dialogue on stderr, AUTH data redacted.
    public var trace = false
    /// `-odi`: permanent refusals are reported to the caller (exit status, stderr) and not
    /// bounced by mail.
    public var reportPermanentFailures = false
    /// Sessions opened in parallel.
    public var connections = 4
    /// `-odi`: the most the run may take, in seconds (`interactive_timeout`). When it has
    /// passed, the SMTP delivery in progress is cut short and whatever is left stays queued,
    /// its delay reason saying so.
    public var timeLimit: Int?
    public init() {}
}

/// sealmail's queue run: MailQueue's `QueueManager` (locks, retry state, bounces, logs) with
/// sealmail's delivery agent (`SendmailDeliveryAgent`: local mailboxes and the configured
/// relays, in order, the next on a connection failure or a 4xx greeting), the config's
/// lifetime and connections, syslog, and bounces to local senders through the aliases.
public final class QueueRunner: @unchecked Sendable {
    let rt: Runtime
    let options: QueueRunOptions
    let manager: QueueManager
    /// When `options.timeLimit` ends the run.
    private(set) var runDeadline: Deadline?

    public init(runtime: Runtime, options: QueueRunOptions) {
        rt = runtime
        self.options = options
        var s = QueueRunSettings(reportingHost: runtime.hostname, postmasterDomain: runtime.domain, log: runtime.log)
        s.force = options.force
        s.ids = options.ids
        if let f = options.filter { s.filter = { env, state in Self.matches(env, state, f) } }
        s.reportPermanentFailures = options.reportPermanentFailures
        s.workers = options.connections
        s.lifetime = runtime.config.maxQueueLifetime
        s.clock = runtime.clock
        s.random = runtime.random
        // The sender may be a local mailbox (or an alias): resolved like any recipient.
        s.bounceRecipients = { sender in
            if let resolver = try? LocalResolver.make(runtime, noAliases: false),
               let box = AddressParser.parseList(sender).mailboxes.first {
                let resolved = resolver.resolve(box).filter { $0.error == nil }
                if !resolved.isEmpty { return resolved }
            }
            return [QueuedRecipient(address: sender)]
        }
        // The agents reach this runner (options, time limit) through a weak reference: the
        // manager is this runner's, so a strong one would be a cycle.
        let box = WeakRunner()
        manager = QueueManager(spool: runtime.spool, settings: s) { SendmailDeliveryAgent(runner: box.runner!) }
        box.runner = self
    }

    private final class WeakRunner: @unchecked Sendable { weak var runner: QueueRunner? }

    /// Recipients sent, deferred and failed, and messages handled, in this run.
    public var summary: (sent: Int, deferred: Int, failed: Int, messages: Int) { manager.summary }
    /// Why the run stopped before the end; nil when it went through.
    public var stopReason: String? { manager.stopReason }

    /// The delay reason of what the time limit cut short.
    var interruptedReason: String {
        "delivery interrupted after \(options.timeLimit ?? 0) s (interactive_timeout); left for the next queue run"
    }

    /// One pass over the queue (or over `options.ids`).
    @discardableResult
    public func run() throws -> [String: MessageReport] {
        runDeadline = options.timeLimit.map { Deadline.after(Double($0)) }
        return try manager.run()
    }

    /// `-qI`, `-qS`, `-qR`: substrings, as bytes (ASCII case folded for addresses), so a
    /// combining mark after the text does not hide it.
    static func matches(_ env: QueuedEnvelope, _ state: DeliveryState, _ f: SendmailOptions.QueueRun) -> Bool {
        func has(_ text: String, _ part: String) -> Bool { text.utf8.firstRange(of: part.utf8) != nil }
        if let s = f.idFilter, !has(env.id, s) { return false }
        if let s = f.senderFilter?.asciiLowercased(), !has(env.sender.asciiLowercased(), s) { return false }
        if let s = f.recipientFilter?.asciiLowercased(),
           !state.pending(of: env).contains(where: { has(env.recipients[$0].address.asciiLowercased(), s) }) { return false }
        return true
    }
}
