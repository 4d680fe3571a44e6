/// The A/B test's section of `report.html`: which pipeline is which, the comparison in plain
/// sentences, a chart of the differences in shares with their intervals, and a table of every figure.
struct VariantSection {
    let comparison: VariantComparison

    var html: String {
        let arms = comparison.arms
        var out = "<h2>A/B test: \(escape(arms.variant.name)) against \(escape(arms.control.name))</h2>"
        out += "<p class=\"explain\">The same events were replayed under two pipelines. The <strong>control</strong> is <code>\(escape(arms.control.name))</code> "
        out += "(\(arms.control.percent) % of users, \(ReportFormat.integer(arms.control.users)) seen), the <strong>variant</strong> <code>\(escape(arms.variant.name))</code> "
        out += "(\(arms.variant.percent) %, \(ReportFormat.integer(arms.variant.users)) seen). A hash of each user_id put the user in one arm for the whole replay, "
        out += "so the arms are two comparable groups of users and a difference between them is the pipelines' doing, give or take chance. "
        out += "Each difference is variant − control; its 95 % interval is the range the true difference most likely lies in: when it includes 0, the pipelines may not differ.</p>"
        out += "<div class=\"headline\"><ul>" + comparison.headlines.dropFirst().map { "<li>\(escape($0))</li>" }.joined() + "</ul></div>"
        out += chart
        out += "<table><tr><th>figure</th><th>control</th><th>variant</th><th>difference</th><th>95 % interval</th><th>note</th></tr>"
        if let conversion = comparison.conversion {
            out += row("conversion of sent coupons, all campaigns", conversion)
            for name in comparison.conversionByCampaign.keys.sorted() { out += row("conversion of sent coupons, \(name)", comparison.conversionByCampaign[name]!) }
        }
        if let gmv = comparison.gmvPerUser { out += row("GMV per user", gmv) }
        out += row("coupons sent per user", comparison.couponsPerUser)
        out += row("lifecycle transitions per user", comparison.lifecycleTransitionsPerUser)
        out += row("churn: users ending sleeping or churned", comparison.churn)
        return out + "</table>"
    }

    /// The differences in shares (conversion overall and per campaign, churn), in points, with their intervals.
    private var chart: String {
        var figures: [(String, ProportionComparison)] = []
        if let conversion = comparison.conversion {
            figures.append(("all campaigns", conversion))
            figures += comparison.conversionByCampaign.keys.sorted().map { ($0, comparison.conversionByCampaign[$0]!) }
        }
        figures.append(("churn", comparison.churn))
        let shown = figures.compactMap { label, figure in figure.difference.map { (label, $0) } }
        guard !shown.isEmpty else { return "<p>No difference to chart: an arm has no coupons and no users.</p>" }
        return SVGChart(id: "variant-differences", title: "Variant − control, with 95 % intervals", kind: .intervals, xLabels: shown.map(\.0),
                        xTitle: "conversion of sent coupons (all campaigns, then each), and churn", yTitle: "difference (percentage points)",
                        series: [ChartSeries(name: "difference", values: shown.map { $0.1.difference * 100 }),
                                 ChartSeries(name: "lower", values: shown.map { $0.1.lower * 100 }),
                                 ChartSeries(name: "upper", values: shown.map { $0.1.upper * 100 })],
                        format: { ReportFormat.number($0, decimals: 1) }).svg
    }

    private func row(_ label: String, _ figure: ProportionComparison) -> String {
        func arm(_ arm: ProportionComparison.Arm) -> String {
            "\(ReportFormat.percent(arm.rate)) <small>(\(ReportFormat.integer(arm.successes)) of \(ReportFormat.integer(arm.trials)))</small>"
        }
        let difference = figure.difference
        return cells([escape(label), arm(figure.control), arm(figure.variant),
                      difference.map { ReportFormat.points($0.difference) + " pts" } ?? "–",
                      difference.map { "\(ReportFormat.points($0.lower)) … \(ReportFormat.points($0.upper)) pts" } ?? "–",
                      escape(figure.warning ?? "")])
    }

    private func row(_ label: String, _ figure: MeanComparison) -> String {
        func arm(_ arm: MeanComparison.Arm) -> String {
            "\(arm.values.mean.map { ReportFormat.number($0, decimals: 2) } ?? "–") <small>(\(ReportFormat.integer(arm.values.users)) users)</small>"
        }
        let difference = figure.difference
        return cells([escape(label), arm(figure.control), arm(figure.variant),
                      difference.map { ReportFormat.signedAmount($0.difference) } ?? "–",
                      difference.map { "\(ReportFormat.signedAmount($0.lower)) … \(ReportFormat.signedAmount($0.upper))" } ?? "–",
                      escape(figure.warning ?? "")])
    }

    private func cells(_ cells: [String]) -> String { "<tr>" + cells.map { "<td>\($0)</td>" }.joined() + "</tr>" }

    private func escape(_ text: String) -> String { ReportFormat.escapeHTML(text) }
}
