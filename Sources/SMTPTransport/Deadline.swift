import Glibc

/// A point on the monotonic clock (CLOCK_MONOTONIC), in nanoseconds: what every wait of the
/// transport is bounded by (poll(2) gets the time left). Public so that a caller can bound a
/// whole delivery attempt (`SMTPClient.setDeadline`).
public struct Deadline: Hashable, Sendable, Comparable {
    /// Nanoseconds on the monotonic clock.
    public let nanoseconds: Int64

    /// The monotonic clock now, in nanoseconds.
    public static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// `seconds` from now.
    public static func after(_ seconds: Double) -> Deadline {
        Deadline(nanoseconds: now() + Int64(min(seconds, 1e9) * 1_000_000_000))
    }

    /// The earliest of `first` and the others that are set.
    public static func earliest(_ first: Deadline, _ others: Deadline?...) -> Deadline {
        others.reduce(first) { current, other in other.map { Swift.min(current, $0) } ?? current }
    }

    public static func < (a: Deadline, b: Deadline) -> Bool { a.nanoseconds < b.nanoseconds }

    /// Milliseconds left for poll(2): at least 0, rounded up.
    var remainingMilliseconds: Int32 {
        let left = nanoseconds - Deadline.now()
        if left <= 0 { return 0 }
        return Int32(min(Int64(Int32.max), (left + 999_999) / 1_000_000))
    }

    /// Seconds left (negative once passed).
    public var remainingSeconds: Double { Double(nanoseconds - Deadline.now()) / 1e9 }

    /// True once the point is reached.
    public var hasPassed: Bool { Deadline.now() >= nanoseconds }
}
