import Foundation
import Testing
import TagStreamCore
import TagStreamRuntime

/// The canary of a live run, on the processor that `run --canary` drives: each arm gives what its
/// pipeline gives on its users alone, and a restart with a larger share moves users to the canary
/// with their aggregates, ending where a run at that share from the start ends.
@Suite struct CanaryTests {
    static let control = "community-grocery", canary = "grocery-21d"

    /// The canary's file: the reference pipeline as `grocery-21d`, calling users at risk after 21
    /// days instead of 30.
    static func canaryYAML() throws -> String {
        let edited = try String(contentsOfFile: Fixtures.referencePipeline, encoding: .utf8)
            .replacingOccurrences(of: "pipeline: community-grocery", with: "pipeline: \(canary)")
            .replacingOccurrences(of: "at_risk: since(last_paid) >= 30d", with: "at_risk: since(last_paid) >= 21d")
        #expect(edited.contains("since(last_paid) >= 21d"))
        return edited
    }

    /// The reference pipeline and its canary.
    static func pipelines() throws -> (control: Pipeline, canary: Pipeline) {
        (try PipelineLoader.load(path: Fixtures.referencePipeline), try PipelineLoader.parse(yaml: try canaryYAML(), file: "next.yaml"))
    }

    /// One file of events in time order, its lines, each user's, and the last `ts`.
    static func events() throws -> (lines: [[UInt8]], users: [String?], end: Int64) {
        let file = try Fixtures.temporaryDirectory("canary-in").appendingPathComponent("events.jsonl")
        let result = try Fixtures.run(Fixtures.tagstreamBinary, ["generate", "--users", "1500", "--days", "90", "--seed", "41", "--merged", file.path])
        guard result.status == 0 else { throw TestFailure("generate failed: \(result.stderr)") }
        let lines = try Data(contentsOf: file).split(separator: UInt8(ascii: "\n")).map(Array.init)
        var users: [String?] = [], end = Int64.min
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
            users.append(object?["user_id"] as? String)
            end = max(end, (object?["ts"] as? NSNumber)?.int64Value ?? .min)
        }
        return (lines, users, end)
    }

    /// Whether the documented split (FNV-1a-64 of "variant:<user_id>" mod 100) puts a user in the canary.
    static func inCanary(_ user: String, percent: Int) -> Bool {
        VariantReplayTests.fnv1a64("variant:\(user)") % 100 < UInt64(percent)
    }

    static func feed(_ processor: inout Processor, _ lines: some Sequence<[UInt8]>, into records: inout [String]) throws {
        for line in lines {
            _ = try line.withUnsafeBufferPointer { try processor.process($0, partition: 0) }
            drain(&processor, into: &records)
        }
    }

    static func drain(_ processor: inout Processor, into records: inout [String]) {
        let encoder = RecordEncoder()
        processor.drainOutput { batch, symbols, variant in
            records += batch.map { String(decoding: encoder.encode($0, symbols: symbols, variant: variant), as: UTF8.self) }
        }
    }

    static func object(_ record: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(record.utf8))) as? [String: Any] ?? [:]
    }

    @Test func eachArmGivesWhatItsPipelineGivesOnItsUsersAlone() throws {
        let (control, canary) = try Self.pipelines()
        let (lines, users, end) = try Self.events()
        var processor = Processor(pipeline: control, partitions: 1, until: end, canary: (canary, UserSplit(percent: 30)))
        var records: [String] = []
        try Self.feed(&processor, lines, into: &records)
        try processor.finish()
        Self.drain(&processor, into: &records)

        for (pipeline, isCanary) in [(control, false), (canary, true)] {
            var alone = Processor(pipeline: pipeline, partitions: 1, until: end)
            var expected: [String] = []
            try Self.feed(&alone, zip(lines, users).filter { Self.inCanary($0.1!, percent: 30) == isCanary }.map(\.0), into: &expected)
            try alone.finish()
            Self.drain(&alone, into: &expected)
            let suffix = ",\"variant\":\"\(pipeline.name)\"}"
            let actual = records.filter { $0.hasSuffix(suffix) }.map { String($0.dropLast(suffix.count)) + "}" }
            #expect(expected.count > 1_000, "\(pipeline.name) made \(expected.count) records")
            let firstDifference = zip(actual, expected).first { $0 != $1 }
            #expect(actual == expected, "\(pipeline.name): \(actual.count) records against \(expected.count) of its pipeline on its users alone; first difference: \(firstDifference.map { "\($0) against \($1)" } ?? "none")")
        }
        #expect(records.allSatisfy { $0.hasSuffix(",\"variant\":\"\(Self.control)\"}") || $0.hasSuffix(",\"variant\":\"\(Self.canary)\"}") })
    }

    @Test func theDashboardCountsBothPipelinesUsers() throws {
        let (control, canary) = try Self.pipelines()
        let (lines, _, end) = try Self.events()
        var withCanary = Processor(pipeline: control, partitions: 1, until: end, canary: (canary, UserSplit(percent: 30)))
        var alone = Processor(pipeline: control, partitions: 1, until: end)
        var ignored: [String] = []
        try Self.feed(&withCanary, lines, into: &ignored)
        try Self.feed(&alone, lines, into: &ignored)
        try withCanary.finish()
        try alone.finish()
        let (merged, expected) = (withCanary.dashboardPart(), alone.engine.dashboardPart())
        let mainOnly = withCanary.engine.dashboardPart()
        #expect(merged.communities.count == expected.communities.count && !merged.communities.isEmpty)
        for (name, community) in expected.communities {
            // Who belongs to a community, and who is a new customer, does not depend on the rules.
            #expect(merged.communities[name]?.users == community.users && merged.communities[name]?.newCustomers == community.newCustomers, "\(name)")
            #expect((mainOnly.communities[name]?.users ?? 0) < community.users, "\(name): the main pipeline alone holds fewer users")
        }
    }

    @Test(arguments: [(10, 30), (30, 10), (0, 30), (100, 30)])
    func anotherShareOnARestartMovesUsersWithTheirAggregates(from: Int, to: Int) throws {
        let (control, canary) = try Self.pipelines()
        let (lines, users, end) = try Self.events()
        let half = lines.count / 2
        // One share for the first half, then a restart at the other.
        var before = Processor(pipeline: control, partitions: 1, until: end, canary: (canary, UserSplit(percent: from)))
        var records: [String] = []
        try Self.feed(&before, lines[..<half], into: &records)
        let snapshot = before.snapshot()
        var after = Processor(pipeline: control, partitions: 1, until: end, canary: (canary, UserSplit(percent: to)))
        try after.restore(snapshot)
        var afterRecords: [String] = []
        Self.drain(&after, into: &afterRecords)
        let seenBefore = Set(users[..<half].compactMap { $0 })
        let moving = seenBefore.filter { Self.inCanary($0, percent: to) != Self.inCanary($0, percent: from) }
        let moves = after.canaryMoves
        #expect((to > from ? moves.toCanary : moves.toControl).users == moving.count, "\(moves)")
        #expect((to > from ? moves.toControl : moves.toCanary).users == 0 && moves.toCanary.droppedOutcomes + moves.toControl.droppedOutcomes == 0)
        #expect(moving.count > 100, "\(moving.count) users move")
        try Self.feed(&after, lines[half...], into: &afterRecords)
        try after.finish()
        Self.drain(&after, into: &afterRecords)

        // Every record after the restart carries its user's arm at the new share.
        for record in afterRecords {
            let fields = Self.object(record)
            guard let user = fields["user_id"] as? String else { continue }
            #expect(fields["variant"] as? String == (Self.inCanary(user, percent: to) ? Self.canary : Self.control), "\(record)")
        }
        // Every user ends as in a run at the new share from the start: aggregates, tags, alerts, coupons.
        var reference = Processor(pipeline: control, partitions: 1, until: end, canary: (canary, UserSplit(percent: to)))
        var ignored: [String] = []
        try Self.feed(&reference, lines, into: &ignored)
        try reference.finish()
        var differing: [String] = []
        for user in Set(users.compactMap { $0 }).sorted() where after.userView(user) != reference.userView(user) {
            differing.append(user)
        }
        #expect(differing.isEmpty, "\(differing.count) users differ, moved ones among them: \(differing.filter(moving.contains).prefix(5))")
    }

    @Test func runRefusesACanaryThatCannotPairOrAShareOutOfRange() throws {
        let file = try Fixtures.temporaryDirectory("canary-cli").appendingPathComponent("next.yaml")
        try Data(try String(contentsOfFile: Fixtures.referencePipeline, encoding: .utf8)
            .replacingOccurrences(of: "pipeline: community-grocery", with: "pipeline: next")
            .replacingOccurrences(of: "lateness: 5m", with: "lateness: 10m").utf8).write(to: file)
        let unpaired = try Fixtures.run(Fixtures.tagstreamBinary, ["run", "--brokers", "127.0.0.1:9", "--canary", file.path])
        #expect(unpaired.status != 0 && unpaired.stderr.contains("the canary pipeline 'next' cannot run beside 'community-grocery': its time settings differ"),
                "\(unpaired.stderr)")
        let share = try Fixtures.run(Fixtures.tagstreamBinary, ["run", "--brokers", "127.0.0.1:9", "--canary", file.path, "--canary-percent", "150"])
        #expect(share.status != 0 && share.stderr.contains("--canary-percent must be from 0 to 100, got 150"), "\(share.stderr)")
        let alone = try Fixtures.run(Fixtures.tagstreamBinary, ["run", "--brokers", "127.0.0.1:9", "--canary-percent", "10"])
        #expect(alone.status != 0 && alone.stderr.contains("--canary-percent is the share of --canary"), "\(alone.stderr)")
    }

    @Test func pipelinesThatCannotPairAreNamed() throws {
        let (control, canary) = try Self.pipelines()
        #expect(control.canaryObstacle(canary) == nil)
        #expect(control.canaryObstacle(control)?.contains("same name") == true)
        func edited(_ edit: (String) -> String) throws -> Pipeline {
            let text = try String(contentsOfFile: Fixtures.referencePipeline, encoding: .utf8)
            return try PipelineLoader.parse(yaml: edit(text.replacingOccurrences(of: "pipeline: community-grocery", with: "pipeline: next")), file: "next.yaml")
        }
        let window = try edited { $0.replacingOccurrences(of: "paid_90d:      {sum: amount, of: order_paid, window: 90d}", with: "paid_90d:      {sum: amount, of: order_paid, window: 60d}") }
        #expect(control.canaryObstacle(window)?.contains("aggregate 'paid_90d' is defined differently") == true, "\(control.canaryObstacle(window) ?? "none")")
        let lateness = try edited { $0.replacingOccurrences(of: "lateness: 5m", with: "lateness: 10m") }
        #expect(control.canaryObstacle(lateness)?.contains("time settings differ") == true)
        let topics = try edited { $0.replacingOccurrences(of: "tags: tags", with: "tags: tags.next") }
        #expect(control.canaryObstacle(topics)?.contains("'tags.next' against 'tags'") == true, "\(control.canaryObstacle(topics) ?? "none")")
        let extra = try edited { $0.replacingOccurrences(of: "aggregates:\n", with: "aggregates:\n  views_7d: {count: view, window: 7d}\n") }
        #expect(control.canaryObstacle(extra)?.contains("it has aggregate 'views_7d' where 'community-grocery' has 'paid_orders'") == true,
                "\(control.canaryObstacle(extra) ?? "none")")
    }
}
