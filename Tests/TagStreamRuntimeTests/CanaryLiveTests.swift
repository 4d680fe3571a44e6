import Foundation
import Kafka
import Redis
import TagStreamCore
import TestServers
import Testing
@testable import TagStreamRuntime

/// `run --canary` as an operator runs it, on the embedded cluster with redis-server: a canary at
/// 10 %, then a restart at 30 % once more events have come. Records carry their user's arm at the
/// share in force, the restart moves users with their aggregates, and from the next midnight on
/// the run gives what a run at 30 % from the start gives (`replay --variant … --split 30`).
@Suite(.serialized) struct CanaryLiveTests {
    /// 2026-01-01 plus 35 days: the first events end before it, the others begin at it.
    static let cutover: Int64 = (20_454 + 35) * EventTime.day

    @Test func raisingTheShareOnARestartMovesUsersAndCarriesOnAsARunAtThatShare() async throws {
        let input = try Fixtures.temporaryDirectory("canary-live-in")
        let files = try Fixtures.generateEvents(["--users", "1200", "--days", "60", "--seed", "23", "--partitions", "4", "--start", "2026-01-01"], into: input)
        let (before, after) = try Self.split(files, at: Self.cutover)
        let canaryFile = try Self.writeCanaryPipeline("canary-live-pipeline")

        let redis = try RedisServer()
        let (cluster, topics) = try LiveCheckpointTests.cluster(with: before, partitions: 4)
        var engine = try LiveCheckpointFaultTests.engine(cluster, redis, group: "canary", extra: ["--canary", canaryFile.path, "--canary-percent", "10"])
        engine.directory = try Fixtures.temporaryDirectory("canary-live-cwd")
        let first = try engine.runToEnd()
        #expect(first.status == 0, "\(first.stderr.suffix(800))")
        let outputs = [topics.tags, topics.alerts, topics.coupons, topics.couponOutcomes]
        let firstRun = try Self.records(outputs, brokers: cluster.bootstrapServers)

        // More events, and a restart at 30 % with metrics served.
        try LiveRunTests.produce(after, to: cluster, topics: topics, properties: ["compression.type": "zstd"])
        let port = try LoopbackPort.free()
        engine.extra = ["--canary", canaryFile.path, "--canary-percent", "30", "--http-port", String(port)]
        let process = try engine.launch()
        defer { if process.isRunning { process.terminate() } }
        var metrics = ""
        while process.isRunning {
            if let response = try? await HTTP.get(port: port, path: "/metrics"), response.body.contains("variant=") { metrics = response.body }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(process.terminationStatus == 0, "\(engine.logText.suffix(800))")
        let all = try Self.records(outputs, brokers: cluster.bootstrapServers)
        let madeBefore = Set(firstRun)
        let secondRun = all.filter { !madeBefore.contains($0) }

        // Each record carries its user's arm at the share in force when it was made.
        for (records, percent) in [(firstRun, 10), (secondRun, 30)] {
            let wrong = records.filter { record in
                let fields = CanaryTests.object(record)
                let user = fields["user_id"] as? String ?? ""
                return fields["variant"] as? String != (CanaryTests.inCanary(user, percent: percent) ? CanaryTests.canary : CanaryTests.control)
            }
            #expect(records.count > 500 && wrong.isEmpty, "at \(percent) %: \(wrong.count) of \(records.count) records in the wrong arm, e.g. \(wrong.first ?? "")")
        }
        let seenBefore = Set(try before.flatMap { try Self.users(in: $0) })
        let moving = seenBefore.filter { CanaryTests.inCanary($0, percent: 30) && !CanaryTests.inCanary($0, percent: 10) }
        #expect(moving.count > 50 && engine.logText.contains("canary at 30 %: \(moving.count) users moved to '\(CanaryTests.canary)' and 0 to 'community-grocery'"),
                "\(moving.count) users should move: \(engine.logText.suffix(1500))")

        // From the first midnight after the restart on, the records that follow from a user's own
        // aggregates are those of a run at 30 % all along. Tiers (and what reads them) follow the
        // percentiles of the arm's users too, which were another population before the restart.
        let reference = try Self.abReplay(files, canary: canaryFile, percent: 30, name: "canary-live-reference")
        var expected: [String] = []
        for file in ["tags.jsonl", "alerts.jsonl", "coupons.jsonl", "coupon_outcomes.jsonl"] {
            expected += try String(contentsOf: reference.appendingPathComponent(file), encoding: .utf8).split(separator: "\n").map(String.init)
        }
        let readsPercentiles: Set<String> = ["tier", "high_value_family", "vip_churn_risk"]
        let since = { (records: [String]) in
            Self.byKey(records.filter { record in
                let fields = CanaryTests.object(record)
                return (fields["ts"] as? NSNumber)?.int64Value ?? 0 >= Self.cutover
                    && !readsPercentiles.contains(fields["group"] as? String ?? fields["alert"] as? String ?? "")
            })
        }
        let (actualAfter, expectedAfter) = (since(all), since(expected))
        let differing = Set(actualAfter.keys).union(expectedAfter.keys).filter { actualAfter[$0] != expectedAfter[$0] }.sorted()
        #expect(expectedAfter.values.map(\.count).reduce(0, +) > 1_000)
        #expect(differing.isEmpty, "\(differing.count) users' records differ, moved ones among them: \(differing.filter(moving.contains).prefix(5)); e.g. \(differing.first.map { "\(actualAfter[$0] ?? []) against \(expectedAfter[$0] ?? [])" } ?? "")")
        // And every user ends with the tags of that run, tiers too.
        let (finalTags, expectedTags) = (Self.lastTags(all), Self.lastTags(expected))
        let differentTags = Set(finalTags.keys).union(expectedTags.keys).filter { finalTags[$0] != expectedTags[$0] }.sorted()
        #expect(expectedTags.count > 2_000 && differentTags.isEmpty, "\(differentTags.count) of \(expectedTags.count) final tags differ, e.g. \(differentTags.prefix(3))")

        // Metrics count records out per variant.
        for variant in [CanaryTests.control, CanaryTests.canary] {
            let counted = PrometheusText.value(in: metrics, "tagstream_records_out_total", labels: #"{kind="tag",variant="\#(variant)"}"#) ?? 0
            let written = secondRun.filter { $0.hasPrefix(#"{"kind":"tag""#) && $0.hasSuffix(#","variant":"\#(variant)"}"#) }.count
            #expect(counted > 0 && Int(counted) <= written, "\(variant): \(counted) tag records counted, \(written) written")
        }
    }

    /// Two instances of a run split by partition (four tasks, each with a canary engine beside its
    /// main one): every record equals what `replay --variant … --split 30` gives, community figures
    /// included, which the tasks' canary engines settle among themselves at each refresh.
    @Test func aCanaryInARunSplitByPartitionGivesWhatAnABReplayGives() async throws {
        let (canaryFile, reference, redis, cluster, topics) = try Self.setUp("canary-split", users: 1_500, days: 45, seed: 29, partitions: 4)
        let engines = try SplitLiveRunTests.instances(2, "canary-split", cluster: cluster, redis: redis).map { engine in
            var engine = engine
            engine.extra += ["--canary", canaryFile.path, "--canary-percent", "30"]
            return engine
        }
        let processes = try engines.map { try $0.launch() }
        defer { for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try await SplitLiveRunTests.expectAllSucceed(processes, engines)
        try Self.expectTopicsEqual(reference, cluster: cluster, topics: topics)
        let variants = Set(try LiveCheckpointTests.readAll(topics.communityStats, brokers: cluster.bootstrapServers).values.joined()
            .map { CanaryTests.object($0)["variant"] as? String ?? "none" })
        #expect(variants == [CanaryTests.control, CanaryTests.canary])
    }

    /// A canary run killed (SIGKILL) mid-run and restarted at once, with librdkafka's default
    /// settings: every record reaches the topics exactly once, as an A/B replay gives it.
    @Test func aCanaryRunKilledAndRestartedAtOnceProducesEachRecordOnce() async throws {
        let (canaryFile, reference, redis, cluster, topics) = try Self.setUp("canary-kill", users: 6_000, days: 60, seed: 37, partitions: 8)
        var engine = try LiveCheckpointFaultTests.engine(cluster, redis, group: "canary-kill", extra: ["--canary", canaryFile.path, "--canary-percent", "30"])
        engine.directory = try Fixtures.temporaryDirectory("canary-kill-cwd")
        let store = RedisCheckpointStore(client: RedisClient(url: try RedisURL(redis.url)), pipeline: "community-grocery", group: "canary-kill")
        let process = try engine.launch()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(300)
        while process.isRunning, try LiveCheckpointTests.inputCheckpointed(store) == 0, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: .seconds(Double.random(in: 0...1.5)))
        try #require(process.isRunning, "the run ended before the kill; use more data")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let restarted = try engine.runToEnd()
        #expect(restarted.status == 0, "\(restarted.stderr.suffix(800))")
        #expect(restarted.stderr.contains("restoring checkpoint"), "\(restarted.stderr.suffix(800))")
        try Self.expectTopicsEqual(reference, cluster: cluster, topics: topics)
    }

    /// The canary's pipeline (`CanaryTests.canaryYAML`) in a file.
    static func writeCanaryPipeline(_ name: String) throws -> URL {
        let file = try Fixtures.temporaryDirectory(name).appendingPathComponent("next.yaml")
        try Data(try CanaryTests.canaryYAML().utf8).write(to: file)
        return file
    }

    /// Events of `users` users in co-partitioned files, the canary's file, the A/B replay at 30 %
    /// of them, and a cluster holding them beside a redis-server.
    static func setUp(_ name: String, users: Int, days: Int, seed: Int, partitions: Int) throws
        -> (canary: URL, reference: URL, redis: RedisServer, cluster: EmbeddedKafkaCluster, topics: Topics) {
        let files = try Fixtures.generateEvents(["--users", "\(users)", "--days", "\(days)", "--seed", "\(seed)", "--partitions", "\(partitions)",
                                                 "--dup-rate", "0.002", "--bad-rate", "0.002"], into: try Fixtures.temporaryDirectory("\(name)-in"))
        let canary = try writeCanaryPipeline("\(name)-pipeline")
        let reference = try abReplay(files, canary: canary, percent: 30, name: "\(name)-reference")
        let redis = try RedisServer()
        let (cluster, topics) = try LiveCheckpointTests.cluster(with: files, partitions: partitions)
        return (canary, reference, redis, cluster, topics)
    }

    /// `replay --variant … --split percent` of the files, up to their last event: each arm of an
    /// A/B replay ends at its own last event, and a live run's engines both end at the run's.
    static func abReplay(_ files: [String], canary: URL, percent: Int, name: String) throws -> URL {
        let end = try files.flatMap { try Data(contentsOf: URL(fileURLWithPath: $0)).split(separator: UInt8(ascii: "\n")) }
            .compactMap { ((try? JSONSerialization.jsonObject(with: Data($0))) as? [String: Any])?["ts"] as? NSNumber }.map(\.int64Value).max()!
        let reference = try Fixtures.temporaryDirectory(name)
        let replay = try Fixtures.run(Fixtures.tagstreamBinary, ["replay", "--variant", canary.path, "--split", String(percent), "--until", String(end),
                                                                 "--out", reference.path] + files)
        guard replay.status == 0 else { throw TestFailure("replay --variant failed: \(replay.stderr)") }
        return reference
    }

    /// Every output topic holds what the A/B replay's files hold, in order per key and variant (a
    /// community's records of the two pipelines interleave as each engine's output is produced),
    /// with no duplicate.
    static func expectTopicsEqual(_ reference: URL, cluster: EmbeddedKafkaCluster, topics: Topics) throws {
        var total = 0
        for (file, topic) in [("tags.jsonl", topics.tags), ("alerts.jsonl", topics.alerts), ("coupons.jsonl", topics.coupons),
                              ("community_stats.jsonl", topics.communityStats), ("coupon_outcomes.jsonl", topics.couponOutcomes)] {
            let expected = byKeyAndVariant(try String(contentsOf: reference.appendingPathComponent(file), encoding: .utf8).split(separator: "\n").map(String.init))
            let actual = byKeyAndVariant(try LiveCheckpointTests.readRecords(topic, brokers: cluster.bootstrapServers).map { String(decoding: $0.value, as: UTF8.self) })
            let differing = Set(actual.keys).union(expected.keys).filter { actual[$0] != expected[$0] }.sorted()
            total += expected.values.map(\.count).reduce(0, +)
            let example = differing.first.map { key in
                let (mine, theirs) = (actual[key] ?? [], expected[key] ?? [])
                let i = zip(mine, theirs).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(mine.count, theirs.count)
                return "\(key), record \(i) of \(mine.count) against \(theirs.count): \(mine.dropFirst(i).first ?? "none") against \(theirs.dropFirst(i).first ?? "none")"
            }
            #expect(differing.isEmpty, "\(topic): \(differing.count) keys differ from the A/B replay's \(file), e.g. \(example ?? "")")
        }
        #expect(total > 5_000)
    }

    /// Each file's lines before `instant` and from it on, in files of the same names.
    static func split(_ files: [String], at instant: Int64) throws -> (before: [String], after: [String]) {
        let (early, late) = (try Fixtures.temporaryDirectory("canary-before"), try Fixtures.temporaryDirectory("canary-after"))
        var before: [String] = [], after: [String] = []
        for file in files {
            let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
            let isBefore = { (line: Substring) in (CanaryTests.object(String(line))["ts"] as? NSNumber)?.int64Value ?? 0 < instant }
            let name = URL(fileURLWithPath: file).lastPathComponent
            before.append(early.appendingPathComponent(name).path)
            after.append(late.appendingPathComponent(name).path)
            try Data(lines.filter(isBefore).joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: before.last!))
            try Data(lines.filter { !isBefore($0) }.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: after.last!))
        }
        return (before, after)
    }

    static func users(in file: String) throws -> [String] {
        try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").compactMap { CanaryTests.object(String($0))["user_id"] as? String }
    }

    static func records(_ topics: [String], brokers: String) throws -> [String] {
        try topics.flatMap { try LiveCheckpointTests.readRecords($0, brokers: brokers).map { String(decoding: $0.value, as: UTF8.self) } }
    }

    /// Each user's tag per group at the end ("user/group" → tag), from the last record of each.
    static func lastTags(_ records: [String]) -> [String: String] {
        var tags: [String: String] = [:]
        for record in records {
            let fields = CanaryTests.object(record)
            guard fields["kind"] as? String == "tag", let user = fields["user_id"] as? String, let group = fields["group"] as? String else { continue }
            tags["\(user)/\(group)"] = fields["tag"] as? String
        }
        return tags
    }

    static func byKeyAndVariant(_ records: [String]) -> [String: [String]] {
        Dictionary(grouping: records) { record in
            let fields = CanaryTests.object(record)
            return "\(fields["user_id"] as? String ?? fields["community_id"] as? String ?? "")/\(fields["variant"] as? String ?? "")"
        }
    }

    static func byKey(_ records: [String]) -> [String: [String]] {
        Dictionary(grouping: records) { CanaryTests.object($0)["user_id"] as? String ?? "" }
    }
}
