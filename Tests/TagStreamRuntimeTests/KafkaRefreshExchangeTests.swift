import Foundation
import Kafka
import Logging
import Testing
import TagStreamCore
@testable import TagStreamRuntime

/// Shards that meet at each daily refresh through a Kafka topic, as instances of a group will,
/// give the files of one engine.
@Suite struct KafkaRefreshExchangeTests {
    @Test func shardsMeetingThroughKafkaGiveByteIdenticalFilesAndPassOverCopies() throws {
        let files = try Fixtures.generateEvents([
            "--users", "400", "--days", "40", "--seed", "9", "--partitions", "2", "--dup-rate", "0.01", "--bad-rate", "0.01",
        ], into: try Fixtures.temporaryDirectory("exchange-in"))
        let one = try Fixtures.temporaryDirectory("exchange-1")
        try Fixtures.replay(files, into: one)
        let expected = try ShardedReplayTests.results(one)

        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        let topic = "tagstream.community-grocery.exchange-test.refresh"
        try cluster.createTopic(topic, partitions: 1)
        let pipeline = try PipelineLoader.load(path: Fixtures.referencePipeline)
        // Twice over one topic: the second run finds there the first run's parts, copies of its
        // own, as a restored shard does. Pieces of 1 KB: the community parts come in several.
        for run in 1...2 {
            let out = try Fixtures.temporaryDirectory("exchange-kafka-\(run)")
            let job = try ShardedReplayJob(options: ReplayOptions(pipeline: pipeline, inputs: files, outputDirectory: out.path), workers: 3) { _ in
                try KafkaRefreshExchange(brokers: cluster.bootstrapServers, topic: topic, shards: 3, pieceSize: 1024, logger: Logger(label: "exchange"))
            }
            _ = try job.run(progress: ProgressLine(enabled: false))
            let actual = try ShardedReplayTests.results(out)
            for file in expected.keys.sorted() { #expect(actual[file] == expected[file], "\(file) differs in run \(run)") }
        }
        #expect((expected["community_stats.jsonl"]?.count ?? 0) > 1_000, "too few community figures to prove the exchange")
        // Each run: every shard's two parts of each of the 39 refreshes, some in several pieces.
        let consumer = try KafkaConsumer(configuration: .consumer(brokers: cluster.bootstrapServers, group: "count"))
        defer { consumer.close() }
        let messages = try consumer.endOffset(of: TopicPartition(topic: topic, partition: 0))
        #expect(messages > 2 * 39 * 2 * 3, "\(messages) messages")
    }
}
