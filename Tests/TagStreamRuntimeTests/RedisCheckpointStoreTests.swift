import Foundation
import Redis
import TagStreamCore
import TestServers
import Testing
@testable import TagStreamRuntime

/// Checkpoints in a real redis-server: chunks, manifest last, retention, damage refused.
@Suite struct RedisCheckpointStoreTests {
    static func summary(users: Int) throws -> CheckpointSummary {
        var summary = CheckpointSummary(processor: Processor(pipeline: try PipelineLoader.load(path: Fixtures.referencePipeline), partitions: 1))
        summary.users = users
        summary.inputs = ["events.orders[0]": 42]
        return summary
    }

    static func store(_ server: RedisServer) throws -> RedisCheckpointStore {
        let store = RedisCheckpointStore(client: RedisClient(url: try RedisURL(server.url)), pipeline: "p", group: "g")
        store.chunkSize = 1_000
        return store
    }

    static func bytes(_ count: Int, seed: UInt8) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) ^ seed } }

    @Test func savesInChunksLoadsTheLatestAndKeepsThePrevious() throws {
        let server = try RedisServer()
        let store = try Self.store(server)
        #expect(try store.load() == nil)
        for (n, size) in [2_500, 3_000, 10, 0].enumerated() {
            try store.save(Self.bytes(size, seed: UInt8(n)), summary: try Self.summary(users: n))
            #expect(try store.load() == Self.bytes(size, seed: UInt8(n)))
        }
        let manifests = try store.manifests()
        #expect(manifests.map(\.id) == [3, 4], "the latest and the one before it are kept")
        #expect(manifests[0].chunkChecksums.count == 1 && manifests[0].summary.users == 2)
        #expect(manifests[1].size == 0 && manifests[1].formatVersion == SnapshotEnvelope.formatVersion)
        #expect(try RedisCheckpointStore.namespaces(client: store.client) == ["p:g"])
        let keys = try server.cli(["--scan", "--pattern", "tagstream:checkpoint:p:g:*"]).split(separator: "\n").sorted()
        #expect(keys == ["tagstream:checkpoint:p:g:3:chunk:0", "tagstream:checkpoint:p:g:3:manifest", "tagstream:checkpoint:p:g:4:chunk:0",
                         "tagstream:checkpoint:p:g:4:manifest", "tagstream:checkpoint:p:g:ids", "tagstream:checkpoint:p:g:latest",
                         "tagstream:checkpoint:p:g:next-id"])
        try store.delete(4)
        #expect(try store.load() == Self.bytes(10, seed: 2), "deleting the latest falls back to the previous")
        try store.clear()
        #expect(try store.load() == nil)
        #expect(try server.cli(["--scan", "--pattern", "tagstream:*"]).isEmpty)
    }

    @Test func aCheckpointWithoutManifestIsNeverUsedAndItsChunksAreRemoved() throws {
        let server = try RedisServer()
        let store = try Self.store(server)
        try store.save(Self.bytes(1_500, seed: 1), summary: try Self.summary(users: 1))
        // A run killed while writing checkpoint 7: chunks, no manifest.
        try server.cli(["SET", "tagstream:checkpoint:p:g:7:chunk:0", "partial"])
        #expect(try store.load() == Self.bytes(1_500, seed: 1))
        try store.removeIncomplete()
        #expect(try server.cli(["EXISTS", "tagstream:checkpoint:p:g:7:chunk:0"]).hasPrefix("0"))
        #expect(try server.cli(["EXISTS", "tagstream:checkpoint:p:g:1:chunk:1"]).hasPrefix("1"))
    }

    @Test func damagedMissingOrForeignChunksAreRefused() throws {
        let server = try RedisServer()
        let store = try Self.store(server)
        try store.save(Self.bytes(2_500, seed: 9), summary: try Self.summary(users: 1))
        try server.cli(["DEL", "tagstream:checkpoint:p:g:1:chunk:2"])
        #expect { try store.load() } throws: { ($0 as? SnapshotError)?.message.contains("chunk 2 is missing") == true }
        try server.cli(["SETRANGE", "tagstream:checkpoint:p:g:1:chunk:1", "10", "X"])
        #expect { try store.load() } throws: { ($0 as? SnapshotError)?.message.contains("chunk 1 does not match its checksum") == true }

        var manifest = try store.manifest(1)
        manifest.formatVersion = 99
        try server.cli(["SET", "tagstream:checkpoint:p:g:1:manifest", String(decoding: try JSONEncoder().encode(manifest), as: UTF8.self)])
        #expect { try store.load() } throws: {
            ($0 as? SnapshotError)?.message.contains("format version 99; this build reads version \(SnapshotEnvelope.formatVersion) only") == true
        }
    }

    @Test func anUnreachableServerIsAConnectionError() throws {
        let store = RedisCheckpointStore(client: RedisClient(url: RedisURL(port: try LoopbackPort.free())), pipeline: "p", group: "g")
        #expect { try store.save([1], summary: try Self.summary(users: 0)) } throws: {
            if case .connection = $0 as? RedisError { true } else { false }
        }
    }
}
