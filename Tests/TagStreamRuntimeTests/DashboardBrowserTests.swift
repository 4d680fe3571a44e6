import Foundation
import TestServers
import Testing

/// The leaders' dashboard as a person uses it: `tagstream demo --http-port` prints a leader link,
/// headless Chromium opens it, and the page shows the API's figures and follows the demo's days
/// without a reload. `TAGSTREAM_SCREENSHOT=<file.png>` keeps a screenshot (docs/dashboard.png).
@Suite(.serialized) struct DashboardBrowserTests {
    /// Every `[data-field]` of the page with its `data-value`, and the page's version.
    static let readPage = """
        return { version: document.body.dataset.version || null, asOf: document.body.dataset.asOf || null,
                 fields: [...document.querySelectorAll('[data-field]')].map(e => [e.dataset.field, e.dataset.value]),
                 text: document.body.innerText }
        """

    struct Page {
        var version: String?
        var asOf: String?
        var fields: [String: String]
        var text: String

        init(_ value: Any?) throws {
            let object = try #require(value as? [String: Any], "the page script returned \(String(describing: value))")
            version = object["version"] as? String
            asOf = object["asOf"] as? String
            let pairs = (object["fields"] as? [[String]]) ?? []
            fields = Dictionary(pairs.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }, uniquingKeysWith: { first, _ in first })
            text = (object["text"] as? String) ?? ""
        }
    }

    /// Reads the page until `accept` takes it (bounded).
    static func page(_ browser: WebDriver, within seconds: Double = 20, _ accept: (Page) -> Bool) async throws -> Page {
        let deadline = Date().addingTimeInterval(seconds)
        var last: Page?
        while Date() < deadline {
            let page = try Page(try await browser.executeScript(readPage))
            if accept(page) { return page }
            last = page
            try await Task.sleep(for: .milliseconds(250))
        }
        throw TestFailure("the page did not get there within \(Int(seconds)) s; it shows: \(last?.text.prefix(400) ?? "nothing")")
    }

    /// A JSON value's text as the page's `data-value` holds it, compared as JSON.
    static func same(_ pageValue: String?, _ apiValue: Any?) -> Bool {
        guard let pageValue, let parsed = try? JSONSerialization.jsonObject(with: Data(pageValue.utf8), options: [.fragmentsAllowed]) else {
            return false
        }
        return (parsed as? NSObject) == ((apiValue ?? NSNull()) as? NSObject)
    }

    @Test(.timeLimit(.minutes(3))) func aLeaderLinkShowsTheAPIsFiguresAndFollowsTheDaysWithoutAReload() async throws {
        let directory = try Fixtures.temporaryDirectory("dashboard-browser")
        let output = directory.appendingPathComponent("demo.log")
        let port = try LoopbackPort.free()
        let demo = try DemoAndClusterTests.launch(["demo", "--http-port", "\(port)", "--users", "300", "--seconds-per-day", "1", "--duration", "150"],
                                                 in: directory, output: output)
        defer { if demo.isRunning { kill(demo.processIdentifier, SIGKILL) } }
        _ = try DemoAndClusterTests.bootstrap(of: demo, in: output)
        let leaderLink = String(try DemoAndClusterTests.line(startingWith: "leader link: ", of: demo, in: output).dropFirst("leader link: ".count))
        let operatorLink = String(try DemoAndClusterTests.line(startingWith: "dashboard: ", of: demo, in: output).dropFirst("dashboard: ".count))
        let query = String(leaderLink[leaderLink.firstIndex(of: "?")!...])

        try await WebDriver.withSession { browser in
            try await browser.navigate(to: leaderLink)
            // The first refresh gives the first figures; the page and the API agree once they show the same instant.
            var page = try await Self.page(browser, within: 40) { ($0.fields["figures.customers"] ?? "null") != "null" }
            var api: [String: Any] = [:]
            for _ in 0..<40 {
                let response = try await HTTP.get(port: port, path: "/api/v1/communities/c001\(query)")
                api = try DashboardAPITests.json(response)
                page = try Page(try await browser.executeScript(Self.readPage))
                if page.asOf == api["as_of"] as? String { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(page.asOf == api["as_of"] as? String, "the page never showed the API's instant")
            let figures = try #require(api["figures"] as? [String: Any], "no figures yet: \(api)")
            for name in ["customers", "active_30d", "gmv_30d", "orders_7d", "sleeping_ratio"] {
                #expect(Self.same(page.fields["figures.\(name)"], figures[name]), "\(name): page \(page.fields["figures.\(name)"] ?? "none"), API \(figures[name] ?? "none")")
            }
            for (i, entry) in ((figures["top_skus_7d"] as? [[String: Any]]) ?? []).enumerated() {
                #expect(page.fields["figures.top_skus_7d.\(i).sku"] == entry["sku"] as? String)
                #expect(Self.same(page.fields["figures.top_skus_7d.\(i).qty"], entry["qty"]))
            }
            for name in ["new_customers_30d", "users"] { #expect(Self.same(page.fields[name], api[name]), "\(name)") }
            for group in (api["groups"] as? [[String: Any]]) ?? [] {
                for tag in (group["tags"] as? [[String: Any]]) ?? [] {
                    let field = "groups.\(group["group"]!).\(tag["tag"]!)"
                    #expect(Self.same(page.fields[field + ".now"], tag["now"]) && Self.same(page.fields[field + ".change"], tag["change"]), "\(field)")
                }
            }
            let sleeping = try #require(api["sleeping"] as? [String: Any])
            #expect(Self.same(page.fields["sleeping.wake_coupons_sent"], sleeping["wake_coupons_sent"]))
            #expect(Self.same(page.fields["vips_at_risk.count"], (api["vips_at_risk"] as? [Any])?.count))
            #expect(page.text.contains("30天GMV"), "Chinese labels by default")

            // The demo's days go on: the page follows them without a reload.
            try await browser.executeScript("window.__noReload = 1")
            let later = try await Self.page(browser, within: 30) { $0.version != page.version && $0.asOf != page.asOf }
            #expect(try await browser.executeScript("return window.__noReload") as? Int == 1, "the page was reloaded")
            #expect(later.fields["figures.gmv_30d"] != nil)
            if let file = ProcessInfo.processInfo.environment["TAGSTREAM_SCREENSHOT"] {
                // Some weeks in, so that the picture has VIPs to call.
                _ = try await Self.page(browser, within: 100) { ($0.fields["vips_at_risk.count"] ?? "0") != "0" }
                try await browser.screenshot().write(to: URL(fileURLWithPath: file))
            }

            try await browser.navigate(to: leaderLink + "&lang=en")
            #expect(try await Self.page(browser) { $0.version != nil }.text.contains("GMV 30d"), "English labels with ?lang=en")

            // The operators' overview: every community, sortable by a column.
            try await browser.navigate(to: operatorLink)
            let overview = try await Self.page(browser) { $0.version != nil }
            #expect(overview.fields.keys.filter { $0.hasSuffix(".gmv_30d") }.count >= 1)
            try await browser.executeScript("document.querySelector('th[data-column=gmv_30d]').click()")
            let sorted = try await browser.executeScript("return [...document.querySelectorAll('table.overview tbody tr')].map(r => Number(r.children[4].dataset.sort))") as? [Double] ?? []
            #expect(!sorted.isEmpty && sorted == sorted.sorted(by: >), "rows by GMV, largest first: \(sorted)")

            // An open page's event stream does not hold the demo up when it stops.
            try await browser.navigate(to: leaderLink)
            _ = try await Self.page(browser) { $0.version != nil }
            kill(demo.processIdentifier, SIGTERM)
            try await OperationsTests.waitForExit(demo)
        }
        let log = try String(contentsOf: output, encoding: .utf8)
        #expect(log.components(separatedBy: "sig=").count - 1 == 2, "the links are printed once each and logged nowhere else")
    }
}
