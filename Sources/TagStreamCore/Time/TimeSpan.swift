/// A length of event time in milliseconds, written in pipelines as `5m`, `2h`, `30d`, `90 days`.
public struct TimeSpan: Hashable, Sendable, CustomStringConvertible {
    public let milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    static let units: [(names: [String], millis: Int64)] = [
        (["ms", "millisecond", "milliseconds"], 1),
        (["s", "sec", "second", "seconds"], EventTime.second),
        (["m", "min", "minute", "minutes"], EventTime.minute),
        (["h", "hour", "hours"], EventTime.hour),
        (["d", "day", "days"], EventTime.day),
        (["w", "week", "weeks"], 7 * EventTime.day),
    ]

    /// Parses `<integer><unit>` with an optional space; nil for anything else.
    public init?(parsing text: String) {
        let trimmed = text.trimmingSpaces()
        guard let split = trimmed.firstIndex(where: { !$0.isASCII || !$0.isNumber }),
              split != trimmed.startIndex,
              let count = Int64(trimmed[..<split]) else { return nil }
        let unit = trimmed[split...].trimmingSpaces().lowercased()
        guard let match = Self.units.first(where: { $0.names.contains(unit) }) else { return nil }
        let (value, overflow) = count.multipliedReportingOverflow(by: match.millis)
        guard !overflow else { return nil }
        milliseconds = value
    }

    public var description: String {
        for (names, millis) in Self.units.reversed() where milliseconds != 0 && milliseconds % millis == 0 {
            return "\(milliseconds / millis)\(names[0])"
        }
        return "\(milliseconds)ms"
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
