/// The order in which a group's tags are listed and stacked: the reference pipeline's own order
/// for its groups, then any other tag by name.
enum TagOrder {
    static let known: [String: [String]] = [
        "lifecycle": ["prospect", "new", "active", "at_risk", "sleeping", "churned"],
        "tier": ["platinum", "gold", "silver"],
    ]
    /// The state of a user without a tag in a migration matrix.
    static let none = "(none)"

    static func sorted(_ tags: some Sequence<String>, group: String) -> [String] {
        let order = known[group] ?? []
        return Set(tags).sorted { a, b in
            switch (order.firstIndex(of: a), order.firstIndex(of: b)) {
            case let (x?, y?): x < y
            case (_?, nil): true
            case (nil, _?): false
            case (nil, nil): a == none ? false : (b == none ? true : a < b)
            }
        }
    }
}

/// How many users held each tag of a group at the end of each UTC day.
struct DailyDistribution {
    /// Day indices (days since 1970-01-01), consecutive.
    let days: [Int64]
    let tags: [String]
    /// By tag, one count per day.
    let counts: [String: [Int]]

    /// Every day from the first tag record's to the last one's; the end of a day is the next midnight.
    init(_ history: TagHistory, group: String) {
        guard let span = history.span else {
            (days, tags, counts) = ([], [], [:])
            return
        }
        days = Array(ReportCalendar.dayIndex(span.lowerBound)...ReportCalendar.dayIndex(span.upperBound))
        let perDay = history.counts(of: group, before: days.map { ReportCalendar.start(ofDay: $0 + 1) })
        tags = TagOrder.sorted(perDay.flatMap(\.keys), group: group)
        var counts: [String: [Int]] = [:]
        for tag in tags { counts[tag] = perDay.map { $0[tag] ?? 0 } }
        self.counts = counts
    }

    var json: ReportJSON {
        .object([
            "days": .array(days.map { .string(ReportCalendar.dateLabel(day: $0)) }),
            "tags": .array(tags.map(ReportJSON.string)),
            "users": .object(counts.mapValues { .array($0.map(ReportJSON.integer)) }),
        ])
    }
}

/// Users moving between a group's tags from the end of one calendar month to the end of the next.
struct Migration {
    let fromMonth: Int64
    /// Users by tag at the end of `fromMonth`, then by tag at the end of the next month;
    /// `TagOrder.none` for no tag. Users without a tag at both ends are left out.
    let counts: [String: [String: Int]]

    /// One matrix per pair of consecutive months from the first tag record's month to the last
    /// one's (whose end is the end of the replay).
    static func months(_ history: TagHistory, group: String) -> [Migration] {
        guard let span = history.span else { return [] }
        let months = Array(ReportCalendar.monthIndex(span.lowerBound)...ReportCalendar.monthIndex(span.upperBound))
        let states = history.states(of: group, before: months.map { ReportCalendar.start(ofMonth: $0 + 1) })
        return zip(months, zip(states, states.dropFirst())).map { month, pair in
            var counts: [String: [String: Int]] = [:]
            for user in Set(pair.0.keys).union(pair.1.keys) {
                counts[pair.0[user] ?? TagOrder.none, default: [:]][pair.1[user] ?? TagOrder.none, default: 0] += 1
            }
            return Migration(fromMonth: month, counts: counts)
        }
    }

    /// Each row's counts as shares of the row's users.
    var shares: [String: [String: Double]] {
        counts.mapValues { row in
            let total = Double(row.values.reduce(0, +))
            return row.mapValues { Double($0) / total }
        }
    }

    var json: ReportJSON {
        .object([
            "from_month": .string(ReportCalendar.monthLabel(fromMonth)),
            "to_month": .string(ReportCalendar.monthLabel(fromMonth + 1)),
            "counts": .object(counts.mapValues { .object($0.mapValues(ReportJSON.integer)) }),
            "shares": .object(shares.mapValues { .object($0.mapValues(ReportJSON.number)) }),
        ])
    }
}
