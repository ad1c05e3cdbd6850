/// Date and Message-ID generation (RFC 5322 3.3 and 3.6.4). Pure: the clock, the time zone
/// offset and the unique part are passed in, so outputs are reproducible in tests.
public enum MessageDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Broken-down civil time for `epochSeconds + utcOffset` (proleptic Gregorian).
    public static func civil(_ epochSeconds: Int64, utcOffset: Int)
        -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int) {
        let t = epochSeconds + Int64(utcOffset)
        var daysSinceEpoch = t / 86400
        var secs = t % 86400
        if secs < 0 { secs += 86400; daysSinceEpoch -= 1 }
        // Howard Hinnant's days_from_civil inverse.
        let z = daysSinceEpoch + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        var y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        if m <= 2 { y += 1 }
        var wd = (daysSinceEpoch + 4) % 7
        if wd < 0 { wd += 7 }
        return (Int(y), Int(m), Int(d), Int(secs / 3600), Int(secs % 3600 / 60), Int(secs % 60), Int(wd))
    }

    /// `Sun, 29 Nov 2026 15:01:55 +0100` (RFC 5322 3.3), English names whatever the locale.
    public static func format(epochSeconds: Int64, utcOffset: Int) -> String {
        let c = civil(epochSeconds, utcOffset: utcOffset)
        let sign = utcOffset < 0 ? "-" : "+"
        let off = abs(utcOffset) / 60
        return "\(days[c.weekday]), \(c.day) \(months[c.month - 1]) \(c.year) "
            + "\(pad2(c.hour)):\(pad2(c.minute)):\(pad2(c.second)) \(sign)\(pad2(off / 60))\(pad2(off % 60))"
    }

    /// `YYYYMMDDhhmmss` in UTC, as used in Message-IDs and Postfix's logs.
    public static func compactUTC(epochSeconds: Int64) -> String {
        let c = civil(epochSeconds, utcOffset: 0)
        return "\(c.year)\(pad2(c.month))\(pad2(c.day))\(pad2(c.hour))\(pad2(c.minute))\(pad2(c.second))"
    }

    /// `Nov 29 15:01:55` (Postfix's mailq arrival-time column).
    public static func mailqStamp(epochSeconds: Int64, utcOffset: Int) -> String {
        let c = civil(epochSeconds, utcOffset: utcOffset)
        let day = c.day < 10 ? " \(c.day)" : "\(c.day)"
        return "\(days[c.weekday]) \(months[c.month - 1]) \(day) \(pad2(c.hour)):\(pad2(c.minute)):\(pad2(c.second))"
    }

    static func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
}

/// Message-ID generation (RFC 5322 3.6.4): `<YYYYMMDDhhmmss.UNIQUE@host>`, unique because
/// the queue id is unique across processes and machines.
public enum MessageIdentifier {
    public static func make(epochSeconds: Int64, unique: String, host: String) -> String {
        "<\(MessageDate.compactUTC(epochSeconds: epochSeconds)).\(unique)@\(host)>"
    }
}
