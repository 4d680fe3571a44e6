import Foundation
import Testing
import TagStreamCore
@testable import TagStreamRuntime

/// Pipeline files: the reference pipeline loads as SPEC §4, and mistakes come back as `file:line:column: message`.
@Suite struct PipelineFileTests {
    @Test func referencePipelineHasTheSpecSettings() throws {
        let p = try PipelineLoader.load(path: Fixtures.referencePipeline)
        #expect(p.name == "community-grocery")
        #expect(p.time.lateness.milliseconds == 5 * EventTime.minute)
        #expect(p.tier.levels.map(\.name) == ["platinum", "gold", "silver"])
        #expect(p.tier.levels[0].spendPercentile == Ratio(95, 100))
        #expect(p.flags.all.map(\.name) == ["price_sensitive", "family_with_kids", "quality_seeker", "high_value_family"])
        #expect(p.vipChurn?.minimumDelay.milliseconds == 14 * EventTime.day)
        #expect(p.coupons.cartRescue?.cooldown.milliseconds == EventTime.day)
        #expect(p.communityAlert?.ratio == Ratio(30, 100))
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
        #expect(pipeline.coupons.cartRescue?.dailyCapPerCommunity == 200)
        let out = try Fixtures.temporaryDirectory("shop-out")
        let summary = try ReplayJob(options: ReplayOptions(pipeline: pipeline, inputs: files, outputDirectory: out.path))
            .run(progress: ProgressLine(enabled: false))
        #expect(Set(summary.outputs.tagsSet.keys) == ["lifecycle", "tier", "bargain_hunter"])
        #expect(Set(summary.outputs.tagsSet["tier"]?.keys.map { $0 } ?? []) == ["vip", "regular"])
        #expect(Set(summary.outputs.coupons.keys) == ["cart_rescue"])
        #expect(summary.outputs.byKind["community_stats"] == nil)
    }

    static let mistakes: [(yaml: String, message: String)] = [
        ("pipeline: x\nlifecycle:\n  churned_after: 30 fortnights\ntier:\n  levels:\n    - tag: a\n      last_paid_within: 1d\n",
         "p.yaml:3:18: '30 fortnights' is not a duration"),
        ("pipeline: x\nlifecycle: {}\ntier:\n  levels: []\n", "p.yaml:4:11: tier has no levels"),
        ("pipeline: x\nlifecycle: {}\ntier:\n  levels:\n    - tag: a\n      last_paid_within: 1d\n      spend_at_least: top\n",
         "p.yaml:7:23: 'top' is not a percentile"),
        ("pipeline: x\nlifecycle: {}\ntier:\n  levels:\n    - tag: a\n      last_paid_within: 1d\nflags:\n  - flag: f\n    flag_and_tier: {flag: nope, tiers: [a]}\n",
         "p.yaml:9:27: unknown flag 'nope'"),
        ("pipeline: x\nlifecycle: {}\ntier:\n  levels:\n    - tag: a\n      last_paid_within: 1d\nflags:\n  - flag: f\n    coupon_share: {min_orders: 3, at_least: lots}\n",
         "p.yaml:9:45: 'lots' is not a non-negative decimal"),
        ("pipeline: x\nlifecycle: {}\ntier:\n  levels:\n    - tag: a\n      last_paid_within: 1d\nalerts:\n  vip_churn_risk: {tiers: [diamond]}\n",
         "p.yaml:8:27: unknown tier 'diamond'"),
        ("pipeline: x\nlifecycle: {}\ntier:\n  levels:\n    - tag: a\n      last_paid_within: 1d\n  colour: red\n",
         "p.yaml:7:3: unknown key 'colour' in tier"),
        ("pipeline: x\nlifecycle: {}\n", "p.yaml:1:1: the pipeline needs 'tier'"),
        ("pipeline: x\nlifecycle: {\ntier: 1\n", "p.yaml:"),
        ("pipeline: x\nlifecycle: {}\ntier:\n  levels:\n    - tag: a\n      last_paid_within: 1d\nflags:\n  - flag: f\n",
         "p.yaml:8:5: flag 'f' needs exactly one condition"),
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
        let yaml = "pipeline: x\nlifecycle:\n  new_within: soon\n  at_risk_after: 3 eons\ntier:\n  levels: []\n"
        #expect(throws: PipelineError.self) { try PipelineLoader.parse(yaml: yaml, file: "p.yaml") }
        do { _ = try PipelineLoader.parse(yaml: yaml, file: "p.yaml") } catch let error as PipelineError {
            #expect(error.issues.count == 3)
        } catch {}
    }
}
