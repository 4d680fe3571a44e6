import TagStreamCore

/// Average revenue per user of each tier, per calendar month: what the users holding a tier at the
/// month's end paid net of refunds during the month, over how many they are.
struct TierRevenue {
    struct Row {
        var users: [Int]
        var revenue: [Money]

        /// Revenue over users per month; nil for a month without users.
        var arpu: [Double?] { zip(revenue, users).map { $1 > 0 ? $0.doubleValue / Double($1) : nil } }
    }

    static let group = "tier"

    /// Month indices, from the first tag record's month to the last one's.
    let months: [Int64]
    let tiers: [String]
    let rows: [String: Row]
    /// Per month, the revenue of users without a tier at the month's end (not in any ARPU).
    let revenueWithoutTier: [Money]

    init(_ history: TagHistory, orders: InputOrders) {
        guard let span = history.span else {
            (months, tiers, rows, revenueWithoutTier) = ([], [], [:], [])
            return
        }
        let months = Array(ReportCalendar.monthIndex(span.lowerBound)...ReportCalendar.monthIndex(span.upperBound))
        let states = history.states(of: Self.group, before: months.map { ReportCalendar.start(ofMonth: $0 + 1) })
        let tiers = TagOrder.sorted(states.flatMap(\.values), group: Self.group)
        var rows = Dictionary(uniqueKeysWithValues: tiers.map {
            ($0, Row(users: Array(repeating: 0, count: months.count), revenue: Array(repeating: .zero, count: months.count)))
        })
        var withoutTier = Array(repeating: Money.zero, count: months.count)
        for (i, month) in months.enumerated() {
            for (_, tier) in states[i] { rows[tier]!.users[i] += 1 }
            for (user, net) in orders.netByMonth[month] ?? [:] {
                if let tier = states[i][user] { rows[tier]!.revenue[i] += net } else { withoutTier[i] += net }
            }
        }
        (self.months, self.tiers, self.rows) = (months, tiers, rows)
        revenueWithoutTier = withoutTier
    }

    var json: ReportJSON {
        .object([
            "months": .array(months.map { .string(ReportCalendar.monthLabel($0)) }),
            "tiers": .object(rows.mapValues { row in
                .object([
                    "users": .array(row.users.map(ReportJSON.integer)),
                    "revenue": .array(row.revenue.map(ReportJSON.money)),
                    "arpu": .array(row.arpu.map(ReportJSON.optional)),
                ])
            }),
            "revenue_without_tier": .array(revenueWithoutTier.map(ReportJSON.money)),
        ])
    }
}
