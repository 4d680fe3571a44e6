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
