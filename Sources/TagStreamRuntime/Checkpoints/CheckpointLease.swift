import Foundation
import Redis

/// Which instance of a consumer group may write its checkpoints: the holder of a Redis key
/// (`<namespace>:owner`) that expires unless renewed. Until state is sharded across instances,
/// one instance of a group processes and the others stand by, taking over when the holder's
/// lease expires. The lease also fences a holder that stalled past it: a checkpoint is committed
/// only while its writer still holds the lease (`RedisCheckpointStore.save(_:summary:lease:)`).
/// Each taking of a free lease counts up an epoch (`<namespace>:owner-epoch`), so that a holder
/// whose lease lapsed (Redis out of reach, or the process stalled) and who takes it again knows
/// whether another instance held it meanwhile. Not thread-safe: one owner.
final class CheckpointLease {
    let key: String
    private let namespace: String
    private let epochKey: String
    /// This instance's value of the key: host, process and a random part.
    let token: String
    let ttl: TimeInterval
    private let client: RedisClient
    /// The epoch of this instance's latest taking of the lease; 0 before its first.
    private var epoch: Int64 = 0

    init(client: RedisClient, namespace: String, ttl: TimeInterval) {
        self.client = client
        self.ttl = ttl
        self.namespace = namespace
        key = "\(namespace):owner"
        epochKey = "\(namespace):owner-epoch"
        token = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))"
    }

    /// Takes the lease when it is free, or extends it when this instance holds it; false when
    /// another instance holds it. Throws `Lost` when this instance takes again a lease that
    /// lapsed and another instance held it in between: its state is then behind that one's.
    func acquire() throws -> Bool {
        let taken = try client.command(["EVAL", Self.acquireScript, 2, key, epochKey, token, Int64(ttl * 1000)]).integer()
        guard taken != 0 else { return false }
        if taken > 0 {
            // Below the last epoch: Redis lost its data (and the checkpoints with it), not a takeover.
            let heldMeanwhile = epoch > 0 && taken > epoch + 1
            epoch = taken
            if heldMeanwhile { throw Lost(namespace: namespace, holder: nil) }
        }
        return true
    }

    /// The instance that holds the lease now, if any.
    func holder() throws -> String? {
        try client.command(["GET", key]).text()
    }

    /// Gives the lease up, so that a standby takes over at once.
    func release() throws {
        _ = try client.command(["EVAL", Self.releaseScript, 1, key, token])
    }

    /// Another instance holds the lease: this one must not commit checkpoints.
    struct Lost: Error, CustomStringConvertible {
        let namespace: String
        let holder: String?
        var description: String {
            "another instance (\(holder ?? "none now")) holds or held the checkpoints of \(namespace) since this one last renewed its lease: this one stops without committing a checkpoint"
        }
    }

    /// -1: extended; 0: another instance holds it; else taken, and the new epoch.
    private static let acquireScript = """
        local holder = redis.call('GET', KEYS[1])
        if holder == ARGV[1] then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          return -1
        end
        if holder == false then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          return redis.call('INCR', KEYS[2])
        end
        return 0
        """

    private static let releaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """
}
