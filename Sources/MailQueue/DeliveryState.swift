/// Delivery progress of a queued message: attempts, the retry schedule and what became of
/// each recipient. Kept in `state/ID` (see `StateFile`), so that the message file itself is
/// never rewritten.
public struct DeliveryState: Equatable, Sendable {
    /// The format `StateFile` writes: 2, two slots written in place in a file reserved
    /// before the first delivery attempt. Version 1 (one text record, replaced by rename) is
    /// still read.
    public static let currentVersion = 2

    /// What happened to one recipient.
    public enum Status: String, Sendable {
        /// A temporary failure; tried again later. The reason is shown by mailq.
        case deferred
        /// Accepted by a relay (or delivered locally).
        case sent
        /// Refused for good; a bounce was sent (or the caller was told, with -odi).
        case failed
    }

    public struct Recipient: Equatable, Sendable {
        public var status: Status
        /// RFC 3463 status, e.g. 4.4.1.
        public var dsn: String
        /// The reason in words (the relay's reply verbatim, or our own text).
        public var reason: String
        /// `host[ip]:port` that answered, if any.
        public var relay: String?
        public init(status: Status, dsn: String, reason: String, relay: String? = nil) {
            self.status = status; self.dsn = dsn; self.reason = reason; self.relay = relay
        }
    }

    public var attempts = 0
    public var firstAttemptMicros: UInt64?
    public var lastAttemptMicros: UInt64?
    public var nextAttemptMicros: UInt64?
    /// By index into the envelope's recipients; absent means not tried yet.
    public var recipients: [Int: Recipient] = [:]
    /// Failed recipients whose bounce is not queued yet: recorded with their failure, before
    /// the bounce is written, so that a bounce that cannot be queued now (a full disk) is
    /// queued by a later run, and the recipients are not tried again.
    public var bouncePending: Set<Int> = []

    public init() {}

    /// Recipients still to deliver (never tried, or deferred).
    public func pending(of envelope: QueuedEnvelope) -> [Int] {
        envelope.recipients.indices.filter { i in
            guard let r = recipients[i] else { return true }
            return r.status == .deferred
        }
    }

    /// Whether nothing is left to do: every recipient final and no bounce waiting.
    public func isFinished(of envelope: QueuedEnvelope) -> Bool {
        bouncePending.isEmpty && pending(of: envelope).isEmpty
    }

    /// The payload bytes to reserve per slot for a message of `recipients` recipients: room
    /// for the fixed lines and, per recipient, its status line with a reason of a few hundred
    /// bytes (longer reasons are cut to what the slot holds; statuses never are).
    static func reservedPayload(recipients: Int) -> Int { 512 + max(recipients, 1) * 384 }

    /// The lines of the state (the payload of a version-2 slot), at most `capacity` bytes:
    /// reasons are shortened, the longest first, to fit. nil when even the statuses do not fit
    /// (a state of more recipients than the slot was reserved for).
    func encodeLines(capacity: Int) -> [UInt8]? {
        var head = "attempts \(attempts)\n"
        if let v = firstAttemptMicros { head += "first_attempt \(v)\n" }
        if let v = lastAttemptMicros { head += "last_attempt \(v)\n" }
        if let v = nextAttemptMicros { head += "next_attempt \(v)\n" }
        if !bouncePending.isEmpty {
            head += "bounce_pending " + bouncePending.sorted().map(String.init).joined(separator: ",") + "\n"
        }
        let indices = recipients.keys.sorted()
        // Everything but the reasons: never shortened (the relay and an over-long DSN are
        // bounded instead, so that they cannot crowd out the statuses).
        let fixed = indices.map { i -> String in
            let r = recipients[i]!
            return "rcpt \(i) \(r.status.rawValue) \(RecordText.encode(r.dsn, limit: 16)) \(RecordText.encode(r.relay ?? "-", limit: 128)) "
        }
        let reasons = indices.map { RecordText.encode(recipients[$0]!.reason) }
        var room = capacity - head.utf8.count - fixed.reduce(0) { $0 + $1.utf8.count + 1 }
        guard room >= 0 else { return nil }
        // Equal shares, what a short reason leaves going to the longer ones.
        var limits = [Int](repeating: 0, count: indices.count)
        var left = indices.count
        for k in reasons.indices.sorted(by: { reasons[$0].utf8.count < reasons[$1].utf8.count }) {
            let share = room / left
            limits[k] = min(reasons[k].utf8.count, share)
            room -= limits[k]
            left -= 1
        }
        var out = Array(head.utf8)
        for (k, i) in indices.enumerated() {
            let reason = limits[k] == reasons[k].utf8.count ? reasons[k]
                : RecordText.encode(recipients[i]!.reason, limit: limits[k])
            out += Array(fixed[k].utf8) + Array(reason.utf8) + [10]
        }
        return out
    }

    /// A version-1 state file (`sealmail-state 1` and the lines), as builds before the
    /// reserved format wrote them; still read, never written.
    static func decode(_ bytes: [UInt8]) throws -> DeliveryState {
        let lines = bytes.split(separator: 10)
        guard let first = lines.first, first.starts(with: Array("sealmail-state ".utf8)) else {
            throw QueueError(.corrupt, "not a sealmail state file")
        }
        guard String(decoding: first, as: UTF8.self) == "sealmail-state 1" else {
            throw QueueError(.corrupt, "state file of a newer version (\(String(decoding: first, as: UTF8.self))): upgrade sealmail")
        }
        return decodeLines(lines.dropFirst())
    }

    /// The state from its lines (version 1 after its first line, version 2 slots); unknown
    /// keys are skipped.
    static func decodeLines<S: Sequence>(_ lines: S) -> DeliveryState where S.Element == ArraySlice<UInt8> {
        var s = DeliveryState()
        for raw in lines {
            let line = String(decoding: raw, as: UTF8.self)
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            switch parts[0] {
            case "attempts": s.attempts = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            case "first_attempt": s.firstAttemptMicros = parts.count > 1 ? UInt64(parts[1]) : nil
            case "last_attempt": s.lastAttemptMicros = parts.count > 1 ? UInt64(parts[1]) : nil
            case "next_attempt": s.nextAttemptMicros = parts.count > 1 ? UInt64(parts[1]) : nil
            case "bounce_pending":
                if parts.count > 1 { s.bouncePending = Set(parts[1].split(separator: ",").compactMap { Int($0) }) }
            case "rcpt":
                guard parts.count >= 6, let i = Int(parts[1]), let st = Status(rawValue: String(parts[2])) else { continue }
                let relay = RecordText.decode(parts[4])
                s.recipients[i] = Recipient(status: st, dsn: RecordText.decode(parts[3]),
                                            reason: RecordText.decode(parts[5]), relay: relay == "-" ? nil : relay)
            default: break
            }
        }
        return s
    }
}
