import Foundation
import Redis
import TagStreamCore

/// The manifest of a checkpoint in Redis: written last, so a checkpoint without one is never used.
public struct CheckpointManifest: Codable, Sendable, Equatable {
    public var id: Int64
    /// Wall-clock time of writing (RFC 3339).
    public var createdAt: String
    /// The snapshot format version (`SnapshotEnvelope.formatVersion` of the writer).
    public var formatVersion: Int
    public var size: Int
    /// CRC-32 of each chunk, in order.
    public var chunkChecksums: [UInt32]
    public var summary: CheckpointSummary
}

/// Checkpoints in Redis under `tagstream:checkpoint:<pipeline>:<group>`:
/// `…:<id>:chunk:<n>` (at most `chunkSize` bytes each), `…:<id>:manifest` (JSON), `…:latest` (the id
/// of the latest complete checkpoint) and `…:ids` (a sorted set of complete ids). A save writes
/// the chunks, then the manifest and `latest` in one MULTI/EXEC, then drops all but the newest
/// `retained` checkpoints. Not thread-safe: one owner.
public final class RedisCheckpointStore: CheckpointStore {
    public static let keyPrefix = "tagstream:checkpoint"
    public let namespace: String
    public let client: RedisClient
    public var chunkSize = 8 << 20
    public var retained = 2

    /// The store of one pipeline and consumer group.
    public init(client: RedisClient, pipeline: String, group: String) {
        self.client = client
        namespace = "\(Self.keyPrefix):\(pipeline):\(group)"
    }

    /// The store of one task of a run split by partition: its keys carry the Redis Cluster hash tag
    /// `{<pipeline>:<group>:task-<index>}`, so that they live in one slot.
    public init(client: RedisClient, pipeline: String, group: String, task: Int) {
        self.client = client
        namespace = Self.namespace(pipeline: pipeline, group: group, task: task)
    }

    /// The namespace of a task's keys.
    static func namespace(pipeline: String, group: String, task: Int) -> String {
        "\(keyPrefix):{\(pipeline):\(group):task-\(task)}"
    }

    init(client: RedisClient, namespace: String) {
        self.client = client
        self.namespace = namespace
    }

    /// Every namespace (`pipeline:group`) that holds checkpoints.
    public static func namespaces(client: RedisClient) throws -> [String] {
        try client.scan(match: "\(keyPrefix):*:ids").map { String($0.dropFirst(keyPrefix.count + 1).dropLast(4)) }.sorted()
    }

    /// The store of a namespace from `namespaces(client:)`.
    public static func named(_ name: String, client: RedisClient) -> RedisCheckpointStore {
        RedisCheckpointStore(client: client, namespace: "\(keyPrefix):\(name)")
    }

    private func key(_ suffix: String) -> String { "\(namespace):\(suffix)" }
    private func chunkKey(_ id: Int64, _ n: Int) -> String { key("\(id):chunk:\(n)") }
    private func manifestKey(_ id: Int64) -> String { key("\(id):manifest") }

    /// The complete checkpoints, oldest first.
    public func manifests() throws -> [CheckpointManifest] {
        try ids().map(manifest)
    }

    public func latestID() throws -> Int64? {
        try client.command(["GET", key("latest")]).text().flatMap { Int64($0) }
    }

    public func manifest(_ id: Int64) throws -> CheckpointManifest {
        guard let json = try client.command(["GET", manifestKey(id)]).bytes() else {
            throw SnapshotError("checkpoint \(id) of \(namespace) does not exist (or has no manifest)")
        }
        return try JSONDecoder().decode(CheckpointManifest.self, from: Data(json))
    }

    public func load() throws -> [UInt8]? {
        guard let id = try latestID() else { return nil }
        return try load(id)
    }

    /// The bytes of a checkpoint, each chunk checked against its checksum.
    public func load(_ id: Int64) throws -> [UInt8] {
        let manifest = try manifest(id)
        guard manifest.formatVersion == SnapshotEnvelope.formatVersion else {
            throw SnapshotError("checkpoint \(id) of \(namespace) has snapshot format version \(manifest.formatVersion); this build reads version \(SnapshotEnvelope.formatVersion) only. Use the build that wrote it, or delete it (tagstream checkpoints delete).")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(manifest.size)
        for (n, checksum) in manifest.chunkChecksums.enumerated() {
            guard let chunk = try client.command(["GET", chunkKey(id, n)]).bytes() else {
                throw SnapshotError("checkpoint \(id) of \(namespace) is incomplete: chunk \(n) is missing")
            }
            guard CRC32.checksum(chunk) == checksum else {
                throw SnapshotError("checkpoint \(id) of \(namespace) is damaged: chunk \(n) does not match its checksum")
            }
            bytes += chunk
        }
        guard bytes.count == manifest.size else {
            throw SnapshotError("checkpoint \(id) of \(namespace) is truncated: \(bytes.count) of \(manifest.size) bytes")
        }
        return bytes
    }

    public func save(_ checkpoint: [UInt8], summary: CheckpointSummary) throws {
        try save(checkpoint, summary: summary, lease: nil)
    }

    /// Saves a checkpoint; with a lease, it is committed (its manifest written and made the
    /// latest) only while the lease is held, else `CheckpointLease.Lost` is thrown.
    func save(_ checkpoint: [UInt8], summary: CheckpointSummary, lease: CheckpointLease?) throws {
        let id = try client.command(["INCR", key("next-id")]).integer()
        var checksums: [UInt32] = []
        var commands: [[any RedisArgument]] = []
        for (n, start) in stride(from: 0, to: max(checkpoint.count, 1), by: chunkSize).enumerated() {
            let chunk = checkpoint[start..<min(start + chunkSize, checkpoint.count)]
            checksums.append(CRC32.checksum(chunk))
            commands.append(["SET", chunkKey(id, n), chunk])
            if commands.count == 4 { try setAll(&commands) }
        }
        try setAll(&commands)
        let manifest = CheckpointManifest(id: id, createdAt: EventTime.format(Int64(Date().timeIntervalSince1970 * 1000)),
                                          formatVersion: SnapshotEnvelope.formatVersion, size: checkpoint.count,
                                          chunkChecksums: checksums, summary: summary)
        let manifestJSON = Array(try JSONEncoder.sorted.encode(manifest))
        if let lease {
            let committed = try client.command(["EVAL", Self.commitIfLeaseHeld, 4, lease.key, manifestKey(id), key("latest"), key("ids"),
                                                lease.token, manifestJSON, id]).integer()
            guard committed == 1 else { throw CheckpointLease.Lost(namespace: namespace, holder: try lease.holder()) }
        } else {
            _ = try client.transaction([
                ["SET", manifestKey(id), manifestJSON],
                ["SET", key("latest"), id],
                ["ZADD", key("ids"), id, id],
            ])
        }
        for old in try ids().dropLast(retained) { try delete(old) }
    }

    private static let commitIfLeaseHeld = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('SET', KEYS[2], ARGV[2])
        redis.call('SET', KEYS[3], ARGV[3])
        redis.call('ZADD', KEYS[4], ARGV[3], ARGV[3])
        return 1
        """

    private func setAll(_ commands: inout [[any RedisArgument]]) throws {
        for case .error(let message) in try client.pipeline(commands) { throw RedisError.server(message) }
        commands.removeAll()
    }

    public func clear() throws {
        for id in try ids() { try delete(id) }
        try removeIncomplete()
        _ = try client.command(["DEL", key("latest"), key("ids"), key("next-id"), key("exchange-start")])
    }

    /// Where the tasks of a run split by partition begin to read its refresh exchange, when they
    /// have no checkpoint: the first task to ask sets it to `candidate` (the exchange's end then),
    /// the others read it, so that none reads what an earlier run left there. Task 0's store keeps
    /// it, and `clear` forgets it with that task's checkpoints.
    func sharedExchangeStart(_ candidate: Int64) throws -> Int64 {
        _ = try client.command(["SET", key("exchange-start"), candidate, "NX"])
        guard let start = try client.command(["GET", key("exchange-start")]).text().flatMap({ Int64($0) }) else {
            throw SnapshotError("\(key("exchange-start")) vanished while it was being read")
        }
        return start
    }

    /// Deletes one checkpoint; `latest` then names the newest remaining one.
    public func delete(_ id: Int64) throws {
        let chunks = (try? manifest(id).chunkChecksums.count) ?? 0
        _ = try client.command(["DEL", manifestKey(id)] + (0..<chunks).map { chunkKey(id, $0) })
        _ = try client.command(["ZREM", key("ids"), id])
        if try latestID() == id {
            if let newest = try ids().last { _ = try client.command(["SET", key("latest"), newest]) }
            else { _ = try client.command(["DEL", key("latest")]) }
        }
    }

    /// Fails with Redis's message unless this connection may write the store's keys (ACL).
    public func verifyWritable() throws {
        _ = try client.transaction([["SET", key("probe"), "1"], ["DEL", key("probe")]])
    }

    /// Deletes the chunks of checkpoints that were never completed (a run stopped while writing).
    public func removeIncomplete() throws {
        let complete = Set(try ids())
        let chunkKeys = try client.scan(match: "\(namespace):*:chunk:*")
        let orphans = chunkKeys.filter { key in
            let id = key.dropFirst(namespace.count + 1).prefix { $0 != ":" }
            return Int64(id).map { !complete.contains($0) } ?? false
        }
        for batch in stride(from: 0, to: orphans.count, by: 100) {
            _ = try client.command(["DEL"] + orphans[batch..<min(batch + 100, orphans.count)].map { $0 as any RedisArgument })
        }
    }

    private func ids() throws -> [Int64] {
        try client.command(["ZRANGE", key("ids"), 0, -1]).array().compactMap { try $0.text().flatMap { Int64($0) } }
    }

}

extension RedisClient {
    /// Every key matching a glob pattern (SCAN, so the server is never blocked).
    func scan(match pattern: String) throws -> [String] {
        var cursor = "0", keys: [String] = []
        repeat {
            let reply = try command(["SCAN", cursor, "MATCH", pattern, "COUNT", 1000]).array()
            guard reply.count == 2, let next = try reply[0].text() else { throw RedisError.unexpectedReply("SCAN answered \(reply)") }
            cursor = next
            keys += try reply[1].array().compactMap { try $0.text() }
        } while cursor != "0"
        return keys
    }
}
