import Foundation
import Redis

/// Which instance of a consumer group may write its checkpoints: the holder of a Redis key
/// (`<namespace>:owner`) that expires unless renewed. Until state is sharded across instances,
/// one instance of a group processes and the others stand by, taking over when the holder's
/// lease expires. The lease also fences a holder that stalled past it: a checkpoint is committed
/// only while its writer still holds the lease (`RedisCheckpointStore.save(_:summary:lease:)`).
/// Not thread-safe: one owner.
final class CheckpointLease {
    let key: String
    /// This instance's value of the key: host, process and a random part.
    let token: String
    let ttl: TimeInterval
    private let client: RedisClient

    init(client: RedisClient, namespace: String, ttl: TimeInterval) {
        self.client = client
        self.ttl = ttl
        key = "\(namespace):owner"
        token = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))"
    }

    /// Takes the lease when it is free, or extends it when this instance holds it; false when
    /// another instance holds it.
    func acquire() throws -> Bool {
        try client.command(["EVAL", Self.acquireScript, 1, key, token, Int64(ttl * 1000)]).integer() == 1
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
            "another instance (\(holder ?? "none now")) holds the checkpoints of \(namespace): this one stalled past its lease and stops without committing a checkpoint"
        }
    }

    private static let acquireScript = """
        local holder = redis.call('GET', KEYS[1])
        if holder == false or holder == ARGV[1] then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          return 1
        end
        return 0
        """

    private static let releaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """
}
