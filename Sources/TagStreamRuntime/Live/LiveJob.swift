import DequeModule
import Foundation
import Kafka
import Logging
import Redis
import TagStreamCore

/// What a live run consumes and produces.
public struct LiveOptions: Sendable {
    public var pipeline: Pipeline
    public var brokers: String
    /// Default: `tagstream-<pipeline name>`.
    public var group: String
    /// Extra librdkafka properties (`-X key=value`), for both consumer and producer.
    public var properties: [String: String] = [:]
    /// Static group membership (`group.instance.id`), unique per instance: the group gives a
    /// restarted instance its partitions back at once, instead of after its old session times
    /// out. Default: none (dynamic membership). The embedded cluster ignores it.
    public var instanceID: String?
    /// Finish like a replay once every assigned partition has reached its end.
    public var stopAtEnd = false
    /// A partition without records for this long stops holding the watermark back. Default: 30 s.
    public var idleTimeout: TimeInterval = 30
    /// Offsets are committed this often (for lag monitoring) and at shutdown. Default: 5 s.
    public var commitInterval: TimeInterval = 5
    /// How long a bounded run (`stopAtEnd`) waits for the group to assign it partitions before it
    /// gives up; an unbounded run waits as long as it takes (`/health` says so meanwhile).
    /// Default: six times the session timeout plus 30 s (5 minutes), since members killed just
    /// before hold their partitions until their sessions time out (45 s by default), and a group
    /// may drop several of them one after another.
    public var assignmentTimeout: TimeInterval?
    /// Checkpoints in Redis, for restarts that lose nothing and duplicate nothing; nil: none
    /// (offsets are still committed, and a restart begins with empty state).
    public var checkpoints: LiveCheckpointOptions?
    /// One task of a run split by input partition: partition `task.index` of each input topic
    /// (co-partitioned, with `task.count` partitions each), and the users whose events are there.
    /// The tasks meet at each refresh through the topic `exchangeTopic`; each has checkpoints of
    /// its own, which it needs. Nil: the whole run (every partition the group assigns).
    public var task: ShardRole?
    /// A canary: a second pipeline for the share of users `split` gives it (`run --canary`). Each
    /// record carries the name of the pipeline that made it as its `variant`.
    public var canary: (pipeline: Pipeline, split: UserSplit)?

    public init(pipeline: Pipeline, brokers: String, group: String? = nil) {
        self.pipeline = pipeline
        self.brokers = brokers
        self.group = group ?? "tagstream-\(pipeline.name)"
    }

    /// Why the run cannot be split by partition, if it cannot: a pipeline that runs in one shard only.
    var splitObstacle: String? { ShardRole.obstacle(in: pipeline) ?? canary.flatMap { ShardRole.obstacle(in: $0.pipeline) } }

    /// The topic through which the tasks of a split run meet: one partition, made for this pipeline and group.
    public var exchangeTopic: String { "\(group).refresh-exchange" }

    /// `assignmentTimeout`, or its default from the consumer's `session.timeout.ms`.
    var effectiveAssignmentTimeout: TimeInterval {
        assignmentTimeout ?? 6 * (properties["session.timeout.ms"].flatMap(Double.init) ?? 45_000) / 1000 + 30
    }
}

/// The long-running stream processor: Kafka in, the same engine as `replay`, Kafka out.
/// Not thread-safe: `run` is called from one thread; `stop()` may be called from any. The state
/// the run loop touches per record skips Swift's run-time exclusivity checks
/// (`@exclusivity(unchecked)`), which took about 3.5 % of the loop, as `ReplayJob`'s do.
public final class LiveJob: @unchecked Sendable {
    public let options: LiveOptions
    private let logger: Logger
    private let consumer: KafkaConsumer
    private let producer: KafkaProducer
    @exclusivity(unchecked) private var processor: Processor
    @exclusivity(unchecked) private var partitions: [TopicPartition: Int] = [:]
    @exclusivity(unchecked) private var topicPartitions: [TopicPartition] = []
    /// The partition of the last record: records come in runs from one partition, and comparing
    /// the topic, a string shared by the consumer, is cheaper than hashing it.
    @exclusivity(unchecked) private var lastPartition: (tp: TopicPartition, index: Int)?
    /// Records fetched and not yet processed, per partition: like files in a replay, records are
    /// taken from the partition that holds the watermark back, so results do not depend on how
    /// Kafka interleaves partitions.
    @exclusivity(unchecked) private var queues: [Deque<KafkaRecord>] = []
    @exclusivity(unchecked) private var paused: Set<Int> = []
    static let pauseAbove = 20_000, resumeBelow = 2_000, recordsPerTurn = 10_000
    /// Each turn takes everything librdkafka has fetched into `queues`; flow control is
    /// `pauseAbove`/`resumeBelow` per partition.
    static let pollLimit = 100_000
    @exclusivity(unchecked) private var atEnd: Set<Int> = []
    /// The partitions the group has assigned to this instance now.
    @exclusivity(unchecked) private var assigned: Set<Int> = []
    /// Where each input partition begins when the group assigns it and this run has processed
    /// nothing of it yet: the restored checkpoint's offset, or the beginning of a partition the
    /// checkpoint had not read. Nil without a checkpoint: the group's committed offsets then.
    private var checkpointOffsets: [TopicPartition: Int64]?
    /// With `stopAtEnd`: each partition's end offset when the run began.
    private var endOffsets: [Int: Int64] = [:]
    /// When each partition last had a record (or was registered), by partition index.
    @exclusivity(unchecked) private var lastRecord: [Date] = []
    /// The offset after the last record processed, per partition; -1: none yet.
    @exclusivity(unchecked) private var nextOffsets: [Int64] = []
    private let checkpointer: LiveCheckpointer?
    @exclusivity(unchecked) private var suppressor = OutputSuppressor()
    private let encoder = RecordEncoder()
    private let deadLetterRecord = DeadLetterRecord()
    private let stopRequested = LockedFlag()
    @exclusivity(unchecked) public private(set) var tally = OutputTally()
    /// When the first input record arrived (group joins take seconds; benchmarks start here).
    @exclusivity(unchecked) public private(set) var firstRecordAt: Date?
    /// Called with every output record as it is produced (for live views); runs on the run loop.
    public var onRecord: ((OutputRecord.Kind, [UInt8]) -> Void)?
    /// Metrics and health of the run (`--http-port`); set before `run`.
    public var monitor: LiveMonitor?
    /// Where the dashboard asks about users and communities; answered between turns. Set before `run`.
    public var views: ViewHub?
    /// Where a task's offsets are committed (for lag monitoring), when not by its own consumer, which
    /// is no member of the group: by the instance's member, which holds the task's partitions.
    public var commitOffsets: (([TopicPartition: Int64]) -> Void)?
    /// The header on every record a task produces, so that a restore of it suppresses its own
    /// records only, not those of the other tasks writing to the same topics.
    private let outputHeader: KafkaHeader?
    /// Where a restored task reads on in the refresh exchange, and whether it had finished.
    private var restoredExchange: KafkaRefreshExchange.Resume?
    private var finishedBefore = false
    private var exchange: KafkaRefreshExchange?

    public init(options: LiveOptions, logger: Logger = Logger(label: "tagstream.run")) throws {
        self.options = options
        self.logger = logger
        var consumerProperties = options.properties
        if let instanceID = options.instanceID { consumerProperties["group.instance.id"] = instanceID }
        consumer = try KafkaConsumer(configuration: .consumer(brokers: options.brokers, group: options.group, properties: consumerProperties), logger: logger)
        let checkpointer = options.checkpoints.map {
            LiveCheckpointer(options: $0, pipeline: options.pipeline, group: options.group, task: options.task?.index, logger: logger)
        }
        self.checkpointer = checkpointer
        producer = try KafkaProducer(configuration: .producer(brokers: options.brokers, properties: Self.producerProperties(options, checkpointer, logger)), logger: logger)
        if let canary = options.canary, let obstacle = options.pipeline.canaryObstacle(canary.pipeline) { throw LiveJobError(obstacle) }
        processor = Processor(pipeline: options.pipeline, partitions: 0, shard: options.task ?? .single, canary: options.canary)
        outputHeader = options.task.map { KafkaHeader(name: "tagstream-task", value: Array("\($0.index)".utf8)) }
        if let task = options.task {
            if options.checkpoints == nil { throw LiveJobError("task \(task.index) of a split run needs checkpoints (--redis): its state moves with its partitions") }
            if let obstacle = options.splitObstacle { throw LiveJobError(obstacle) }
        }
    }

    /// The producer's properties: with checkpoints, a record waits for delivery at most
    /// `LiveCheckpointer.deliveryTimeout`, unless `-X message.timeout.ms` says otherwise.
    private static func producerProperties(_ options: LiveOptions, _ checkpointer: LiveCheckpointer?, _ logger: Logger) -> [String: String] {
        guard let checkpointer else { return options.properties }
        let bound = Int(checkpointer.deliveryTimeout * 1000)
        if let given = options.properties["message.timeout.ms"].flatMap(Int.init), given > bound {
            logger.warning("message.timeout.ms=\(given) is more than half the lease (\(bound) ms): an instance stalled past its lease may deliver records that the instance taking over produces too")
        }
        return ["message.timeout.ms": String(bound)].merging(options.properties) { $1 }
    }

    /// Asks `run` to drain and return.
    public func stop() { stopRequested.set() }

    /// Consumes until `stop()` (or, with `stopAtEnd`, until every partition is at its end), then
    /// applies what it holds, flushes the producer and commits offsets.
    public func run(status: (OutcomeCounts, OutputTally) -> Void = { _, _ in }) throws -> OutcomeCounts {
        defer { views?.close() }
        do {
            return try runUntilStopped(status: status)
        } catch is TaskStopped {
            logger.notice("task \(options.task!.index) stopped while it waited for the other tasks; its next owner goes on from its last checkpoint")
            // What it produced since then is suppressed by that owner, once it is in the topics.
            try? producer.flush(timeoutMilliseconds: 10_000)
            return processor.counts
        }
    }

    private func runUntilStopped(status: (OutcomeCounts, OutputTally) -> Void) throws -> OutcomeCounts {
        let topics = options.pipeline.topics
        var restored = false
        if let checkpointer {
            guard try standBy(until: checkpointer) else { return processor.counts }
            restored = try restore(with: checkpointer)
        }
        defer { checkpointer?.releaseLease() }
        if let task = options.task, let checkpointer {
            guard !finishedBefore else {
                logger.info("task \(task.index) finished its bounded run before: nothing left to do")
                return processor.counts
            }
            try joinExchange(task, checkpointer: checkpointer)
        }
        // Every input partition holds the watermark back from the start, also one the group has
        // not assigned yet (a killed member may hold it until its session times out), as every
        // file does in a replay: else records would be applied before those of other partitions.
        let inputs = try inputPartitions()
        for tp in inputs { _ = partitionIndex(tp) }
        // A first run checkpoints before it produces anything: a restart after a crash before its
        // next checkpoint then knows where the outputs began, and suppresses them. A run that
        // continues from committed offsets (--on-missing-checkpoint=reset) records them as its start.
        if let checkpointer, !restored {
            for (tp, offset) in try consumer.committed(topicPartitions) where offset >= 0 { nextOffsets[partitions[tp]!] = offset }
            try checkpoint(with: checkpointer)
        }
        // Leaves the group on every way out, so that a restart need not wait for the session to time out.
        defer { consumer.close() }
        if options.task != nil {
            // The instance's member of the group holds the partitions; this consumer reads them.
            try consumer.assign(Dictionary(uniqueKeysWithValues: inputs.map { ($0, startOffset(of: $0) ?? KafkaConsumer.committedOffset) }))
            try handle(.assigned(inputs), at: Date())
        } else {
            consumer.startOffset = { [unowned self] tp in startOffset(of: tp) }
            try consumer.subscribe([topics.clickstream, topics.orders])
            logger.info("joining group \(options.group)")
        }
        assignmentWait = AssignmentWait(limit: options.stopAtEnd ? options.effectiveAssignmentTimeout : nil, since: Date())
        var lastStatus = Date(), lastCommit = Date()
        monitor?.started(producer: producer)
        var moreToProcess = false, reachedEnd = false
        while !stopRequested.isSet {
            // Keeps the lease also while nothing is produced (every record produced checks it too).
            try checkpointer?.renewLeaseIfDue()
            // Records left from the last turn are processed at once; else wait a little for more.
            let polled = Date()
            var health = LiveMonitor.PollHealth()
            try consumer.poll(maxEvents: Self.pollLimit, timeoutMilliseconds: moreToProcess ? 0 : 100) { event in
                health.note(event)
                try handle(event, at: polled)
            }
            monitor?.polled(health)
            try markIdlePartitions()
            moreToProcess = try processQueuedRecords()
            if options.task != nil, !moreToProcess, !processor.sequencer.partitions.contains(where: \.isActive) {
                try processor.followOtherTasks()
            }
            try produceRecords()
            views?.serve(&processor)
            monitor?.looped(processor: processor, consumer: consumer, producer: producer)
            if Date().timeIntervalSince(lastStatus) >= 1 {
                lastStatus = Date()
                status(processor.counts, tally)
            }
            if let checkpointer {
                if checkpointer.isDue { try checkpoint(with: checkpointer) }
            } else if Date().timeIntervalSince(lastCommit) >= options.commitInterval {
                lastCommit = Date()
                commitProcessedOffsets(wait: false)
            }
            if options.stopAtEnd, queues.allSatisfy(\.isEmpty), allPartitionsAtEnd {
                reachedEnd = true
                break
            }
            try checkAssignmentWait()
        }
        // A task stopped before its end keeps what it has buffered for its next owner: applying
        // it would run ahead of the other tasks.
        if options.stopAtEnd, reachedEnd || options.task == nil {
            try processor.finish()
        } else if options.task == nil {
            try processQueuedRecords(draining: true)
            try processor.applyBuffered()
        }
        try produceRecords()
        try flushProducer()
        if let checkpointer { try checkpoint(with: checkpointer, final: true, finished: reachedEnd) }
        else { commitProcessedOffsets(wait: true) }
        status(processor.counts, tally)
        return processor.counts
    }

    /// The final lifecycle and tier distribution (of both pipelines' users, with a canary).
    public var finalState: StateDistribution {
        var state = processor.engine.distribution()
        if let canary = processor.canary { state.add(canary.engine.distribution()) }
        return state
    }

    /// Takes one polled event; `now` is when the poll began.
    private func handle(_ event: consuming ConsumerEvent, at now: Date) throws {
        switch consume event {
        case .record(let record):
            if firstRecordAt == nil { firstRecordAt = Date() }
            let p = partitionIndex(TopicPartition(topic: record.topic, partition: record.partition))
            lastRecord[p] = now
            if !atEnd.isEmpty { atEnd.remove(p) }
            queues[p].append(record)
            if queues[p].count > Self.pauseAbove, paused.insert(p).inserted { try consumer.pause([topicPartitions[p]]) }
        case let .partitionEnd(topic, partition, next):
            let p = partitionIndex(TopicPartition(topic: topic, partition: partition))
            // An end reported before the offset the run began with is not the end yet.
            if next >= endOffsets[p, default: 0] { atEnd.insert(p) }
        case .assigned(let tps):
            // Every assigned partition holds the watermark back from its assignment, even before
            // its first record, as every file does in a replay: its idle timeout counts from the
            // assignment, not from a start or restore that may have waited long for it.
            assignmentWait.assigned()
            for tp in tps {
                let p = partitionIndex(tp)
                assigned.insert(p)
                lastRecord[p] = now
                if !processor.sequencer.partitions[p].isActive { try processor.setPartition(p, active: true) }
                let held = try consumer.offsets(of: tp)
                warnIfRecordsAreGone(tp, first: held.lowerBound)
                if options.stopAtEnd, endOffsets[p] == nil { endOffsets[p] = held.upperBound }
            }
        case .revoked(let tps):
            // Records fetched past what was processed are fetched again if the partition comes back.
            for tp in tps {
                guard let p = partitions[tp] else { continue }
                assigned.remove(p)
                atEnd.remove(p)
                queues[p].removeAll()
                paused.remove(p)
            }
            if assigned.isEmpty { assignmentWait.revokedAll(at: Date()) }
        case .error(let error):
            logger.warning("\(error.description)")
        }
    }

    /// Processes queued records, always from the partition that holds the engine's watermark back,
    /// until that partition has nothing queued (then its next records must be waited for), or
    /// `recordsPerTurn` have been processed: the loop then polls, produces and checkpoints before
    /// it goes on. When `draining` (shutting down), partitions with nothing queued are passed over
    /// instead, and there is no limit. Returns whether records are left to process at once.
    @discardableResult
    private func processQueuedRecords(draining: Bool = false) throws -> Bool {
        var processed = 0
        // Only the partition records are taken from changes while this runs, so the order of the
        // candidates is kept up to date instead of being found again for every record.
        var order = PartitionOrder(processor.sequencer) { isCandidate($0, withRecordsOnly: draining) }
        while let p = order.first {
            guard let record = queues[p].popFirst() else {
                // A bounded run treats the end of a partition as the end of its file.
                guard options.stopAtEnd, atEnd.contains(p) else { return false }
                try processor.setPartition(p, active: false)
                order.update(firstWatermark: candidateWatermark(p, withRecordsOnly: draining))
                continue
            }
            if !processor.sequencer.partitions[p].isActive { try processor.setPartition(p, active: true) }
            try process(record, partition: p)
            nextOffsets[p] = record.offset + 1
            if queues[p].count < Self.resumeBelow, paused.remove(p) != nil, !consumptionHeld { try consumer.resume([topicPartitions[p]]) }
            order.update(firstWatermark: candidateWatermark(p, withRecordsOnly: draining))
            processed += 1
            if !draining, processed == Self.recordsPerTurn { return true }
        }
        return false
    }

    /// Active partitions hold the watermark back (the lowest, ties: the first), and idle ones with records.
    private func isCandidate(_ p: Int, withRecordsOnly: Bool) -> Bool {
        !queues[p].isEmpty || (processor.sequencer.partitions[p].isActive && !withRecordsOnly)
    }

    /// A candidate's watermark, for `PartitionOrder`; nil when `p` is not a candidate.
    private func candidateWatermark(_ p: Int, withRecordsOnly: Bool) -> Int64? {
        isCandidate(p, withRecordsOnly: withRecordsOnly) ? processor.sequencer.watermark(ofPartition: p) : nil
    }

    private func process(_ record: KafkaRecord, partition p: Int) throws {
        let outcome = try record.value.withUnsafeBufferPointer { try processor.process($0, partition: p) }
        if case .accepted = outcome { monitor?.accepted(eventTime: processor.lastAccepted, kafkaTimestamp: record.timestamp) }
        switch outcome {
        case .deadLetter(let reason):
            try send(topic: options.pipeline.topics.deadLetters, key: record.key, value: deadLetter(record, reason))
        case .late:
            try send(topic: options.pipeline.topics.late, key: record.key, value: record.value)
        case .accepted, .duplicate, .ignored, .blank, .otherArm:
            break
        }
    }

    private func partitionIndex(_ tp: TopicPartition) -> Int {
        if let last = lastPartition, last.tp == tp { return last.index }
        if let p = partitions[tp] {
            lastPartition = (tp, p)
            return p
        }
        let p = processor.addPartition()
        partitions[tp] = p
        topicPartitions.append(tp)
        queues.append(Deque())
        nextOffsets.append(-1)
        lastRecord.append(Date())
        logger.info("consuming \(tp)")
        return p
    }

    /// A bounded run ends once it has every input partition and each is at its end.
    private var allPartitionsAtEnd: Bool { assigned.count == topicPartitions.count && assigned.isSubset(of: atEnd) }

    private func markIdlePartitions() throws {
        guard !options.stopAtEnd else { return }
        let now = Date()
        for (p, seen) in lastRecord.enumerated() where processor.sequencer.partitions[p].isActive && queues[p].isEmpty
            && now.timeIntervalSince(seen) > options.idleTimeout {
            try processor.setPartition(p, active: false)
        }
    }

    private func produceRecords() throws {
        let topics = options.pipeline.topics
        try processor.drainOutput { records, symbols, variant in
            for record in records {
                let topic: String
                switch record.kind {
                case .tag: topic = topics.tags
                case .alert: topic = topics.alerts
                case .coupon: topic = topics.coupons
                case .communityStats: topic = topics.communityStats
                case .couponOutcome: topic = topics.couponOutcomes
                }
                let key = record.user >= 0 ? symbols.users[record.user] : record.community >= 0 ? symbols.communities[record.community] : ""
                let value = encoder.encode(record, symbols: symbols, variant: variant)
                try send(topic: topic, key: Array(key.utf8), value: value)
                checkpointer?.profiles?.add(record, symbols: symbols)
                tally.count(record)
                monitor?.produced(record, variant: variant)
                onRecord?(record.kind, value)
            }
        }
        producer.poll()
        // A record that could not be delivered stops the run before any checkpoint counts it as
        // produced: the restart from the last checkpoint produces it again, so nothing is lost.
        if let failure = producer.deliveryFailure { throw leaseLost() ?? failure }
    }

    /// Waits until every record produced is acknowledged.
    private func flushProducer() throws {
        do { try producer.flush() } catch { throw leaseLost() ?? error }
    }

    /// Why the run must stop when the lease was lost: records time out while a process is stalled
    /// past its lease, and the lost lease, not the timeout, is then what the run reports.
    private func leaseLost() -> (any Error)? {
        do {
            try checkpointer?.renewLeaseIfDue()
            return nil
        } catch {
            return error
        }
    }

    /// Produces a record, unless it is already in its topic from before a restart.
    private func send(topic: String, key: [UInt8]?, value: [UInt8]) throws {
        if !suppressor.isEmpty, suppressor.suppress(topic: topic, key: key, value: value) { return }
        // Right before the record leaves: a stall may have begun anywhere in the turn.
        try checkpointer?.renewLeaseIfDue()
        try producer.send(topic: topic, key: key, value: value, header: outputHeader)
    }

    /// Records that retention deleted before this run read them are lost to it: says how many,
    /// since the consumer would otherwise carry on from the first record left without a word.
    private func warnIfRecordsAreGone(_ tp: TopicPartition, first: Int64) {
        guard first > 0 else { return }
        let committed = (try? consumer.committed([tp]))?[tp]
        // Negative offsets stand for "the beginning" or "none committed".
        let next = max(0, startOffset(of: tp) ?? committed ?? 0)
        guard next < first else { return }
        logger.error("\(tp) holds records from offset \(first) on: \(first - next) records before it were deleted (retention) before this run read them, and are lost to it")
    }

    /// Where an assigned partition begins (the consumer asks at each assignment): after the last
    /// record processed; before any, where the restored checkpoint says; nil: the committed offset.
    private func startOffset(of tp: TopicPartition) -> Int64? {
        if let p = partitions[tp], nextOffsets[p] >= 0 { return nextOffsets[p] }
        return checkpointOffsets.map { $0[tp] ?? KafkaConsumer.beginning }
    }

    /// Commits the offsets after the records processed in the assigned partitions. With checkpoints
    /// they are for lag monitoring only, and without, the next commit carries newer offsets, so a
    /// failure (during a rebalance, say) is logged and never stops the run.
    private func commitProcessedOffsets(wait: Bool) {
        let offsets = Dictionary(uniqueKeysWithValues: assigned.filter { nextOffsets[$0] >= 0 }.map { (topicPartitions[$0], nextOffsets[$0]) })
        if let commitOffsets { return commitOffsets(offsets) }
        do {
            try consumer.commit(offsets, async: !wait)
        } catch {
            logger.warning("\(error.message) (the next commit carries these offsets)")
        }
    }

    @exclusivity(unchecked) private var assignmentWait = AssignmentWait(limit: nil, since: Date())

    private func checkAssignmentWait() throws {
        let topics = options.pipeline.topics
        let situation = { (seconds: Int) in "no partitions of \(topics.clickstream), \(topics.orders) assigned after \(seconds) s" }
        switch assignmentWait.check(at: Date()) {
        case .none:
            break
        case .warn(let seconds):
            logger.warning("\(situation(seconds)); still waiting (a member that stopped without leaving the group holds its partitions until its session times out; --instance-id avoids that wait on restarts)")
        case .giveUp(let seconds):
            throw KafkaError(code: .noAssignment, message: "\(situation(seconds)): do the topics exist, are the brokers reachable, and do other members of group \(options.group) hold every partition?")
        }
    }

    /// Waits until this instance holds the lease of the group's checkpoints: while another
    /// instance holds it, this one stands by (until state is sharded across instances, one
    /// instance of a group processes). False when `stop()` came first.
    private func standBy(until checkpointer: LiveCheckpointer) throws -> Bool {
        var announced = false
        let scope = options.task.map { "task \($0.index) of group \(options.group)" } ?? "group \(options.group)"
        while !stopRequested.isSet {
            if try checkpointer.acquireLease() {
                if announced { logger.notice("taking over the checkpoints of \(scope)") }
                monitor?.standingBy(nil)
                return true
            }
            if !announced {
                announced = true
                let holder = (try? checkpointer.lease.holder()) ?? nil
                logger.notice("standing by: another instance (\(holder ?? "unknown: Redis unreachable")) runs \(scope); this one takes over when that one stops")
                monitor?.standingBy(holder ?? "unknown")
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
        return false
    }

    /// Continues from the latest checkpoint: its state, where each input partition begins when it
    /// is assigned, and the suppression of outputs already produced. False when there is none.
    private func restore(with checkpointer: LiveCheckpointer) throws -> Bool {
        let inputs = try inputPartitions()
        guard let (checkpoint, processorSnapshot) = try checkpointer.latest(hasCommittedOffsets: { try !consumer.committed(inputs).values.allSatisfy { $0 < 0 } }) else { return false }
        var snapshot = processorSnapshot
        for tp in checkpoint.partitions { _ = partitionIndex(tp) }
        try processor.restore(from: &snapshot)
        reportCanaryMoves()
        nextOffsets = checkpoint.nextOffsets
        tally = checkpoint.tally
        checkpointOffsets = checkpoint.inputOffsets
        restoredExchange = checkpoint.exchange
        finishedBefore = checkpoint.finished
        let reader = try KafkaConsumer(configuration: .consumer(brokers: options.brokers, group: options.group + ".restore", properties: options.properties), logger: logger)
        suppressor = try OutputSuppressor.read(after: checkpoint.outputEnds, keeping: checkpoint.suppressions, consumer: reader,
                                               producedBy: outputHeader, logger: logger)
        return true
    }

    /// Says who moved between the pipelines when the restored checkpoint had another canary share.
    private func reportCanaryMoves() {
        let moves = processor.canaryMoves
        guard let canary = options.canary, moves.toCanary.users + moves.toControl.users > 0 else { return }
        logger.notice("canary at \(canary.split.percent) %: \(moves.toCanary.users) users moved to '\(canary.pipeline.name)' and \(moves.toControl.users) to '\(options.pipeline.name)', with their aggregates")
        let dropped = (outcomes: moves.toCanary.droppedOutcomes + moves.toControl.droppedOutcomes,
                       triggers: moves.toCanary.droppedTriggers + moves.toControl.droppedTriggers)
        if dropped.outcomes + dropped.triggers > 0 {
            logger.warning("\(dropped.outcomes) open coupon outcomes and \(dropped.triggers) delayed campaign triggers of moved users were dropped: the pipeline they moved to has no campaign of that name with the same outcome or delay")
        }
    }

    /// Takes a checkpoint once every output so far is acknowledged; then commits the input
    /// offsets (for lag monitoring) and writes the profile store.
    private func checkpoint(with checkpointer: LiveCheckpointer, final: Bool = false, finished: Bool = false) throws {
        let started = Date()
        try produceRecords()
        try flushProducer()
        let ends = try consumer.endOffsets(of: try outputPartitions())
        var checkpoint = LiveCheckpoint(partitions: topicPartitions, nextOffsets: nextOffsets, outputEnds: ends,
                                        suppressions: suppressor.pending, tally: tally)
        checkpoint.exchange = exchange?.resume
        checkpoint.finished = finished
        let saved = try checkpointer.save(checkpoint, processor: processor)
        if saved { commitProcessedOffsets(wait: final) }
        if saved, views != nil, options.task != nil { checkpointer.publish(dashboard: processor.dashboardPart()) }
        if checkpointer.holdsConsumption != consumptionHeld { try holdConsumption(!consumptionHeld) }
        let reason = checkpointer.degradedReason.map { consumptionHeld ? "\($0), consumption paused" : $0 }
        monitor?.checkpointed(saved: saved, seconds: Date().timeIntervalSince(started), bytes: checkpointer.lastSize, degradedReason: reason)
    }

    /// Whether consumption is paused until a checkpoint succeeds.
    @exclusivity(unchecked) private var consumptionHeld = false

    /// Pauses every partition, or resumes those not paused for a full queue.
    private func holdConsumption(_ hold: Bool) throws {
        consumptionHeld = hold
        let affected = topicPartitions.indices.filter { !paused.contains($0) }.map { topicPartitions[$0] }
        if hold {
            logger.warning("pausing consumption until a checkpoint succeeds")
            try consumer.pause(affected)
        } else {
            logger.notice("resuming consumption")
            try consumer.resume(affected)
        }
    }

    /// Every partition of the input topics, from the cluster's metadata; a task's partitions only.
    private func inputPartitions() throws -> [TopicPartition] {
        let topics = [options.pipeline.topics.clickstream, options.pipeline.topics.orders]
        let all = try topics.map { try consumer.partitions(of: $0) }
        guard let task = options.task else { return all.flatMap { $0 } }
        try Self.checkCoPartitioned(topics, counts: all.map(\.count), tasks: task.count)
        return topics.map { TopicPartition(topic: $0, partition: Int32(task.index)) }
    }

    /// A run split by partition holds a user's events in one task only if every input topic has
    /// one partition per task (and the producers key them by user with one partitioner).
    static func checkCoPartitioned(_ topics: [String], counts: [Int], tasks: Int) throws {
        guard counts.allSatisfy({ $0 == tasks }) else {
            let described = zip(topics, counts).map { "\($0) has \($1)" }.joined(separator: ", ")
            throw LiveJobError("the input topics are not co-partitioned for \(tasks) tasks: \(described) partitions. A run split by partition needs the same partition count in every input topic, keyed by user_id with one partitioner")
        }
    }

    /// Joins the refresh exchange where the restored checkpoint left it, or, without one, where
    /// the run's first task began to read it.
    private func joinExchange(_ task: ShardRole, checkpointer: LiveCheckpointer) throws {
        let topic = TopicPartition(topic: options.exchangeTopic, partition: 0)
        let resume = try restoredExchange ?? KafkaRefreshExchange.Resume(
            position: try RedisCheckpointStore(client: checkpointer.store.client, pipeline: options.pipeline.name, group: options.group, task: 0)
                .sharedExchangeStart(try consumer.endOffset(of: topic)))
        let exchange = try KafkaRefreshExchange(brokers: options.brokers, topic: topic.topic, shards: task.count, resume: resume,
                                                properties: options.properties, producer: producer, logger: logger)
        exchange.whileWaiting = { [unowned self] in
            try checkpointer.renewLeaseIfDue()
            if stopRequested.isSet { throw TaskStopped() }
        }
        self.exchange = exchange
        processor.agreement = exchange
    }

    @exclusivity(unchecked) private var knownOutputPartitions: [TopicPartition] = []

    /// Every partition of every output topic (asked of the cluster once).
    private func outputPartitions() throws -> [TopicPartition] {
        if knownOutputPartitions.isEmpty {
            let topics = options.pipeline.topics
            knownOutputPartitions = try [topics.tags, topics.alerts, topics.coupons, topics.communityStats, topics.couponOutcomes, topics.deadLetters, topics.late]
                .flatMap { try consumer.partitions(of: $0) }
        }
        return knownOutputPartitions
    }

    /// The dead-letter record: the reason, where the record came from, and its original bytes.
    private func deadLetter(_ record: KafkaRecord, _ reason: DeadLetterReason) -> [UInt8] {
        deadLetterRecord.encode(record.value, reason: reason) { w in
            w.key("topic"); w.string(record.topic)
            w.key("partition"); w.integer(Int64(record.partition))
            w.key("offset"); w.integer(record.offset)
        }
    }
}

/// A flag set from any thread (a signal handler's queue) and read by the run loop.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

/// Why a live run cannot start as configured.
public struct LiveJobError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A task was asked to stop while it waited for the other tasks (its state is then mid-refresh,
/// and not checkpointed).
struct TaskStopped: Error {}
