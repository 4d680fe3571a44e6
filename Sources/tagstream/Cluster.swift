import ArgumentParser
import Dispatch
import Foundation
import Kafka
import Logging
import TagStreamCore

struct Cluster: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start an embedded Kafka cluster (librdkafka's mock brokers) with TagStream's topics, until Ctrl-C.",
        discussion: """
            The brokers keep records in memory, and each partition only its newest \(partitionRetention) \
            of record batches: older records are dropped without an error. The default partitions hold a backfill of \
            about \(approximately(inputRecordsHeld(partitions: defaultInputPartitions))) input events of \(typicalEventBytes) bytes.
            Clients: kcat and other librdkafka clients, kafka-python 2.x (\(kafkaPython3)).
            """)

    /// Enough for a 100,000-user, 60-day backfill of the simulator's events, uncompressed.
    static let defaultInputPartitions = 512

    @Option(help: "Number of brokers.")
    var brokers = 3

    @Option(help: "Partitions of \(Topics().clickstream) and \(Topics().orders); each keeps its newest \(partitionRetention).")
    var inputPartitions = defaultInputPartitions

    @Option(help: "Partitions of every other topic.")
    var outputPartitions = 64

    func validate() throws {
        guard (1...16).contains(brokers) else { throw ValidationError("--brokers must be from 1 to 16.") }
        try validatePartitions(inputPartitions, option: "--input-partitions")
        try validatePartitions(outputPartitions, option: "--output-partitions")
    }

    func run() throws {
        LoggingSystem.bootstrap { label in
            // Not librdkafka's notice that the handle hosting the brokers has no brokers to connect to.
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let cluster = try EmbeddedKafkaCluster(brokers: brokers)
        let topics = Topics()
        for topic in topics.all {
            let partitions = [topics.clickstream, topics.orders].contains(topic) ? inputPartitions : outputPartitions
            try cluster.createTopic(topic, partitions: partitions, replicationFactor: min(brokers, 3))
        }
        print("""
            bootstrap: \(cluster.bootstrapServers)
            topics: \(topics.clickstream), \(topics.orders) (\(inputPartitions) partitions each) → \(topics.tags), \(topics.alerts), \
            \(topics.coupons), \(topics.communityStats), \(topics.couponOutcomes), \(topics.deadLetters), \(topics.late) (\(outputPartitions) partitions each)
            \(retentionLine(inputPartitions: inputPartitions, more: "more --input-partitions"))
            clients: kcat and other librdkafka clients, kafka-python 2.x (\(kafkaPython3))
            try: kcat -b \(cluster.bootstrapServers) -L      Ctrl-C stops the cluster
            """)
        waitForTermination()
        withExtendedLifetime(cluster) {}
        print("cluster stopped")
    }
}

/// A round size of an input event, for telling people how many records the embedded cluster holds.
let typicalEventBytes = 250

/// kafka-python 3's first request fails against librdkafka's mock brokers.
let kafkaPython3 = "not 3.x: it cannot decode these brokers' ApiVersions reply"

/// How many input events of `typicalEventBytes` an input topic of `partitions` holds.
func inputRecordsHeld(partitions: Int) -> Int {
    partitions * EmbeddedKafkaCluster.retainedRecordsPerPartition(valueBytes: typicalEventBytes)
}

/// What the embedded cluster keeps of each partition, and how to keep more (`more`).
func retentionLine(inputPartitions: Int, more: String) -> String {
    let perPartition = EmbeddedKafkaCluster.retainedRecordsPerPartition(valueBytes: typicalEventBytes)
    return "retention: each partition keeps its newest \(partitionRetention) of record batches, "
        + "about \(approximately(perPartition)) records of \(typicalEventBytes) B, and drops older ones without an error: "
        + "each input topic holds about \(approximately(inputRecordsHeld(partitions: inputPartitions))) such records. "
        + "To hold more: \(more), or producers that compress (kcat -z lz4), since the limit counts compressed bytes"
}

/// Throws unless `count`, given as `option`, is a partition count the embedded cluster takes.
func validatePartitions(_ count: Int, option: String) throws {
    guard (1...4096).contains(count) else { throw ValidationError("\(option) must be from 1 to 4096.") }
}

/// What one partition keeps, for help texts.
let partitionRetention = "\(EmbeddedKafkaCluster.retainedBytesPerPartition / (1024 * 1024)) MiB"

/// A count rounded for reading: 18,000 or 9.4 million.
func approximately(_ count: Int) -> String {
    if count >= 1_000_000 { return String(format: "%.1f million", Double(count) / 1_000_000) }
    let rounded = count >= 10_000 ? count / 1_000 * 1_000 : count
    return rounded.formatted(.number.grouping(.automatic))
}

/// Blocks until SIGINT or SIGTERM.
func waitForTermination() {
    let stop = DispatchSemaphore(value: 0)
    let sources = stopOnTermination { stop.signal() }
    stop.wait()
    sources.forEach { $0.cancel() }
}

/// Calls `action` on SIGINT or SIGTERM instead of dying; keep the returned sources alive.
func stopOnTermination(_ action: @escaping @Sendable () -> Void) -> [DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { signalNumber in
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler(handler: action)
        source.resume()
        return source
    }
}
