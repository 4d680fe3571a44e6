// Kafka in → Kafka out throughput of the reference pipeline on the embedded cluster, measured in
// the same run as librdkafka's raw consume throughput of the same topics: the ratio is the figure.
// Then the run split by partition (`run --split-by-partition`, checkpoints in a real redis-server)
// with 1 and with 2 instances in one group, each to the end of the input.
// Usage: swift run -c release kafka-throughput [USERS] [DAYS] [PARTITIONS]   (default 5000 users, 60 days, 8)
import Foundation
import Kafka
import Logging
import Redis
import TagStreamCore
import TagStreamRuntime
import TagStreamSimulation
import TestServers

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .error
    return handler
}
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
/// CPU seconds the whole process has used so far: the brokers, the clients and the engine share it.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    return user + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}
let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let users = arguments.first ?? 5_000, days = arguments.dropFirst().first ?? 60
let partitionsPerTopic = arguments.dropFirst(2).first ?? 8

let pipeline = try PipelineLoader.load(path: "pipelines/community-grocery.yaml")
let topics = pipeline.topics
let cluster = try EmbeddedKafkaCluster(brokers: 3)
for topic in topics.all {
    // The embedded brokers keep about 5 MB per partition (older records are dropped, like
    // retention): compressed, 8 partitions hold the default input.
    try cluster.createTopic(topic, partitions: partitionsPerTopic)
}

// Load the input topics (not timed).
var simulator = try EventSimulator(config: SimulationConfig(users: users, days: days))
let producer = try KafkaProducer(configuration: .producer(brokers: cluster.bootstrapServers, properties: ["compression.type": "zstd"]))
var events = 0
while let day = simulator.nextDay() {
    for event in day {
        try producer.send(topic: event.stream == .orders ? topics.orders : topics.clickstream,
                          key: Array(event.userID.utf8), value: Array(event.json.utf8))
        events += 1
    }
}
try producer.flush(timeoutMilliseconds: 600_000)
say("loaded \(events) events into \(topics.clickstream) and \(topics.orders) (\(partitionsPerTopic) partitions each, 3 brokers)")

// Raw consumption of the same topics to their end, timed from the first record (after the group join).
let consumer = try KafkaConsumer(configuration: .consumer(brokers: cluster.bootstrapServers, group: "raw"))
try consumer.subscribe([topics.clickstream, topics.orders])
var consumed = 0
var rawStart: Date?
var rawStartCPU = 0.0
var partitionsAtEnd: Set<TopicPartition> = []
while consumed < events {
    for event in consumer.poll(maxEvents: 10_000) {
        switch event {
        case .record(let record):
            if rawStart == nil { (rawStart, rawStartCPU) = (Date(), cpuSeconds()) }
            consumed += record.value.count > 0 ? 1 : 0
        case let .partitionEnd(topic, partition, _):
            partitionsAtEnd.insert(TopicPartition(topic: topic, partition: partition))
        default:
            break
        }
    }
    // Every partition at its end with records missing: the brokers dropped the oldest ones.
    if partitionsAtEnd.count == 2 * partitionsPerTopic, consumed < events {
        say("only \(consumed) of \(events) events are in the topics: the embedded brokers keep about 5 MB per partition; use fewer users or days")
        exit(1)
    }
}
let rawSeconds = Date().timeIntervalSince(rawStart!), rawCPU = cpuSeconds() - rawStartCPU
consumer.close()

// The engine: consume, apply, produce every output record (flushed), to the end; timed the same way.
var options = LiveOptions(pipeline: pipeline, brokers: cluster.bootstrapServers, group: "engine")
options.stopAtEnd = true
let job = try LiveJob(options: options)
let jobStartCPU = cpuSeconds()
let counts = try job.run()
// The CPU from the job's start (the group join adds little), the time from its first record.
let jobSeconds = Date().timeIntervalSince(job.firstRecordAt!), jobCPU = cpuSeconds() - jobStartCPU

let raw = Double(events) / rawSeconds, engine = Double(counts.total) / jobSeconds
say(String(format: "raw consume: %.0f events/s (%.2f s; %.2f s of CPU, %.1f µs per event)", raw, rawSeconds, rawCPU, rawCPU / Double(events) * 1e6))
say(String(format: "engine Kafka→Kafka: %.0f events/s (%.2f s, %d records in; %.2f s of CPU, %.1f µs per event)",
               engine, jobSeconds, counts.total, jobCPU, jobCPU / Double(counts.total) * 1e6))
say(String(format: "ratio: %.2f (target ≥ 0.5)", engine / raw))

// The split run: every instance a `SplitLiveRun` on a thread of its own, in one group, timed from
// their start (the group join and its rebalances included) until every instance has ended.
let redis = try RedisServer()
func splitRun(instances: Int) throws -> (seconds: Double, cpu: Double, counts: OutcomeCounts) {
    var options = LiveOptions(pipeline: pipeline, brokers: cluster.bootstrapServers, group: "split-\(instances)")
    options.stopAtEnd = true
    options.checkpoints = LiveCheckpointOptions(redis: try RedisURL(redis.url))
    let runs = try (0..<instances).map { _ in try SplitLiveRun(options: options) }
    let results = Results()
    let done = DispatchGroup()
    let (started, startCPU) = (Date(), cpuSeconds())
    for run in runs {
        done.enter()
        Thread {
            results.add(Result { try run.run { _, _ in } })
            done.leave()
        }.start()
    }
    done.wait()
    let (seconds, cpu) = (Date().timeIntervalSince(started), cpuSeconds() - startCPU)
    return (seconds, cpu, try results.all.map { try $0.get() }.reduce(into: OutcomeCounts()) { $0.add($1) })
}

/// The instances' results, from their threads.
final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<OutcomeCounts, any Error>] = []
    func add(_ result: Result<OutcomeCounts, any Error>) { lock.withLock { results.append(result) } }
    var all: [Result<OutcomeCounts, any Error>] { lock.withLock { results } }
}

var splitRates: [Int: Double] = [:]
for instances in [1, 2] {
    let (seconds, cpu, counts) = try splitRun(instances: instances)
    // Each instance counts the records of the tasks it ran; a task moved by a rebalance is counted by each.
    splitRates[instances] = Double(events) / seconds
    say(String(format: "split by partition, %d instance(s), %d tasks: %.0f events/s (%.2f s from the start, the group join included; %.2f s of CPU; %d records counted)",
                   instances, partitionsPerTopic, splitRates[instances]!, seconds, cpu, counts.total))
}
say(String(format: "split, 2 instances against 1: %.2f×", splitRates[2]! / splitRates[1]!))
