import TagStreamCore

/// `report.html`: one self-contained page (inline CSS and SVG, no script, no network) that a
/// marketing analyst reads without help. Every number on it is in `report.json`.
struct ReportPage {
    let report: ReplayReport

    init(_ report: ReplayReport) { self.report = report }

    var html: String {
        var body = header + summary + (report.variants.map { VariantSection(comparison: $0).html } ?? "") + campaigns + lifecycleAndTiers + revenue + alerts + communities
        body += "<footer>Written by <code>tagstream report</code>. Every number on this page is in report.json beside it; docs/report.md says how each is computed.</footer>"
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>TagStream backtest report</title><style>\(Self.css)</style></head>
            <body>\(body)</body></html>

            """
    }

    static let css = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC","Microsoft YaHei",sans-serif;margin:0 auto;max-width:940px;padding:24px;color:#222;line-height:1.45}
        h1{font-size:26px;margin-bottom:4px}h2{margin-top:40px;border-bottom:2px solid #ddd;padding-bottom:4px}h3{margin-top:28px}
        .meta,.explain,footer{color:#555;font-size:14px}.headline{background:#f3f7fb;border-left:4px solid #4e79a7;padding:12px 16px;margin:16px 0}
        .headline li{margin:4px 0;font-size:17px}.note{background:#fff7e6;border-left:4px solid #f28e2b;padding:8px 12px;margin:8px 0;font-size:14px}
        .warning{color:#b35900}table{border-collapse:collapse;margin:10px 0;font-size:14px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}
        th:first-child,td:first-child{text-align:left}th{background:#f5f5f5}svg.chart{width:100%;height:auto;margin:12px 0;display:block}
        .chart-title{font-size:15px;font-weight:600;fill:#222}.tick,.legend-label{font-size:11px;fill:#444}.axis-title{font-size:12px;fill:#333}
        .grid{stroke:#e6e6e6}.zero{stroke:#888;stroke-dasharray:4 3}details{margin:8px 0}summary{cursor:pointer;color:#4e79a7}footer{margin-top:48px}
        """

    // MARK: Sections

    private var header: String {
        var days = report.lifecycle.days
        if days.isEmpty { days = report.tiers.days }
        let period = days.first.map { "Event time \(ReportCalendar.dateLabel(day: $0)) to \(ReportCalendar.dateLabel(day: days.last!)). " } ?? ""
        return "<h1>Backtest report</h1><p class=\"meta\">\(period)Replay of \(escape(report.directory.inputFiles.joined(separator: ", ")))</p>"
    }

    private var summary: String {
        var out = "<div class=\"headline\"><strong>In short</strong><ul>"
        if let test = report.variants?.headlines.first { out += "<li>\(escape(test)); its results are in the section below.</li>" }
        if report.headlines.isEmpty { out += "<li>No campaign results in this replay.</li>" }
        for line in report.headlines { out += "<li>\(escape(line))</li>" }
        if let riskiest = report.communities.atRisk.first, let ratio = riskiest.latest.sleepingRatio {
            out += "<li>Community most at risk: \(escape(riskiest.communityID)), \(ReportFormat.percent(ratio)) of its customers sleeping or churned.</li>"
        }
        out += "</ul><p class=\"explain\">Conversion is the share of coupons whose user paid an order within the campaign's window. "
        out += "“Sent” coupons went to users; “held out” coupons were deliberately not sent (a random 10 % or so), to show what users do without one. "
        out += "The uplift is the difference in conversion, in percentage points (pts); the 95 % interval is the range the true uplift most likely lies in: "
        out += "when it includes 0, the campaign may have made no difference.</p></div>"
        for note in report.notes { out += "<p class=\"note\">\(escape(note))</p>" }
        return out
    }

    private var campaigns: String {
        var out = "<h2>Campaigns against the holdout</h2>"
        guard report.campaigns.outcomesPresent else { return out + "<p>No campaign figures: see the note above.</p>" }
        guard !report.campaignNames.isEmpty else { return out + "<p>This replay has no coupons.</p>" }
        out += "<table><tr><th>campaign</th><th>coupons sent</th><th>converted</th><th>conversion</th><th>held out</th><th>converted</th><th>conversion</th>"
        out += "<th>uplift (pts)</th><th>95 % interval (pts)</th><th>extra GMV per 1,000 coupons</th><th>window still open</th></tr>"
        for name in report.campaignNames {
            let result = report.campaigns.campaigns[name]!
            out += figuresRow(label: name, result.overall, open: result.openSent + result.openHeldOut)
        }
        out += "</table>"
        for name in report.campaignNames {
            let result = report.campaigns.campaigns[name]!
            let weeks = result.weeks.keys.sorted()
            out += "<h3>\(escape(name))</h3>"
            if let warning = result.overall.warning { out += "<p class=\"warning\">\(escape(warning)).</p>" }
            guard !weeks.isEmpty else {
                out += "<p>No coupon of this campaign had its window closed by the end of the replay.</p>"
                continue
            }
            let uplift = weeks.map { result.weeks[$0]!.uplift }
            out += SVGChart(id: "campaign-\(name)-uplift", title: "\(name): uplift per week, with its 95 % interval", kind: .intervals, xLabels: weeks,
                            xTitle: "week the coupon was triggered (ISO week)", yTitle: "uplift (percentage points)",
                            series: [ChartSeries(name: "uplift", values: uplift.map { $0.map { $0.difference * 100 } }),
                                     ChartSeries(name: "lower", values: uplift.map { $0.map { $0.lower * 100 } }),
                                     ChartSeries(name: "upper", values: uplift.map { $0.map { $0.upper * 100 } })],
                            format: { ReportFormat.number($0, decimals: 1) }).svg
            out += SVGChart(id: "campaign-\(name)-conversion", title: "\(name): conversion per week, sent against held out", kind: .lines, xLabels: weeks,
                            xTitle: "week the coupon was triggered (ISO week)", yTitle: "conversion (%)",
                            series: [ChartSeries(name: "sent", values: weeks.map { result.weeks[$0]!.sent.conversionRate.map { $0 * 100 } }),
                                     ChartSeries(name: "held out", values: weeks.map { result.weeks[$0]!.heldOut.conversionRate.map { $0 * 100 } })],
                            format: { ReportFormat.number($0, decimals: 1) }).svg
            out += "<details><summary>\(escape(name)) week by week</summary><table><tr><th>week</th><th>coupons sent</th><th>converted</th><th>conversion</th><th>held out</th><th>converted</th><th>conversion</th><th>uplift (pts)</th><th>95 % interval (pts)</th><th>extra GMV per 1,000 coupons</th><th>note</th></tr>"
            for week in weeks { out += figuresRow(label: week, result.weeks[week]!, open: nil) }
            out += "</table></details>"
            if !result.variants.isEmpty {
                out += "<p>By variant (pipeline):</p><table><tr><th>variant</th><th>coupons sent</th><th>converted</th><th>conversion</th><th>held out</th><th>converted</th><th>conversion</th><th>uplift (pts)</th><th>95 % interval (pts)</th><th>extra GMV per 1,000 coupons</th><th>note</th></tr>"
                for variant in result.variants.keys.sorted() { out += figuresRow(label: variant, result.variants[variant]!, open: nil) }
                out += "</table>"
            }
        }
        return out
    }

    /// A table row of a campaign's figures; the last cell is the open windows, or else the warning.
    private func figuresRow(label: String, _ figures: CampaignFigures, open: Int?) -> String {
        let uplift = figures.uplift
        var cells = [escape(label), ReportFormat.integer(figures.sent.coupons), ReportFormat.integer(figures.sent.converted),
                     ReportFormat.percent(figures.sent.conversionRate), ReportFormat.integer(figures.heldOut.coupons),
                     ReportFormat.integer(figures.heldOut.converted), ReportFormat.percent(figures.heldOut.conversionRate),
                     uplift.map { ReportFormat.points($0.difference) } ?? "–",
                     uplift.map { "\(ReportFormat.points($0.lower)) … \(ReportFormat.points($0.upper))" } ?? "–",
                     figures.incrementalGMVPer1000.map(ReportFormat.signedAmount) ?? "–"]
        cells.append(open.map(ReportFormat.integer) ?? escape(figures.warning ?? ""))
        return "<tr>" + cells.map { "<td>\($0)</td>" }.joined() + "</tr>"
    }

    private var lifecycleAndTiers: String {
        var out = "<h2>Lifecycle and tiers</h2>"
        for (distribution, group, chart, what) in [(report.lifecycle, "lifecycle", "lifecycle-daily", "lifecycle stage"),
                                                   (report.tiers, "tier", "tier-daily", "tier")] {
            guard !distribution.days.isEmpty, !distribution.tags.isEmpty else {
                out += "<p>No \(group) tags in this replay.</p>"
                continue
            }
            out += SVGChart(id: chart, title: "Users per \(what) at the end of each day", kind: .stackedArea,
                                     xLabels: distribution.days.map { ReportCalendar.dateLabel(day: $0) }, xTitle: "day (UTC)", yTitle: "users",
                                     series: distribution.tags.map { ChartSeries(name: $0, values: distribution.counts[$0]!.map(Double.init)) }).svg
        }
        for (migrations, group) in [(report.lifecycleMigrations, "lifecycle"), (report.tierMigrations, "tier")] {
            guard let latest = migrations.last else { continue }
            out += "<h3>How users moved between \(group == "tier" ? "tiers" : "lifecycle stages") from one month's end to the next</h3>"
            out += "<p class=\"explain\">Each row is where users stood at the end of the first month, each column where they stood a month later; a cell gives the users and their share of the row. (none): no \(group) tag.</p>"
            out += migrationTable(latest, group: group)
            if migrations.count > 1 {
                out += "<details><summary>Earlier months</summary>" + migrations.dropLast().reversed().map { migrationTable($0, group: group) }.joined() + "</details>"
            }
        }
        return out
    }

    private func migrationTable(_ migration: Migration, group: String) -> String {
        let states = TagOrder.sorted(migration.counts.keys + migration.counts.values.flatMap(\.keys), group: group)
        let shares = migration.shares
        var out = "<table><tr><th>\(ReportCalendar.monthLabel(migration.fromMonth)) → \(ReportCalendar.monthLabel(migration.fromMonth + 1))</th>"
        out += states.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
        for from in states where migration.counts[from] != nil {
            out += "<tr><th>\(escape(from))</th>"
            for to in states {
                let count = migration.counts[from]![to] ?? 0
                let share = shares[from]![to] ?? 0
                out += "<td style=\"background:rgba(78,121,167,\(String(format: "%.2f", share * 0.6)))\">\(ReportFormat.integer(count)) <small>(\(ReportFormat.percent(share, decimals: 0)))</small></td>"
            }
            out += "</tr>"
        }
        return out + "</table>"
    }

    private var revenue: String {
        var out = "<h2>Average revenue per user (ARPU) by tier</h2>"
        guard let revenue = report.revenue else { return out + "<p class=\"note\">Not available: see the note at the top.</p>" }
        guard !revenue.tiers.isEmpty else { return out + "<p>No tier tags in this replay.</p>" }
        out += "<p class=\"explain\">What the users holding a tier at the end of a month paid during that month (payments minus refunds), divided by how many they are.</p>"
        let months = revenue.months.map(ReportCalendar.monthLabel)
        out += SVGChart(id: "arpu", title: "ARPU per tier and month", kind: .groupedBars, xLabels: months, xTitle: "month", yTitle: "revenue per user",
                                 series: revenue.tiers.map { ChartSeries(name: $0, values: revenue.rows[$0]!.arpu) },
                                 format: { ReportFormat.number($0, decimals: 2) }).svg
        out += "<table><tr><th>tier</th>" + months.map { "<th>\($0)</th>" }.joined() + "</tr>"
        for tier in revenue.tiers {
            let row = revenue.rows[tier]!
            out += "<tr><td>\(escape(tier))</td>" + row.arpu.indices.map { i in
                "<td>\(row.arpu[i].map { ReportFormat.number($0, decimals: 2) } ?? "–") <small>(\(ReportFormat.integer(row.users[i])) users)</small></td>"
            }.joined() + "</tr>"
        }
        return out + "</table>"
    }

    private var alerts: String {
        var out = "<h2>Alerts per week</h2>"
        guard !report.alerts.weeks.isEmpty else { return out + "<p>No alerts in this replay.</p>" }
        out += SVGChart(id: "alerts-weekly", title: "Alerts per week, by alert", kind: .stackedBars, xLabels: report.alerts.weeks, xTitle: "week (ISO)", yTitle: "alerts",
                                 series: report.alerts.alerts.map { ChartSeries(name: $0, values: report.alerts.counts[$0]!.map(Double.init)) }).svg
        return out
    }

    private var communities: String {
        let trends = report.communities
        var out = "<h2>Communities</h2>"
        guard !trends.refreshes.isEmpty else { return out + "<p>No community figures in this replay.</p>" }
        let dates = trends.refreshes.map { ReportCalendar.dateLabel(day: ReportCalendar.dayIndex($0)) }
        out += "<p class=\"explain\">All \(ReportFormat.integer(trends.communityCount)) communities together, at each daily refresh.</p>"
        out += SVGChart(id: "community-gmv", title: "GMV of the last 30 days, all communities", kind: .lines, xLabels: dates, xTitle: "day (UTC)", yTitle: "GMV, 30 days",
                                 series: [ChartSeries(name: "GMV 30 days", values: trends.totals.map { $0.gmv30d.doubleValue })]).svg
        out += SVGChart(id: "community-active", title: "Active customers (paid in the last 30 days), all communities", kind: .lines, xLabels: dates, xTitle: "day (UTC)",
                                 yTitle: "customers", series: [ChartSeries(name: "active customers", values: trends.totals.map { Double($0.active30d) })]).svg
        let ratios = [ChartSeries(name: "all communities", values: trends.totals.map { $0.sleepingRatio.map { $0 * 100 } })]
            + trends.atRisk.map { community in ChartSeries(name: community.communityID, values: community.sleepingRatios.map { $0.map { $0 * 100 } }) }
        out += SVGChart(id: "community-sleeping", title: "Share of customers sleeping or churned: all communities and the ten most at risk", kind: .lines, xLabels: dates,
                                 xTitle: "day (UTC)", yTitle: "sleeping or churned (%)", series: ratios,
                                 format: { ReportFormat.number($0, decimals: 0) }).svg
        out += "<h3>The ten communities most at risk</h3><p class=\"explain\">Highest share of customers sleeping or churned at their latest refresh.</p>"
        out += "<table><tr><th>community</th><th>as of</th><th>sleeping or churned</th><th>customers</th><th>active (30 days)</th><th>GMV (30 days)</th></tr>"
        for community in trends.atRisk {
            let latest = community.latest
            out += "<tr><td>\(escape(community.communityID))</td><td>\(ReportCalendar.dateLabel(day: ReportCalendar.dayIndex(latest.ts)))</td>"
            out += "<td>\(ReportFormat.percent(latest.sleepingRatio))</td><td>\(latest.customers.map(ReportFormat.integer) ?? "–")</td>"
            out += "<td>\(latest.active30d.map(ReportFormat.integer) ?? "–")</td><td>\(latest.gmv30d.map { ReportFormat.number($0.doubleValue, decimals: 2) } ?? "–")</td></tr>"
        }
        return out + "</table>"
    }

    private func escape(_ text: String) -> String { ReportFormat.escapeHTML(text) }
}
