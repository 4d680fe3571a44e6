import Foundation
import Testing
import TagStreamCore
@testable import TagStreamRuntime

/// `replay --workers N` splits users among threads; its files are byte-identical for every N
/// (SPEC §6), on messy input too.
@Suite struct ShardedReplayTests {
    /// Every output file, and the summary without its timings.
    static func results(_ directory: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in ReplayOutput.allFiles { files[name] = try Data(contentsOf: directory.appendingPathComponent(name)) }
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("summary.json")))
        guard var fields = summary as? [String: Any] else { throw TestFailure("summary.json is not an object") }
        fields["wall_seconds"] = nil
        fields["events_per_second"] = nil
        files["summary.json"] = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
        return files
    }

    static func expectSameFiles(_ inputs: [String], workers: [Int], until: Int64? = nil, name: String) throws -> [String: Data] {
        let one = try Fixtures.temporaryDirectory("\(name)-1")
        try Fixtures.replay(inputs, into: one, until: until)
        let expected = try results(one)
        for n in workers {
            let out = try Fixtures.temporaryDirectory("\(name)-\(n)")
            try Fixtures.replay(inputs, into: out, until: until, workers: n)
            let actual = try results(out)
            for file in expected.keys.sorted() {
                #expect(actual[file] == expected[file], "\(file) differs with \(n) workers")
            }
        }
        return expected
    }

    @Test func oneToFourWorkersGiveByteIdenticalFilesOnMessyInput() throws {
        let input = try Fixtures.temporaryDirectory("sharded-messy-in")
        var files = try Fixtures.generateEvents([
            "--users", "600", "--days", "100", "--seed", "21", "--partitions", "3", "--ts-format", "mixed",
            "--disorder-ms", "600000", "--dup-rate", "0.02", "--bad-rate", "0.01", "--late-rate", "0.005",
            "--unknown-type-rate", "0.01", "--escape-rate", "0.05", "--noise-rate", "0.05",
        ], into: input)
        // An idle partition (an empty file) and one that ends early.
        let empty = input.appendingPathComponent("idle.jsonl"), short = input.appendingPathComponent("short.jsonl")
        try Data().write(to: empty)
        let lines = try Data(contentsOf: URL(fileURLWithPath: files[0])).split(separator: 0x0A, omittingEmptySubsequences: false)
        try Data(lines.prefix(500).joined(separator: [0x0A])).write(to: short)
        files += [empty.path, short.path]
        let expected = try Self.expectSameFiles(files, workers: [2, 3, 4], name: "sharded-messy")
        for file in ReplayOutput.allFiles {
            #expect((expected[file]?.count ?? 0) > 1_000, "\(file) is nearly empty: the test would prove little")
        }
    }

    @Test func untilAndOneMergedFileGiveByteIdenticalFiles() throws {
        let input = try Fixtures.temporaryDirectory("sharded-merged-in")
        let merged = input.appendingPathComponent("events.jsonl").path
        let generated = try Fixtures.run(Fixtures.tagstreamBinary, [
            "generate", "--users", "500", "--days", "90", "--seed", "5", "--merged", merged, "--disorder-ms", "120000", "--dup-rate", "0.01",
        ])
        #expect(generated.status == 0, "\(generated.stderr)")
        let until: Int64 = 1_773_144_000_000  // 2026-03-10T12:00:00Z
        let expected = try Self.expectSameFiles([merged], workers: [2, 3], until: until, name: "sharded-until")
        #expect((expected["community_stats.jsonl"]?.count ?? 0) > 1_000)
    }

    /// Lines whose user a quick scan cannot find, or finds wrongly, reach the shard that holds the user.
    @Test func usersTheQuickScanMissesReachTheirShard() throws {
        let input = try Fixtures.temporaryDirectory("sharded-route-in")
        var lines: [String] = []
        for day in 0..<40 {
            for u in 0..<30 {
                let ts = 1_767_225_600_000 + Int64(day) * 86_400_000 + Int64(u) * 60_000
                let user = "u\(u)"
                // A nested object names another user before the event's own `user_id`, or the key is escaped.
                let items = #"[{"sku":"s\#(u % 7)","category":"baby","qty":2,"price":3.5,"user_id":"x\#(day)"}]"#
                let key = u % 3 == 0 ? #"user\u005fid"# : "user_id"
                lines.append(#"{"event_id":"o\#(day)-\#(u)","type":"order_paid","items":\#(items),"\#(key)":"\#(user)","ts":\#(ts),"community_id":"c\#(u % 4)","order_id":"o\#(day)-\#(u)","amount":\#(10 + u)}"#)
            }
        }
        let file = input.appendingPathComponent("events.jsonl")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: file)
        let expected = try Self.expectSameFiles([file.path], workers: [2, 3], name: "sharded-route")
        #expect((expected["tags.jsonl"]?.count ?? 0) > 1_000)
        #expect(expected["dead_letters.jsonl"]?.isEmpty == true)
    }

    /// The quick scan finds the key at every offset, up to the line's last bytes, and gives no
    /// hint for a line without it.
    @Test func quickScanFindsTheUserAtEveryOffset() {
        for padding in 0..<20 {
            for spacing in ["", " "] {
                let line = #"{"\#(String(repeating: "p", count: padding))":1,"user_id"\#(spacing):\#(spacing)"u\#(padding)"}"#
                let shard = Array(line.utf8).withUnsafeBufferPointer { UserRoute.shard(of: $0, count: 7) }
                #expect(shard == Int32(ShardRole.shard(of: "u\(padding)", count: 7)), "\(line)")
            }
        }
        for line in [#"{"user":"u1","user_idx":"u2"}"#, #"{"id":"u1"}"#, #""user_id"#, #"{"user_id":"#] {
            #expect(Array(line.utf8).withUnsafeBufferPointer { UserRoute.shard(of: $0, count: 7) } == nil, "\(line)")
        }
        #expect(Array(" \t\r".utf8).withUnsafeBufferPointer { UserRoute.shard(of: $0, count: 7) } == -1)
        #expect(UserRoute.keyTail == Array(#"user_id""#.utf8).reversed().reduce(0) { $0 << 8 | UInt64($1) })
    }

    @Test func pipelineWithDailyCapsRunsInOneShardOnly() throws {
        let text = try String(contentsOfFile: Fixtures.referencePipeline, encoding: .utf8)
            .replacingOccurrences(of: "cooldown: 24h", with: "cooldown: 24h\n      daily_cap_per_community: 5")
        let pipeline = try PipelineLoader.parse(yaml: text, file: "capped.yaml")
        let out = try Fixtures.temporaryDirectory("sharded-capped")
        let options = ReplayOptions(pipeline: pipeline, inputs: [], outputDirectory: out.path)
        #expect(throws: ShardedReplayError.self) { try ShardedReplayJob(options: options, workers: 2) }
        #expect(ShardRole.obstacle(in: pipeline)?.contains("cart_rescue") == true)
    }
}

/// What `tagstream replay` says about workers it cannot use.
@Suite struct ShardedReplayCommandTests {
    @Test func explicitWorkersWithCheckpointsAreRefusedClearly() throws {
        let out = try Fixtures.temporaryDirectory("sharded-cli")
        let input = Fixtures.packageRoot.appendingPathComponent("examples/first_order/partition-1.jsonl").path
        let refused = try Fixtures.run(Fixtures.tagstreamBinary, [
            "replay", "--workers", "2", "--checkpoint-dir", out.appendingPathComponent("checkpoints").path,
            "--out", out.appendingPathComponent("results").path, input,
        ])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("use --workers 1 with checkpoints"), "\(refused.stderr)")
        // Without --workers, checkpoints choose one worker.
        let resumable = try Fixtures.run(Fixtures.tagstreamBinary, [
            "replay", "--checkpoint-dir", out.appendingPathComponent("checkpoints").path,
            "--out", out.appendingPathComponent("results").path, input,
        ])
        #expect(resumable.status == 0, "\(resumable.stderr)")
    }
}
