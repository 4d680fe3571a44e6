import Foundation
import Kafka
import Testing
import TagStreamCore
@testable import TagStreamRuntime

/// Live mode on the embedded Kafka cluster (the real protocol): a backfill gives replay's records.
@Suite(.serialized) struct LiveRunTests {
    /// Produces each `<stream>-<i>.jsonl` line to partition i of that stream's topic, keyed by its user.
    static func produce(_ files: [String], to cluster: EmbeddedKafkaCluster, topics: Topics, properties: [String: String] = [:]) throws {
        let producer = try KafkaProducer(configuration: .producer(brokers: cluster.bootstrapServers, properties: properties))
        for file in files {
            let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
            let parts = name.split(separator: "-")
            let topic = parts[0] == "orders" ? topics.orders : topics.clickstream
            guard parts.count == 2, let partition = Int32(parts[1]) else { throw TestFailure("\(file) is not named <stream>-<partition>.jsonl") }
            for line in try Data(contentsOf: URL(fileURLWithPath: file)).split(separator: 0x0A) {
                let text = String(decoding: line, as: UTF8.self)
                let key = text.range(of: #""user_id":"[^"]*""#, options: .regularExpression).map { Array(text[$0].utf8) }
                try producer.send(topic: topic, key: key, value: Array(line), partition: partition)
            }
        }
        try producer.flush()
    }

    /// Every record of a topic, by key, in offset order.
    static func readTopic(_ topic: String, brokers: String, expecting count: Int) throws -> [String: [String]] {
        let consumer = try KafkaConsumer(configuration: .consumer(brokers: brokers, group: "reader-\(topic)-\(UUID().uuidString)"))
        try consumer.subscribe([topic])
        var byKey: [String: [String]] = [:]
        var read = 0
        let deadline = Date().addingTimeInterval(60)
        while read < count, Date() < deadline {
            for case .record(let r) in consumer.poll() {
                byKey[String(decoding: r.key ?? [], as: UTF8.self), default: []].append(String(decoding: r.value, as: UTF8.self))
                read += 1
            }
        }
        consumer.close()
        return byKey
    }

    /// Replay's records of one output file, by the key live mode uses, in file order.
    static func replayRecords(_ file: URL) throws -> (byKey: [String: [String]], count: Int) {
        var byKey: [String: [String]] = [:]
        var count = 0
        for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not an object: \(line)")
            let key = (object["user_id"] as? String) ?? (object["community_id"] as? String) ?? ""
            byKey[key, default: []].append(String(line))
            count += 1
        }
        return (byKey, count)
    }

    @Test func backfillWithStopAtEndEqualsReplayRecordForRecord() throws {
        let input = try Fixtures.temporaryDirectory("live-in")
        let files = try Fixtures.generateEvents([
            "--users", "200", "--days", "60", "--seed", "9", "--partitions", "4", "--ts-format", "mixed",
            "--disorder-ms", "120000", "--dup-rate", "0.01", "--bad-rate", "0.005", "--unknown-type-rate", "0.005",
            "--escape-rate", "0.01", "--noise-rate", "0.01",
        ], into: input)
        let replayed = try Fixtures.temporaryDirectory("live-replay")
        let summary = try Fixtures.replay(files, into: replayed)

        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        let pipeline = try PipelineLoader.load(path: Fixtures.referencePipeline)
        let topics = pipeline.topics
        for topic in topics.all {
            try cluster.createTopic(topic, partitions: 4)
        }
        try Self.produce(files, to: cluster, topics: topics)

        var options = LiveOptions(pipeline: pipeline, brokers: cluster.bootstrapServers, group: "backfill")
        options.stopAtEnd = true
        let job = try LiveJob(options: options)
        let counts = try job.run()
        #expect(counts.accepted == summary.accepted)
        #expect(counts.late == summary.late)
        #expect(counts.deadLetter == summary.deadLetter && counts.deadLetter > 0)
        #expect(counts.duplicate == summary.duplicate && counts.ignored == summary.ignored)

        for (file, topic) in [("tags.jsonl", topics.tags), ("alerts.jsonl", topics.alerts), ("coupons.jsonl", topics.coupons),
                              ("community_stats.jsonl", topics.communityStats), ("coupon_outcomes.jsonl", topics.couponOutcomes)] {
            let expected = try Self.replayRecords(replayed.appendingPathComponent(file))
            let actual = try Self.readTopic(topic, brokers: cluster.bootstrapServers, expecting: expected.count)
            let differing = Set(actual.keys).union(expected.byKey.keys).filter { actual[$0] != expected.byKey[$0] }.sorted()
            #expect(differing.isEmpty, "\(topic): \(differing.count) keys differ from replay's \(file), e.g. \(differing.first ?? "")")
        }
        let deadLetters = try Self.readTopic(topics.deadLetters, brokers: cluster.bootstrapServers, expecting: counts.deadLetter)
        let first = try #require(deadLetters.values.first?.first)
        let envelope = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        #expect(envelope["topic"] is String && envelope["partition"] is Int && envelope["offset"] is Int && envelope["reason"] is String)
    }
}

/// Live mode's operational behaviour: idle partitions, shutdown and restart, faults.
@Suite(.serialized) struct LiveOperationTests {
    static let day0: Int64 = 1_767_225_600_000

    static func cluster(partitions: Int, topics: Topics) throws -> EmbeddedKafkaCluster {
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        for topic in topics.all {
            try cluster.createTopic(topic, partitions: partitions, replicationFactor: 3)
        }
        return cluster
    }

    static func event(_ id: String, user: String, at ts: Int64) -> [UInt8] {
        Array(#"{"event_id":"\#(id)","type":"app_open","user_id":"\#(user)","ts":\#(ts)}"#.utf8)
    }

    @Test func idlePartitionStopsHoldingTheWatermarkAndLaterRecordsThereAreLate() throws {
        let pipeline = try Fixtures.pipeline(named: "idle")
        let cluster = try Self.cluster(partitions: 3, topics: pipeline.topics)
        let producer = try KafkaProducer(configuration: .producer(brokers: cluster.bootstrapServers))
        for i in 0..<20 {
            for p in Int32(0)...1 {
                try producer.send(topic: pipeline.topics.clickstream, key: nil,
                                  value: Self.event("p\(p)-\(i)", user: "u\(p)", at: Self.day0 + Int64(i) * EventTime.hour), partition: p)
            }
        }
        try producer.flush()
        var options = LiveOptions(pipeline: pipeline, brokers: cluster.bootstrapServers, group: "idle")
        options.idleTimeout = 2
        let job = try LiveJob(options: options)
        let tags = LockedRecords()
        job.onRecord = { _, bytes in tags.append(String(decoding: bytes, as: UTF8.self)) }
        let done = DispatchSemaphore(value: 0)
        let counts = LockedCounts()
        Thread.detachNewThread {
            counts.set(try? job.run())
            done.signal()
        }
        // Partition 2 of both topics is silent: nothing is applied until it is idle.
        Thread.sleep(forTimeInterval: 1)
        #expect(tags.count == 0)
        let deadline = Date().addingTimeInterval(20)
        while tags.count < 2, Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        #expect(tags.count == 2, "both users' prospect tags once the silent partitions are idle")
        // A record on the idle partition, behind the engine's watermark, is late.
        try producer.send(topic: pipeline.topics.clickstream, key: nil, value: Self.event("late-1", user: "u9", at: Self.day0 + EventTime.hour), partition: 2)
        try producer.send(topic: pipeline.topics.clickstream, key: nil, value: Self.event("p0-late", user: "u0", at: Self.day0 + 30 * EventTime.hour), partition: 0)
        try producer.flush()
        Thread.sleep(forTimeInterval: 3)
        job.stop()
        done.wait()
        #expect(counts.value?.late == 1)
        #expect(counts.value?.accepted == 41)
    }

    @Test func sigtermDrainsCommitsAndExitsZeroAndARestartContinues() throws {
        let pipeline = try Fixtures.pipeline(named: "restart")
        let cluster = try Self.cluster(partitions: 2, topics: pipeline.topics)
        let producer = try KafkaProducer(configuration: .producer(brokers: cluster.bootstrapServers))
        for i in 0..<400 {
            try producer.send(topic: pipeline.topics.clickstream, key: Array("u\(i % 20)".utf8),
                              value: Self.event("e\(i)", user: "u\(i % 20)", at: Self.day0 + Int64(i) * EventTime.minute))
        }
        try producer.flush()

        // The embedded cluster keeps a departed member until its session times out: keep it short.
        let arguments = ["run", "--brokers", cluster.bootstrapServers, "--pipeline", Fixtures.referencePipeline, "--group", "restart",
                         "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"]
        let process = try Fixtures.launch(arguments)
        // Wait until the run has read everything (it commits offsets every few seconds), then stop it.
        let probe = try KafkaConsumer(configuration: .consumer(brokers: cluster.bootstrapServers, group: "restart"))
        let partitions = [0, 1].map { TopicPartition(topic: pipeline.topics.clickstream, partition: Int32($0)) }
        let readDeadline = Date().addingTimeInterval(60)
        while try probe.committed(partitions).values.reduce(0, +) != 400, Date() < readDeadline {
            Thread.sleep(forTimeInterval: 0.5)
        }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(!process.isRunning, "exits within a few seconds of SIGTERM")
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let committed = try probe.committed(partitions)
        #expect(committed.values.reduce(0, +) == 400, "offsets of everything consumed are committed: \(committed)")
        probe.close()

        for i in 400..<450 {
            try producer.send(topic: pipeline.topics.clickstream, key: Array("u\(i % 20)".utf8),
                              value: Self.event("e\(i)", user: "u\(i % 20)", at: Self.day0 + Int64(i) * EventTime.minute))
        }
        try producer.flush()
        let rerun = try Fixtures.run(Fixtures.tagstreamBinary, arguments + ["--stop-at-end"])
        #expect(rerun.status == 0, "\(rerun.stderr.suffix(500))")
        #expect(rerun.stdout.contains("Input: 50 records"), "continues after the committed offsets: \(rerun.stdout)")
    }

    @Test func runSurvivesABrokerOutageAndTransientErrorsWithoutLosingRecords() throws {
        let pipeline = try Fixtures.pipeline(named: "faults")
        let cluster = try Self.cluster(partitions: 3, topics: pipeline.topics)
        let producer = try KafkaProducer(configuration: .producer(brokers: cluster.bootstrapServers))
        for i in 0..<3_000 {
            try producer.send(topic: pipeline.topics.clickstream, key: Array("u\(i % 50)".utf8),
                              value: Self.event("e\(i)", user: "u\(i % 50)", at: Self.day0 + Int64(i) * EventTime.second))
        }
        try producer.flush()
        var options = LiveOptions(pipeline: pipeline, brokers: cluster.bootstrapServers, group: "faults")
        options.stopAtEnd = true
        let job = try LiveJob(options: options)
        cluster.injectErrors(.fetch, codes: [.notLeader, .requestTimedOut])
        cluster.injectErrors(.produce, codes: [.notLeader, .requestTimedOut, .brokerNotAvailable])
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 0.5)
            try? cluster.setBroker(2, up: false)
            Thread.sleep(forTimeInterval: 3)
            try? cluster.setBroker(2, up: true)
        }
        let counts = try job.run()
        #expect(counts.accepted == 3_000)
        let tags = try LiveRunTests.readTopic(pipeline.topics.tags, brokers: cluster.bootstrapServers, expecting: 50)
        #expect(tags.count == 50, "one prospect tag per user")
        // The producer is idempotent: its retries after the faults write nothing twice.
        let duplicates = tags.values.reduce(0) { $0 + $1.count } - 50
        #expect(duplicates == 0, "\(duplicates) tag records written twice")
    }

    @Test func recordsDeletedByRetentionBeforeTheRunReadThemAreReported() throws {
        let pipeline = try Fixtures.pipeline(named: "retention")
        let cluster = try Self.cluster(partitions: 1, topics: pipeline.topics)
        let producer = try KafkaProducer(configuration: .producer(brokers: cluster.bootstrapServers))
        // About 10 MB into one partition: the embedded brokers keep about 5 MB of it.
        let padding = String(repeating: "x", count: 200)
        for i in 0..<40_000 {
            var event = Self.event("e\(i)", user: "u\(i % 50)", at: Self.day0 + Int64(i) * EventTime.second)
            event.insert(contentsOf: Array(",\"query\":\"\(padding)\"".utf8), at: event.count - 1)
            try producer.send(topic: pipeline.topics.clickstream, key: Array("u\(i % 50)".utf8), value: event)
        }
        try producer.flush()
        let consumer = try KafkaConsumer(configuration: .consumer(brokers: cluster.bootstrapServers, group: "probe"))
        let held = try consumer.offsets(of: TopicPartition(topic: pipeline.topics.clickstream, partition: 0))
        consumer.close()
        try #require(held.lowerBound > 0, "the embedded brokers kept all 40,000 records; produce more")

        let result = try Fixtures.run(Fixtures.tagstreamBinary, ["run", "--brokers", cluster.bootstrapServers, "--pipeline",
                                                                 Fixtures.referencePipeline, "--group", "retention", "--stop-at-end"])
        #expect(result.status == 0, "\(result.stderr.suffix(800))")
        #expect(result.stderr.contains("events.clickstream[0] holds records from offset \(held.lowerBound) on: \(held.lowerBound) records before it were deleted"),
                "\(result.stderr.suffix(800))")
        #expect(result.stdout.contains("Input: \(held.count) records"), "\(result.stdout)")
    }

    @Test func aBoundedRunWithoutInputTopicsIsAClearErrorAfterItsAssignmentTimeout() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        var options = LiveOptions(pipeline: try Fixtures.pipeline(named: "none"), brokers: cluster.bootstrapServers, group: "none")
        options.stopAtEnd = true
        options.assignmentTimeout = 2
        let job = try LiveJob(options: options)
        #expect { try job.run() } throws: { error in
            (error as? KafkaError)?.code == .noAssignment && (error as? KafkaError)?.message.contains("no partitions") == true
        }
    }

}

final class LockedRecords: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var count: Int { lock.withLock { lines.count } }
    var all: [String] { lock.withLock { lines } }
}

final class LockedCounts: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: OutcomeCounts?
    func set(_ c: OutcomeCounts?) { lock.withLock { counts = c } }
    var value: OutcomeCounts? { lock.withLock { counts } }
}
