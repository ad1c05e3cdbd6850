/// When to try a deferred message again, and when to give up (DESIGN.md "Queue": retry with
/// backoff up to a lifetime, then a bounce). Postfix's defaults: the wait doubles from
/// `minimal_backoff_time` (300 s) up to `maximal_backoff_time` (4000 s); the lifetime is
/// `maximal_queue_lifetime` (5 days).
public struct RetrySchedule: Equatable, Sendable {
    public var minimalBackoff: UInt64 = 300
    public var maximalBackoff: UInt64 = 4000
    /// Seconds after arrival when pending recipients are bounced.
    public var lifetime: UInt64 = 5 * 86400

    public init(lifetime: Int = 5 * 86400) { self.lifetime = UInt64(max(0, lifetime)) }

    /// The next attempt after the `attempts`-th failed one, in microseconds since the epoch.
    public func nextAttempt(afterAttempts attempts: Int, nowMicros: UInt64) -> UInt64 {
        var wait = minimalBackoff
        var n = max(1, attempts)
        while n > 1 && wait < maximalBackoff { wait *= 2; n -= 1 }
        return nowMicros + min(wait, maximalBackoff) * 1_000_000
    }

    /// Whether a message that arrived at `arrivalMicros` has outlived the queue.
    public func isExpired(arrivalMicros: UInt64, nowMicros: UInt64) -> Bool {
        nowMicros >= arrivalMicros + lifetime * 1_000_000
    }

    /// Whether a message is due for an attempt now.
    public func isDue(_ state: DeliveryState, nowMicros: UInt64) -> Bool {
        guard let next = state.nextAttemptMicros else { return true }
        return next <= nowMicros
    }
}
