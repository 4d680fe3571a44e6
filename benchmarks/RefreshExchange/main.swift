// What shards meeting at each daily refresh through Kafka cost, against meeting in memory: a
// replay with 2 workers whose shards meet through a topic of the embedded cluster, alternated
// with the same replay meeting in process; per refresh, the messages and bytes each shard
// published and the time from publishing to holding every shard's part. Files compared each pair.
// Usage: swift run -c release refresh-exchange-bench [USERS] [DAYS] [PAIRS]   (default 20,000 60 3)
import Foundation
import Kafka
import Logging
import TagStreamRuntime
import TagStreamSimulation

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .error
    return handler
}
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let users = arguments.first ?? 20_000, days = arguments.dropFirst().first ?? 60, pairs = arguments.dropFirst(2).first ?? 3
let pipeline = try PipelineLoader.load(path: "pipelines/community-grocery.yaml")
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("refresh-exchange-bench-\(getpid())")
defer { try? FileManager.default.removeItem(at: scratch) }

say("generating \(users) users × \(days) days in 2 partitions…")
let layout = EventFileLayout.streams(directory: scratch.appendingPathComponent("in"), partitions: 2)
let generated = try writeEventFiles(config: SimulationConfig(users: users, days: days), layout: layout)
let inputs = generated.files.map(\.path)
let cluster = try EmbeddedKafkaCluster(brokers: 3)

/// One replay with 2 workers; through Kafka when `topic` is given. Returns its seconds, its files
/// and the exchanges' costs.
func replay(_ name: String, through topic: String?) throws -> (Double, [Data], [KafkaRefreshExchange.Cost]) {
    let out = scratch.appendingPathComponent(name)
    let options = ReplayOptions(pipeline: pipeline, inputs: inputs, outputDirectory: out.path)
    var exchanges: [KafkaRefreshExchange] = []
    let job: ShardedReplayJob
    if let topic {
        try cluster.createTopic(topic, partitions: 1)
        job = try ShardedReplayJob(options: options, workers: 2) { _ in
            let exchange = try KafkaRefreshExchange(brokers: cluster.bootstrapServers, topic: topic, shards: 2, logger: Logger(label: "exchange"))
            exchanges.append(exchange)
            return exchange
        }
    } else {
        job = try ShardedReplayJob(options: options, workers: 2)
    }
    let started = Date()
    _ = try job.run(progress: ProgressLine(enabled: false))
    let seconds = Date().timeIntervalSince(started)
    let files = try ReplayOutput.allFiles.map { try Data(contentsOf: out.appendingPathComponent($0)) }
    return (seconds, files, exchanges.map(\.cost))
}

var inMemory: [Double] = [], throughKafka: [Double] = []
var costs: [KafkaRefreshExchange.Cost] = []
for pair in 1...pairs {
    let (memorySeconds, expected, _) = try replay("memory-\(pair)", through: nil)
    let (kafkaSeconds, files, pairCosts) = try replay("kafka-\(pair)", through: "bench.refresh.\(pair)")
    guard files == expected else { say("pair \(pair): the files differ between the two exchanges"); exit(1) }
    inMemory.append(memorySeconds)
    throughKafka.append(kafkaSeconds)
    costs = pairCosts
    say(String(format: "pair %d: in memory %.2f s, through Kafka %.2f s (files identical)", pair, memorySeconds, kafkaSeconds))
}
let refreshes = costs.map(\.refreshes).max() ?? 0
let median = { (xs: [Double]) in xs.sorted()[xs.count / 2] }
say("")
say("refreshes: \(refreshes)")
for (k, cost) in costs.enumerated() {
    say(String(format: "shard %d per refresh: %.1f messages, %.1f KB published, %.1f ms from publishing to every shard's part",
               k, Double(cost.messages) / Double(refreshes), Double(cost.bytes) / 1024 / Double(refreshes), cost.seconds * 1000 / Double(refreshes)))
}
say(String(format: "median wall time: in memory %.2f s, through Kafka %.2f s: %.1f ms more per refresh",
           median(inMemory), median(throughKafka), (median(throughKafka) - median(inMemory)) * 1000 / Double(refreshes)))
