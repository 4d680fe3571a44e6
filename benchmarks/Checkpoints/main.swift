// Checkpoint speed: (1) write and restore time of a checkpoint in Redis with USERS users in state;
// (2) live Kafka→Kafka throughput with a 10 s checkpoint interval against none, in the same run.
// Usage: swift run -c release checkpoint-bench [USERS] [LIVE_USERS]   (default 1,000,000 and 20,000)
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
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = Date()
    let result = try body()
    return (result, Date().timeIntervalSince(start))
}
let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let users = arguments.first ?? 1_000_000, liveUsers = arguments.dropFirst().first ?? 20_000
let pipeline = try PipelineLoader.load(path: "pipelines/community-grocery.yaml")
let redis = try RedisServer()

// 1. A processor holding `users` users, each with a visit, a search, a cart and a paid order
// spread over 30 days (so the dedupe table holds a week of event ids), then one checkpoint.
var processor = Processor(pipeline: pipeline, partitions: 1)
let day0: Int64 = 1_767_225_600_000
let (_, feedSeconds) = try timed {
    for i in 0..<users {
        let ts = day0 + Int64(i) * 30 * EventTime.day / Int64(users)
        let user = "u\(i)", community = "c\(i % 2_000)", sku = "s\(i % 5_000)"
        for line in [
            #"{"event_id":"a\#(i)","type":"app_open","user_id":"\#(user)","community_id":"\#(community)","ts":\#(ts)}"#,
            #"{"event_id":"s\#(i)","type":"search","user_id":"\#(user)","query":"organic milk","ts":\#(ts + 1_000)}"#,
            #"{"event_id":"c\#(i)","type":"add_to_cart","user_id":"\#(user)","sku":"\#(sku)","category":"dairy","ts":\#(ts + 2_000)}"#,
            #"{"event_id":"o\#(i)","type":"order_paid","user_id":"\#(user)","order_id":"o\#(i)","amount":23.5,"coupon_id":null,"items":[{"sku":"\#(sku)","category":"dairy","qty":2,"price":11.75}],"ts":\#(ts + 3_000)}"#,
        ] {
            _ = try Array(line.utf8).withUnsafeBufferPointer { try processor.process($0, partition: 0) }
        }
        if i % 10_000 == 0 { processor.drainOutput { _, _, _ in } }
    }
    try processor.applyBuffered()
    processor.drainOutput { _, _, _ in }
}
say("state: \(processor.engine.symbols.users.count) users, \(processor.counts.accepted) events applied in \(String(format: "%.1f", feedSeconds)) s")

let store = RedisCheckpointStore(client: RedisClient(url: try RedisURL(redis.url)), pipeline: pipeline.name, group: "bench")
let partitions = [TopicPartition(topic: pipeline.topics.clickstream, partition: 0)]
let checkpoint = LiveCheckpoint(partitions: partitions, nextOffsets: [Int64(users) * 4], outputEnds: [:], tally: OutputTally())
let (bytes, encodeSeconds) = try timed { try checkpoint.encode(processor, pipeline: pipeline) }
let (_, saveSeconds) = try timed { try store.save(bytes, summary: checkpoint.summary(processor)) }
let (loaded, loadSeconds) = try timed { try store.load()! }
let (decoded, openSeconds) = try timed { try LiveCheckpoint.decode(loaded, pipeline: pipeline).processor }
/// Restores a processor from a reader (a function: not a top-level variable, which every access checks).
func restore(_ snapshot: SnapshotReader) throws -> Processor {
    var reader = snapshot
    var processor = Processor(pipeline: pipeline, partitions: 1)
    try processor.restore(from: &reader)
    return processor
}
let (restored, restoreSeconds) = try timed { try restore(decoded) }
precondition(restored.engine.symbols.users.count == processor.engine.symbols.users.count)
say(String(format: "checkpoint of %d users: %.1f MB in %d chunks", users, Double(bytes.count) / 1_048_576,
           try store.manifest(try store.latestID()!).chunkChecksums.count))
say(String(format: "  write %.2f s = snapshot and seal %.2f + Redis %.2f", encodeSeconds + saveSeconds, encodeSeconds, saveSeconds))
say(String(format: "  restore %.2f s = Redis and chunk checksums %.2f + checksum %.2f + restore %.2f", loadSeconds + openSeconds + restoreSeconds,
           loadSeconds, openSeconds, restoreSeconds))
processor = Processor(pipeline: pipeline, partitions: 1)

// 2. Live throughput on the embedded cluster, without checkpoints and with them every 10 s, alternately.
let cluster = try EmbeddedKafkaCluster(brokers: 3)
for topic in pipeline.topics.all { try cluster.createTopic(topic, partitions: 32) }
var simulator = try EventSimulator(config: SimulationConfig(users: liveUsers, days: 60))
// zstd: the embedded brokers keep about 5 MB per partition.
let producer = try KafkaProducer(configuration: .producer(brokers: cluster.bootstrapServers, properties: ["compression.type": "zstd"]))
var events = 0
while let day = simulator.nextDay() {
    for event in day {
        try producer.send(topic: event.stream == .orders ? pipeline.topics.orders : pipeline.topics.clickstream,
                          key: Array(event.userID.utf8), value: Array(event.json.utf8))
        events += 1
    }
}
try producer.flush(timeoutMilliseconds: 600_000)
say("loaded \(events) events (32 partitions per topic, 3 brokers)")

var best: [Bool: Double] = [:]
for round in 0..<4 {
    let checkpointing = round % 2 == 1
    var options = LiveOptions(pipeline: pipeline, brokers: cluster.bootstrapServers, group: "bench-\(round)")
    options.stopAtEnd = true
    if checkpointing {
        var checkpoints = LiveCheckpointOptions(redis: try RedisURL(redis.url))
        checkpoints.interval = 10
        options.checkpoints = checkpoints
    }
    let job = try LiveJob(options: options)
    let counts = try job.run()
    let seconds = Date().timeIntervalSince(job.firstRecordAt!)
    let rate = Double(counts.total) / seconds
    best[checkpointing] = max(best[checkpointing] ?? 0, rate)
    say(String(format: "%@: %.0f events/s (%.1f s)", checkpointing ? "with checkpoints every 10 s" : "without checkpoints", rate, seconds))
}
say(String(format: "throughput with checkpoints / without (best of two each): %.2f (target ≥ 0.8)", best[true]! / best[false]!))
redis.stop()
