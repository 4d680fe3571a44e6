import Foundation
import Redis
import TestServers
import Testing
@testable import TagStreamRuntime

/// The lease of a live run's checkpoints in a real redis-server, and the dashboard address that
/// lives exactly as long as it.
@Suite struct CheckpointLeaseTests {
    @Test func theAddressLivesExactlyAsLongAsTheLease() throws {
        let redis = try RedisServer()
        let client = RedisClient(url: try RedisURL(redis.url))
        let namespace = "tagstream:checkpoint:{p:g:task-0}"
        let holder = CheckpointLease(client: client, namespace: namespace, ttl: 6, advertisedURL: "http://a:1")
        let other = CheckpointLease(client: client, namespace: namespace, ttl: 6, advertisedURL: "http://b:2")
        func address() throws -> String? { try client.command(["GET", "\(namespace):http"]).text() }
        func ttl(_ key: String) throws -> Int64 { try client.command(["PTTL", key]).integer() }

        #expect(try holder.acquire())
        #expect(try address() == "http://a:1")
        #expect(try (1...6_000).contains(ttl("\(namespace):http")) && (1...6_000).contains(ttl(holder.key)))
        // Another instance neither takes the lease nor moves the address.
        #expect(try !other.acquire())
        #expect(try address() == "http://a:1")
        // A renewal extends both.
        _ = try client.command(["PEXPIRE", "\(namespace):http", 100])
        #expect(try holder.acquire())
        #expect(try ttl("\(namespace):http") > 1_000)
        // Only the holder's release removes them.
        try other.release()
        #expect(try address() == "http://a:1")
        try holder.release()
        #expect(try address() == nil && holder.holder() == nil)
        #expect(try other.acquire())
        #expect(try address() == "http://b:2")
        try other.release()

        // An instance that serves no dashboard keeps no address.
        let silent = CheckpointLease(client: client, namespace: namespace, ttl: 6)
        #expect(try silent.acquire())
        #expect(try address() == nil)
    }
}
