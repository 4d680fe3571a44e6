import Foundation
import Kafka
import Redis
import TagStreamCore
import TestServers
import Testing
@testable import TagStreamRuntime

/// Live mode with checkpoints in a real redis-server: crashes, outages and lost checkpoints.
@Suite(.serialized) struct LiveCheckpointTests {
    /// A run of `tagstream run --stop-at-end` on a cluster, checkpointing to Redis, with librdkafka's
    /// default settings; its log goes to a file.
    struct Engine {
        let cluster: EmbeddedKafkaCluster
        let redisURL: String
        let group: String
        let log: URL
        var extra: [String] = []
        var stopAtEnd = true
        var checkpointInterval = "1s"
        /// The working directory of launched runs (default: the test's).
        var directory: URL?

        var arguments: [String] {
            ["run", "--brokers", cluster.bootstrapServers, "--pipeline", Fixtures.referencePipeline, "--group", group,
             "--redis", redisURL, "--checkpoint-interval", checkpointInterval] + (stopAtEnd ? ["--stop-at-end"] : []) + extra
        }

        func launch() throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Fixtures.tagstreamBinary)
            process.arguments = arguments
            process.currentDirectoryURL = directory
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

    /// Every record of a topic, in offset order per partition, read from the beginning to the current end.
    static func readRecords(_ topic: String, brokers: String) throws -> [KafkaRecord] {
        let consumer = try KafkaConsumer(configuration: .consumer(brokers: brokers, group: "check-\(UUID().uuidString)"))
        defer { consumer.close() }
        let partitions = try consumer.partitions(of: topic)
        var remaining = Set(try partitions.filter { try consumer.endOffset(of: $0) > 0 })
        try consumer.assign(Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(-2)) }))
        var records: [KafkaRecord] = []
        let deadline = Date().addingTimeInterval(120)
        while !remaining.isEmpty, Date() < deadline {
            for event in consumer.poll(maxEvents: 10_000) {
                switch event {
                case .record(let r): records.append(r)
                case let .partitionEnd(topic, partition, _): remaining.remove(TopicPartition(topic: topic, partition: partition))
                case .error, .assigned, .revoked: break
                }
            }
        }
        return records
    }

    /// Every record of a topic by key, in offset order.
    static func readAll(_ topic: String, brokers: String) throws -> [String: [String]] {
        Dictionary(grouping: try readRecords(topic, brokers: brokers)) { String(decoding: $0.key ?? [], as: UTF8.self) }
            .mapValues { $0.map { String(decoding: $0.value, as: UTF8.self) } }
    }

    /// The output topics equal replay's files byte for byte, per key in order: no gap, no duplicate.
    static func expectOutputsEqualReplay(_ replayed: URL, cluster: EmbeddedKafkaCluster, topics: Topics) throws {
        for (file, topic) in [("tags.jsonl", topics.tags), ("alerts.jsonl", topics.alerts), ("coupons.jsonl", topics.coupons),
                              ("community_stats.jsonl", topics.communityStats), ("coupon_outcomes.jsonl", topics.couponOutcomes)] {
            let expected = try LiveRunTests.replayRecords(replayed.appendingPathComponent(file))
            let actual = try readAll(topic, brokers: cluster.bootstrapServers)
            let count = actual.values.map(\.count).reduce(0, +)
            let ids = try actual.values.joined().map { try LiveCheckpointFaultTests.rawField("id", in: $0[...]) }
            #expect(count == expected.count, "\(topic): \(count) records, replay has \(expected.count)")
            if Set(ids).count != ids.count {
                Issue.record("\(topic): \(ids.count - Set(ids).count) duplicate ids; \(try duplicatesReport(topic, brokers: cluster.bootstrapServers))")
            }
            let differing = Set(actual.keys).union(expected.byKey.keys).filter { actual[$0] != expected.byKey[$0] }.sorted()
            #expect(differing.count == 0, "\(topic): \(differing.count) keys differ from replay's \(file), e.g. \(differing.first ?? "")")
        }
    }

    /// Where and when each copy of a duplicated id was written, per partition: to tell which run
    /// produced a record again, set against the runs' logs.
    static func duplicatesReport(_ topic: String, brokers: String) throws -> String {
        let copies = Dictionary(grouping: try readRecords(topic, brokers: brokers)) {
            (try? LiveCheckpointFaultTests.rawField("id", in: String(decoding: $0.value, as: UTF8.self)[...])) ?? ""
        }
        func span(_ records: [KafkaRecord]) -> String {
            let offsets = records.map(\.offset), times = records.compactMap(\.timestamp)
            let time = { (ms: Int64?) in ms.map { EventTime.format($0) } ?? "-" }
            return "offsets \(offsets.min() ?? -1)...\(offsets.max() ?? -1) written \(time(times.min()))...\(time(times.max()))"
        }
        let duplicated = copies.values.filter { $0.count > 1 }
        return Set(duplicated.map(\.[0].partition)).sorted().map { p in
            let here = duplicated.filter { $0[0].partition == p }
            return "\(topic)[\(p)]: first copies \(span(here.map { $0[0] })), second copies \(span(here.map { $0[1] }))"
        }.joined(separator: "; ")
    }

    /// The input records the latest checkpoint has processed, over every partition.
    static func inputCheckpointed(_ store: RedisCheckpointStore) throws -> Int64 {
        try store.latestID().map { try store.manifest($0).summary.inputs.values.reduce(0, +) } ?? 0
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
        // Every kill is followed at once by a restart, so each new run waits for the group to
        // drop the killed members when their sessions time out (45 s by default).
        var kills = 0
        while kills < 4 {
            let before = try Self.inputCheckpointed(store)
            let process = try engine.launch()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            if kills.isMultiple(of: 2) {
                // A random moment after the run has checkpointed progress.
                let deadline = Date().addingTimeInterval(300)
                while process.isRunning, try Self.inputCheckpointed(store) <= before, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
                Thread.sleep(forTimeInterval: Double.random(in: 0...1.5))
            } else {
                // A random moment of its start: restoring, joining the group, or waiting for partitions.
                Thread.sleep(forTimeInterval: Double.random(in: 0...8))
            }
            guard process.isRunning else { break }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            kills += 1
        }
        let final = try engine.runToEnd()
        #expect(final.status == 0, "\(final.stderr.suffix(800))")
        #expect(kills == 4, "the run finished after \(kills) kills; use more data")
        #expect(engine.logText.contains("restoring checkpoint"))
        try Self.expectOutputsEqualReplay(replayed, cluster: cluster, topics: topics)
        let deadLetters = try Self.readAll(topics.deadLetters, brokers: cluster.bootstrapServers).values.map(\.count).reduce(0, +)
        #expect(deadLetters == summary.deadLetter)
    }

    /// A run killed before it took a checkpoint after its first (taken before any output), then a
    /// restore killed right after its own first checkpoint (before it had created again what the
    /// first run produced), then a run to the end: nothing produced twice, nothing lost.
    @Test func killedBeforeAnyCheckpointAndAgainBeforeCatchingUpStillExactlyOnce() throws {
        let files = try Fixtures.generateEvents(["--users", "3000", "--days", "60", "--seed", "8", "--partitions", "4",
                                                 "--dup-rate", "0.002", "--bad-rate", "0.002", "--noise-rate", "0.01"],
                                                into: try Fixtures.temporaryDirectory("uncaught-in"))
        let replayed = try Fixtures.temporaryDirectory("uncaught-replay")
        let summary = try Fixtures.replay(files, into: replayed)
        let half = Int64(summary.outputs.byKind["tag", default: 0] / 2)
        let redis = try RedisServer()
        let (cluster, topics) = try Self.cluster(with: files, partitions: 4)
        let store = RedisCheckpointStore(client: RedisClient(url: try RedisURL(redis.url)), pipeline: "community-grocery", group: "uncaught")
        var first = try LiveCheckpointFaultTests.engine(cluster, redis, group: "uncaught")
        (first.stopAtEnd, first.checkpointInterval) = (false, "1h")
        let consumer = try KafkaConsumer(configuration: .consumer(brokers: cluster.bootstrapServers, group: "probe"))
        defer { consumer.close() }
        let tagPartitions = try consumer.partitions(of: topics.tags)
        func tagsProduced() throws -> Int64 { try consumer.endOffsets(of: tagPartitions).values.reduce(0, +) }

        let firstRun = try first.launch()
        defer { if firstRun.isRunning { kill(firstRun.processIdentifier, SIGKILL) } }
        var deadline = Date().addingTimeInterval(120)
        while try tagsProduced() < half, firstRun.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let initial = try #require(try store.latestID(), "the first run took no checkpoint before its outputs")
        #expect(try store.manifest(initial).summary.inputs.values.reduce(0, +) == 0)
        kill(firstRun.processIdentifier, SIGKILL)
        firstRun.waitUntilExit()
        #expect(try tagsProduced() >= half)

        // Takes over once the killed run's lease expires, and checkpoints before the group gives
        // it any partition: every output of the first run is still to be suppressed.
        let second = try LiveCheckpointFaultTests.engine(cluster, redis, group: "uncaught")
        let secondRun = try second.launch()
        defer { if secondRun.isRunning { kill(secondRun.processIdentifier, SIGKILL) } }
        deadline = Date().addingTimeInterval(120)
        while try store.latestID() == initial, secondRun.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        kill(secondRun.processIdentifier, SIGKILL)
        secondRun.waitUntilExit()
        #expect(second.logText.contains("output records are already past the checkpoint"), "\(second.logText.suffix(800))")

        let final = try second.runToEnd()
        #expect(final.status == 0, "\(final.stderr.suffix(800))")
        #expect(final.stderr.contains("output records are already past the checkpoint"), "\(final.stderr.suffix(800))")
        try Self.expectOutputsEqualReplay(replayed, cluster: cluster, topics: topics)
        let deadLetters = try Self.readAll(topics.deadLetters, brokers: cluster.bootstrapServers).values.map(\.count).reduce(0, +)
        #expect(deadLetters == summary.deadLetter)
    }

    /// A holder stalled (SIGSTOP) past its lease, with records waiting in its producer, while a
    /// standby took over, produced, checkpointed and was killed: resumed, it finds the lease free
    /// but taken meanwhile, and stops instead of carrying on from its stale state, and the records
    /// that waited are timed out, not delivered. A run to the end then gives replay's records
    /// exactly once.
    @Test func aHolderStalledWhileAnotherTookOverStopsInsteadOfProducingTwice() async throws {
        let (files, replayed) = try LiveCheckpointFaultTests.smallEvents("stall", users: 6000)
        let redis = try RedisServer()
        let (cluster, topics) = try Self.cluster(with: files, partitions: 4)
        let store = RedisCheckpointStore(client: RedisClient(url: try RedisURL(redis.url)), pipeline: "community-grocery", group: "stall")
        let engine = try LiveCheckpointFaultTests.engine(cluster, redis, group: "stall")
        var holder = engine
        let port = try LoopbackPort.free()
        holder.extra = ["--http-port", "\(port)"]
        let stalled = try holder.launch()
        defer { if stalled.isRunning { kill(stalled.processIdentifier, SIGKILL) } }
        var deadline = Date().addingTimeInterval(120)
        while try Self.inputCheckpointed(store) == 0, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        // Started once the first holds the lease, the second stands by.
        let standby = try engine.launch()
        defer { if standby.isRunning { kill(standby.processIdentifier, SIGKILL) } }
        // The holder stalls while records it produced wait in its producer (the brokers answer
        // slowly, so that it has the most requests in flight it may): resumed after the takeover,
        // it must not send them.
        for broker in Int32(1)...3 { try cluster.setRoundTripTime(broker, milliseconds: 2_000) }
        try await Task.sleep(for: .seconds(1.5))
        _ = try await HTTP.waitForResponse(port: port, path: "/metrics", timeout: 10) {
            (PrometheusText.value(in: $0.body, LiveMonitor.Name.producerQueue) ?? 0) > 0
        }
        kill(stalled.processIdentifier, SIGSTOP)
        for broker in Int32(1)...3 { try cluster.setRoundTripTime(broker, milliseconds: 0) }
        let before = try Self.inputCheckpointed(store)
        // The standby takes over once the lease lapses, and gets the partitions once the stalled
        // member's session times out; then it checkpoints progress of its own.
        deadline = Date().addingTimeInterval(180)
        while try Self.inputCheckpointed(store) <= before, standby.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(try Self.inputCheckpointed(store) > before, "the standby made no progress: \(engine.logText.suffix(800))")
        kill(standby.processIdentifier, SIGKILL)
        standby.waitUntilExit()
        // Past the killed standby's lease: the stalled holder finds it free.
        try await Task.sleep(for: .seconds(12))
        kill(stalled.processIdentifier, SIGCONT)
        deadline = Date().addingTimeInterval(120)
        while stalled.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        if stalled.isRunning {
            Issue.record("the stalled holder carried on after another instance had held its lease")
            kill(stalled.processIdentifier, SIGKILL)
        }
        stalled.waitUntilExit()
        #expect(stalled.terminationStatus == 2, "\(engine.logText.suffix(800))")
        #expect(engine.logText.contains("holds or held the checkpoints"), "\(engine.logText.suffix(800))")

        let final = try engine.runToEnd()
        #expect(final.status == 0, "\(final.stderr.suffix(800))")
        try Self.expectOutputsEqualReplay(replayed, cluster: cluster, topics: topics)
    }

    @Test func threeInstancesOfOneGroupKilledAndRestartedAtRandomMomentsCarryOnExactlyOnce() async throws {
        let (files, replayed) = try LiveCheckpointFaultTests.smallEvents("trio", users: 6000)
        let redis = try RedisServer()
        let (cluster, topics) = try Self.cluster(with: files, partitions: 4)
        let client = RedisClient(url: try RedisURL(redis.url))
        let store = RedisCheckpointStore(client: client, pipeline: "community-grocery", group: "trio")
        let ports = try (0..<3).map { _ in try LoopbackPort.free() }
        let engines = try ports.map { try LiveCheckpointFaultTests.engine(cluster, redis, group: "trio", extra: ["--http-port", "\($0)"]) }
        var processes = try engines.map { try $0.launch() }
        defer { for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        /// The index of the instance that holds the group's checkpoints, from the pid in its lease.
        func holder() throws -> Int? {
            let token = try client.command(["GET", "\(store.namespace):owner"]).text()
            let pid = token.flatMap { $0.split(separator: ":").dropFirst().first }.flatMap { Int32($0) }
            return processes.firstIndex { $0.processIdentifier == pid }
        }

        var kills = 0
        while kills < 2 {
            let before = try Self.inputCheckpointed(store)
            let deadline = Date().addingTimeInterval(300)
            while try Self.inputCheckpointed(store) <= before, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            let active = try #require(try holder(), "no instance holds the lease")
            // The other two stand by and say so.
            for i in processes.indices where i != active {
                let health = try await HTTP.waitForResponse(port: ports[i], path: "/health", timeout: 10) { $0.body.contains("standby") }
                #expect(health.status == 503, "\(health)")
            }
            try await Task.sleep(for: .seconds(Double.random(in: 0...1.5)))
            guard processes[active].isRunning else { break }
            print("killing instance \(active) (pid \(processes[active].processIdentifier)) at \(Date())")
            kill(processes[active].processIdentifier, SIGKILL)
            processes[active].waitUntilExit()
            processes[active] = try engines[active].launch()
            kills += 1
        }
        #expect(kills == 2, "the run finished after \(kills) kills; use more data")
        // Each bounded instance finishes in turn: the holder at the end of its input, the standbys
        // after taking over the final checkpoint.
        let deadline = Date().addingTimeInterval(600)
        while processes.contains(where: \.isRunning), Date() < deadline { try await Task.sleep(for: .milliseconds(200)) }
        for (process, engine) in zip(processes, engines) {
            #expect(!process.isRunning && process.terminationStatus == 0, "\(engine.logText.suffix(800))")
        }
        try Self.expectOutputsEqualReplay(replayed, cluster: cluster, topics: topics)
    }

    @Test func aRecordThatCannotBeDeliveredStopsTheRunAndTheRestartProducesIt() throws {
        let (files, replayed) = try LiveCheckpointFaultTests.smallEvents("undeliverable", users: 300)
        let redis = try RedisServer()
        let (cluster, topics) = try Self.cluster(with: files, partitions: 4)
        let engine = try LiveCheckpointFaultTests.engine(cluster, redis, group: "undeliverable")
        // A permanent error, which librdkafka does not retry.
        cluster.injectErrors(.produce, codes: [.messageTooLarge])
        let failed = try engine.runToEnd()
        #expect(failed.status == 2 && failed.stderr.contains("delivery failed"), "\(failed.stderr.suffix(800))")
        let restarted = try engine.runToEnd()
        #expect(restarted.status == 0, "\(restarted.stderr.suffix(800))")
        try Self.expectOutputsEqualReplay(replayed, cluster: cluster, topics: topics)
    }

    @Test func aRunThatReadAllItsInputKilledAndRestartedAtOnceCarriesOn() async throws {
        let (files, replayed) = try LiveCheckpointFaultTests.smallEvents("reread", users: 600)
        let redis = try RedisServer()
        let (cluster, topics) = try Self.cluster(with: files, partitions: 4)
        let produced = try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)).split(separator: 0x0A).count }.reduce(0, +)
        let port = try LoopbackPort.free()
        var unbounded = try LiveCheckpointFaultTests.engine(cluster, redis, group: "reread", extra: ["--http-port", "\(port)"])
        unbounded.stopAtEnd = false
        let store = RedisCheckpointStore(client: RedisClient(url: try RedisURL(redis.url)), pipeline: "community-grocery", group: "reread")

        let first = try unbounded.launch()
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(120)
        while first.isRunning, try store.latestID().map({ try store.manifest($0).summary.inputs.values.reduce(0, +) }) ?? 0 < produced,
              Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        try #require(first.isRunning, "the first run stopped: \(unbounded.logText.suffix(800))")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()

        // The same command at once: it waits for the killed member's session to time out, then consumes.
        let second = try unbounded.launch()
        defer { if second.isRunning { kill(second.processIdentifier, SIGKILL) } }
        let waiting = try await HTTP.waitForResponse(port: port, path: "/health", timeout: 30) { $0.status == 503 }
        #expect(waiting.body.contains("no partitions assigned"), "\(waiting)")
        let consuming = try await HTTP.waitForResponse(port: port, path: "/health", timeout: 150) { $0.status == 200 }
        #expect(consuming.body.hasPrefix("ok: consuming"), "\(consuming)")
        try await Task.sleep(for: .seconds(3))
        #expect(second.isRunning, "the restarted run stopped: \(unbounded.logText.suffix(800))")
        kill(second.processIdentifier, SIGTERM)
        second.waitUntilExit()
        #expect(second.terminationStatus == 0, "\(unbounded.logText.suffix(800))")

        var bounded = unbounded
        bounded.extra = []
        bounded.stopAtEnd = true
        let final = try bounded.runToEnd()
        #expect(final.status == 0, "\(final.stderr.suffix(800))")
        try Self.expectOutputsEqualReplay(replayed, cluster: cluster, topics: topics)
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
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not an object: \(line)")
            let user = try #require(record["user_id"] as? String, "no user_id: \(line)")
            let group = try #require(record["group"] as? String, "no group: \(line)")
            let ts = try #require(record["ts"] as? Int, "no ts: \(line)")
            var profile = expected[user, default: [:]]
            profile[group] = record["tag"] as? String
            profile["community_id"] = record["community_id"] as? String
            profile["updated_at"] = EventTime.format(Int64(ts))
            expected[user] = profile
        }
        let client = RedisClient(url: try RedisURL(redis.url))
        let users = expected.keys.sorted()
        let replies = try client.pipeline(users.map { ["HGETALL", "tagstream:user:\($0)"] })
        var differing: [String] = []
        for (user, reply) in zip(users, replies) {
            let fields = try reply.array().map { try $0.text() ?? "" }
            let profile = Dictionary(uniqueKeysWithValues: stride(from: 0, to: fields.count, by: 2).map { (fields[$0], fields[$0 + 1]) })
            if profile != expected[user] { differing.append("\(user): \(profile) != \(expected[user] ?? [:])") }
        }
        #expect(!users.isEmpty && differing.isEmpty, "\(differing.count) of \(users.count) profiles differ, e.g. \(differing.first ?? "")")

        // Each community's hash holds its latest stats record's figures, as written in the record.
        var latestStats: [String: String] = [:]
        for line in try String(contentsOf: replayed.appendingPathComponent("community_stats.jsonl"), encoding: .utf8).split(separator: "\n") {
            latestStats[try Self.rawField("community_id", in: line).trimmingCharacters(in: ["\""])] = String(line)
        }
        #expect(!latestStats.isEmpty)
        for (community, line) in latestStats {
            let fields = try client.command(["HGETALL", "tagstream:community:\(community)"]).array().compactMap { try $0.text() }
            let profile = Dictionary(uniqueKeysWithValues: stride(from: 0, to: fields.count, by: 2).map { (fields[$0], fields[$0 + 1]) })
            for field in ["customers", "active_30d", "gmv_30d", "orders_7d", "sleeping_ratio", "top_skus_7d"] {
                #expect(try profile[field] == Self.rawField(field, in: line[...]), "\(community) \(field)")
            }
        }
    }

    /// The JSON text of a field's value in a record line (scalars and the flat `top_skus_7d` array).
    static func rawField(_ name: String, in line: Substring) throws -> String {
        let start = try #require(line.range(of: "\"\(name)\":"), "no \(name) in \(line)").upperBound
        let rest = line[start...]
        if rest.first == "[" { return String(rest[...(try #require(rest.firstIndex(of: "]"), "unclosed \(name) in \(line)"))]) }
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

    /// A lease that could lapse before librdkafka times out what a stalled holder had queued.
    @Test func aLeaseShorterThanSixSecondsIsRefused() throws {
        let result = try Fixtures.run(Fixtures.tagstreamBinary, ["run", "--brokers", "127.0.0.1:9", "--redis", "redis://127.0.0.1:9", "--lease", "5s"])
        #expect(result.status == 64 && result.stderr.contains("--lease must be at least 6s"), "\(result.status) \(result.stderr)")
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
