/// Delivery progress of a queued message: attempts, the retry schedule and what became of
/// each recipient. Kept in `state/ID`, replaced atomically (never edited in place), so the
/// message file itself is never rewritten.
public struct DeliveryState: Equatable, Sendable {
    public static let currentVersion = 1

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

    public init() {}

    /// Recipients still to deliver (never tried, or deferred).
    public func pending(of envelope: QueuedEnvelope) -> [Int] {
        envelope.recipients.indices.filter { i in
            guard let r = recipients[i] else { return true }
            return r.status == .deferred
        }
    }

    func encode() -> [UInt8] {
        var t = "sealmail-state \(Self.currentVersion)\n"
        t += "attempts \(attempts)\n"
        if let v = firstAttemptMicros { t += "first_attempt \(v)\n" }
        if let v = lastAttemptMicros { t += "last_attempt \(v)\n" }
        if let v = nextAttemptMicros { t += "next_attempt \(v)\n" }
        for i in recipients.keys.sorted() {
            let r = recipients[i]!
            t += "rcpt \(i) \(r.status.rawValue) \(RecordText.encode(r.dsn)) \(RecordText.encode(r.relay ?? "-")) \(RecordText.encode(r.reason))\n"
        }
        return Array(t.utf8)
    }

    static func decode(_ bytes: [UInt8]) throws -> DeliveryState {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\n")
        guard let first = lines.first, first.hasPrefix("sealmail-state ") else {
            throw QueueError(.corrupt, "not a sealmail state file")
        }
        lines.removeFirst()
        var s = DeliveryState()
        for line in lines {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            switch parts[0] {
            case "attempts": s.attempts = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            case "first_attempt": s.firstAttemptMicros = parts.count > 1 ? UInt64(parts[1]) : nil
            case "last_attempt": s.lastAttemptMicros = parts.count > 1 ? UInt64(parts[1]) : nil
            case "next_attempt": s.nextAttemptMicros = parts.count > 1 ? UInt64(parts[1]) : nil
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
