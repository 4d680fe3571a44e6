import Dispatch
import Foundation
import Redis
import TagStreamCore

/// The dashboard of one instance of a run split by partition, after Kafka Streams' interactive
/// queries: every instance advertises its address beside the leases of the tasks it holds
/// (`CheckpointLease`), answers for the users and communities of those tasks, and sends requests
/// about the others to their holders.
/// - A user belongs to the task of their input partition: `CRC32(user_id) % tasks`, where
///   librdkafka's default partitioner puts records keyed by `user_id`.
/// - A community belongs to the task that emits its figures (`ShardRole.owns(community:)`).
/// - A community's customers are spread over every task, so its page, and the overview, merge
///   every task's `DashboardPart`: live from the tasks held here, and for the others the part each
///   publishes in Redis at its checkpoints (`--checkpoint-interval` old at most).
public final class SplitDashboard: DashboardSource, @unchecked Sendable {
    private let pipeline: Pipeline
    private let group: String
    private let advertisedURL: String?
    /// Used on `queue` only: handlers must not block each other's event loops on Redis.
    private let redis: RedisClient
    private let queue = DispatchQueue(label: "tagstream.dashboard.redis")
    /// How old a merged dashboard may be when given again (see `ViewHub.reuseDashboardFor`).
    private let reuseDashboardFor: TimeInterval = 1

    private let lock = NSLock()
    private var taskCount: Int?
    private var hubs: [Int: ViewHub] = [:]
    private var closed = false
    private var latest: (part: DashboardPart, builtAt: Date)?

    /// The dashboard of `run`; `checkpoints` are its Redis server and this instance's advertised URL.
    init(of run: LiveOptions, checkpoints: LiveCheckpointOptions) {
        pipeline = run.pipeline
        group = run.group
        advertisedURL = checkpoints.advertisedURL
        redis = RedisClient(url: checkpoints.redis)
    }

    /// The run has learnt how many tasks it has (its input partitions).
    func start(taskCount: Int) { lock.withLock { self.taskCount = taskCount } }

    /// Task `task` runs here and answers through `hub`.
    func attach(_ hub: ViewHub, task: Int) { lock.withLock { hubs[task] = hub } }

    /// Task `task` no longer runs here, unless another hub took its place already.
    func detach(_ hub: ViewHub, task: Int) {
        lock.withLock { if hubs[task] === hub { hubs[task] = nil } }
    }

    /// The run has ended.
    func close() {
        lock.withLock {
            closed = true
            hubs = [:]
            latest = nil
        }
    }

    public var isClosed: Bool { lock.withLock { closed } }

    public func locate(_ resource: DashboardResource) async -> DashboardLocation {
        if resource == .overview { return .here }
        guard let task = task(answering: resource) else { return .unavailable }
        if lock.withLock({ hubs[task] }) != nil { return .here }
        let key = CheckpointLease.addressKey(namespace: namespace(task))
        guard let address = try? await onRedis({ try $0.command(["GET", key]).text() }) else { return .unavailable }
        // The task's address may still be this instance's for a moment after it let the task go:
        // redirecting here would loop.
        return address == advertisedURL ? .unavailable : .elsewhere(address)
    }

    public func user(_ id: String) async -> UserView?? {
        guard let task = task(answering: .user(id)), let hub = lock.withLock({ hubs[task] }) else { return nil }
        return await hub.user(id)
    }

    public func dashboard() async -> DashboardPart? {
        let (count, local, cached) = lock.withLock { (taskCount, hubs, latest) }
        if let cached, Date().timeIntervalSince(cached.builtAt) < reuseDashboardFor { return cached.part }
        guard let count else { return nil }
        var parts = await withTaskGroup(of: (Int, DashboardPart?).self) { group in
            for (task, hub) in local { group.addTask { (task, await hub.dashboard()) } }
            return await group.reduce(into: [Int: DashboardPart]()) { $0[$1.0] = $1.1 }
        }
        // Tasks held elsewhere, and those here that could not answer in time (restoring, or
        // waiting at a refresh for the others), give their last published parts.
        let published = (0..<count).filter { parts[$0] == nil }
        if !published.isEmpty {
            let keys = published.map { LiveCheckpointer.dashboardKey(namespace: namespace($0)) }
            guard let read = try? await onRedis({ try $0.pipeline(keys.map { ["GET", $0] }).map { try $0.bytes() } }) else { return nil }
            for (task, bytes) in zip(published, read) {
                // Every task publishes a part at its first checkpoint; until then the merge would miss its users.
                guard let bytes, let part = try? DashboardPart(encoded: bytes, pipelineFingerprint: pipeline.fingerprint) else { return nil }
                parts[task] = part
            }
        }
        let merged = DashboardPart.merge(parts.values.compactMap { $0 })
        lock.withLock { if !closed { latest = (merged, Date()) } }
        return merged
    }

    /// The task that answers for a user or a community; nil for the overview, and before the run
    /// knows how many tasks it has.
    private func task(answering resource: DashboardResource) -> Int? {
        guard let count = lock.withLock({ taskCount }) else { return nil }
        switch resource {
        case .user(let id): return Int(CRC32.checksum(Array(id.utf8)) % UInt32(count))
        case .community(let id): return ShardRole.shard(of: id, count: count)
        case .overview: return nil
        }
    }

    private func namespace(_ task: Int) -> String {
        RedisCheckpointStore.namespace(pipeline: pipeline.name, group: group, task: task)
    }

    private func onRedis<T: Sendable>(_ body: @escaping @Sendable (RedisClient) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body(self.redis) }) }
        }
    }
}
