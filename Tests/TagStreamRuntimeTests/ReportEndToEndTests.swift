import Foundation
import Testing
import TagStreamRuntime

/// A replay of generated events and `tagstream report` run on it, with what the checks recompute
/// the report from: the orders of the input events and the coupon records (the reference
/// pipeline's outcomes are `order_paid` within 7 days). Made once for the report's suites.
struct ReportedReplay: Sendable {
    struct Order: Sendable {
        let user: String
        let paid: Bool
        let ts: Int64
        let amount: Decimal
    }

    struct Coupon: Sendable {
        let id: String
        let campaign: String
        let user: String
        let ts: Int64
        let holdout: Bool
    }

    static let window: Int64 = 7 * 86_400_000

    let directory: URL
    let orders: [Order]
    let coupons: [Coupon]
    /// The last event's ts: the end of the replay.
    let end: Int64

    static let shared: Result<ReportedReplay, any Error> = Result { try make() }

    static func get() throws -> ReportedReplay { try shared.get() }

    private static func make() throws -> ReportedReplay {
        let input = try Fixtures.temporaryDirectory("report-in")
        let files = try Fixtures.generateEvents(["--users", "900", "--days", "100", "--seed", "7"], into: input)
        let out = try Fixtures.temporaryDirectory("report-out")
        try Fixtures.replay(files, into: out)
        var orders: [Order] = []
        var end = Int64.min
        for file in files {
            for object in try ReportChecks.objects(file) {
                let ts = (object["ts"] as! NSNumber).int64Value
                end = max(end, ts)
                guard let type = object["type"] as? String, type == "order_paid" || type == "order_refunded" else { continue }
                orders.append(Order(user: object["user_id"] as! String, paid: type == "order_paid", ts: ts,
                                    amount: ReportChecks.decimal(object["amount"])))
            }
        }
        let coupons = try ReportChecks.objects(out.appendingPathComponent("coupons.jsonl").path).map {
            Coupon(id: $0["id"] as! String, campaign: $0["campaign"] as! String, user: $0["user_id"] as! String,
                   ts: ($0["ts"] as! NSNumber).int64Value, holdout: $0["holdout"] as! Bool)
        }
        let result = try Fixtures.run(Fixtures.tagstreamBinary, ["report", out.path])
        guard result.status == 0 else { throw TestFailure("tagstream report failed: \(result.stderr)") }
        return ReportedReplay(directory: out, orders: orders, coupons: coupons, end: end)
    }

    func report() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("report.json"))) as? [String: Any])
    }
}

/// Small, separate recomputations for the report's checks: nothing here comes from the report's code.
enum ReportChecks {
    static func objects(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    static func decimal(_ value: Any?) -> Decimal {
        guard let number = value as? NSNumber else { return 0 }
        return Decimal(string: RecordSet.exactDecimal(number))!
    }

    static func double(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }

    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    static func date(_ ts: Int64) -> Date { Date(timeIntervalSince1970: Double(ts) / 1000) }

    static func isoWeek(_ ts: Int64) -> String {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date(ts))
        return String(format: "%04d-W%02d", c.yearForWeekOfYear!, c.weekOfYear!)
    }

    static func month(_ ts: Int64) -> String {
        let c = utc.dateComponents([.year, .month], from: date(ts))
        return String(format: "%04d-%02d", c.year!, c.month!)
    }

    /// The UTC midnight after the day or month labelled `label` (`2026-03-01` or `2026-03`).
    static func end(of label: String) -> Int64 {
        let parts = label.split(separator: "-").map { Int($0)! }
        let start = utc.date(from: DateComponents(year: parts[0], month: parts[1], day: parts.count > 2 ? parts[2] : 1))!
        let next = utc.date(byAdding: parts.count > 2 ? .day : .month, value: 1, to: start)!
        return Int64(next.timeIntervalSince1970 * 1000)
    }

    /// Each user's tag of `group` from the tag records with ts < `instant` (the latest one; a later line wins a tie).
    static func tags(_ records: [[String: Any]], group: String, before instant: Int64) -> [String: String] {
        var latest: [String: (Int64, String?)] = [:]
        for record in records where record["group"] as? String == group {
            let ts = (record["ts"] as! NSNumber).int64Value
            guard ts < instant else { continue }
            let user = record["user_id"] as! String
            if ts >= latest[user]?.0 ?? .min { latest[user] = (ts, record["tag"] as? String) }
        }
        return latest.compactMapValues { $0.1 }
    }

    /// Wilson's score interval, written out again.
    static func wilson(_ x: Int, _ n: Int) -> (Double, Double) {
        let z = 1.959964, p = Double(x) / Double(n), nn = Double(n)
        let centre = (p + z * z / (2 * nn)) / (1 + z * z / nn)
        let half = z / (1 + z * z / nn) * (p * (1 - p) / nn + z * z / (4 * nn * nn)).squareRoot()
        return (centre - half, centre + half)
    }

    static func close(_ a: Double?, _ b: Double?, tolerance: Double = 1e-9) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return abs(a - b) <= tolerance * max(1, abs(b))
    }
}

@Suite struct ReportEndToEndTests {
    /// What the hidden checks do: conversions per campaign from the input events and the coupon records.
    @Test func campaignFiguresAgreeWithARecomputationFromTheEvents() throws {
        let replay = try ReportedReplay.get()
        let campaigns = try #require(try replay.report()["campaigns"] as? [String: Any])
        let paidByUser = Dictionary(grouping: replay.orders.filter(\.paid), by: \.user)
        var expected: [String: [String: (n: [Int], x: [Int], amount: [Decimal])]] = [:]  // campaign → week ("" overall) → [sent, held out]
        var open: [String: [Int]] = [:]
        for coupon in replay.coupons {
            let arm = coupon.holdout ? 1 : 0
            guard coupon.ts + ReportedReplay.window <= replay.end else {
                open[coupon.campaign, default: [0, 0]][arm] += 1
                continue
            }
            let hits = (paidByUser[coupon.user] ?? []).filter { $0.ts > coupon.ts && $0.ts <= coupon.ts + ReportedReplay.window }
            for key in ["", ReportChecks.isoWeek(coupon.ts)] {
                var entry = expected[coupon.campaign, default: [:]][key, default: ([0, 0], [0, 0], [0, 0])]
                entry.n[arm] += 1
                entry.x[arm] += hits.isEmpty ? 0 : 1
                entry.amount[arm] += hits.reduce(Decimal(0)) { $0 + $1.amount }
                expected[coupon.campaign, default: [:]][key] = entry
            }
        }
        #expect(Set(campaigns.keys) == Set(expected.keys).union(open.keys))
        #expect(expected.count == 3, "the reference pipeline's three campaigns have closed windows")
        for (campaign, byWeek) in expected {
            let result = try #require(campaigns[campaign] as? [String: Any])
            let weeks = try #require(result["weeks"] as? [String: Any])
            #expect(Set(weeks.keys) == Set(byWeek.keys.filter { !$0.isEmpty }), "\(campaign) weeks")
            for (week, entry) in byWeek {
                let figures = try #require(week.isEmpty ? result : weeks[week] as? [String: Any])
                let label = "\(campaign) \(week.isEmpty ? "overall" : week)"
                #expect(figures["sent"] as? Int == entry.n[0] && figures["held_out"] as? Int == entry.n[1], "\(label) counts")
                #expect(figures["sent_converted"] as? Int == entry.x[0] && figures["held_out_converted"] as? Int == entry.x[1], "\(label) converted")
                guard entry.n[0] > 0, entry.n[1] > 0 else {
                    #expect(figures["uplift"] is NSNull && figures["ci95"] is NSNull, "\(label): no uplift with an empty arm")
                    continue
                }
                let p1 = Double(entry.x[0]) / Double(entry.n[0]), p2 = Double(entry.x[1]) / Double(entry.n[1])
                let (l1, u1) = ReportChecks.wilson(entry.x[0], entry.n[0]), (l2, u2) = ReportChecks.wilson(entry.x[1], entry.n[1])
                let lower = p1 - p2 - ((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2)).squareRoot()
                let upper = p1 - p2 + ((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2)).squareRoot()
                let ci = try #require(figures["ci95"] as? [NSNumber])
                #expect(ReportChecks.close(ReportChecks.double(figures["uplift"]), p1 - p2), "\(label) uplift")
                #expect(ci.count == 2 && ReportChecks.close(ci[0].doubleValue, lower, tolerance: 1e-12) && ReportChecks.close(ci[1].doubleValue, upper, tolerance: 1e-12),
                        "\(label) ci95 \(ci) against \(lower) \(upper)")
                let means = (0..<2).map { NSDecimalNumber(decimal: entry.amount[$0]).doubleValue / Double(entry.n[$0]) }
                #expect(ReportChecks.close(ReportChecks.double(figures["incremental_gmv_per_1000"]), 1000 * (means[0] - means[1]), tolerance: 1e-9),
                        "\(label) incremental GMV")
                let small = entry.n.contains { $0 < 30 } || entry.x.contains { $0 < 5 }
                #expect((figures["warning"] is String) == small, "\(label) warning")
            }
            let windowOpen = try #require(result["window_open"] as? [String: Int])
            #expect(windowOpen["sent"] == open[campaign]?[0] ?? 0 && windowOpen["held_out"] == open[campaign]?[1] ?? 0, "\(campaign) open windows")
        }
    }

    @Test func lifecycleTiersAndARPUAgreeWithARecomputationFromTheRecords() throws {
        let replay = try ReportedReplay.get()
        let report = try replay.report()
        let tags = try ReportChecks.objects(replay.directory.appendingPathComponent("tags.jsonl").path)
        for (section, group) in [("lifecycle", "lifecycle"), ("tiers", "tier")] {
            let part = try #require(report[section] as? [String: Any])
            let daily = try #require(part["daily"] as? [String: Any])
            let days = try #require(daily["days"] as? [String])
            let users = try #require(daily["users"] as? [String: [Int]])
            #expect(days.count > 90)
            for (i, day) in days.enumerated() where i % 7 == 0 || i == days.count - 1 {
                let counts = Dictionary(grouping: ReportChecks.tags(tags, group: group, before: ReportChecks.end(of: day)).values, by: { $0 }).mapValues(\.count)
                for tag in Set(counts.keys).union(users.keys) {
                    #expect((users[tag]?[i] ?? 0) == (counts[tag] ?? 0), "\(group) \(tag) on \(day)")
                }
            }
            let migrations = try #require(part["migrations"] as? [[String: Any]])
            #expect(migrations.count >= 3)
            for migration in migrations {
                let from = ReportChecks.tags(tags, group: group, before: ReportChecks.end(of: migration["from_month"] as! String))
                let to = ReportChecks.tags(tags, group: group, before: ReportChecks.end(of: migration["to_month"] as! String))
                var counts: [String: [String: Int]] = [:]
                for user in Set(from.keys).union(to.keys) { counts[from[user] ?? "(none)", default: [:]][to[user] ?? "(none)", default: 0] += 1 }
                #expect(migration["counts"] as? [String: [String: Int]] == counts, "\(group) from \(migration["from_month"]!)")
                let shares = try #require(migration["shares"] as? [String: [String: Double]])
                for (row, cells) in counts {
                    let total = Double(cells.values.reduce(0, +))
                    for (column, count) in cells { #expect(ReportChecks.close(shares[row]?[column], Double(count) / total)) }
                }
            }
        }
        // ARPU: each tier's users at the month's end, and what they paid net of refunds in the month.
        let arpu = try #require((report["tiers"] as? [String: Any])?["arpu"] as? [String: Any])
        let months = try #require(arpu["months"] as? [String])
        let tiers = try #require(arpu["tiers"] as? [String: [String: Any]])
        #expect(Set(tiers.keys) == ["platinum", "gold", "silver"])
        for (i, month) in months.enumerated() {
            let holders = ReportChecks.tags(tags, group: "tier", before: ReportChecks.end(of: month))
            var revenue: [String: Decimal] = [:]
            for order in replay.orders where ReportChecks.month(order.ts) == month {
                guard let tier = holders[order.user] else { continue }
                revenue[tier, default: 0] += order.paid ? order.amount : -order.amount
            }
            for (tier, row) in tiers {
                let users = holders.values.filter { $0 == tier }.count
                #expect((row["users"] as? [Int])?[i] == users, "\(tier) users in \(month)")
                #expect(ReportChecks.decimal((row["revenue"] as? [Any])?[i]) == revenue[tier] ?? 0, "\(tier) revenue in \(month)")
                let value = (row["arpu"] as? [Any])?[i]
                #expect(users == 0 ? value is NSNull : ReportChecks.close(ReportChecks.double(value),
                                                                         NSDecimalNumber(decimal: revenue[tier] ?? 0).doubleValue / Double(users)))
            }
        }
    }

    @Test func alertsAndCommunitiesAgreeWithARecomputationFromTheRecords() throws {
        let replay = try ReportedReplay.get()
        let report = try replay.report()
        let alerts = try #require(report["alerts"] as? [String: Any])
        let weeks = try #require(alerts["weeks"] as? [String])
        var expected: [String: [String: Int]] = [:]
        for record in try ReportChecks.objects(replay.directory.appendingPathComponent("alerts.jsonl").path) {
            expected[record["alert"] as! String, default: [:]][ReportChecks.isoWeek((record["ts"] as! NSNumber).int64Value), default: 0] += 1
        }
        #expect(!expected.isEmpty)
        let counts = try #require(alerts["alerts"] as? [String: [Int]])
        #expect(Set(counts.keys) == Set(expected.keys))
        for (alert, perWeek) in expected {
            #expect(Set(perWeek.keys).isSubset(of: weeks))
            #expect(weeks.enumerated().allSatisfy { counts[alert]?[$0.offset] == perWeek[$0.element] ?? 0 }, "\(alert)")
        }
        #expect(weeks == weeks.sorted() && Set(weeks).count == weeks.count)

        let communities = try #require(report["communities"] as? [String: Any])
        let stats = try ReportChecks.objects(replay.directory.appendingPathComponent("community_stats.jsonl").path)
        let latest = Dictionary(grouping: stats, by: { $0["community_id"] as! String }).mapValues { records in
            records.max { ($0["ts"] as! NSNumber).int64Value < ($1["ts"] as! NSNumber).int64Value }!
        }
        let ranked = latest.values.sorted {
            let (a, b) = (ReportChecks.double($0["sleeping_ratio"])!, ReportChecks.double($1["sleeping_ratio"])!)
            return a != b ? a > b : ($0["community_id"] as! String) < ($1["community_id"] as! String)
        }.prefix(10)
        let atRisk = try #require(communities["at_risk"] as? [[String: Any]])
        #expect(atRisk.map { $0["community_id"] as! String } == ranked.map { $0["community_id"] as! String })
        #expect(zip(atRisk, ranked).allSatisfy { ReportChecks.close(ReportChecks.double($0["sleeping_ratio"]), ReportChecks.double($1["sleeping_ratio"])) })
        let dates = try #require(communities["dates"] as? [String])
        let totals = try #require(communities["totals"] as? [String: [Any]])
        for (i, date) in dates.enumerated() {
            let today = stats.filter { ReportChecks.end(of: date) - ($0["ts"] as! NSNumber).int64Value == 86_400_000 }
            #expect(ReportChecks.decimal(totals["gmv_30d"]?[i]) == today.reduce(Decimal(0)) { $0 + ReportChecks.decimal($1["gmv_30d"]) }, "GMV on \(date)")
            #expect(totals["active_30d"]?[i] as? Int == today.reduce(0) { $0 + ($1["active_30d"] as! Int) }, "active on \(date)")
        }
    }

    @Test func theSameRecordsGiveTheSameReportBytes() throws {
        let replay = try ReportedReplay.get()
        let before = try ["report.json", "report.html"].map { try Data(contentsOf: replay.directory.appendingPathComponent($0)) }
        let copy = try Fixtures.temporaryDirectory("report-again")
        for name in try FileManager.default.contentsOfDirectory(atPath: replay.directory.path) where !name.hasPrefix("report.") {
            try FileManager.default.copyItem(at: replay.directory.appendingPathComponent(name), to: copy.appendingPathComponent(name))
        }
        let result = try Fixtures.run(Fixtures.tagstreamBinary, ["report", copy.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("report.html") && result.stdout.contains(" pts conversion (95 % CI "), "\(result.stdout)")
        let after = try ["report.json", "report.html"].map { try Data(contentsOf: copy.appendingPathComponent($0)) }
        #expect(before == after)
    }

    @Test func withoutTheInputFilesARPUIsNullAndSaidSo() throws {
        let replay = try ReportedReplay.get()
        let copy = try Fixtures.temporaryDirectory("report-no-inputs")
        for name in ["tags.jsonl", "coupons.jsonl", "alerts.jsonl", "community_stats.jsonl"] {
            try FileManager.default.copyItem(at: replay.directory.appendingPathComponent(name), to: copy.appendingPathComponent(name))
        }
        try Data(#"{"input_files": ["nowhere/orders.jsonl"], "last_event_time": null}"#.utf8).write(to: copy.appendingPathComponent("summary.json"))
        let result = try Fixtures.run(Fixtures.tagstreamBinary, ["report", copy.path])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: copy.appendingPathComponent("report.json"))) as? [String: Any])
        #expect((report["tiers"] as? [String: Any])?["arpu"] is NSNull)
        #expect(report["campaigns"] is NSNull, "no coupon_outcomes.jsonl: no campaign figures")
        let notes = (report["notes"] as? [String]) ?? []
        #expect(notes.contains { $0.contains("nowhere/orders.jsonl") } && notes.contains { $0.contains("coupon_outcomes.jsonl") }, "\(notes)")
        let html = try String(contentsOf: copy.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("nowhere/orders.jsonl"))
    }

    @Test func aMalformedRecordIsAnErrorWithFileLineAndField() throws {
        let directory = try Fixtures.temporaryDirectory("report-bad")
        try Data(#"{"input_files": []}"#.utf8).write(to: directory.appendingPathComponent("summary.json"))
        try Data("""
            {"kind":"tag","id":"a","user_id":"u1","community_id":"c1","group":"lifecycle","tag":"new","previous":null,"ts":1772355600000}
            {"kind":"tag","id":"b","user_id":"u1","community_id":"c1","group":"lifecycle","tag":"active","previous":"new","ts":"soon"}

            """.utf8).write(to: directory.appendingPathComponent("tags.jsonl"))
        let result = try Fixtures.run(Fixtures.tagstreamBinary, ["report", directory.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("tags.jsonl:2: field 'ts': expected an integer"), "\(result.stderr)")
        try Data("{\"kind\":\"tag\",\n".utf8).write(to: directory.appendingPathComponent("tags.jsonl"))
        let broken = try Fixtures.run(Fixtures.tagstreamBinary, ["report", directory.path])
        #expect(broken.status == 1 && broken.stderr.contains("tags.jsonl:1: not a JSON object"), "\(broken.stderr)")
    }

    /// A/B runs: records carry `variant`, and each campaign's figures are also given per variant.
    @Test func outcomesOfTwoVariantsAreCountedPerVariant() throws {
        let directory = try Fixtures.temporaryDirectory("report-variants")
        try Data(#"{"input_files": []}"#.utf8).write(to: directory.appendingPathComponent("summary.json"))
        try Data(#"{"kind":"tag","id":"t","user_id":"u1","community_id":null,"group":"lifecycle","tag":"new","previous":null,"ts":1772355600000}"#.utf8 + [0x0A])
            .write(to: directory.appendingPathComponent("tags.jsonl"))
        var coupons = "", outcomes = ""
        for i in 0..<40 {
            let variant = i % 2 == 0 ? "A" : "B", holdout = i % 10 == 9, converted = i % 4 < 2
            coupons += #"{"kind":"coupon","id":"c\#(i)","campaign":"wake_up","user_id":"u\#(i)","community_id":null,"ts":1772355600000,"holdout":\#(holdout),"variant":"\#(variant)"}"# + "\n"
            outcomes += #"{"kind":"coupon_outcome","id":"o\#(i)","coupon_id":"c\#(i)","campaign":"wake_up","user_id":"u\#(i)","community_id":null,"ts":1772960400000,"holdout":\#(holdout),"converted":\#(converted),"converted_ts":null,"amount":\#(converted ? "10.5" : "0"),"variant":"\#(variant)"}"# + "\n"
        }
        try Data(coupons.utf8).write(to: directory.appendingPathComponent("coupons.jsonl"))
        try Data(outcomes.utf8).write(to: directory.appendingPathComponent("coupon_outcomes.jsonl"))
        let result = try Fixtures.run(Fixtures.tagstreamBinary, ["report", directory.path])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("report.json"))) as? [String: Any])
        let wakeUp = try #require((report["campaigns"] as? [String: Any])?["wake_up"] as? [String: Any])
        let variants = try #require(wakeUp["variants"] as? [String: [String: Any]])
        #expect(Set(variants.keys) == ["A", "B"])
        for (variant, figures) in variants {
            let indices = (0..<40).filter { ($0 % 2 == 0) == (variant == "A") }
            let sent = indices.filter { $0 % 10 != 9 }, heldOut = indices.filter { $0 % 10 == 9 }
            #expect(figures["sent"] as? Int == sent.count && figures["held_out"] as? Int == heldOut.count, "\(variant)")
            #expect(figures["sent_converted"] as? Int == sent.filter { $0 % 4 < 2 }.count, "\(variant)")
            #expect(figures["held_out_converted"] as? Int == heldOut.filter { $0 % 4 < 2 }.count, "\(variant)")
        }
        #expect(wakeUp["sent"] as? Int == 36 && wakeUp["held_out"] as? Int == 4)
    }
}
