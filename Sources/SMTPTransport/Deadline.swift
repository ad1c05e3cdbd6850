import Glibc

/// A point on the monotonic clock (CLOCK_MONOTONIC), in nanoseconds.
struct Deadline {
    let nanoseconds: Int64

    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// `seconds` from now.
    static func after(_ seconds: Double) -> Deadline {
        Deadline(nanoseconds: now() + Int64(seconds * 1_000_000_000))
    }

    /// Milliseconds left for poll(2): at least 0, rounded up.
    var remainingMilliseconds: Int32 {
        let left = nanoseconds - Deadline.now()
        if left <= 0 { return 0 }
        return Int32(min(Int64(Int32.max), (left + 999_999) / 1_000_000))
    }

    var hasPassed: Bool { Deadline.now() >= nanoseconds }
}
