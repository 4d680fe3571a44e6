import Foundation
import Testing

/// report.html as a person opens it: from a file, in headless Chromium, with every chart drawn.
@Suite struct ReportBrowserTests {
    @Test(.timeLimit(.minutes(3))) func theReportRendersEveryChartWithoutScriptOrNetwork() async throws {
        let replay = try ReportedReplay.get()
        let report = try replay.report()
        let headlines = try #require(report["headlines"] as? [String])
        try await Self.expectRendered(replay.directory, charts: try Self.campaignCharts(report) + Self.fixedCharts, texts: headlines)
    }

    /// An A/B replay's report: the arms' section near the top with its chart of the differences,
    /// then the same sections as any report.
    @Test(.timeLimit(.minutes(3))) func theReportOfAnABTestRendersTheArmsChart() async throws {
        let replay = try VariantReportedReplay.get()
        let report = try replay.report()
        let headlines = try #require((report["variants"] as? [String: Any])?["headlines"] as? [String])
        let text = try await Self.expectRendered(replay.directory, charts: ["variant-differences"] + Self.campaignCharts(report) + Self.fixedCharts,
                                                 texts: headlines.dropFirst() + (report["headlines"] as? [String] ?? []))
        let section = try #require(text.range(of: "A/B test: \(VariantReportedReplay.variant) against \(VariantReportedReplay.control)"))
        #expect(text.distance(from: text.startIndex, to: section.lowerBound) < text.distance(from: text.startIndex, to: text.range(of: "Campaigns against the holdout")!.lowerBound),
                "the A/B test comes before the campaigns")
    }

    static let fixedCharts = ["lifecycle-daily", "tier-daily", "arpu", "alerts-weekly", "community-gmv", "community-active", "community-sleeping"]

    /// Two charts per campaign with a closed window.
    static func campaignCharts(_ report: [String: Any]) throws -> [String] {
        let campaigns = try #require(report["campaigns"] as? [String: [String: Any]])
            .filter { ($0.value["weeks"] as? [String: Any])?.isEmpty == false }.keys.sorted()
        #expect(campaigns.count == 3)
        return campaigns.flatMap { ["campaign-\($0)-uplift", "campaign-\($0)-conversion"] }
    }

    /// Opens `directory`'s report.html in Chromium, checks that it is self-contained, draws exactly
    /// `charts` in that order, each readable, and shows every one of `texts`; returns the page's text.
    @discardableResult
    static func expectRendered(_ directory: URL, charts expectedCharts: [String], texts: [String]) async throws -> String {
        let page = directory.appendingPathComponent("report.html")
        let html = try String(contentsOf: page, encoding: .utf8)
        // Self-contained: nothing to fetch, nothing to run.
        for reference in ["<script", "src=", "href=", "@import", "url(", "<link", "@font-face"] {
            #expect(!html.contains(reference), "report.html has \(reference)")
        }
        return try await WebDriver.withSession { browser in
            try await browser.navigate(to: page.absoluteString)
            #expect(page.absoluteString.hasPrefix("file://"))
            let charts = try await browser.executeScript("""
                return [...document.querySelectorAll('svg.chart')].map(svg => {
                  const box = svg.getBoundingClientRect();
                  return [svg.dataset.chart, box.width, box.height, svg.querySelectorAll('g.marks > *').length,
                          svg.querySelectorAll('text.chart-title').length, svg.querySelectorAll('text.axis-title').length];
                })
                """) as? [[Any]] ?? []
            #expect(charts.map { $0[0] as? String ?? "" } == expectedCharts)
            for chart in charts {
                let name = chart[0] as? String ?? "?"
                #expect((chart[1] as? Double ?? 0) > 400 && (chart[2] as? Double ?? 0) > 100, "\(name) is drawn at a readable size")
                #expect((chart[3] as? Int ?? 0) > 0, "\(name) has marks")
                #expect(chart[4] as? Int == 1 && chart[5] as? Int == 2, "\(name) has a title and two axis titles")
            }
            let state = try await browser.executeScript("""
                return { scripts: document.scripts.length, text: document.body.innerText, nan: document.body.innerHTML.includes('NaN'),
                         errors: performance.getEntriesByType('resource').length }
                """) as? [String: Any] ?? [:]
            #expect(state["scripts"] as? Int == 0 && state["errors"] as? Int == 0, "no script and no resource loaded: \(state)")
            #expect(state["nan"] as? Bool == false, "no NaN anywhere on the page")
            let text = state["text"] as? String ?? ""
            #expect(!texts.isEmpty && texts.allSatisfy { text.contains($0) }, "the headlines are on the page")
            return text
        }
    }
}
