import Foundation
import Testing
import TagStreamCore
@testable import TagStreamRuntime
import TestServers

/// Snapshots and replay checkpoints: a resumed run is byte-identical to an uninterrupted one.
@Suite struct CheckpointTests {
    static func messyEvents(_ name: String) throws -> [String] {
        try Fixtures.generateEvents([
            "--users", "300", "--days", "90", "--seed", "3", "--partitions", "2", "--disorder-ms", "120000",
            "--dup-rate", "0.01", "--bad-rate", "0.005", "--late-rate", "0.005", "--unknown-type-rate", "0.005",
            "--escape-rate", "0.01", "--noise-rate", "0.01",
        ], into: try Fixtures.temporaryDirectory(name))
    }

    /// Encoded records of a processor fed `lines` (partition, bytes), restoring from a snapshot at
    /// each of `cuts`, and its dashboard at the end (which reads state no record shows).
    static func run(_ lines: [(Int, [UInt8])], partitions: Int, pipeline: Pipeline, cuts: Set<Int>) throws -> (records: [[UInt8]], dashboard: DashboardPart) {
        var processor = Processor(pipeline: pipeline, partitions: partitions)
        let encoder = RecordEncoder()
        var records: [[UInt8]] = []
        func drain(_ p: inout Processor) {
            for record in p.engine.output { records.append(encoder.encode(record, symbols: p.engine.symbols)) }
            p.engine.output.removeAll()
        }
        for (i, (p, bytes)) in lines.enumerated() {
            if cuts.contains(i) {
                let snapshot = processor.snapshot()
                processor = Processor(pipeline: pipeline, partitions: partitions)
                try processor.restore(snapshot)
            }
            _ = try bytes.withUnsafeBufferPointer { try processor.process($0, partition: p) }
            drain(&processor)
        }
        try processor.finish()
        drain(&processor)
        return (records, processor.engine.dashboardPart())
    }

    @Test func restoringSnapshotsAtRandomPointsChangesNoRecord() throws {
        let files = try Self.messyEvents("snap")
        var lines: [(Int, [UInt8])] = []
        for (p, file) in files.enumerated() {
            for line in try Data(contentsOf: URL(fileURLWithPath: file)).split(separator: 0x0A) { lines.append((p, Array(line))) }
        }
        // Interleave partitions by arrival within each file, as a live consumer might see them.
        lines.sort { $0.1.count % 7 < $1.1.count % 7 }
        let pipeline = try PipelineLoader.load(path: Fixtures.referencePipeline)
        var generator = SystemRandomNumberGenerator()
        let cuts = Set((0..<12).map { _ in Int.random(in: 0..<lines.count, using: &generator) })
        let straight = try Self.run(lines, partitions: files.count, pipeline: pipeline, cuts: [])
        let resumed = try Self.run(lines, partitions: files.count, pipeline: pipeline, cuts: cuts)
        #expect(straight.records.count > 1000)
        #expect(straight.records == resumed.records, "cuts at \(cuts.sorted())")
        #expect(straight.dashboard == resumed.dashboard, "cuts at \(cuts.sorted())")
        #expect(straight.dashboard.communities.values.contains { $0.history.count > 20 })
    }

    @Test func snapshotColumnsKeepEveryValueAndRefuseWhatDoesNotFit() throws {
        let values: [Int64] = [.min, .max, 0, -1, 1, 62, 63, 64, -64, -65, .max - 1, .min + 1, 1_767_225_600_000]
        var w = SnapshotWriter()
        w.write(column: values)
        w.write(column: [true, false, true])
        w.write(words: [UInt64.max, 0, 0x0102_0304_0506_0708])
        w.write(column: [Int64(Int32.max) + 1])
        var r = SnapshotReader(w.bytes)
        #expect(try r.readColumn(Int64.self) == values)
        #expect(try r.readFlags() == [true, false, true])
        #expect(try r.readWords() == [UInt64.max, 0, 0x0102_0304_0506_0708])
        #expect(throws: SnapshotError.self) { try r.readColumn(Int32.self) }
        var truncated = SnapshotReader(Array(w.bytes.prefix(8)))
        #expect(throws: SnapshotError.self) { try truncated.readColumn(Int64.self) }
    }

    @Test(arguments: ["directory", "redis"])
    func replayKilledAtRandomMomentsResumesToByteIdenticalFiles(store: String) throws {
        let files = try Self.messyEvents("kill")
        let reference = try Fixtures.temporaryDirectory("kill-ref")
        try Fixtures.replay(files, into: reference)

        let out = try Fixtures.temporaryDirectory("kill-out")
        let redis = store == "redis" ? try RedisServer() : nil
        let location = try redis.map { ["--redis", $0.url] } ?? ["--checkpoint-dir", Fixtures.temporaryDirectory("kill-ck").path]
        let arguments = ["replay", "--pipeline", Fixtures.referencePipeline, "--out", out.path,
                         "--checkpoint-every", "5000"] + location + files
        var kills = 0
        for delay in [0.4, 0.7, 1.0, 1.3, 1.6] {
            let process = try Fixtures.launch(arguments)
            Thread.sleep(forTimeInterval: delay * Double.random(in: 0.5...1.5))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            }
            process.waitUntilExit()
        }
        let final = try Fixtures.run(Fixtures.tagstreamBinary, arguments)
        #expect(final.status == 0, "\(final.stderr)")
        #expect(kills > 0, "the replay finished before any kill; use more data")
        for name in ReplayOutput.allFiles {
            #expect(try Data(contentsOf: reference.appendingPathComponent(name)) == Data(contentsOf: out.appendingPathComponent(name)),
                    "\(name) differs after \(kills) kills")
        }
        if let redis { #expect(try redis.cli(["--scan", "--pattern", "tagstream:checkpoint:*"]).isEmpty, "a finished replay leaves no checkpoint") }
    }

    @Test func damagedOrForeignCheckpointsAreRefusedClearly() throws {
        let pipeline = try PipelineLoader.load(path: Fixtures.referencePipeline)
        let body: [UInt8] = Array("state".utf8)
        let sealed = SnapshotEnvelope.seal(pipelineFingerprint: pipeline.fingerprint) { $0.write(raw: body) }
        var opened = try SnapshotEnvelope.open(sealed, pipelineFingerprint: pipeline.fingerprint)
        #expect(try opened.readRaw() == body && opened.isAtEnd)

        var flipped = sealed
        flipped[flipped.count - 12] ^= 0x01
        #expect { try SnapshotEnvelope.open(flipped, pipelineFingerprint: pipeline.fingerprint) } throws: {
            ($0 as? SnapshotError)?.message.contains("checksum") == true
        }
        #expect { try SnapshotEnvelope.open(Array(sealed.dropLast(3)), pipelineFingerprint: pipeline.fingerprint) } throws: { $0 is SnapshotError }
        var future = sealed
        future[SnapshotEnvelope.magic.count] = 0x7E  // zig-zag varint of version 63
        #expect { try SnapshotEnvelope.open(future, pipelineFingerprint: pipeline.fingerprint) } throws: {
            ($0 as? SnapshotError)?.message.contains("format version 63 is not supported") == true
        }
        var other = pipeline
        other.time.lateness = TimeSpan(milliseconds: 1)
        #expect { try SnapshotEnvelope.open(sealed, pipelineFingerprint: other.fingerprint) } throws: {
            ($0 as? SnapshotError)?.message.contains("different pipeline") == true
        }
    }
}
