#if canImport(Glibc)
import Glibc
#endif

/// Queue ids: 9 base-62 characters of microseconds since 1970 followed by 7 of randomness
/// (41 bits from getrandom). They sort by arrival, are unique across processes and across
/// machines that share nothing (the random part), and the rename into the queue refuses to
/// replace an existing id (RENAME_NOREPLACE), so a collision can never overwrite mail.
public enum QueueID {
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// A new id for a message arriving at `microseconds` since the epoch.
    public static func make(microseconds: UInt64, random: UInt64) -> String {
        var out = [UInt8](repeating: 0, count: 16)
        var t = microseconds
        for i in stride(from: 8, through: 0, by: -1) { out[i] = alphabet[Int(t % 62)]; t /= 62 }
        var r = random
        for i in 9..<16 { out[i] = alphabet[Int(r % 62)]; r /= 62 }
        return String(decoding: out, as: UTF8.self)
    }

    /// A new id from the clock and the system's random source.
    public static func generate() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let micros = UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec / 1000)
        return make(microseconds: micros, random: UInt64.random(in: 0...UInt64.max))
    }

    /// Whether `s` has the shape of a queue id (so that it is safe as a file name).
    public static func isValid(_ s: String) -> Bool {
        s.utf8.count == 16 && s.utf8.allSatisfy { alphabet.contains($0) }
    }

    /// The arrival time encoded in an id, in seconds.
    public static func arrivalSeconds(_ id: String) -> Int64? {
        guard isValid(id) else { return nil }
        var t: UInt64 = 0
        for c in id.utf8.prefix(9) {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            t = t * 62 + UInt64(v)
        }
        return Int64(t / 1_000_000)
    }
}
