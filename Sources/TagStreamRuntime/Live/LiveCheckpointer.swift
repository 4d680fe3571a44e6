import Foundation
import Logging
import Redis
import TagStreamCore

/// What to do when Redis holds no checkpoint but the group has committed offsets (Redis lost its data).
public enum MissingCheckpointPolicy: String, Sendable, CaseIterable {
    /// Stop with a clear message.
    case fail
    /// Start with empty state from the group's committed offsets.
    case reset
}

/// Checkpoints of a live run in Redis.
public struct LiveCheckpointOptions: Sendable {
    public var redis: RedisURL
    /// Default: 10 s.
    public var interval: TimeInterval = 10
    public var onMissing = MissingCheckpointPolicy.fail
    /// The profile store's key prefix; nil: no profile store. Default: `tagstream`.
    public var profilePrefix: String? = "tagstream"
    /// While checkpoints fail, the run goes on for this long after the last good one (its outputs
    /// stay exactly-once: a restart suppresses them), then pauses consumption until one succeeds.
    public var maxDelay: TimeInterval = 30
    /// How long the lease of the group's checkpoints outlives its holder's last renewal: a
    /// standby instance takes over that long after the holder stopped, and a record waits for
    /// delivery at most half of it. At least 6 s. Default: 10 s.
    public var leaseTTL: TimeInterval = 10
    /// Where this instance serves the dashboard, kept beside each lease it holds, so that the other
    /// instances of a run split by partition redirect requests about its tasks' users here.
    public var advertisedURL: String?

    public init(redis: RedisURL) { self.redis = redis }
}

/// Takes a live run's checkpoints: when they are due, whether the store is reachable, and the
/// profile store written after each one. Not thread-safe: the run loop owns it.
final class LiveCheckpointer {
    let store: RedisCheckpointStore
    let profiles: ProfileStore?
    let lease: CheckpointLease
    /// When this instance last asked Redis for the lease (taken when the request was sent, so
    /// that the lease in Redis runs at least `ttl` from then), on a clock that a stalled process
    /// does not stop.
    private var leaseAsked: ContinuousClock.Instant?
    private let options: LiveCheckpointOptions
    private let pipeline: Pipeline
    private let logger: Logger
    private var lastSaved = Date()
    private var lastAttempt = Date()
    /// The size of the last checkpoint, so the next one's buffer is allocated at once.
    private(set) var lastSize = 0
    /// Set while checkpoints fail.
    private(set) var degradedReason: String?

    /// `task`: the index of the task whose checkpoints these are, in a run split by partition.
    init(options: LiveCheckpointOptions, pipeline: Pipeline, group: String, task: Int?, logger: Logger) {
        self.options = options
        self.pipeline = pipeline
        self.logger = logger
        let client = RedisClient(url: options.redis)
        store = task.map { RedisCheckpointStore(client: client, pipeline: pipeline.name, group: group, task: $0) }
            ?? RedisCheckpointStore(client: client, pipeline: pipeline.name, group: group)
        profiles = options.profilePrefix.map(ProfileStore.init)
        lease = CheckpointLease(client: store.client, namespace: store.namespace, ttl: options.leaseTTL, advertisedURL: options.advertisedURL)
    }

    /// Takes the lease, or extends it; false while another instance holds it or Redis is
    /// unreachable. Other Redis errors (a wrong password, missing permissions) are thrown.
    func acquireLease() throws -> Bool {
        leaseAsked = .now
        do {
            return try lease.acquire()
        } catch let error as RedisError {
            guard case .connection = error else { throw error }
            return false
        }
    }

    /// Extends the lease every third of its time to live; throws `CheckpointLease.Lost` when
    /// another instance took it over. Called before every record is produced, so that a holder
    /// stalled past its lease learns it before it writes anything more. While Redis is
    /// unreachable the run goes on degraded (asking again a third of the lease later), and a
    /// checkpoint is committed only once the lease is held again.
    func renewLeaseIfDue() throws {
        if let leaseAsked, ContinuousClock.now - leaseAsked < .seconds(lease.ttl / 3) { return }
        guard !(try acquireLease()) else { return }
        if let holder = try? lease.holder() { throw CheckpointLease.Lost(namespace: store.namespace, holder: holder) }
    }

    /// How long a produced record may wait for delivery (librdkafka's `message.timeout.ms`): half
    /// the lease. A record is produced less than a third of the lease after its producer last
    /// asked for the lease, so it is delivered or dropped (librdkafka times records out before it
    /// sends them, also when its process resumes from a stall) before the lease can lapse and
    /// another instance take over and read the outputs to suppress what it produces again: with a
    /// lease of 6 s or more, the sixth left covers librdkafka's timeout scan, once a second.
    var deliveryTimeout: TimeInterval { lease.ttl / 2 }

    /// Gives the lease up, so that a standby takes over at once.
    func releaseLease() {
        try? lease.release()
    }

    /// Due every interval; every second while the store is unavailable.
    var isDue: Bool { Date().timeIntervalSince(lastAttempt) >= (degradedReason == nil ? options.interval : 1) }

    /// Whether consumption must pause: checkpoints have failed for longer than `maxDelay`.
    var holdsConsumption: Bool { degradedReason != nil && Date().timeIntervalSince(lastSaved) > options.maxDelay }

    /// The latest complete checkpoint and a reader of its processor snapshot; nil when there is
    /// none and the run may begin afresh.
    func latest(hasCommittedOffsets: () throws -> Bool) throws -> (LiveCheckpoint, SnapshotReader)? {
        try store.verifyWritable()
        try store.removeIncomplete()
        guard let manifest = try store.latestID().map(store.manifest) else {
            guard try hasCommittedOffsets() else { return nil }
            let situation = "Redis (\(options.redis)) holds no checkpoint under \(store.namespace), but the group has committed offsets: the checkpoints were lost"
            switch options.onMissing {
            case .fail:
                throw SnapshotError("\(situation). Restore Redis, or start with --on-missing-checkpoint=reset to continue from the committed offsets with empty state.")
            case .reset:
                logger.warning("\(situation); continuing from the committed offsets with empty state (--on-missing-checkpoint=reset)")
                return nil
            }
        }
        let checkpoint = try LiveCheckpoint.decode(try store.load(manifest.id), pipeline: pipeline)
        logger.info("restoring checkpoint \(manifest.id) of \(manifest.createdAt): \(manifest.summary.users) users, event time \(manifest.summary.eventTime ?? "-")")
        return checkpoint
    }

    /// Saves a checkpoint, then the profile changes; false when the store is unavailable (the run
    /// is then degraded and tries again every second).
    func save(_ checkpoint: LiveCheckpoint, processor: Processor) throws -> Bool {
        lastAttempt = Date()
        do {
            let bytes = try checkpoint.encode(processor, pipeline: pipeline, sizeHint: lastSize)
            lastSize = bytes.count
            // The lease may have lapsed while Redis was out of reach: take it again first (or learn
            // that another instance has held it since), since the commit below needs it.
            leaseAsked = .now
            guard try lease.acquire() else { throw CheckpointLease.Lost(namespace: store.namespace, holder: try lease.holder()) }
            try store.save(bytes, summary: checkpoint.summary(processor), lease: lease)
            try profiles?.flush(to: store.client)
        } catch let error as RedisError where !error.isAccessDenied {
            if degradedReason == nil { logger.warning("degraded: checkpoint store unavailable (\(error))") }
            degradedReason = "checkpoint store unavailable"
            return false
        }
        if degradedReason != nil { logger.notice("checkpoint store available again") }
        degradedReason = nil
        lastSaved = Date()
        return true
    }

    /// Publishes the task's dashboard part as of the checkpoint just saved, for the instances
    /// that answer for its communities (`SplitDashboard`); a failure costs freshness only.
    func publish(dashboard part: DashboardPart) {
        do {
            _ = try store.client.command(["SET", Self.dashboardKey(namespace: store.namespace), part.encoded(pipelineFingerprint: pipeline.fingerprint)])
        } catch {
            logger.warning("the dashboard part of \(store.namespace) was not published: \(error)")
        }
    }

    /// Where a task's dashboard part is published.
    static func dashboardKey(namespace: String) -> String { "\(namespace):dashboard" }
}
