import Foundation
import TagStreamCore

/// What `tagstream report DIR` finds in a replay's output: campaign results against the holdout,
/// lifecycle and tier movement, ARPU per tier, alerts and communities.
public struct ReplayReport {
    public static let jsonFile = "report.json"
    public static let htmlFile = "report.html"
    static let lifecycleGroup = "lifecycle"

    public let directory: ReplayDirectory
    public let campaigns: CampaignResults
    /// The arms compared, for an A/B replay; nil for a replay of one pipeline.
    public let variants: VariantComparison?
    let lifecycle: DailyDistribution
    let tiers: DailyDistribution
    let lifecycleMigrations: [Migration]
    let tierMigrations: [Migration]
    /// Nil when the input event files are not where `summary.json` says.
    let revenue: TierRevenue?
    let alerts: AlertWeeks
    let communities: CommunityTrends
    /// Plain sentences about what the report could not include, and why.
    public let notes: [String]

    /// Reads the directory's records (and the input event files, for ARPU).
    public init(directory: ReplayDirectory, progress: ReportProgress = ReportProgress()) throws {
        self.directory = directory
        var notes: [String] = []
        campaigns = try CampaignResults.read(directory, progress: progress)
        if !campaigns.outcomesPresent {
            notes.append("No \(ReplayDirectory.couponOutcomeFile) in this directory: the replay was made before campaign outcomes were recorded, so there are no campaign figures.")
        } else if campaigns.openCoupons > 0 {
            let sent = campaigns.campaigns.values.reduce(0) { $0 + $1.openSent }
            notes.append("\(ReportFormat.integer(campaigns.openCoupons)) coupons (\(ReportFormat.integer(sent)) sent, \(ReportFormat.integer(campaigns.openCoupons - sent)) held out) were still inside their outcome window when the replay ended; they are left out of the campaign figures.")
        }
        let history = try TagHistory.read(directory, progress: progress)
        progress.step("lifecycle and tiers")
        lifecycle = DailyDistribution(history, group: Self.lifecycleGroup)
        tiers = DailyDistribution(history, group: TierRevenue.group)
        lifecycleMigrations = Migration.months(history, group: Self.lifecycleGroup)
        tierMigrations = Migration.months(history, group: TierRevenue.group)
        let inputs = directory.locatedInputFiles()
        let missing = inputs.filter { $0.found == nil }.map(\.listed)
        let orders: InputOrders?
        if !missing.isEmpty || inputs.isEmpty {
            orders = nil
            notes.append((directory.arms == nil ? "ARPU per tier needs" : "ARPU per tier and the A/B test's GMV per user need") + " the input event files that summary.json lists, and "
                         + (inputs.isEmpty ? "it lists none." : "these are not there: \(missing.joined(separator: ", ")) (run the report from where the replay ran, or put them beside the results)."))
        } else {
            orders = try InputOrders.read(files: inputs.compactMap(\.found), lateFile: directory.path(of: ReplayOutput.lateFile),
                                          lastApplied: directory.lastAppliedEvent ?? .min, progress: progress)
        }
        revenue = orders.map { TierRevenue(history, orders: $0) }
        if let arms = directory.arms {
            progress.step("comparing the arms")
            variants = try VariantComparison(arms: arms, campaigns: campaigns, activity: ArmActivity.read(directory, split: arms, progress: progress),
                                             orders: orders, summaryFile: directory.path(of: ReplayDirectory.summaryFile))
        } else {
            variants = nil
        }
        alerts = try AlertWeeks.read(directory, progress: progress)
        communities = try CommunityTrends.read(directory, progress: progress)
        self.notes = notes
    }

    /// Sorted campaign names.
    var campaignNames: [String] { campaigns.campaigns.keys.sorted() }

    /// One line per campaign, for the top of the page and the terminal.
    public var headlines: [String] {
        campaignNames.map { name in
            let result = campaigns.campaigns[name]!
            let figures = result.overall
            let coupons = figures.sent.coupons + figures.heldOut.coupons
            guard let uplift = figures.uplift else {
                return "\(name): no result yet: \(ReportFormat.integer(coupons)) coupons with a closed window, "
                    + "\(ReportFormat.integer(figures.sent.coupons)) sent and \(ReportFormat.integer(figures.heldOut.coupons)) held out"
            }
            var line = "\(name): \(ReportFormat.points(uplift.difference)) pts conversion (95 % CI \(ReportFormat.points(uplift.lower)) … \(ReportFormat.points(uplift.upper))), \(ReportFormat.integer(coupons)) coupons"
            if let gmv = figures.incrementalGMVPer1000 { line += ", \(ReportFormat.signedAmount(gmv)) GMV per 1,000 coupons" }
            if let warning = figures.warning { line += " (\(warning))" }
            return line
        }
    }

    /// Every figure of the report, with sorted keys.
    public var json: ReportJSON {
        .object([
            "input_files": .array(directory.inputFiles.map(ReportJSON.string)),
            "headlines": .array(headlines.map(ReportJSON.string)),
            "notes": .array(notes.map(ReportJSON.string)),
            "campaigns": campaigns.outcomesPresent ? campaigns.json : .null,
            "variants": variants?.json ?? .null,
            "campaign_thresholds": .object([
                "minimum_coupons_per_arm": .integer(CampaignFigures.minimumCoupons),
                "minimum_conversions_per_arm": .integer(CampaignFigures.minimumConversions),
                "z": .number(ProportionInterval.z95),
            ]),
            "lifecycle": .object([
                "daily": lifecycle.json,
                "migrations": .array(lifecycleMigrations.map(\.json)),
            ]),
            "tiers": .object([
                "daily": tiers.json,
                "migrations": .array(tierMigrations.map(\.json)),
                "arpu": revenue?.json ?? .null,
            ]),
            "alerts": alerts.json,
            "communities": communities.json,
        ])
    }

    /// A few lines for the terminal.
    public var text: String {
        var lines = variants?.headlines ?? []
        lines += headlines.isEmpty ? ["Campaigns: none"] : headlines
        if let last = lifecycle.days.indices.last {
            let counts = lifecycle.tags.map { "\($0) \(ReportFormat.integer(lifecycle.counts[$0]![last]))" }
            lines.append("Lifecycle on \(ReportCalendar.dateLabel(day: lifecycle.days[last])): " + counts.joined(separator: ", "))
        }
        if let riskiest = communities.atRisk.first, let ratio = riskiest.latest.sleepingRatio {
            lines.append("Community most at risk: \(riskiest.communityID), \(ReportFormat.percent(ratio)) of its customers sleeping or churned")
        }
        return (lines + notes.map { "Note: " + $0 }).joined(separator: "\n")
    }

    /// Writes `report.json` and `report.html` into the directory; returns their paths.
    public func write() throws -> (json: String, html: String) {
        let paths = (directory.path(of: Self.jsonFile), directory.path(of: Self.htmlFile))
        try Data(json.text().utf8).write(to: URL(fileURLWithPath: paths.0))
        try Data(ReportPage(self).html.utf8).write(to: URL(fileURLWithPath: paths.1))
        return paths
    }
}
