import Foundation
import Testing
@testable import TagStreamRuntime

/// The engine against an independent Python implementation of the SPEC, on realistic data
/// with bad, duplicate, late, unknown and out-of-order records.
@Suite struct OracleCrossCheckTests {
    /// `tagstream generate` arguments of differently shaped data sets, each with every kind of messy record.
    static let dataSets: [[String]] = [
        // two partitions, mixed timestamps, disorder within the lateness bound
        ["--users", "500", "--days", "150", "--seed", "7", "--partitions", "2", "--ts-format", "mixed",
         "--disorder-ms", "120000", "--dup-rate", "0.01", "--bad-rate", "0.005", "--late-rate", "0.002",
         "--unknown-type-rate", "0.002", "--escape-rate", "0.05", "--noise-rate", "0.05"],
        // three large communities over four partitions, RFC 3339 timestamps, many bad records
        ["--users", "600", "--communities", "3", "--days", "100", "--seed", "2", "--partitions", "4",
         "--ts-format", "rfc3339", "--disorder-ms", "5000", "--dup-rate", "0.01", "--bad-rate", "0.02",
         "--late-rate", "0.01", "--unknown-type-rate", "0.02", "--escape-rate", "0.01", "--noise-rate", "0.01"],
        // one community over a year from late December, one partition, disorder up to just under the lateness
        ["--users", "150", "--communities", "1", "--days", "365", "--start", "2025-12-20", "--seed", "5",
         "--partitions", "1", "--disorder-ms", "299999", "--dup-rate", "0.05", "--bad-rate", "0.005",
         "--late-rate", "0.01", "--unknown-type-rate", "0.005", "--escape-rate", "0.3", "--noise-rate", "0.3"],
    ]

    @Test(arguments: dataSets)
    func replayAgreesWithTheIndependentOracleOnMessyData(_ generatorArguments: [String]) throws {
        let files = try Fixtures.generateEvents(generatorArguments, into: try Fixtures.temporaryDirectory("oracle-in"))
        try Self.expectReplayAgreesWithOracle(on: files)
    }

    /// Replays `files` and runs the oracle on them; both must give the same records and counts,
    /// plenty of records, and some of every kind of messy input.
    static func expectReplayAgreesWithOracle(on files: [String]) throws {
        let ours = try Fixtures.temporaryDirectory("oracle-ours")
        let summary = try Fixtures.replay(files, into: ours)
        let theirs = try Fixtures.temporaryDirectory("oracle-theirs")
        let oracle = try Fixtures.run("/usr/bin/env", ["python3", Fixtures.oracle, "--out", theirs.path] + files)
        #expect(oracle.status == 0, "oracle failed: \(oracle.stderr)")

        let expected = try RecordSet.load(directory: theirs)
        #expect(expected.values.reduce(0, +) > 1000, "the data set should produce plenty of records")
        #expect(RecordSet.differences(expected: expected, actual: try RecordSet.load(directory: ours)) == [])
        let counts = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: theirs.appendingPathComponent("summary.json"))) as? [String: Any])
        #expect(summary.accepted == counts["accepted"] as? Int)
        #expect(summary.deadLetter == counts["dead_letter"] as? Int)
        #expect(summary.duplicate == counts["duplicate"] as? Int)
        #expect(summary.late == counts["late"] as? Int)
        #expect(summary.ignored == counts["ignored"] as? Int)
        #expect(summary.deadLetter > 0 && summary.duplicate > 0 && summary.late > 0 && summary.ignored > 0)
    }
}
