import Foundation
import Kafka
import Redis
import TagStreamCore
import TestServers
import Testing
@testable import TagStreamRuntime

/// Live mode with checkpoints in a real redis-server: crashes, outages and lost checkpoints.
@Suite(.serialized) struct LiveCheckpointTests {
    /// A run of `tagstream run --stop-at-end` on a cluster, checkpointing to Redis; its log goes to a file.
    struct Engine {
        let cluster: EmbeddedKafkaCluster
        let redisURL: String
        let group: String
        let log: URL
        var extra: [String] = []

        var arguments: [String] {
            ["run", "--brokers", cluster.bootstrapServers, "--pipeline", Fixtures.referencePipeline, "--group", group,
             "--redis", redisURL, "--checkpoint-interval", "1s", "--stop-at-end",
             "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"] + extra
        }

        func launch() throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Fixtures.tagstreamBinary)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
            let handle = try FileHandle(forWritingTo: log)
            handle.seekToEndOfFile()
            process.standardError = handle
            try process.run()
            return process
        }

        func runToEnd() throws -> (status: Int32, stdout: String, stderr: String) {
            try Fixtures.run(Fixtures.tagstreamBinary, arguments)
        }

        var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
    }

    /// A cluster with every topic, inputs produced from `gen_events.py` files (zstd, so that the
    /// embedded brokers, which keep about 5 MB per partition, keep them all).
    static func cluster(with files: [String], partitions: Int) throws -> (EmbeddedKafkaCluster, Topics) {
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        let topics = Topics()
        for topic in topics.all { try cluster.createTopic(topic, partitions: partitions) }
        try LiveRunTests.produce(files, to: cluster, topics: topics, properties: ["compression.type": "zstd"])
        return (cluster, topics)
    }

    /// Every record of a topic by key, in offset order, read from the beginning to the current end.
    static func readAll(_ topic: String, brokers: String) throws -> [String: [String]] {
        let consumer = try KafkaConsumer(configuration: .consumer(brokers: brokers, group: "check-\(UUID().uuidString)"))
        let partitions = try consumer.partitions(of: topic)
        var remaining = Set(try partitions.filter { try consumer.endOffset(of: $0) > 0 })
        try consumer.assign(Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(-2)) }))
        var byKey: [String: [String]] = [:]
        let deadline = Date().addingTimeInterval(120)
        while !remaining.isEmpty, Date() < deadline {
            for event in consumer.poll(maxEvents: 10_000) {
                switch event {
                case .record(let r): byKey[String(decoding: r.key ?? [], as: UTF8.self), default: []].append(String(decoding: r.value, as: UTF8.self))
                case let .partitionEnd(topic, partition, _): remaining.remove(TopicPartition(topic: topic, partition: partition))
                case .error: break
                }
            }
        }
        consumer.close()
        return byKey
    }

    /// The output topics equal replay's files byte for byte, per key in order: no gap, no duplicate.
    static func expectOutputsEqualReplay(_ replayed: URL, cluster: EmbeddedKafkaCluster, topics: Topics) throws {
        for (file, topic) in [("tags.jsonl", topics.tags), ("alerts.jsonl", topics.alerts), ("coupons.jsonl", topics.coupons),
                              ("community_stats.jsonl", topics.communityStats)] {
            let expected = try LiveRunTests.replayRecords(replayed.appendingPathComponent(file))
            let actual = try readAll(topic, brokers: cluster.bootstrapServers)
            let count = actual.values.map(\.count).reduce(0, +)
            let ids = actual.values.joined().map { $0.dropFirst($0.range(of: "\"id\":")!.upperBound.utf16Offset(in: $0)).prefix(18) }
            #expect(count == expected.count, "\(topic): \(count) records, replay has \(expected.count)")
            #expect(Set(ids).count == ids.count, "\(topic): \(ids.count - Set(ids).count) duplicate ids")
            let differing = Set(actual.keys).union(expected.byKey.keys).filter { actual[$0] != expected.byKey[$0] }.sorted()
            #expect(differing.isEmpty, "\(topic): \(differing.count) keys differ from replay's \(file), e.g. \(differing.first ?? "")")
        }
    }

    @Test func killedAtRandomMomentsTheOutputStillEqualsReplayExactlyOnce() throws {
        let input = try Fixtures.temporaryDirectory("crash-in")
        let files = try Fixtures.generateEvents([
            "--users", "12500", "--days", "60", "--seed", "21", "--partitions", "16",
            "--dup-rate", "0.002", "--bad-rate", "0.001", "--disorder-ms", "60000",
        ], into: input)
        let replayed = try Fixtures.temporaryDirectory("crash-replay")
        let summary = try Fixtures.replay(files, into: replayed)
        #expect(summary.accepted + summary.deadLetter + summary.duplicate + summary.late + summary.ignored >= 1_000_000)

        let redis = try RedisServer()
        let (cluster, topics) = try Self.cluster(with: files, partitions: 16)
        let engine = Engine(cluster: cluster, redisURL: redis.url, group: "crash", log: try Fixtures.temporaryDirectory("crash-log").appendingPathComponent("run.log"))
        let client = RedisClient(url: try RedisURL(redis.url))
        let store = RedisCheckpointStore(client: client, pipeline: "community-grocery", group: "crash")
        var kills = 0
        while kills < 6 {
            let before = try store.latestID() ?? 0
            let process = try engine.launch()
            // Let it take a new checkpoint, then kill it at a random moment.
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning, try (store.latestID() ?? 0) <= before, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            Thread.sleep(forTimeInterval: Double.random(in: 0...1.5))
            guard process.isRunning else { break }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            kills += 1
        }
        let final = try engine.runToEnd()
        #expect(final.status == 0, "\(final.stderr.suffix(800))")
        #expect(kills >= 5, "the run finished after \(kills) kills; use more data")
        #expect(engine.logText.contains("restoring checkpoint"))
        try Self.expectOutputsEqualReplay(replayed, cluster: cluster, topics: topics)
        let deadLetters = try Self.readAll(topics.deadLetters, brokers: cluster.bootstrapServers).values.map(\.count).reduce(0, +)
        #expect(deadLetters == summary.deadLetter)
    }
}
