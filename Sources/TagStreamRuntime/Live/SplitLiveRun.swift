import Foundation
import Kafka
import Logging
import Redis
import TagStreamCore

/// What the command line runs live: one engine for the whole run (`LiveJob`), or one instance of
/// a run split by partition (`SplitLiveRun`).
public protocol LiveRun: AnyObject, Sendable {
    /// Runs until `stop()`, or with `stopAtEnd` until the end; `status` is called about once a second.
    func run(status: (OutcomeCounts, OutputTally) -> Void) throws -> OutcomeCounts
    /// Asks `run` to return.
    func stop()
    /// Metrics and health of the run (`--http-port`); set before `run`.
    var monitor: LiveMonitor? { get set }
    /// The records produced, by kind.
    var tally: OutputTally { get }
    /// The final lifecycle and tier distribution of the users held (read after `run`).
    var finalState: StateDistribution { get }
    /// Makes the run answer the dashboard, and returns what the dashboard's routes ask; call before `run`.
    func serveDashboard() -> any DashboardSource
}

extension LiveJob: LiveRun {
    public func serveDashboard() -> any DashboardSource {
        let hub = ViewHub()
        views = hub
        return hub
    }
}

/// One instance of a live run split by input partition, as Kafka Streams runs its tasks: a member
/// of the consumer group that runs task p, on a thread of its own, while the group assigns it
/// partition p of the input topics. The member itself reads no records (it pauses what it is
/// assigned); each task reads its partitions with a consumer of its own, restores its checkpoint,
/// and meets the other tasks, wherever they run, through Kafka. When the group takes partitions
/// away, their tasks checkpoint and stop while the member goes on with the rebalance (a group
/// waits for its slowest member to rejoin), and their next owner stands by until they have given
/// their leases up.
public final class SplitLiveRun: LiveRun, @unchecked Sendable {
    public let options: LiveOptions
    public var monitor: LiveMonitor?
    private let logger: Logger
    private let member: KafkaConsumer
    private let stopRequested = LockedFlag()
    /// The partitions the group assigns this instance now, whose tasks run here.
    private var assignedTasks: Set<Int> = [] {
        didSet { monitor?.holdsPartitions(!assignedTasks.isEmpty) }
    }
    /// The last task started here per partition: running, stopping or ended (run loop only).
    private var tasks: [Int: RunningTask] = [:]
    /// What the tasks report from their threads: their offsets to commit, counts and failures.
    private let reports = TaskReports()
    private var taskCount = 0
    /// Set by `serveDashboard`: each task answers through a hub of its own.
    private var dashboard: SplitDashboard?
    private lazy var client = RedisClient(url: options.checkpoints!.redis)

    /// `options.checkpoints` must be set: each task's state moves with its partitions.
    public init(options: LiveOptions, logger: Logger = Logger(label: "tagstream.run")) throws {
        guard options.checkpoints != nil else { throw LiveJobError("a run split by partition needs checkpoints (--redis): each task's state moves with its partitions") }
        if let obstacle = options.splitObstacle { throw LiveJobError(obstacle) }
        self.options = options
        self.logger = logger
        var properties = options.properties
        if let instanceID = options.instanceID { properties["group.instance.id"] = instanceID }
        member = try KafkaConsumer(configuration: .consumer(brokers: options.brokers, group: options.group, properties: properties), logger: logger)
    }

    public func stop() { stopRequested.set() }

    public var tally: OutputTally { reports.tally }

    public func serveDashboard() -> any DashboardSource {
        let dashboard = SplitDashboard(of: options, checkpoints: options.checkpoints!)
        self.dashboard = dashboard
        return dashboard
    }

    public var finalState: StateDistribution {
        tasks.values.map(\.job.finalState).reduce(into: StateDistribution()) { $0.add($1) }
    }

    public func run(status: (OutcomeCounts, OutputTally) -> Void) throws -> OutcomeCounts {
        let topics = [options.pipeline.topics.clickstream, options.pipeline.topics.orders]
        let counts = try topics.map { try member.partitions(of: $0).count }
        taskCount = counts[0]
        try LiveJob.checkCoPartitioned(topics, counts: counts, tasks: taskCount)
        dashboard?.start(taskCount: taskCount)
        defer {
            stopTasks(Array(tasks.keys))
            member.close()
            dashboard?.close()
        }
        try member.subscribe(topics)
        monitor?.removeGauges()
        logger.info("joining group \(options.group): \(taskCount) tasks, one per partition of \(topics.joined(separator: " and "))")
        var lastStatus = Date.distantPast
        while !stopRequested.isSet {
            try member.poll(maxEvents: 1_000, timeoutMilliseconds: 100) { event in try handle(event) }
            try startAssignedTasks()
            commitReportedOffsets()
            if let failure = reports.failure { throw failure }
            if Date().timeIntervalSince(lastStatus) >= 1 {
                lastStatus = Date()
                status(reports.counts, reports.tally)
                if options.stopAtEnd, try everyTaskFinished() { break }
            }
        }
        stopTasks(Array(tasks.keys))
        commitReportedOffsets(wait: true)
        if let failure = reports.failure { throw failure }
        status(reports.counts, reports.tally)
        return reports.counts
    }

    private func handle(_ event: consuming ConsumerEvent) throws {
        switch consume event {
        case .assigned(let tps):
            // The tasks read the partitions; the member only holds them for the group.
            try member.pause(tps)
            for (p, held) in Dictionary(grouping: tps, by: { Int($0.partition) }) {
                if held.count < 2 {
                    logger.warning("the group assigned \(held[0]) without the same partition of the other input topic: use an assignor that keeps co-partitioned topics together (range, librdkafka's default)")
                }
                assignedTasks.insert(p)
            }
        case .revoked(let tps):
            for p in Set(tps.map { Int($0.partition) }) {
                assignedTasks.remove(p)
                tasks[p]?.stop()
            }
        case .error(let error):
            logger.warning("\(error.description)")
        case .record, .partitionEnd:
            break
        }
    }

    /// Starts the task of each assigned partition that has none here: none was started, or the
    /// last one was stopped and has ended (a task that finished its bounded run stays ended).
    private func startAssignedTasks() throws {
        for p in assignedTasks.sorted() {
            if let last = tasks[p], !(last.isDone && last.wasStopped) { continue }
            try startTask(p)
        }
    }

    private func startTask(_ p: Int) throws {
        var taskOptions = options
        taskOptions.task = ShardRole(index: p, count: taskCount)
        let job = try LiveJob(options: taskOptions, logger: logger)
        if let monitor { job.monitor = LiveMonitor(health: monitor.health, factory: monitor.factory, task: p) }
        job.commitOffsets = { [reports] offsets in reports.commit(offsets) }
        let hub = dashboard.map { dashboard in
            let hub = ViewHub()
            job.views = hub
            dashboard.attach(hub, task: p)
            return hub
        }
        let task = RunningTask(job: job)
        tasks[p] = task
        logger.info("running task \(p)")
        task.start { [reports, dashboard] in
            defer {
                job.monitor?.taskEnded()
                if let hub { dashboard?.detach(hub, task: p) }
            }
            let counts = try job.run { counts, tally in reports.update(p, counts: counts, tally: tally) }
            reports.update(p, counts: counts, tally: job.tally)
        } failed: { [reports] error in
            reports.fail(LiveJobError("task \(p): \(error)"))
        }
    }

    /// Asks tasks to stop (each checkpoints and gives its lease up), and waits for them.
    private func stopTasks(_ partitions: [Int]) {
        let stopping = partitions.compactMap { tasks[$0] }
        for task in stopping { task.stop() }
        for task in stopping { task.waitUntilDone() }
    }

    private func commitReportedOffsets(wait: Bool = false) {
        let offsets = reports.takeOffsets()
        guard !offsets.isEmpty else { return }
        do {
            try member.commit(offsets, async: !wait)
        } catch {
            logger.warning("\(error.message) (the next commit carries these offsets)")
        }
    }

    /// Whether every task of the run, wherever it ran, has finished its bounded run.
    private func everyTaskFinished() throws -> Bool {
        try (0..<taskCount).allSatisfy { p in
            let store = RedisCheckpointStore(client: client, pipeline: options.pipeline.name, group: options.group, task: p)
            return try store.latestID().map { try store.manifest($0).summary.finished == true } ?? false
        }
    }
}

/// A task's job on a thread of its own.
private final class RunningTask: @unchecked Sendable {
    let job: LiveJob
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var finished = false
    /// Whether it was asked to stop (else it ended on its own: a finished bounded run).
    private(set) var wasStopped = false

    init(job: LiveJob) { self.job = job }

    var isDone: Bool { lock.withLock { finished } }

    func stop() {
        wasStopped = true
        job.stop()
    }

    func start(_ body: @escaping @Sendable () throws -> Void, failed: @escaping @Sendable (any Error) -> Void) {
        let thread = Thread { [self] in
            do { try body() } catch { failed(error) }
            lock.withLock { finished = true }
            done.signal()
        }
        thread.name = "tagstream-task"
        thread.start()
    }

    func waitUntilDone() {
        guard !isDone else { return }
        done.wait()
        done.signal()  // for a later wait
    }
}

/// What the task threads report to the run loop.
private final class TaskReports: @unchecked Sendable {
    private let lock = NSLock()
    private var offsets: [TopicPartition: Int64] = [:]
    private var countsByTask: [Int: OutcomeCounts] = [:]
    private var tallyByTask: [Int: OutputTally] = [:]
    private var firstFailure: (any Error)?

    func commit(_ more: [TopicPartition: Int64]) { lock.withLock { offsets.merge(more) { $1 } } }

    func takeOffsets() -> [TopicPartition: Int64] {
        lock.withLock {
            defer { offsets.removeAll() }
            return offsets
        }
    }

    func update(_ task: Int, counts: OutcomeCounts, tally: OutputTally) {
        lock.withLock {
            countsByTask[task] = counts
            tallyByTask[task] = tally
        }
    }

    func fail(_ error: any Error) { lock.withLock { if firstFailure == nil { firstFailure = error } } }

    var failure: (any Error)? { lock.withLock { firstFailure } }

    var counts: OutcomeCounts { lock.withLock { countsByTask.values.reduce(into: OutcomeCounts()) { $0.add($1) } } }

    var tally: OutputTally { lock.withLock { tallyByTask.values.reduce(into: OutputTally()) { $0.add($1) } } }
}
