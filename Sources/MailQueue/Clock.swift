#if canImport(Glibc)
import Glibc
#endif

/// The clock and this zone's offset from UTC, read once.
public struct Clock: Sendable {
    public var epochSeconds: Int64
    public var microseconds: UInt64
    public var utcOffset: Int

    public init(epochSeconds: Int64, microseconds: UInt64, utcOffset: Int) {
        self.epochSeconds = epochSeconds
        self.microseconds = microseconds
        self.utcOffset = utcOffset
    }

    public static func now() -> Clock {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = time_t(ts.tv_sec)
        var tmv = tm()
        localtime_r(&t, &tmv)
        return Clock(epochSeconds: Int64(ts.tv_sec), microseconds: UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec / 1000),
                     utcOffset: Int(tmv.tm_gmtoff))
    }
}
