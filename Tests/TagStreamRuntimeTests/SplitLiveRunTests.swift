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
    /// Messy events in 3 co-partitioned partitions, their replay, and a cluster holding them.
    static func setUp(_ name: String, users: Int = 1_500) throws -> (files: [String], replayed: URL, summary: ReplaySummary,
                                                                       cluster: EmbeddedKafkaCluster, topics: Topics) {
        let files = try Fixtures.generateEvents([
            "--users", "\(users)", "--days", "45", "--seed", "31", "--partitions", "3",
            "--dup-rate", "0.002", "--bad-rate", "0.002", "--disorder-ms", "60000", "--escape-rate", "0.01", "--noise-rate", "0.01",
        ], into: try Fixtures.temporaryDirectory("\(name)-in"))
        let replayed = try Fixtures.temporaryDirectory("\(name)-replay")
        let summary = try Fixtures.replay(files, into: replayed)
        let (cluster, topics) = try LiveCheckpointTests.cluster(with: files, partitions: 3)
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

    /// Runs jobs on a thread each and waits for all of them; returns each one's error, if any.
    static func runConcurrently(_ jobs: [LiveJob]) -> [String] {
        let failures = LockedList()
        let group = DispatchGroup()
        for (i, job) in jobs.enumerated() {
            group.enter()
            Thread {
                do { _ = try job.run() } catch { failures.append("task \(i): \(error)") }
                group.leave()
            }.start()
        }
        group.wait()
        return failures.items
    }

    @Test func threeTasksMeetingThroughKafkaProduceReplaysRecordsExactly() throws {
        let (_, replayed, summary, cluster, topics) = try Self.setUp("split")
        let redis = try RedisServer()
        let jobs = try (0..<3).map { try LiveJob(options: try Self.taskOptions($0, of: 3, cluster: cluster, redis: redis, group: "split")) }
        let failures = Self.runConcurrently(jobs)
        #expect(failures.isEmpty, "\(failures)")
        try LiveCheckpointTests.expectOutputsEqualReplay(replayed, cluster: cluster, topics: topics)
        let deadLetters = try LiveCheckpointTests.readAll(topics.deadLetters, brokers: cluster.bootstrapServers).values.map(\.count).reduce(0, +)
        #expect(deadLetters == summary.deadLetter)
        #expect(jobs.map { $0.tally.byKind.values.reduce(0, +) }.reduce(0, +) > 5_000, "too few records to prove the split")
        // Each task has checkpoints of its own, under one Redis Cluster hash tag.
        let client = RedisClient(url: try RedisURL(redis.url))
        let namespaces = try RedisCheckpointStore.namespaces(client: client).filter { $0.contains(":split:") }
        #expect(namespaces == (0..<3).map { "{community-grocery:split:task-\($0)}" })
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
    static func inputCheckpointed(_ group: String, tasks: Int, redis: RedisServer) throws -> Int64 {
        let client = RedisClient(url: try RedisURL(redis.url))
        return try (0..<tasks).map {
            try LiveCheckpointTests.inputCheckpointed(RedisCheckpointStore(client: client, pipeline: "community-grocery", group: group, task: $0))
        }.reduce(0, +)
    }

    /// Waits for every process to exit (10 minutes at most); each must succeed.
    static func expectAllSucceed(_ processes: [Process], _ engines: [LiveCheckpointTests.Engine]) async throws {
        let deadline = Date().addingTimeInterval(600)
        while processes.contains(where: \.isRunning), Date() < deadline { try await Task.sleep(for: .milliseconds(200)) }
        for (process, engine) in zip(processes, engines) {
            #expect(!process.isRunning && process.terminationStatus == 0, "\(engine.logText.suffix(1_500))")
        }
    }

    /// Waits until the tasks' checkpoints have processed more input than `before`.
    static func waitForProgress(_ group: String, beyond before: Int64, redis: RedisServer) async throws {
        let deadline = Date().addingTimeInterval(300)
        while try inputCheckpointed(group, tasks: 3, redis: redis) <= before, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
    }

    @Test func threeInstancesOfOneGroupOneKilledMidRunAndRestartedGiveReplaysRecordsExactlyOnce() async throws {
        let (_, replayed, summary, cluster, topics) = try Self.setUp("split-kill", users: 6_000)
        let redis = try RedisServer()
        let engines = try Self.instances(3, "split-kill", cluster: cluster, redis: redis)
        var processes = try engines.map { try $0.launch() }
        defer { for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try await Self.waitForProgress("split-kill", beyond: 0, redis: redis)
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
        let (_, replayed, _, cluster, topics) = try Self.setUp("split-join", users: 6_000)
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

/// Strings appended from several threads.
final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func append(_ item: String) { lock.withLock { list.append(item) } }
    var items: [String] { lock.withLock { list } }
}
