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
    /// Where the holder's dashboard answers (`<namespace>:http`), kept exactly while it holds the
    /// lease, so that other instances redirect requests about its users and communities there.
    let addressKey: String
    private let advertisedURL: String?
    /// This instance's value of the key: host, process and a random part.
    let token: String
    let ttl: TimeInterval
    private let client: RedisClient
    /// The epoch of this instance's latest taking of the lease; 0 before its first.
    private var epoch: Int64 = 0

    /// `advertisedURL`: this instance's dashboard, set beside the lease while it holds it.
    init(client: RedisClient, namespace: String, ttl: TimeInterval, advertisedURL: String? = nil) {
        self.client = client
        self.ttl = ttl
        self.namespace = namespace
        self.advertisedURL = advertisedURL
        key = "\(namespace):owner"
        epochKey = "\(namespace):owner-epoch"
        addressKey = Self.addressKey(namespace: namespace)
        token = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))"
    }

    /// Takes the lease when it is free, or extends it when this instance holds it; false when
    /// another instance holds it. Throws `Lost` when this instance takes again a lease that
    /// lapsed and another instance held it in between: its state is then behind that one's.
    func acquire() throws -> Bool {
        let taken = try client.command(["EVAL", Self.acquireScript, 3, key, epochKey, addressKey, token, Int64(ttl * 1000), advertisedURL ?? ""]).integer()
        guard taken != 0 else { return false }
        if taken > 0 {
            // Below the last epoch: Redis lost its data (and the checkpoints with it), not a takeover.
            let heldMeanwhile = epoch > 0 && taken > epoch + 1
            epoch = taken
            if heldMeanwhile { throw Lost(namespace: namespace, holder: nil) }
        }
        return true
    }

    static func addressKey(namespace: String) -> String { "\(namespace):http" }

    /// The instance that holds the lease now, if any.
    func holder() throws -> String? {
        try client.command(["GET", key]).text()
    }

    /// Gives the lease up, so that a standby takes over at once.
    func release() throws {
        _ = try client.command(["EVAL", Self.releaseScript, 2, key, addressKey, token])
    }

    /// Another instance holds the lease: this one must not commit checkpoints.
    struct Lost: Error, CustomStringConvertible {
        let namespace: String
        let holder: String?
        var description: String {
            "another instance (\(holder ?? "none now")) holds or held the checkpoints of \(namespace) since this one last renewed its lease: this one stops without committing a checkpoint"
        }
    }

    /// -1: extended; 0: another instance holds it; else taken, and the new epoch. The address
    /// (ARGV[3], unless empty) lives exactly as long as the lease.
    private static let acquireScript = """
        local holder = redis.call('GET', KEYS[1])
        if holder ~= ARGV[1] and holder ~= false then return 0 end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        if ARGV[3] ~= '' then redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[2]) end
        if holder == ARGV[1] then return -1 end
        return redis.call('INCR', KEYS[2])
        """

    private static let releaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1], KEYS[2]) end
        return 0
        """
}
