import Foundation
import TagStreamCore

/// Communities over time from `community_stats.jsonl`: the totals over every community at each
/// refresh, and the communities most at risk of going to sleep.
struct CommunityTrends {
    /// The figures of all communities together at one refresh.
    struct Totals {
        var communities = 0
        var customers = 0
        var active30d = 0
        var gmv30d = Money.zero
        /// Customers sleeping or churned: each community's `sleeping_ratio` × `customers`, rounded.
        var sleeping = 0

        /// Sleeping or churned customers over all customers.
        var sleepingRatio: Double? { customers > 0 ? Double(sleeping) / Double(customers) : nil }
    }

    /// A community's latest figures and its sleeping ratio at each refresh.
    struct AtRisk {
        let communityID: String
        let latest: CommunityStatsRecord
        /// One per refresh of `CommunityTrends.refreshes`; nil where the community had no record.
        let sleepingRatios: [Double?]
    }

    static let atRiskCount = 10

    /// The refresh instants (UTC midnights) with at least one record, ascending.
    let refreshes: [Int64]
    let totals: [Totals]
    /// The ten communities with the highest latest `sleeping_ratio`, ties by id.
    let atRisk: [AtRisk]
    let communityCount: Int

    static func read(_ directory: ReplayDirectory, progress: ReportProgress) throws -> CommunityTrends {
        var byCommunity: [String: [CommunityStatsRecord]] = [:]
        if directory.contains(ReplayDirectory.communityStatsFile) {
            try RecordFileReader.forEach(CommunityStatsRecord.self, in: directory.path(of: ReplayDirectory.communityStatsFile),
                                         progress: { progress.lines($0, of: "community stats") }) { record, _ in
                byCommunity[record.communityID, default: []].append(record)
            }
        }
        let refreshes = Set(byCommunity.values.flatMap { $0.map(\.ts) }).sorted()
        let position = Dictionary(uniqueKeysWithValues: refreshes.enumerated().map { ($1, $0) })
        var totals = Array(repeating: Totals(), count: refreshes.count)
        for record in byCommunity.values.joined() {
            let i = position[record.ts]!
            totals[i].communities += 1
            totals[i].customers += record.customers ?? 0
            totals[i].active30d += record.active30d ?? 0
            totals[i].gmv30d += record.gmv30d ?? .zero
            if let ratio = record.sleepingRatio, let customers = record.customers {
                totals[i].sleeping += Int((ratio * Double(customers)).rounded())
            }
        }
        let latest = byCommunity.compactMapValues { records in records.max { $0.ts < $1.ts } }
        let ranked = latest.values.filter { $0.sleepingRatio != nil }.sorted {
            ($0.sleepingRatio! > $1.sleepingRatio!) || ($0.sleepingRatio! == $1.sleepingRatio! && $0.communityID < $1.communityID)
        }
        let atRisk = ranked.prefix(atRiskCount).map { record in
            let ratios = Dictionary(byCommunity[record.communityID]!.map { ($0.ts, $0.sleepingRatio) }, uniquingKeysWith: { $1 })
            return AtRisk(communityID: record.communityID, latest: record, sleepingRatios: refreshes.map { ratios[$0] ?? nil })
        }
        return CommunityTrends(refreshes: refreshes, totals: totals, atRisk: atRisk, communityCount: byCommunity.count)
    }

    var json: ReportJSON {
        let dates = ReportJSON.array(refreshes.map { .string(ReportCalendar.dateLabel(day: ReportCalendar.dayIndex($0))) })
        return .object([
            "communities": .integer(communityCount),
            "dates": dates,
            "totals": .object([
                "communities": .array(totals.map { .integer($0.communities) }),
                "customers": .array(totals.map { .integer($0.customers) }),
                "active_30d": .array(totals.map { .integer($0.active30d) }),
                "gmv_30d": .array(totals.map { .money($0.gmv30d) }),
                "sleeping_or_churned": .array(totals.map { .integer($0.sleeping) }),
                "sleeping_ratio": .array(totals.map { .optional($0.sleepingRatio) }),
            ]),
            "at_risk": .array(atRisk.map { community in
                .object([
                    "community_id": .string(community.communityID),
                    "date": .string(ReportCalendar.dateLabel(day: ReportCalendar.dayIndex(community.latest.ts))),
                    "sleeping_ratio": .optional(community.latest.sleepingRatio),
                    "customers": community.latest.customers.map(ReportJSON.integer) ?? .null,
                    "active_30d": community.latest.active30d.map(ReportJSON.integer) ?? .null,
                    "gmv_30d": community.latest.gmv30d.map(ReportJSON.money) ?? .null,
                    "sleeping_ratios": .array(community.sleepingRatios.map(ReportJSON.optional)),
                ])
            }),
        ])
    }
}
