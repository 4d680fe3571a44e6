import Foundation
import Kafka
import Testing
import TagStreamCore
@testable import TagStreamRuntime

/// Live mode on the embedded Kafka cluster (the real protocol): a backfill gives replay's records.
@Suite(.serialized) struct LiveRunTests {
    /// Produces each `<stream>-<i>.jsonl` line to partition i of that stream's topic, keyed by its user.
    static func produce(_ files: [String], to cluster: EmbeddedKafkaCluster, topics: Topics) throws {
        let producer = try KafkaProducer(configuration: .producer(brokers: cluster.bootstrapServers))
        for file in files {
            let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
            let parts = name.split(separator: "-")
            let topic = parts[0] == "orders" ? topics.orders : topics.clickstream
            let partition = Int32(parts[1])!
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
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
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
        ], into: input)
        let replayed = try Fixtures.temporaryDirectory("live-replay")
        let summary = try Fixtures.replay(files, into: replayed)

        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        let pipeline = try PipelineLoader.load(path: Fixtures.referencePipeline)
        let topics = pipeline.topics
        for topic in [topics.clickstream, topics.orders, topics.tags, topics.alerts, topics.coupons, topics.communityStats,
                      topics.deadLetters, topics.late] {
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
                              ("community_stats.jsonl", topics.communityStats)] {
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
