import Foundation
import Kafka
import Metrics
import TagStreamCore

/// Watches a live run from inside its loop: counts what goes in and out, measures end-to-end
/// latency, samples consumer lag, producer queue and watermark, and reports the run's health.
/// The hooks are called on the run loop's thread only; `health` may be read from any thread.
public final class LiveMonitor: @unchecked Sendable {
    /// Metric names, Prometheus style.
    public enum Name {
        /// Counter, label `outcome`: accepted, dead_letter, duplicate, late, ignored.
        public static let eventsIn = "tagstream_events_in_total"
        /// Counter, label `kind`: tag, alert, coupon, community_stats, coupon_outcome; with a canary,
        /// also `variant`: the pipeline that made the record.
        public static let recordsOut = "tagstream_records_out_total"
        /// Gauge, labels `topic`, `partition`: end offset minus the consumer's next offset.
        public static let consumerLag = "tagstream_consumer_lag_records"
        /// Histogram (seconds): from an input record's Kafka timestamp to the moment a record its
        /// event caused is handed to the producer.
        public static let latency = "tagstream_end_to_end_latency_seconds"
        /// Gauge: records handed to the producer and not yet acknowledged.
        public static let producerQueue = "tagstream_producer_queue_records"
        /// Gauge (seconds): wall-clock time minus the engine's watermark.
        public static let eventTimeLag = "tagstream_event_time_lag_seconds"
        /// Gauge: input partitions assigned to this consumer.
        public static let assignedPartitions = "tagstream_assigned_partitions"
        /// Counter, label `result`: saved, failed (checkpoints in Redis).
        public static let checkpoints = "tagstream_checkpoints_total"
        /// Histogram (seconds): a checkpoint from the producer's flush to stored in Redis.
        public static let checkpointDuration = "tagstream_checkpoint_duration_seconds"
        /// Gauge: bytes of the latest checkpoint.
        public static let checkpointBytes = "tagstream_checkpoint_bytes"
    }

    /// Health components the run loop reports as.
    enum Component {
        static let assignment = "assignment", brokers = "brokers", producer = "producer", checkpoints = "checkpoints", lease = "lease"
        static let all = [assignment, brokers, producer, checkpoints, lease]
    }

    public let health: HealthState
    let factory: any MetricsFactory
    /// The task this monitors, in a run split by partition (nil: the whole run). A task's gauges
    /// carry a `task` label and its health reasons name it, so that the tasks of an instance, which
    /// share its registry and health, neither overwrite nor clear each other's.
    let task: Int?
    private let eventsIn: [Counter]
    private var recordsOut: [OutputRecord.Kind: Counter] = [:]
    /// With a canary: per variant, made at its first record.
    private var variantRecordsOut: [String: [OutputRecord.Kind: Counter]] = [:]
    private let latency: Metrics.Timer
    private let producerQueue: Gauge
    private let eventTimeLag: Gauge
    private let assignedPartitions: Gauge
    private var lagGauges: [TopicPartition: Gauge] = [:]
    private let checkpointsSaved: Counter
    private let checkpointsFailed: Counter
    private let checkpointDuration: Metrics.Timer
    private let checkpointBytes: Gauge
    /// The committed offsets of the assigned partitions, where lag counts from until a record is returned.
    private var startOffsets: [TopicPartition: Int64] = [:]

    private var counted = OutcomeCounts()
    private var inputTimestamps = InputTimestamps()
    private var lastSample = Date.distantPast
    private var lastProbe = Date.distantPast
    /// Gauges are sampled this often. Default: 1 s.
    public var sampleInterval: TimeInterval = 1

    public init(health: HealthState = HealthState(), factory: any MetricsFactory, task: Int? = nil) {
        self.health = health
        self.factory = factory
        self.task = task
        let taskLabel = task.map { [("task", String($0))] } ?? []
        eventsIn = ["accepted", "dead_letter", "duplicate", "late", "ignored"].map {
            Counter(label: Name.eventsIn, dimensions: [("outcome", $0)], factory: factory)
        }
        for kind in OutputRecord.Kind.allCases {
            recordsOut[kind] = Counter(label: Name.recordsOut, dimensions: [("kind", kind.name)], factory: factory)
        }
        latency = Metrics.Timer(label: Name.latency, factory: factory)
        producerQueue = Gauge(label: Name.producerQueue, dimensions: taskLabel, factory: factory)
        eventTimeLag = Gauge(label: Name.eventTimeLag, dimensions: taskLabel, factory: factory)
        assignedPartitions = Gauge(label: Name.assignedPartitions, dimensions: taskLabel, factory: factory)
        checkpointsSaved = Counter(label: Name.checkpoints, dimensions: [("result", "saved")], factory: factory)
        checkpointsFailed = Counter(label: Name.checkpoints, dimensions: [("result", "failed")], factory: factory)
        checkpointDuration = Metrics.Timer(label: Name.checkpointDuration, factory: factory)
        checkpointBytes = Gauge(label: Name.checkpointBytes, dimensions: taskLabel, factory: factory)
        // Not consuming until the run loop has partitions (the endpoint may answer before it starts).
        holdsPartitions(false)
    }

    /// Whether the group has assigned the run any partitions.
    func holdsPartitions(_ holds: Bool) {
        if holds { clear(Component.assignment) } else { degrade(Component.assignment, "no partitions assigned") }
    }

    /// The tasks of a split instance report gauges of their own: the instance's go.
    func removeGauges() {
        for gauge in [producerQueue, eventTimeLag, assignedPartitions, checkpointBytes] + Array(lagGauges.values) { gauge.destroy() }
        lagGauges = [:]
    }

    /// A task's run has ended (its partitions may be elsewhere now): its gauges and health reasons go.
    func taskEnded() {
        removeGauges()
        for component in Component.all { clear(component) }
    }

    private func scoped(_ component: String) -> String { task.map { "\(component) of task \($0)" } ?? component }

    private func described(_ reason: String) -> String { task.map { "task \($0): \(reason)" } ?? reason }

    private func degrade(_ component: String, _ reason: String) {
        health.setDegraded(reason: described(reason), component: scoped(component))
    }

    private func clear(_ component: String) { health.clear(component: scoped(component)) }

    /// The run stands by while another instance (`holder`) holds the group's checkpoints; nil: it holds them.
    func standingBy(_ holder: String?) {
        if let holder {
            degrade(Component.lease, "standby: another instance (\(holder)) \(task == nil ? "runs the group" : "holds the task's lease")")
        } else {
            clear(Component.lease)
        }
    }

    /// The run loop starts: a producer waiting for room in its queue makes the run degraded.
    func started(producer: KafkaProducer) {
        // Called on librdkafka's thread: the health state is thread-safe, this monitor is not.
        let component = scoped(Component.producer), reason = described("producer queue full")
        producer.onQueueFull = { [health] waiting in
            if waiting {
                health.setDegraded(reason: reason, component: component)
            } else {
                health.clear(component: component)
            }
        }
    }

    /// What one poll said about the brokers: librdkafka reports losing every broker as an error
    /// event; any record or partition end means the brokers answer again.
    struct PollHealth {
        var brokersAnswered = false
        var allBrokersDown = false

        mutating func note(_ event: ConsumerEvent) {
            switch event {
            case .record, .partitionEnd: brokersAnswered = true
            case .error(let error) where error.code == .allBrokersDown: allBrokersDown = true
            case .error, .assigned, .revoked: break
            }
        }
    }

    /// A poll returned.
    func polled(_ poll: PollHealth) {
        if poll.brokersAnswered {
            clear(Component.brokers)
        } else if poll.allBrokersDown {
            degrade(Component.brokers, "broker unreachable")
        }
    }

    /// An input record was accepted; `eventTime` is its event's `ts`.
    func accepted(eventTime: Int64, kafkaTimestamp: Int64?) {
        guard let kafkaTimestamp else { return }
        inputTimestamps.accepted(eventTime: eventTime, kafkaTimestamp: kafkaTimestamp)
    }

    /// An output record, made by the pipeline `variant` (with a canary), was handed to the producer.
    func produced(_ record: OutputRecord, variant: String?) {
        if let variant {
            if variantRecordsOut[variant] == nil {
                variantRecordsOut[variant] = Dictionary(uniqueKeysWithValues: OutputRecord.Kind.allCases.map {
                    ($0, Counter(label: Name.recordsOut, dimensions: [("kind", $0.name), ("variant", variant)], factory: factory))
                })
            }
            variantRecordsOut[variant]![record.kind]!.increment()
        } else {
            recordsOut[record.kind]?.increment()
        }
        guard case .event = record.cause, let sent = inputTimestamps.kafkaTimestamp(ofEventAt: record.ts) else { return }
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        latency.recordMilliseconds(max(0, now - sent))
    }

    /// A checkpoint was attempted: saved (its duration and size), or not, with why the run is
    /// degraded meanwhile (nil once checkpoints succeed again).
    func checkpointed(saved: Bool, seconds: TimeInterval, bytes: Int, degradedReason: String?) {
        if saved {
            checkpointsSaved.increment()
            checkpointDuration.recordNanoseconds(Int64(seconds * 1e9))
            checkpointBytes.record(bytes)
        } else {
            checkpointsFailed.increment()
        }
        if let degradedReason {
            degrade(Component.checkpoints, degradedReason)
        } else {
            clear(Component.checkpoints)
        }
    }

    /// One turn of the run loop is done: counts are brought up to date, and gauges and health
    /// are sampled every `sampleInterval`.
    func looped(processor: Processor, consumer: KafkaConsumer, producer: KafkaProducer) {
        count(processor.counts)
        inputTimestamps.forget(before: processor.sequencer.watermark)
        let now = Date()
        guard now.timeIntervalSince(lastSample) >= sampleInterval else { return }
        lastSample = now
        producerQueue.record(producer.pending)
        let watermark = processor.sequencer.watermark
        if watermark != .min {
            eventTimeLag.record(Double(Int64(now.timeIntervalSince1970 * 1_000) - watermark) / 1_000)
        }
        guard let assigned = try? consumer.assignment() else { return }
        let new = assigned.filter { startOffsets[$0] == nil }
        if !new.isEmpty {
            let committed = (try? consumer.committed(new, timeoutMilliseconds: 1_000)) ?? [:]
            for tp in new { startOffsets[tp] = committed[tp] ?? -1 }
        }
        guard let lag = try? consumer.lag(startOffsets: startOffsets) else { return }
        assignedPartitions.record(assigned.count)
        holdsPartitions(!assigned.isEmpty)
        for (tp, records) in lag {
            if lagGauges[tp] == nil {
                lagGauges[tp] = Gauge(label: Name.consumerLag, dimensions: [("topic", tp.topic), ("partition", String(tp.partition))],
                                      factory: factory)
            }
            lagGauges[tp]?.record(records)
        }
        for (tp, gauge) in lagGauges where !assigned.contains(tp) {
            gauge.destroy()
            lagGauges[tp] = nil
            startOffsets[tp] = nil
        }
        probeBrokers(consumer, assigned: assigned, now: now)
    }

    /// Brings the outcome counters up to `counts` (the processor's running totals).
    public func count(_ counts: OutcomeCounts) {
        let now = [counts.accepted, counts.deadLetter, counts.duplicate, counts.late, counts.ignored]
        let before = [counted.accepted, counted.deadLetter, counted.duplicate, counted.late, counted.ignored]
        for i in eventsIn.indices where now[i] > before[i] {
            eventsIn[i].increment(by: Int64(now[i] - before[i]))
        }
        counted = counts
    }

    /// While the brokers seem gone and no records come, asks one partition's end offset every
    /// few seconds: an answer means they are back.
    private func probeBrokers(_ consumer: KafkaConsumer, assigned: [TopicPartition], now: Date) {
        guard health.reason(of: scoped(Component.brokers)) != nil, let tp = assigned.first,
              now.timeIntervalSince(lastProbe) >= 2 else { return }
        lastProbe = now
        if (try? consumer.endOffset(of: tp, timeoutMilliseconds: 500)) != nil {
            clear(Component.brokers)
        }
    }
}
