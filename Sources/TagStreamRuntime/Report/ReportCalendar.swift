import TagStreamCore

/// UTC days, ISO weeks and months of event time, as the report groups its figures.
public enum ReportCalendar {
    /// Days since 1970-01-01 of the UTC day holding `instant`.
    public static func dayIndex(_ instant: Int64) -> Int64 {
        let q = instant / EventTime.day
        return instant % EventTime.day < 0 ? q - 1 : q
    }

    /// The UTC midnight that starts a day.
    public static func start(ofDay day: Int64) -> Int64 { day * EventTime.day }

    /// `2026-03-01`.
    public static func dateLabel(day: Int64) -> String {
        let (y, m, d) = EventTime.civil(fromDays: day)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// The ISO 8601 week of an instant's UTC day: `2026-W09`. Weeks start on Monday and belong to
    /// the year of their Thursday.
    public static func isoWeek(_ instant: Int64) -> String {
        let day = dayIndex(instant)
        let mondayBased = ((day + 3) % 7 + 7) % 7  // 1970-01-01 was a Thursday
        let thursday = day - mondayBased + 3
        let year = EventTime.civil(fromDays: thursday).year
        let week = (thursday - daysFromCivil(year: year, month: 1, day: 1)) / 7 + 1
        return "\(pad(year, 4))-W\(pad(week, 2))"
    }

    /// A month as a number that counts on across years (year × 12 + month − 1).
    public static func monthIndex(_ instant: Int64) -> Int64 {
        let (y, m, _) = EventTime.civil(fromDays: dayIndex(instant))
        return y * 12 + m - 1
    }

    /// `2026-03`.
    public static func monthLabel(_ month: Int64) -> String { "\(pad(month / 12, 4))-\(pad(month % 12 + 1, 2))" }

    /// The UTC midnight that starts a month.
    public static func start(ofMonth month: Int64) -> Int64 {
        daysFromCivil(year: month / 12, month: month % 12 + 1, day: 1) * EventTime.day
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        return era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
