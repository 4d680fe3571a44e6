import Foundation
import Testing
@testable import TagStreamRuntime

/// Outputs are a pure function of the accepted input (SPEC §3): arrival order within the
/// lateness bound, formatting, faults and partitioning do not change a byte.
@Suite struct DeterminismTests {
    static let base = ["--users", "400", "--days", "100", "--seed", "11"]

    static func recordBytes(_ directory: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in ReplayOutput.recordFiles { files[name] = try Data(contentsOf: directory.appendingPathComponent(name)) }
        return files
    }

    static func replayGenerated(_ extra: [String], name: String) throws -> (records: [String: Data], summary: ReplaySummary) {
        let input = try Fixtures.temporaryDirectory("\(name)-in")
        let files = try Fixtures.generateEvents(base + extra, into: input)
        let out = try Fixtures.temporaryDirectory("\(name)-out")
        let summary = try Fixtures.replay(files, into: out)
        return (try recordBytes(out), summary)
    }

    @Test func disorderFormattingAndFaultsGiveByteIdenticalRecords() throws {
        let clean = try Self.replayGenerated([], name: "clean")
        let messy = try Self.replayGenerated([
            "--ts-format", "mixed", "--disorder-ms", "300000", "--dup-rate", "0.02", "--bad-rate", "0.01",
            "--unknown-type-rate", "0.01", "--escape-rate", "0.05", "--noise-rate", "0.05",
        ], name: "messy")
        #expect((clean.records["tags.jsonl"]?.count ?? 0) > 10_000)
        #expect(clean.records == messy.records)
        #expect(clean.summary.accepted == messy.summary.accepted)
        #expect(messy.summary.duplicate > 0 && messy.summary.deadLetter > 0 && messy.summary.ignored > 0)
        #expect(messy.summary.late == 0)
    }

    @Test func partitionedFilesGiveTheSameRecordsAsOneFile() throws {
        let clean = try Self.replayGenerated([], name: "single")
        let split = try Self.replayGenerated(["--partitions", "3", "--ts-format", "rfc3339"], name: "split")
        #expect(clean.records == split.records)
    }

    @Test func gzipInputGivesTheSameRecordsAsPlain() throws {
        let dir = try Fixtures.temporaryDirectory("gzip-in")
        let generated = try Fixtures.run(Fixtures.tagstreamBinary, ["generate"] + Self.base + ["--merged", dir.appendingPathComponent("events.jsonl").path])
        #expect(generated.status == 0, "\(generated.stderr)")
        let compressed = try Fixtures.run("/usr/bin/env", ["gzip", "--keep", dir.appendingPathComponent("events.jsonl").path])
        #expect(compressed.status == 0, "\(compressed.stderr)")
        let plain = try Fixtures.temporaryDirectory("gzip-plain"), gzip = try Fixtures.temporaryDirectory("gzip-gz")
        try Fixtures.replay([dir.appendingPathComponent("events.jsonl").path], into: plain)
        try Fixtures.replay([dir.appendingPathComponent("events.jsonl.gz").path], into: gzip)
        #expect(try Self.recordBytes(plain) == Self.recordBytes(gzip))
        #expect(try Data(contentsOf: dir.appendingPathComponent("events.jsonl.gz")).prefix(2) == Data([0x1F, 0x8B]))
    }

    @Test func replayingTwiceGivesIdenticalFiles() throws {
        let input = try Fixtures.temporaryDirectory("twice-in")
        let files = try Fixtures.generateEvents(Self.base + ["--late-rate", "0.01", "--dup-rate", "0.01"], into: input)
        let first = try Fixtures.temporaryDirectory("twice-a"), second = try Fixtures.temporaryDirectory("twice-b")
        try Fixtures.replay(files, into: first)
        try Fixtures.replay(files, into: second)
        for name in ReplayOutput.allFiles {
            let a = try Data(contentsOf: first.appendingPathComponent(name))
            let b = try Data(contentsOf: second.appendingPathComponent(name))
            #expect(a == b, "\(name) differs")
        }
    }
}
