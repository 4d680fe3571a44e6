// End-to-end latency on the embedded cluster: events produced at a steady rate with lateness 0,
// each the first event of a new user, so each gives one `prospect` tag; latency is from the
// produce call to the moment a consumer of the tags topic receives that tag. One event in 30 is
// an order (as in real traffic), so the orders partitions advance the watermark too.
//
// The embedded brokers (librdkafka's mock cluster) find a fetch's batch by walking the partition's
// list of batches from the oldest, and keep about 5 MB per partition. So the benchmark avoids what
// makes that walk long, which a real broker (with an offset index) would not care about: every
// topic has 4 partitions (with 16, each partition stays under 5 MB for minutes and the walk grows
// all the while), and the producer of the input, standing for the upstream apps, batches as
// librdkafka does by default (linger.ms=5, a wait that counts in the latency; with 1 ms its
// batches hold about one record). With both the other way,
// the walk took 46-50 % of the machine's CPU and the latency climbed through the run.
// Usage: swift run -c release kafka-latency [EVENTS_PER_SECOND] [SECONDS] [raw] [key=value …]
// (default 20000, 30; `raw`: no engine, the reader consumes the input topic itself, which gives
// the latency of one Kafka hop for comparison; key=value: librdkafka properties for every client,
// as `run -X` takes them)
import Foundation
import Histogram
import Kafka
import Logging
import TagStreamCore
import TagStreamRuntime

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .error
    return handler
}
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let rate = arguments.first ?? 20_000, seconds = arguments.dropFirst().first ?? 30
let properties = Dictionary(CommandLine.arguments.dropFirst().filter { $0.contains("=") }.map { argument in
    let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
    return (parts[0], parts[1])
}) { $1 }
let total = rate * seconds
let raw = CommandLine.arguments.contains("raw")

var pipeline = try PipelineLoader.load(path: "pipelines/community-grocery.yaml")
pipeline.time.lateness = TimeSpan(milliseconds: 0)
let topics = pipeline.topics
let cluster = try EmbeddedKafkaCluster(brokers: 3)
for topic in topics.all {
    try cluster.createTopic(topic, partitions: 4)
}

/// Produce times by user number, written by the producer and read by the tag consumer (and, for
/// the split, by the engine's run loop); latencies in microseconds in HdrHistograms.
final class SendTimes: @unchecked Sendable {
    /// Where a tag's latency is taken: received by the consumer of the tags topic (the figure), or
    /// handed to the engine's producer (the part before the second hop).
    enum Stage { case received, handedToProducer }
    private let lock = NSLock()
    private var times: [UInt64]
    /// The largest latency received per second of produce time, in microseconds.
    private var worstPerSecond: [UInt64] = []
    private var start: UInt64 = 0
    private var histograms: [Stage: Histogram<UInt64>] = [
        .received: Histogram(numberOfSignificantValueDigits: .three),
        .handedToProducer: Histogram(numberOfSignificantValueDigits: .three),
    ]
    init(count: Int, seconds: Int) {
        times = Array(repeating: 0, count: count)
        worstPerSecond = Array(repeating: 0, count: max(seconds, 1))
    }
    func started(at now: UInt64) { lock.withLock { start = now } }
    func sent(_ i: Int, at now: UInt64) { lock.withLock { times[i] = now } }
    func reached(_ i: Int, _ stage: Stage = .received) {
        let now = DispatchTime.now().uptimeNanoseconds
        lock.withLock {
            guard times[i] > 0 else { return }
            let latency = (now - times[i]) / 1_000
            _ = histograms[stage]!.record(latency)
            if stage == .received {
                let second = min(Int((times[i] - start) / 1_000_000_000), worstPerSecond.count - 1)
                worstPerSecond[second] = max(worstPerSecond[second], latency)
            }
        }
    }
    /// The largest latency per second of produce time in milliseconds: steady, or climbing.
    var worstMillisecondsPerSecond: [Int] { lock.withLock { worstPerSecond.map { Int($0 / 1_000) } } }
    func count(_ stage: Stage = .received) -> Int { lock.withLock { Int(histograms[stage]!.totalCount) } }
    /// The latency at percentile `p` (0–100) in milliseconds.
    func milliseconds(atPercentile p: Double, _ stage: Stage = .received) -> Double {
        lock.withLock { Double(histograms[stage]!.valueAtPercentile(p)) / 1_000 }
    }
    func maxMilliseconds(_ stage: Stage = .received) -> Double { lock.withLock { Double(histograms[stage]!.max) / 1_000 } }
}

let userIDMarker = Array(#""user_id":"u"#.utf8)
/// The user number of a tag record (`"user_id":"u123"`), read from its JSON bytes.
func userNumber(inTag value: [UInt8]) -> Int? {
    guard var i = value.indices.first(where: { value[$0] == userIDMarker[0] && value[$0...].starts(with: userIDMarker) }) else { return nil }
    i += userIDMarker.count
    var n = 0
    while i < value.count, value[i] >= 0x30, value[i] <= 0x39 {
        n = n * 10 + Int(value[i] - 0x30)
        i += 1
    }
    return n
}
let sendTimes = SendTimes(count: total, seconds: seconds)

var options = LiveOptions(pipeline: pipeline, brokers: cluster.bootstrapServers, group: "latency")
options.properties = properties
let job = try LiveJob(options: options)
job.onRecord = { kind, value in
    if kind == .tag, let n = userNumber(inTag: value) { sendTimes.reached(n, .handedToProducer) }
}
if !raw { Thread.detachNewThread { _ = try? job.run() } }
let readerDone = DispatchSemaphore(value: 0)
let brokers = cluster.bootstrapServers, tagsTopic = raw ? topics.clickstream : topics.tags
Thread.detachNewThread {
    guard let reader = try? KafkaConsumer(configuration: .consumer(brokers: brokers, group: "tags-reader", properties: properties)),
          (try? reader.subscribe([tagsTopic])) != nil else { return }
    while sendTimes.count() < total - total / 30 {
        for case .record(let record) in reader.poll(maxEvents: 10_000, timeoutMilliseconds: 10) {
            let text = String(decoding: record.key ?? [], as: UTF8.self)
            if text.hasPrefix("u"), let n = Int(text.dropFirst()) { sendTimes.reached(n) }
        }
    }
    readerDone.signal()
}
Thread.sleep(forTimeInterval: 6)  // group joins

// Events are handed to the producer every millisecond (20 at 20,000/s), delivery reports served
// once per millisecond, and the thread sleeps in between, leaving the cores to the engine and the brokers.
let producer = try KafkaProducer(configuration: .producer(brokers: cluster.bootstrapServers,
                                                          properties: ["linger.ms": "5"].merging(properties) { $1 }))
let start = DispatchTime.now().uptimeNanoseconds
sendTimes.started(at: start)
var i = 0
while i < total {
    let now = DispatchTime.now().uptimeNanoseconds
    let due = min(total, Int(Double(now - start) / 1e9 * Double(rate)) + 1)
    let ts = Int64(Date().timeIntervalSince1970 * 1000)
    while i < due {
        sendTimes.sent(i, at: now)
        if i % 30 == 29 {
            try producer.send(topic: topics.orders, key: Array("o\(i)".utf8), value: Array(
                #"{"event_id":"o\#(i)","type":"order_paid","user_id":"o\#(i)","ts":\#(ts),"order_id":"\#(i)","amount":10}"#.utf8))
        } else {
            try producer.send(topic: topics.clickstream, key: Array("u\(i)".utf8),
                              value: Array(#"{"event_id":"e\#(i)","type":"app_open","user_id":"u\#(i)","ts":\#(ts)}"#.utf8))
        }
        i += 1
    }
    producer.poll()
    let next = start + UInt64(Double(i) / Double(rate) * 1e9)
    let wait = Int64(next) - Int64(DispatchTime.now().uptimeNanoseconds)
    if wait > 0 { usleep(UInt32(wait / 1_000)) }
}
try producer.flush()
_ = readerDone.wait(timeout: .now() + 30)
say("\(total) events at \(rate)/s for \(seconds) s, lateness 0; \(sendTimes.count()) \(raw ? "input records" : "tags") received")
if sendTimes.count() > 0 {
    say(String(format: (raw ? "latency produce → input record received (one hop, no engine):" : "latency produce → tag:") + " p50 %.1f ms, p99 %.1f ms, max %.1f ms (target p99 ≤ 50 ms)",
               sendTimes.milliseconds(atPercentile: 50), sendTimes.milliseconds(atPercentile: 99), sendTimes.maxMilliseconds()))
    say("  largest latency per second of produce time (ms): " + sendTimes.worstMillisecondsPerSecond.map(String.init).joined(separator: " "))
}
if sendTimes.count(.handedToProducer) > 0 {
    say(String(format: "  of which produce → tag handed to the engine's producer (first hop, watermark, engine): p50 %.1f ms, p99 %.1f ms",
               sendTimes.milliseconds(atPercentile: 50, .handedToProducer), sendTimes.milliseconds(atPercentile: 99, .handedToProducer)))
}
job.stop()
