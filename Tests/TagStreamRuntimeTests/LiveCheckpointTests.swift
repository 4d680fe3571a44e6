import Foundation
import Kafka
import Redis
import TagStreamCore
import TestServers
import Testing
@testable import TagStreamRuntime

/// Live mode with checkpoints in a real redis-server: crashes, outages and lost checkpoints.
@Suite(.serialized) struct LiveCheckpointTests {
    /// A run of `tagstream run --stop-at-end` on a cluster, checkpointing to Redis; its log goes to a file.
    struct Engine {
        let cluster: EmbeddedKafkaCluster
        let redisURL: String
        let group: String
        let log: URL
        var extra: [String] = []

        var arguments: [String] {
            ["run", "--brokers", cluster.bootstrapServers, "--pipeline", Fixtures.referencePipeline, "--group", group,
             "--redis", redisURL, "--checkpoint-interval", "1s", "--stop-at-end",
             "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"] + extra
        }

        func launch() throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Fixtures.tagstreamBinary)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
            let handle = try FileHandle(forWritingTo: log)
            handle.seekToEndOfFile()
            process.standardError = handle
            try process.run()
            return process
        }

        func runToEnd() throws -> (status: Int32, stdout: String, stderr: String) {
            try Fixtures.run(Fixtures.tagstreamBinary, arguments)
        }

        var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
    }

    /// A cluster with every topic, inputs produced from `tagstream generate` files (zstd, so that the
    /// embedded brokers, which keep about 5 MB per partition, keep them all).
    static func cluster(with files: [String], partitions: Int) throws -> (EmbeddedKafkaCluster, Topics) {
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        let topics = Topics()
        for topic in topics.all { try cluster.createTopic(topic, partitions: partitions) }
        try LiveRunTests.produce(files, to: cluster, topics: topics, properties: ["compression.type": "zstd"])
        return (cluster, topics)
    }

    /// Every record of a topic by key, in offset order, read from the beginning to the current end.
    static func readAll(_ topic: String, brokers: String) throws -> [String: [String]] {
        let consumer = try KafkaConsumer(configuration: .consumer(brokers: brokers, group: "check-\(UUID().uuidString)"))
        let partitions = try consumer.partitions(of: topic)
        var remaining = Set(try partitions.filter { try consumer.endOffset(of: $0) > 0 })
        try consumer.assign(Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(-2)) }))
        var byKey: [String: [String]] = [:]
        let deadline = Date().addingTimeInterval(120)
        while !remaining.isEmpty, Date() < deadline {
            for event in consumer.poll(maxEvents: 10_000) {
                switch event {
                case .record(let r): byKey[String(decoding: r.key ?? [], as: UTF8.self), default: []].append(String(decoding: r.value, as: UTF8.self))
                case let .partitionEnd(topic, partition, _): remaining.remove(TopicPartition(topic: topic, partition: partition))
                case .error, .assigned, .revoked: break
                }
            }
        }
        consumer.close()
        return byKey
    }

    /// The output topics equal replay's files byte for byte, per key in order: no gap, no duplicate.
    static func expectOutputsEqualReplay(_ replayed: URL, cluster: EmbeddedKafkaCluster, topics: Topics) throws {
        for (file, topic) in [("tags.jsonl", topics.tags), ("alerts.jsonl", topics.alerts), ("coupons.jsonl", topics.coupons),
                              ("community_stats.jsonl", topics.communityStats)] {
            let expected = try LiveRunTests.replayRecords(replayed.appendingPathComponent(file))
            let actual = try readAll(topic, brokers: cluster.bootstrapServers)
            let count = actual.values.map(\.count).reduce(0, +)
            let ids = actual.values.joined().map { $0.dropFirst($0.range(of: "\"id\":")!.upperBound.utf16Offset(in: $0)).prefix(18) }
            #expect(count == expected.count, "\(topic): \(count) records, replay has \(expected.count)")
            #expect(Set(ids).count == ids.count, "\(topic): \(ids.count - Set(ids).count) duplicate ids")
            let differing = Set(actual.keys).union(expected.byKey.keys).filter { actual[$0] != expected.byKey[$0] }.sorted()
            #expect(differing.isEmpty, "\(topic): \(differing.count) keys differ from replay's \(file), e.g. \(differing.first ?? "")")
        }
    }

    @Test func killedAtRandomMomentsTheOutputStillEqualsReplayExactlyOnce() throws {
        let input = try Fixtures.temporaryDirectory("crash-in")
        let files = try Fixtures.generateEvents([
            "--users", "12500", "--days", "60", "--seed", "21", "--partitions", "16",
            "--dup-rate", "0.002", "--bad-rate", "0.001", "--disorder-ms", "60000", "--escape-rate", "0.01", "--noise-rate", "0.01",
        ], into: input)
        let replayed = try Fixtures.temporaryDirectory("crash-replay")
        let summary = try Fixtures.replay(files, into: replayed)
        #expect(summary.accepted + summary.deadLetter + summary.duplicate + summary.late + summary.ignored >= 1_000_000)

        let redis = try RedisServer()
        let (cluster, topics) = try Self.cluster(with: files, partitions: 16)
        let engine = Engine(cluster: cluster, redisURL: redis.url, group: "crash", log: try Fixtures.temporaryDirectory("crash-log").appendingPathComponent("run.log"))
        let client = RedisClient(url: try RedisURL(redis.url))
        let store = RedisCheckpointStore(client: client, pipeline: "community-grocery", group: "crash")
        var kills = 0
        while kills < 6 {
            let before = try store.latestID() ?? 0
            let process = try engine.launch()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            // Let it take a new checkpoint, then kill it at a random moment.
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning, try (store.latestID() ?? 0) <= before, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            Thread.sleep(forTimeInterval: Double.random(in: 0...1.5))
            guard process.isRunning else { break }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            kills += 1
        }
        let final = try engine.runToEnd()
        #expect(final.status == 0, "\(final.stderr.suffix(800))")
        #expect(kills >= 5, "the run finished after \(kills) kills; use more data")
        #expect(engine.logText.contains("restoring checkpoint"))
        try Self.expectOutputsEqualReplay(replayed, cluster: cluster, topics: topics)
        let deadLetters = try Self.readAll(topics.deadLetters, brokers: cluster.bootstrapServers).values.map(\.count).reduce(0, +)
        #expect(deadLetters == summary.deadLetter)
    }
}

/// Redis faults in live mode, checkpoints for operators, and the profile store.
@Suite(.serialized) struct LiveCheckpointFaultTests {
    static func smallEvents(_ name: String, users: Int = 600) throws -> (files: [String], replayed: URL) {
        let files = try Fixtures.generateEvents(["--users", "\(users)", "--days", "60", "--seed", "5", "--partitions", "4",
                                                 "--dup-rate", "0.002", "--bad-rate", "0.002", "--escape-rate", "0.01", "--noise-rate", "0.01"],
                                                into: try Fixtures.temporaryDirectory("\(name)-in"))
        let replayed = try Fixtures.temporaryDirectory("\(name)-replay")
        try Fixtures.replay(files, into: replayed)
        return (files, replayed)
    }

    static func engine(_ cluster: EmbeddedKafkaCluster, _ redis: RedisServer, group: String, extra: [String] = []) throws -> LiveCheckpointTests.Engine {
        LiveCheckpointTests.Engine(cluster: cluster, redisURL: redis.url, group: group,
                                   log: try Fixtures.temporaryDirectory(group).appendingPathComponent("run.log"), extra: extra)
    }

    /// Every user's profile hash equals what replay's tag records leave: the last tag per group,
    /// the community and time of the user's last tag record.
    static func expectProfilesMatch(_ replayed: URL, redis: RedisServer) throws {
        var expected: [String: [String: String]] = [:]
        for line in try String(contentsOf: replayed.appendingPathComponent("tags.jsonl"), encoding: .utf8).split(separator: "\n") {
            let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let user = record["user_id"] as! String
            var profile = expected[user, default: [:]]
            profile[record["group"] as! String] = record["tag"] as? String
            profile["community_id"] = record["community_id"] as? String
            profile["updated_at"] = EventTime.format(Int64(record["ts"] as! Int))
            expected[user] = profile
        }
        let client = RedisClient(url: try RedisURL(redis.url))
        let users = expected.keys.sorted()
        let replies = try client.pipeline(users.map { ["HGETALL", "tagstream:user:\($0)"] })
        var differing: [String] = []
        for (user, reply) in zip(users, replies) {
            let fields = try reply.array().map { try $0.text() ?? "" }
            let profile = Dictionary(uniqueKeysWithValues: stride(from: 0, to: fields.count, by: 2).map { (fields[$0], fields[$0 + 1]) })
            if profile != expected[user] { differing.append("\(user): \(profile) != \(expected[user]!)") }
        }
        #expect(!users.isEmpty && differing.isEmpty, "\(differing.count) of \(users.count) profiles differ, e.g. \(differing.first ?? "")")

        // Each community's hash holds its latest stats record's figures, as written in the record.
        var latestStats: [String: String] = [:]
        for line in try String(contentsOf: replayed.appendingPathComponent("community_stats.jsonl"), encoding: .utf8).split(separator: "\n") {
            latestStats[Self.rawField("community_id", in: line).trimmingCharacters(in: ["\""])] = String(line)
        }
        #expect(!latestStats.isEmpty)
        for (community, line) in latestStats {
            let fields = try client.command(["HGETALL", "tagstream:community:\(community)"]).array().compactMap { try $0.text() }
            let profile = Dictionary(uniqueKeysWithValues: stride(from: 0, to: fields.count, by: 2).map { (fields[$0], fields[$0 + 1]) })
            for field in ["customers", "active_30d", "gmv_30d", "orders_7d", "sleeping_ratio", "top_skus_7d"] {
                #expect(profile[field] == Self.rawField(field, in: line[...]), "\(community) \(field)")
            }
        }
    }

    /// The JSON text of a field's value in a record line (scalars and the flat `top_skus_7d` array).
    static func rawField(_ name: String, in line: Substring) -> String {
        let start = line.range(of: "\"\(name)\":")!.upperBound
        let rest = line[start...]
        if rest.first == "[" { return String(rest[...rest.firstIndex(of: "]")!]) }
        return String(rest.prefix { $0 != "," && $0 != "}" })
    }

    @Test func aRedisOutageDegradesPausesAndResumesWithNothingLostOrDuplicated() async throws {
        let (files, replayed) = try Self.smallEvents("outage", users: 3000)
        let redis = try RedisServer(arguments: ["--appendonly", "yes"])
        let (cluster, topics) = try LiveCheckpointTests.cluster(with: files, partitions: 4)
        let port = try LoopbackPort.free()
        let engine = try Self.engine(cluster, redis, group: "outage", extra: ["--checkpoint-max-delay", "2s", "--http-port", "\(port)"])
        let store = RedisCheckpointStore(client: RedisClient(url: try RedisURL(redis.url)), pipeline: "community-grocery", group: "outage")
        let process = try engine.launch()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let firstCheckpoint = Date().addingTimeInterval(60)
        while process.isRunning, try store.latestID() == nil, Date() < firstCheckpoint { try await Task.sleep(for: .milliseconds(50)) }
        try #require(process.isRunning, "the run ended before the outage (use more data if it finished); its log ends: \(engine.logText.suffix(800))")
        try redis.shutdown()
        let stopped = Date()
        let paused = try await HTTP.waitForResponse(port: port, path: "/health", timeout: 30) { $0.body.contains("consumption paused") }
        #expect(paused.status == 503 && paused.body.hasPrefix("degraded: ") && paused.body.contains("checkpoint store unavailable"), "\(paused)")
        let metrics = try await HTTP.get(port: port, path: "/metrics").body
        #expect((PrometheusText.value(in: metrics, "tagstream_checkpoints_total", labels: #"{result="failed"}"#) ?? 0) > 0)
        #expect((PrometheusText.value(in: metrics, "tagstream_checkpoints_total", labels: #"{result="saved"}"#) ?? 0) >= 1)
        #expect(process.isRunning, "the run finished before the outage paused it; use more data")
        try await Task.sleep(for: .seconds(max(0, 30 - Date().timeIntervalSince(stopped))))
        try redis.start()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let log = engine.logText
        for line in ["degraded: checkpoint store unavailable", "pausing consumption", "checkpoint store available again", "resuming consumption"] {
            #expect(log.contains(line), "the log says \(line)")
        }
        try LiveCheckpointTests.expectOutputsEqualReplay(replayed, cluster: cluster, topics: topics)
        try Self.expectProfilesMatch(replayed, redis: redis)
    }

    @Test func lostCheckpointsFailUnlessToldToResetAndDamagedOnesAreRefused() throws {
        let (files, _) = try Self.smallEvents("lost", users: 200)
        let redis = try RedisServer()
        let (cluster, _) = try LiveCheckpointTests.cluster(with: files, partitions: 4)
        let engine = try Self.engine(cluster, redis, group: "lost")
        let first = try engine.runToEnd()
        #expect(first.status == 0, "\(first.stderr.suffix(500))")

        // Operators see the checkpoint, its offsets and whether it is intact.
        let list = try Fixtures.run(Fixtures.tagstreamBinary, ["checkpoints", "list", "--redis", redis.url])
        #expect(list.status == 0 && list.stdout.contains("community-grocery:lost"), "\(list.stdout)")
        let inspect = try Fixtures.run(Fixtures.tagstreamBinary, ["checkpoints", "inspect", "--redis", redis.url, "community-grocery:lost"])
        #expect(inspect.status == 0 && inspect.stdout.contains("events.clickstream[3]") && inspect.stdout.contains("checksums match"), "\(inspect.stdout)")

        let id = try #require(inspect.stdout.split(separator: " ").dropFirst().first.map(String.init))
        try redis.cli(["SETRANGE", "tagstream:checkpoint:community-grocery:lost:\(id):chunk:0", "100", "XYZ"])
        let damaged = try Fixtures.run(Fixtures.tagstreamBinary, ["checkpoints", "inspect", "--redis", redis.url, "community-grocery:lost"])
        #expect(damaged.status == 1 && damaged.stdout.contains("UNUSABLE"), "\(damaged.stdout)")
        let refused = try engine.runToEnd()
        #expect(refused.status != 0 && refused.stderr.contains("does not match its checksum"), "\(refused.stderr.suffix(500))")

        try redis.cli(["FLUSHALL"])
        let missing = try engine.runToEnd()
        #expect(missing.status != 0 && missing.stderr.contains("holds no checkpoint"), "\(missing.stderr.suffix(500))")
        var resetting = engine
        resetting.extra = ["--on-missing-checkpoint", "reset"]
        let reset = try resetting.runToEnd()
        #expect(reset.status == 0 && reset.stdout.contains("Input: 0 records"), "\(reset.stdout) \(reset.stderr.suffix(500))")

        let deleted = try Fixtures.run(Fixtures.tagstreamBinary, ["checkpoints", "delete", "--redis", redis.url, "community-grocery:lost", "--all"])
        #expect(deleted.status == 0)
        #expect(try Fixtures.run(Fixtures.tagstreamBinary, ["checkpoints", "list", "--redis", redis.url]).stdout.contains("no checkpoints"))
    }

    @Test func wrongPasswordsAndMissingPermissionsAreClearErrors() throws {
        let redis = try RedisServer(arguments: ["--requirepass", "secret"])
        try redis.cli(["-a", "secret", "--no-auth-warning", "ACL", "SETUSER", "reader", "on", ">pw", "~*", "+get", "+scan", "+ping"])
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        for topic in Topics().all { try cluster.createTopic(topic, partitions: 1) }
        for (url, message) in [("redis://:wrong@127.0.0.1:\(redis.port)", "WRONGPASS"), ("redis://reader:pw@127.0.0.1:\(redis.port)", "NOPERM")] {
            let result = try Fixtures.run(Fixtures.tagstreamBinary, ["run", "--brokers", cluster.bootstrapServers, "--pipeline",
                                                                     Fixtures.referencePipeline, "--redis", url, "--stop-at-end"])
            #expect(result.status != 0 && result.stderr.contains(message), "\(result.stderr.suffix(500))")
            #expect(!result.stderr.contains("wrong@") && !result.stderr.contains(":pw@"), "passwords stay out of messages")
        }
    }
}
