import Foundation
import Testing
import TagStreamCore
@testable import TagStreamRuntime

/// Pipeline files: the shipped ones load, and mistakes come back as `file:line:column: message`.
@Suite struct PipelineFileTests {
    @Test func referencePipelineDeclaresTheSpecRules() throws {
        let p = try PipelineLoader.load(path: Fixtures.referencePipeline)
        #expect(p.name == "community-grocery")
        #expect(p.time.lateness.milliseconds == 5 * EventTime.minute)
        #expect(p.groupNames == ["lifecycle", "tier", "price_sensitive", "family_with_kids", "quality_seeker", "high_value_family"])
        #expect(p.multiTagGroups == ["lifecycle", "tier"])
        #expect(p.definition.statistics.map(\.quantile) == [Ratio(95, 100), Ratio(75, 100)])
        #expect(p.definition.alerts.map(\.name.name) == ["vip_churn_risk", "community_sleeping_ratio_high"])
        #expect(p.definition.campaigns.map(\.name.name) == ["second_order", "wake_up", "cart_rescue"])
        #expect(p.definition.campaigns[2].cooldown == EventTime.day)
        #expect(p.definition.holdoutPercent == 10)
    }

    @Test func everyShippedPipelineIsValid() throws {
        let dir = Fixtures.packageRoot.appendingPathComponent("pipelines")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 2)
        for file in files { _ = try PipelineLoader.load(path: dir.appendingPathComponent(file).path) }
    }

    @Test func anotherPipelineRunsWithItsOwnTagsAndCampaigns() throws {
        let files = try Fixtures.generateEvents(["--users", "300", "--days", "60", "--seed", "2"], into: try Fixtures.temporaryDirectory("shop-in"))
        let pipeline = try PipelineLoader.load(path: Fixtures.packageRoot.appendingPathComponent("pipelines/ecommerce-basic.yaml").path)
        #expect(pipeline.definition.campaigns.first?.dailyCapPerCommunity == 200)
        let out = try Fixtures.temporaryDirectory("shop-out")
        let summary = try ReplayJob(options: ReplayOptions(pipeline: pipeline, inputs: files, outputDirectory: out.path))
            .run(progress: ProgressLine(enabled: false))
        #expect(Set(summary.outputs.tagsSet.keys).isSubset(of: ["lifecycle", "tier", "bargain_hunter", "explorer", "window_shopper"]))
        #expect(Set(summary.outputs.tagsSet.keys).isSuperset(of: ["lifecycle", "tier", "bargain_hunter", "explorer"]))
        #expect(Set(summary.outputs.tagsSet["tier"]?.keys.map { $0 } ?? []) == ["vip", "regular"])
        #expect(Set(summary.outputs.coupons.keys) == ["cart_rescue"])
        #expect(summary.outputs.byKind["community_stats"] == nil)
        #expect(Set(summary.finalState.groups.keys) == ["lifecycle", "tier"])
    }

    static let header = "pipeline: x\naggregates:\n  last_paid: {last: ts, of: order_paid}\n  orders: {count: order_paid}\n"

    static let mistakes: [(yaml: String, message: String)] = [
        ("pipeline: x\ntime:\n  lateness: 30 fortnights\n", "p.yaml:3:13: '30 fortnights' is not a duration"),
        (header + "flags:\n  f: since(last_paid) >= 30 fortnights\n", "p.yaml:6:26: '30 fortnights' is not a duration"),
        (header + "flags:\n  f: since(last_paid) >= 3fortnights\n", "p.yaml:6:26: '3fortnights' is not a duration"),
        (header + "flags:\n  f: since(last_pad) >= 30d\n", "p.yaml:6:12: unknown aggregate, value or tag group 'last_pad'"),
        (header + "flags:\n  f: orders >= 30d\n", "p.yaml:6:13: cannot compare a number with a duration"),
        (header + "flags:\n  f: 'orders + last_paid > 2'\n", "p.yaml:6:14: cannot apply '+' to a number and an instant"),
        (header + "flags:\n  f: orders\n", "p.yaml:6:6: expected a condition but this is a number"),
        (header + "flags:\n  f: orders >= 3 and\n", "p.yaml:6:21: the expression ends too early"),
        (header + "flags:\n  f: since(last_paid) + 1d >= 30d\n", "p.yaml:6:6: since(…) can only be compared directly"),
        (header + "tags:\n  g:\n    rules: []\n", "p.yaml:6:3: tag group 'g' has no rules"),
        (header + "tags:\n  g:\n    rules:\n      - a: orders >= 1\nflags:\n  f: g == \"b\"\n", "p.yaml:10:6: tag group 'g' has no tag 'b'"),
        (header + "aggregates2: {}\n", "p.yaml:5:1: unknown key 'aggregates2' in the pipeline"),
        ("pipeline: x\naggregates:\n  s: {sum: ts, of: order_paid}\n", "p.yaml:3:12: 'ts' cannot be aggregated by sum"),
        ("pipeline: x\naggregates:\n  s: {sum: amount, of: order_payed}\n", "p.yaml:3:24: unknown event type 'order_payed'"),
        ("pipeline: x\naggregates:\n  s: {sum: amount, window: 2 moons}\n", "p.yaml:3:28: '2 moons' is not a duration"),
        ("pipeline: x\naggregates:\n  s: {sum: amount, count: any}\n", "p.yaml:3:6: aggregate 's' needs exactly one of"),
        ("pipeline: x\naggregates:\n  s: {count: search, where: 'contains_any(amount, [\"x\"])'}\n",
         "p.yaml:3:43: expected a string field"),
        (header + "statistics:\n  p9: {percentile: top, of: orders}\n", "p.yaml:6:20: 'top' is not a percentile"),
        (header + "coupons:\n  campaigns:\n    c: {trigger: lifecycle -> sleeping}\n", "p.yaml:7:18: unknown tag group 'lifecycle'"),
        (header + "alerts:\n  a: {key: community, when: orders >= 1}\n", "p.yaml:6:29: unknown aggregate, value or tag group 'orders'"),
        (header + "community_counts:\n" + (0...64).map { "  c\($0): orders >= 1\n" }.joined(), "p.yaml:70:3: at most 64 community counts"),
        ("pipeline: x\naggregates:\n" + (0...64).map { "  a\($0): {count: view}\n" }.joined(), "p.yaml:67:3: at most 64 aggregates per user"),
        ("pipeline: x\naggregates:\n" + (0...64).map { "  a\($0): {key: community, count: view}\n" }.joined(),
         "p.yaml:67:3: at most 64 aggregates per community"),
        (header + "alerts:\n" + (0...64).map { "  a\($0): {when: orders >= 1}\n" }.joined(), "p.yaml:70:3: at most 64 alerts"),
        (header + "coupons:\n  campaigns:\n" + (0...64).map { "    c\($0): {trigger: order_paid}\n" }.joined(),
         "p.yaml:71:5: at most 64 coupon campaigns"),
        (header + "coupons:\n  campaigns:\n    c: {trigger: order_paid, outcome: {event: order_payed}}\n", "p.yaml:7:47: an outcome is an event type"),
        (header + "coupons:\n  campaigns:\n    c: {trigger: order_paid, outcome: {within: 0d}}\n", "p.yaml:7:39: an outcome's window ('within') must be longer than 0"),
        (header + "coupons:\n  campaigns:\n    c: {trigger: order_paid, outcome: {wihtin: 7d}}\n", "p.yaml:7:40: unknown key 'wihtin'"),
        ("pipeline: x\ntags: {\n", "p.yaml:"),
        ("aggregates: {}\n", "p.yaml:1:1: the pipeline needs 'pipeline'"),
    ]

    @Test(arguments: mistakes)
    func mistakeIsReportedWithItsPosition(yaml: String, message: String) {
        do {
            _ = try PipelineLoader.parse(yaml: yaml, file: "p.yaml")
            Issue.record("expected an error containing \(message)")
        } catch let error as PipelineError {
            #expect(error.issues.contains { $0.description.hasPrefix(message) }, "got: \(error.description)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func everyMistakeInAFileIsReported() {
        let yaml = Self.header + "flags:\n  f: orders >= 1d\n  g: nope\n  h: since(orders) > 1d\n"
        do {
            _ = try PipelineLoader.parse(yaml: yaml, file: "p.yaml")
            Issue.record("expected errors")
        } catch let error as PipelineError {
            #expect(error.issues.count == 3, "got: \(error.description)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
