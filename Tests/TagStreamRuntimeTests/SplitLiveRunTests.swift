import Foundation
import Kafka
import Redis
import TagStreamCore
import TestServers
import Testing
@testable import TagStreamRuntime

/// A live run split by input partition: each task holds the users of one partition of each input
/// topic, checkpoints on its own, and meets the other tasks at each daily refresh through Kafka.
@Suite(.serialized) struct SplitLiveRunTests {
    /// Messy events in co-partitioned partitions, their replay, and a cluster holding them.
    static func setUp(_ name: String, users: Int = 1_500, partitions: Int = 3) throws -> (files: [String], replayed: URL, summary: ReplaySummary,
                                                                                            cluster: EmbeddedKafkaCluster, topics: Topics) {
        let files = try Fixtures.generateEvents([
            "--users", "\(users)", "--days", "45", "--seed", "31", "--partitions", "\(partitions)",
            "--dup-rate", "0.002", "--bad-rate", "0.002", "--disorder-ms", "60000", "--escape-rate", "0.01", "--noise-rate", "0.01",
        ], into: try Fixtures.temporaryDirectory("\(name)-in"))
        let replayed = try Fixtures.temporaryDirectory("\(name)-replay")
        let summary = try Fixtures.replay(files, into: replayed)
        let (cluster, topics) = try LiveCheckpointTests.cluster(with: files, partitions: partitions)
        return (files, replayed, summary, cluster, topics)
    }

    static func taskOptions(_ task: Int, of count: Int, cluster: EmbeddedKafkaCluster, redis: RedisServer, group: String) throws -> LiveOptions {
        var options = LiveOptions(pipeline: try PipelineLoader.load(path: Fixtures.referencePipeline), brokers: cluster.bootstrapServers, group: group)
        options.stopAtEnd = true
        options.task = ShardRole(index: task, count: count)
        var checkpoints = LiveCheckpointOptions(redis: try RedisURL(redis.url))
        checkpoints.interval = 1
        options.checkpoints = checkpoints
        return options
    }

    /// Runs jobs on a thread each and waits for all of them, without blocking the tests' threads;
    /// returns each one's error, if any.
    static func runConcurrently(_ jobs: [LiveJob]) async -> [String] {
        let failures = LockedRecords()
        let group = DispatchGroup()
        for (i, job) in jobs.enumerated() {
            group.enter()
            Thread {
                do { _ = try job.run() } catch { failures.append("task \(i): \(error)") }
                group.leave()
            }.start()
        }
        await withCheckedContinuation { continuation in group.notify(queue: .global()) { continuation.resume() } }
        return failures.all
    }

    @Test func threeTasksMeetingThroughKafkaProduceReplaysRecordsExactly() async throws {
        let (_, replayed, summary, cluster, topics) = try Self.setUp("split")
        let redis = try RedisServer()
        let jobs = try (0..<3).map { try LiveJob(options: try Self.taskOptions($0, of: 3, cluster: cluster, redis: redis, group: "split")) }
        let failures = await Self.runConcurrently(jobs)
        #expect(failures.isEmpty, "\(failures)")
        try LiveCheckpointTests.expectOutputsEqualReplay(replayed, cluster: cluster, topics: topics)
        let deadLetters = try LiveCheckpointTests.readAll(topics.deadLetters, brokers: cluster.bootstrapServers).values.map(\.count).reduce(0, +)
        #expect(deadLetters == summary.deadLetter)
        #expect(jobs.map { $0.tally.byKind.values.reduce(0, +) }.reduce(0, +) > 5_000, "too few records to prove the split")
        // Each task has checkpoints of its own, under one Redis Cluster hash tag.
        let client = RedisClient(url: try RedisURL(redis.url))
        let namespaces = try RedisCheckpointStore.namespaces(client: client).filter { $0.contains(":split:") }
        #expect(namespaces == (0..<3).map { "{community-grocery:split:task-\($0)}" })
        let listed = try Fixtures.run(Fixtures.tagstreamBinary, ["checkpoints", "list", "--redis", redis.url])
        for task in 0..<3 { #expect(listed.stdout.contains("{community-grocery:split:task-\(task)}"), "\(listed.stdout)") }
    }

    /// Instances of `tagstream run --split-by-partition --stop-at-end` in one group, each launched
    /// from a directory of its own with its output in a log file and an HTTP port of its own.
    static func instances(_ count: Int, _ name: String, cluster: EmbeddedKafkaCluster, redis: RedisServer) throws -> [LiveCheckpointTests.Engine] {
        try (0..<count).map { i in
            let directory = try Fixtures.temporaryDirectory("\(name)-instance-\(i)")
            var engine = LiveCheckpointTests.Engine(cluster: cluster, redisURL: redis.url, group: name, log: directory.appendingPathComponent("run.log"),
                                                    extra: ["--split-by-partition", "--http-port", "\(try LoopbackPort.free())"])
            engine.directory = directory
            return engine
        }
    }

    /// The input records the tasks' latest checkpoints have processed, over every task.
    static func inputCheckpointed(_ group: String, tasks: Int = 6, redis: RedisServer) throws -> Int64 {
        let client = RedisClient(url: try RedisURL(redis.url))
        return try (0..<tasks).map {
            try LiveCheckpointTests.inputCheckpointed(RedisCheckpointStore(client: client, pipeline: "community-grocery", group: group, task: $0))
        }.reduce(0, +)
    }

    /// Waits for every process to exit (15 minutes at most: each rebalance on the embedded cluster
    /// takes the session timeout, and one member missing a generation costs another); each must succeed.
    static func expectAllSucceed(_ processes: [Process], _ engines: [LiveCheckpointTests.Engine]) async throws {
        let deadline = Date().addingTimeInterval(900)
        while processes.contains(where: \.isRunning), Date() < deadline { try await Task.sleep(for: .milliseconds(200)) }
        for (process, engine) in zip(processes, engines) {
            #expect(!process.isRunning && process.terminationStatus == 0, "\(engine.logText.suffix(1_500))")
        }
    }

    /// Waits until the tasks' checkpoints have processed more input than `before`.
    static func waitForProgress(_ group: String, beyond before: Int64, redis: RedisServer) async throws {
        let deadline = Date().addingTimeInterval(300)
        while try inputCheckpointed(group, redis: redis) <= before, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
    }

    /// Six tasks, two per instance.
    @Test func threeInstancesOfOneGroupOneKilledMidRunAndRestartedGiveReplaysRecordsExactlyOnce() async throws {
        let (_, replayed, summary, cluster, topics) = try Self.setUp("split-kill", users: 12_000, partitions: 6)
        let redis = try RedisServer()
        let engines = try Self.instances(3, "split-kill", cluster: cluster, redis: redis)
        var processes = try engines.map { try $0.launch() }
        defer { for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try await Self.waitForProgress("split-kill", beyond: 0, redis: redis)
        // Each task reports gauges of its own, under its label.
        var labelled = false
        for port in engines.compactMap({ Int($0.extra.last ?? "") }) where !labelled {
            labelled = (try? await HTTP.get(port: port, path: "/metrics"))?.body.contains(#"tagstream_producer_queue_records{task=""#) ?? false
        }
        #expect(labelled, "no instance reports a task's gauges")
        try await Task.sleep(for: .seconds(Double.random(in: 0...1.5)))
        let victim = Int.random(in: 0..<3)
        try #require(processes[victim].isRunning, "instance \(victim) ended before the kill; use more data")
        kill(processes[victim].processIdentifier, SIGKILL)
        processes[victim].waitUntilExit()
        processes[victim] = try engines[victim].launch()
        try await Self.expectAllSucceed(processes, engines)
        #expect(engines.contains { $0.logText.contains("restoring checkpoint") })
        try LiveCheckpointTests.expectOutputsEqualReplay(replayed, cluster: cluster, topics: topics)
        let deadLetters = try LiveCheckpointTests.readAll(topics.deadLetters, brokers: cluster.bootstrapServers).values.map(\.count).reduce(0, +)
        #expect(deadLetters == summary.deadLetter)
    }

    @Test func anInstanceAddedMidRunTakesItsShareAndTheRecordsStayExactlyOnce() async throws {
        let (_, replayed, _, cluster, topics) = try Self.setUp("split-join", users: 12_000, partitions: 6)
        let redis = try RedisServer()
        let engines = try Self.instances(3, "split-join", cluster: cluster, redis: redis)
        var processes = try engines.prefix(2).map { try $0.launch() }
        defer { for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try await Self.waitForProgress("split-join", beyond: 0, redis: redis)
        try #require(processes.allSatisfy { $0.isRunning }, "the run ended before the third instance joined; use more data")
        processes.append(try engines[2].launch())
        try await Self.expectAllSucceed(processes, engines)
        #expect(engines[2].logText.contains("running task"), "\(engines[2].logText.suffix(1_500))")
        try LiveCheckpointTests.expectOutputsEqualReplay(replayed, cluster: cluster, topics: topics)
    }

    /// An unbounded run whose third partition never has a record: its task goes idle and follows
    /// the others (to the first event's agreement and to each refresh), as one engine's watermark
    /// moves on without an idle partition, instead of holding them at the first refresh.
    @Test func aTaskWithoutRecordsFollowsTheOthersInAnUnboundedRun() async throws {
        let input = try Fixtures.temporaryDirectory("split-idle-in")
        let files = try Fixtures.generateEvents([
            "--users", "1500", "--days", "30", "--seed", "37", "--partitions", "3", "--dup-rate", "0.002", "--bad-rate", "0.002",
        ], into: input).filter { !$0.hasSuffix("-2.jsonl") }
        let replayed = try Fixtures.temporaryDirectory("split-idle-replay")
        try Fixtures.replay(files, into: replayed)
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        let topics = Topics()
        for topic in topics.all { try cluster.createTopic(topic, partitions: 3) }
        try LiveRunTests.produce(files, to: cluster, topics: topics)
        // Records are compared up to a day before the watermark of the partition that ends first.
        let pipeline = try PipelineLoader.load(path: Fixtures.referencePipeline)
        let ends = try (0..<2).map { p in
            try files.filter { $0.hasSuffix("-\(p).jsonl") }.flatMap { try Self.timestamps(in: $0) }.max()!
        }
        let bound = ends.min()! - pipeline.time.lateness.milliseconds - EventTime.day

        let redis = try RedisServer()
        let jobs = try (0..<3).map { p in
            var options = try Self.taskOptions(p, of: 3, cluster: cluster, redis: redis, group: "split-idle")
            options.stopAtEnd = false
            options.idleTimeout = 2  // the partitions' idleness is what this test is about
            return try LiveJob(options: options)
        }
        let run = Task.detached { await Self.runConcurrently(jobs) }
        let expected = try Self.recordsBefore(bound, in: replayed)
        let deadline = Date().addingTimeInterval(180)
        var actual: [String: [String]] = [:]
        repeat {
            try await Task.sleep(for: .seconds(2))
            actual = try Self.recordsBefore(bound, cluster: cluster, topics: topics)
        } while actual.values.map(\.count).reduce(0, +) < expected.values.map(\.count).reduce(0, +) && Date() < deadline
        for job in jobs { job.stop() }
        let failures = await run.value
        #expect(failures.isEmpty, "\(failures)")
        #expect(expected.values.map(\.count).reduce(0, +) > 3_000, "too few records to prove anything")
        let differing = Set(expected.keys).union(actual.keys).filter { expected[$0] != actual[$0] }.sorted()
        #expect(differing.isEmpty, "\(differing.count) keys differ from replay before \(EventTime.format(bound)), e.g. \(differing.first ?? "")")
    }

    /// The `ts` of every line of an events file that has one.
    static func timestamps(in file: String) throws -> [Int64] {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: file)), as: UTF8.self).split(separator: "\n").compactMap { line in
            line.range(of: #""ts":[0-9]+"#, options: .regularExpression).flatMap { Int64(line[$0].dropFirst(5)) }
        }
    }

    static let outputFiles = ["tags.jsonl", "alerts.jsonl", "coupons.jsonl", "community_stats.jsonl", "coupon_outcomes.jsonl"]

    /// Replay's output records before `bound`, by file and key.
    static func recordsBefore(_ bound: Int64, in directory: URL) throws -> [String: [String]] {
        try outputFiles.reduce(into: [:]) { records, file in
            let lines = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8).split(separator: "\n").map(String.init)
            try add(lines, before: bound, as: file, to: &records)
        }
    }

    /// The live run's output records before `bound`, by the file replay writes them to, and key.
    static func recordsBefore(_ bound: Int64, cluster: EmbeddedKafkaCluster, topics: Topics) throws -> [String: [String]] {
        try zip(outputFiles, [topics.tags, topics.alerts, topics.coupons, topics.communityStats, topics.couponOutcomes]).reduce(into: [:]) { records, output in
            let lines = try LiveCheckpointTests.readRecords(output.1, brokers: cluster.bootstrapServers).map { String(decoding: $0.value, as: UTF8.self) }
            try add(lines, before: bound, as: output.0, to: &records)
        }
    }

    private static func add(_ lines: [String], before bound: Int64, as file: String, to records: inout [String: [String]]) throws {
        for line in lines {
            let ts = try #require(Int64(try LiveCheckpointFaultTests.rawField("ts", in: line[...])), "no ts in \(line)")
            guard ts < bound else { continue }
            let key = try LiveCheckpointFaultTests.rawField(line.contains(#""user_id":"#) ? "user_id" : "community_id", in: line[...])
            records["\(file) \(key)", default: []].append(line)
        }
    }

    @Test func inputTopicsWithDifferentPartitionCountsAreAClearError() throws {
        #expect(throws: LiveJobError.self) {
            try LiveJob.checkCoPartitioned(["events.clickstream", "events.orders"], counts: [3, 4], tasks: 3)
        }
        do {
            try LiveJob.checkCoPartitioned(["events.clickstream", "events.orders"], counts: [3, 4], tasks: 3)
        } catch {
            #expect("\(error)".contains("events.clickstream has 3, events.orders has 4 partitions"), "\(error)")
        }
    }
}
