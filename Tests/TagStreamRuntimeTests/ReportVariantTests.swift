import Foundation
import Testing

/// An A/B replay of generated events, `replay --variant` through the binary: the reference pipeline
/// as the control, one whose `at_risk` comes at 21 days instead of 30 as the variant with 40 % of
/// users; then `tagstream report` on it. Made once for the report's suites.
struct VariantReportedReplay: Sendable {
    struct Event: Sendable {
        let user: String
        let type: String
        let ts: Int64
        let amount: Decimal
    }

    static let control = "community-grocery", variant = "grocery-21d", percent = 40

    let directory: URL
    let events: [Event]
    /// The last event's ts: the end of the replay.
    let end: Int64

    static let shared: Result<VariantReportedReplay, any Error> = Result { try make() }

    static func get() throws -> VariantReportedReplay { try shared.get() }

    private static func make() throws -> VariantReportedReplay {
        let input = try Fixtures.temporaryDirectory("variant-report-in")
        let files = try Fixtures.generateEvents(["--users", "900", "--days", "100", "--seed", "11"], into: input)
        let reference = try String(contentsOfFile: Fixtures.referencePipeline, encoding: .utf8)
        let variantText = reference.replacingOccurrences(of: "pipeline: \(control)", with: "pipeline: \(variant)")
            .replacingOccurrences(of: "at_risk: since(last_paid) >= 30d", with: "at_risk: since(last_paid) >= 21d")
        guard variantText.contains("pipeline: \(variant)"), variantText.contains(">= 21d") else { throw TestFailure("the reference pipeline changed: no variant") }
        let variantFile = input.appendingPathComponent("variant.yaml")
        try Data(variantText.utf8).write(to: variantFile)
        let out = try Fixtures.temporaryDirectory("variant-report-out")
        let replay = try Fixtures.run(Fixtures.tagstreamBinary, ["replay", "--variant", variantFile.path, "--split", String(percent), "--out", out.path] + files)
        guard replay.status == 0 else { throw TestFailure("tagstream replay --variant failed: \(replay.stderr)") }
        var events: [Event] = []
        for file in files {
            for object in try ReportChecks.objects(file) {
                events.append(Event(user: object["user_id"] as! String, type: object["type"] as! String,
                                    ts: (object["ts"] as! NSNumber).int64Value, amount: ReportChecks.decimal(object["amount"])))
            }
        }
        let report = try Fixtures.run(Fixtures.tagstreamBinary, ["report", out.path])
        guard report.status == 0 else { throw TestFailure("tagstream report failed: \(report.stderr)") }
        return VariantReportedReplay(directory: out, events: events, end: events.map(\.ts).max()!)
    }

    func report() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("report.json"))) as? [String: Any])
    }

    func records(_ file: String) throws -> [[String: Any]] { try ReportChecks.objects(directory.appendingPathComponent(file).path) }

    /// Users of the input events by arm, as the split puts them: "control" or "variant".
    var usersByArm: [String: Set<String>] {
        Dictionary(grouping: Set(events.map(\.user)), by: { VariantChecks.arm(of: $0) }).mapValues(Set.init)
    }
}

/// The split and the statistics written out again for the checks: nothing here comes from the report's code.
enum VariantChecks {
    /// "control" or "variant": FNV-1a-64 of the UTF-8 bytes of "variant:<user_id>", mod 100, below the percent.
    static func arm(of user: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "variant:\(user)".utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash % 100 < UInt64(VariantReportedReplay.percent) ? "variant" : "control"
    }

    static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

    static func sampleVariance(_ values: [Double]) -> Double {
        let m = mean(values)
        return values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)
    }

    /// variant − control with Welch's standard error, z = 1.959964.
    static func welch(variant: [Double], control: [Double]) -> (Double, Double, Double) {
        let d = mean(variant) - mean(control)
        let margin = 1.959964 * (sampleVariance(variant) / Double(variant.count) + sampleVariance(control) / Double(control.count)).squareRoot()
        return (d, d - margin, d + margin)
    }

    /// x₁/n₁ − x₂/n₂ with Newcombe's hybrid score interval.
    static func newcombe(_ x1: Int, _ n1: Int, _ x2: Int, _ n2: Int) -> (Double, Double, Double) {
        let p1 = Double(x1) / Double(n1), p2 = Double(x2) / Double(n2)
        let (l1, u1) = ReportChecks.wilson(x1, n1), (l2, u2) = ReportChecks.wilson(x2, n2)
        return (p1 - p2, p1 - p2 - ((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2)).squareRoot(),
                p1 - p2 + ((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2)).squareRoot())
    }

    /// A figure of `report.json` with `difference` and `ci95` against the expected three numbers.
    static func expectDifference(_ figure: [String: Any], _ expected: (Double, Double, Double), _ label: String,
                                 sourceLocation: SourceLocation = #_sourceLocation) {
        let ci = figure["ci95"] as? [NSNumber] ?? []
        #expect(ReportChecks.close(ReportChecks.double(figure["difference"]), expected.0, tolerance: 1e-9), "\(label) difference", sourceLocation: sourceLocation)
        #expect(ci.count == 2 && ReportChecks.close(ci[0].doubleValue, expected.1, tolerance: 1e-9) && ReportChecks.close(ci[1].doubleValue, expected.2, tolerance: 1e-9),
                "\(label) ci95 \(ci) against \(expected)", sourceLocation: sourceLocation)
    }

    /// A per-user figure: users, total, mean, standard deviation per arm and the Welch difference.
    static func expectPerUser(_ figure: [String: Any]?, _ values: [String: [Decimal]], _ label: String,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        let doubles = values.mapValues { $0.map { NSDecimalNumber(decimal: $0).doubleValue } }
        for role in ["control", "variant"] {
            let arm = figure?[role] as? [String: Any] ?? [:]
            #expect(arm["users"] as? Int == values[role]!.count, "\(label) \(role) users", sourceLocation: sourceLocation)
            #expect(ReportChecks.decimal(arm["total"]) == values[role]!.reduce(0, +), "\(label) \(role) total", sourceLocation: sourceLocation)
            #expect(ReportChecks.close(ReportChecks.double(arm["mean"]), mean(doubles[role]!)), "\(label) \(role) mean", sourceLocation: sourceLocation)
            #expect(ReportChecks.close(ReportChecks.double(arm["standard_deviation"]), sampleVariance(doubles[role]!).squareRoot()),
                    "\(label) \(role) standard deviation", sourceLocation: sourceLocation)
        }
        expectDifference(figure ?? [:], welch(variant: doubles["variant"]!, control: doubles["control"]!), label, sourceLocation: sourceLocation)
        let small = values.values.contains { $0.count < 30 }
        #expect((figure?["warning"] is String) == small, "\(label) warning", sourceLocation: sourceLocation)
    }
}

@Suite struct ReportVariantTests {
    @Test func theArmsAreTheSplitOfTheUsersByTheirHash() throws {
        let replay = try VariantReportedReplay.get()
        let section = try #require(try replay.report()["variants"] as? [String: Any])
        let users = replay.usersByArm
        #expect((users["variant"]?.count ?? 0) > 250 && (users["control"]?.count ?? 0) > 400, "a 40/60 split of 900 users: \(users.mapValues(\.count))")
        for (role, pipeline, percent) in [("control", VariantReportedReplay.control, 100 - VariantReportedReplay.percent),
                                          ("variant", VariantReportedReplay.variant, VariantReportedReplay.percent)] {
            let arm = try #require(section[role] as? [String: Any])
            #expect(arm["pipeline"] as? String == pipeline && arm["percent"] as? Int == percent, "\(role)")
            #expect(arm["users"] as? Int == users[role]?.count, "\(role) users")
        }
        // Every record names the arm its user hashes to.
        for file in ["tags.jsonl", "coupons.jsonl", "coupon_outcomes.jsonl"] {
            let records = try replay.records(file)
            #expect(!records.isEmpty)
            let wrong = records.filter {
                let arm = VariantChecks.arm(of: $0["user_id"] as! String)
                return $0["variant"] as? String != (arm == "variant" ? VariantReportedReplay.variant : VariantReportedReplay.control)
            }
            #expect(wrong.isEmpty, "\(file): \(wrong.prefix(3))")
        }
        let headlines = try #require(section["headlines"] as? [String])
        #expect(headlines.first?.contains("\(VariantReportedReplay.control) is the control") == true
                && headlines.first?.contains("\(VariantReportedReplay.variant) the variant (\(VariantReportedReplay.percent) %") == true, "\(headlines)")
    }

    /// Conversion of sent coupons per arm, from the coupon records and the input events: a coupon
    /// converted when its user paid an order in (ts, ts + 7 days]; coupons whose window was open at the end are left out.
    @Test func conversionAgreesWithARecomputationFromTheEvents() throws {
        let replay = try VariantReportedReplay.get()
        let conversion = try #require((try replay.report()["variants"] as? [String: Any])?["conversion"] as? [String: Any])
        let paid = Dictionary(grouping: replay.events.filter { $0.type == "order_paid" }, by: \.user).mapValues { $0.map(\.ts) }
        var counts: [String: [String: (n: Int, x: Int)]] = [:]  // campaign ("" overall) → arm → counts
        for coupon in try replay.records("coupons.jsonl") where coupon["holdout"] as? Bool == false {
            let ts = (coupon["ts"] as! NSNumber).int64Value, user = coupon["user_id"] as! String
            guard ts + ReportedReplay.window <= replay.end else { continue }
            let converted = (paid[user] ?? []).contains { $0 > ts && $0 <= ts + ReportedReplay.window }
            for key in ["", coupon["campaign"] as! String] {
                var entry = counts[key, default: [:]][VariantChecks.arm(of: user), default: (0, 0)]
                entry.n += 1
                entry.x += converted ? 1 : 0
                counts[key, default: [:]][VariantChecks.arm(of: user)] = entry
            }
        }
        let campaigns = try #require(conversion["campaigns"] as? [String: [String: Any]])
        #expect(Set(campaigns.keys) == Set(counts.keys.filter { !$0.isEmpty }) && campaigns.count == 3)
        for (key, arms) in counts {
            let figure = try #require(key.isEmpty ? conversion : campaigns[key])
            let label = key.isEmpty ? "conversion overall" : "conversion of \(key)"
            for role in ["control", "variant"] {
                let arm = figure[role] as? [String: Any]
                let expected = arms[role] ?? (0, 0)
                #expect(arm?["coupons"] as? Int == expected.n && arm?["converted"] as? Int == expected.x, "\(label) \(role)")
                #expect(ReportChecks.close(ReportChecks.double(arm?["rate"]), Double(expected.x) / Double(expected.n)), "\(label) \(role) rate")
            }
            let (v, c) = (arms["variant"] ?? (0, 0), arms["control"] ?? (0, 0))
            if v.n > 0, c.n > 0 {
                VariantChecks.expectDifference(figure, VariantChecks.newcombe(v.x, v.n, c.x, c.n), label)
            } else {
                #expect(figure["difference"] is NSNull && figure["ci95"] is NSNull, "\(label): no difference with an empty arm")
            }
            #expect((figure["warning"] is String) == ([v.n, c.n].contains { $0 < 30 } || [v.x, c.x].contains { $0 < 5 }), "\(label) warning")
        }
    }

    /// GMV, coupons and lifecycle transitions per user over every user of each arm (0 for a user
    /// without any), and churn: users whose last lifecycle record says sleeping or churned.
    @Test func perUserFiguresAndChurnAgreeWithARecomputationFromTheEventsAndRecords() throws {
        let replay = try VariantReportedReplay.get()
        let section = try #require(try replay.report()["variants"] as? [String: Any])
        let users = replay.usersByArm
        func perUser(_ amounts: [String: Decimal]) -> [String: [Decimal]] {
            users.mapValues { $0.map { amounts[$0] ?? 0 } }
        }
        var gmv: [String: Decimal] = [:], coupons: [String: Decimal] = [:], transitions: [String: Decimal] = [:]
        for event in replay.events where event.type == "order_paid" || event.type == "order_refunded" {
            gmv[event.user, default: 0] += event.type == "order_paid" ? event.amount : -event.amount
        }
        for coupon in try replay.records("coupons.jsonl") where coupon["holdout"] as? Bool == false { coupons[coupon["user_id"] as! String, default: 0] += 1 }
        let lifecycle = try replay.records("tags.jsonl").filter { $0["group"] as? String == "lifecycle" }
        for record in lifecycle { transitions[record["user_id"] as! String, default: 0] += 1 }
        VariantChecks.expectPerUser(section["gmv_per_user"] as? [String: Any], perUser(gmv), "GMV per user")
        VariantChecks.expectPerUser(section["coupons_per_user"] as? [String: Any], perUser(coupons), "coupons per user")
        VariantChecks.expectPerUser(section["lifecycle_transitions_per_user"] as? [String: Any], perUser(transitions), "lifecycle transitions per user")

        let final = ReportChecks.tags(lifecycle, group: "lifecycle", before: .max)
        let churned = users.mapValues { $0.filter { ["sleeping", "churned"].contains(final[$0]) }.count }
        #expect((churned["control"] ?? 0) + (churned["variant"] ?? 0) > 10, "some users churn in 100 days: \(churned)")
        let churn = try #require(section["churn"] as? [String: Any])
        for role in ["control", "variant"] {
            let arm = churn[role] as? [String: Any]
            #expect(arm?["users"] as? Int == users[role]!.count && arm?["churned"] as? Int == churned[role]!, "churn \(role)")
        }
        VariantChecks.expectDifference(churn, VariantChecks.newcombe(churned["variant"]!, users["variant"]!.count, churned["control"]!, users["control"]!.count), "churn")
    }

    @Test func theSameRecordsGiveTheSameBytesAndThePageSaysWhichArmIsWhich() throws {
        let replay = try VariantReportedReplay.get()
        let names = ["report.json", "report.html"]
        let before = try names.map { try Data(contentsOf: replay.directory.appendingPathComponent($0)) }
        let result = try Fixtures.run(Fixtures.tagstreamBinary, ["report", replay.directory.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("A/B test of two pipelines: \(VariantReportedReplay.control) is the control"), "\(result.stdout)")
        #expect(try names.map { try Data(contentsOf: replay.directory.appendingPathComponent($0)) } == before)
        let html = String(decoding: before[1], as: UTF8.self)
        #expect(html.contains("A/B test: \(VariantReportedReplay.variant) against \(VariantReportedReplay.control)"))
        #expect(html.contains("The <strong>control</strong> is <code>\(VariantReportedReplay.control)</code>"))
        // A plain replay's report has no such section.
        #expect(try ReportedReplay.get().report()["variants"] is NSNull)
    }

    /// Records that do not belong to the split of summary.json, or a summary that is no split, stop the report with the file, line and field.
    @Test func recordsOfTheWrongArmAndABadSplitAreErrors() throws {
        let directory = try Fixtures.temporaryDirectory("variant-report-bad")
        let user = (0..<100).map { "u\($0)" }.first { VariantChecks.arm(of: $0) == "control" }!
        func summary(_ variants: String) throws {
            try Data(#"{"input_files": [], "variants": \#(variants)}"#.utf8).write(to: directory.appendingPathComponent("summary.json"))
        }
        try summary(#"[{"name": "A", "percent": 60, "users": 1}, {"name": "B", "percent": 40, "users": 1}]"#)
        try Data("""
            {"kind":"tag","id":"a","user_id":"\(user)","community_id":"c1","group":"lifecycle","tag":"new","previous":null,"ts":1772355600000,"variant":"A"}
            {"kind":"tag","id":"b","user_id":"\(user)","community_id":"c1","group":"lifecycle","tag":"active","previous":"new","ts":1772355600001,"variant":"B"}

            """.utf8).write(to: directory.appendingPathComponent("tags.jsonl"))
        let wrongArm = try Fixtures.run(Fixtures.tagstreamBinary, ["report", directory.path])
        #expect(wrongArm.status == 1 && wrongArm.stderr.contains("tags.jsonl:2: field 'variant': 'B', but user '\(user)' is in the arm of 'A'"), "\(wrongArm.stderr)")
        try summary(#"[{"name": "A", "percent": 60, "users": 1}, {"name": "B", "percent": 30, "users": 1}]"#)
        let badSplit = try Fixtures.run(Fixtures.tagstreamBinary, ["report", directory.path])
        #expect(badSplit.status == 1 && badSplit.stderr.contains("summary.json: field 'variants': the arms' percents add up to 90, not 100"), "\(badSplit.stderr)")
    }
}
