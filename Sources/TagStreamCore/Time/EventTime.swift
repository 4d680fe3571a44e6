/// Event-time arithmetic: instants are integer epoch milliseconds, as in SPEC §3.
public enum EventTime {
    public static let second: Int64 = 1_000
    public static let minute: Int64 = 60_000
    public static let hour: Int64 = 3_600_000
    public static let day: Int64 = 86_400_000

    /// Instants the engine accepts: years 0001 to 9999, as RFC 3339 can write them.
    public static let supportedRange: ClosedRange<Int64> = -62_135_596_800_000...253_402_300_799_999

    /// The first UTC midnight at or after `instant`.
    public static func midnight(atOrAfter instant: Int64) -> Int64 {
        let floor = floorDiv(instant, day) * day
        return floor == instant ? instant : floor + day
    }

    /// Whether `instant` is a UTC midnight.
    public static func isMidnight(_ instant: Int64) -> Bool {
        instant - floorDiv(instant, day) * day == 0
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Year, month and day of the proleptic Gregorian calendar for a count of days since
    /// 1970-01-01 (Howard Hinnant's `civil_from_days`).
    public static func civil(fromDays z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Parses an RFC 3339 timestamp (`2026-03-01T08:15:30.123Z`, `t`/`z` allowed, `±hh:mm`
    /// offsets); fraction digits beyond milliseconds are truncated. Nil when malformed.
    public static func parseRFC3339<C: Collection>(_ text: C) -> Int64? where C.Element == UInt8, C.Index == Int {
        var i = text.startIndex
        let end = text.endIndex
        func digits(_ n: Int) -> Int64? {
            guard end - i >= n else { return nil }
            var value: Int64 = 0
            for _ in 0..<n {
                let c = text[i]
                guard c >= 0x30, c <= 0x39 else { return nil }
                value = value * 10 + Int64(c - 0x30)
                i += 1
            }
            return value
        }
        func expect(_ byte: UInt8) -> Bool {
            guard i < end, text[i] == byte else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(0x2D), let month = digits(2), expect(0x2D), let day = digits(2),
              i < end, text[i] == 0x54 || text[i] == 0x74 else { return nil }
        i += 1
        guard let hour = digits(2), expect(0x3A), let minute = digits(2), expect(0x3A), let second = digits(2)
        else { return nil }
        guard month >= 1, month <= 12, day >= 1, day <= daysInMonth(year: year, month: month),
              hour <= 23, minute <= 59, second <= 59 else { return nil }
        var millis: Int64 = 0
        if i < end, text[i] == 0x2E {
            i += 1
            var count = 0
            while i < end, text[i] >= 0x30, text[i] <= 0x39 {
                if count < 3 { millis = millis * 10 + Int64(text[i] - 0x30) }
                count += 1
                i += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<max(count, 3) { millis *= 10 }
        }
        guard i < end else { return nil }
        var offsetMinutes: Int64 = 0
        switch text[i] {
        case 0x5A, 0x7A:
            i += 1
        case 0x2B, 0x2D:
            let sign: Int64 = text[i] == 0x2D ? -1 : 1
            i += 1
            guard let oh = digits(2), expect(0x3A), let om = digits(2), oh <= 23, om <= 59 else { return nil }
            offsetMinutes = sign * (oh * 60 + om)
        default:
            return nil
        }
        guard i == end else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let local = ((days * 24 + hour) * 60 + minute) * 60 + second
        return (local - offsetMinutes * 60) * 1000 + millis
    }

    /// Formats an instant as RFC 3339 UTC with milliseconds, for people.
    public static func format(_ instant: Int64) -> String {
        let days = floorDiv(instant, day)
        let (y, m, d) = civil(fromDays: days)
        var rest = instant - days * day
        let ms = rest % 1000; rest /= 1000
        let s = rest % 60; rest /= 60
        let mi = rest % 60
        let h = rest / 60
        func pad(_ v: Int64, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        var out = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2))"
        if ms != 0 { out += ".\(pad(ms, 3))" }
        return out + "Z"
    }
}
