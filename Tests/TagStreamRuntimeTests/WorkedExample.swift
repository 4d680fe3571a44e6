import Foundation
import Testing

/// One worked example of the SPEC: a folder holding `partition-1.jsonl` … `partition-N.jsonl` (the input
/// partitions, in that order), optionally `args` (replay options such as `--until T`, separated by white space)
/// and `expected.jsonl` (every tag, alert, coupon and community_stats record without `id` and `evidence`, then a
/// `summary` line with the input counts by outcome).
struct WorkedExample: Sendable, CustomTestStringConvertible {
    static let countNames = ["accepted", "dead_letter", "duplicate", "late", "ignored"]

    let folder: URL
    var name: String { folder.lastPathComponent }
    var testDescription: String { name }

    /// The examples in `root`: its subfolders, by name.
    static func all(in root: URL) throws -> [WorkedExample] {
        try FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: [.isDirectoryKey])
            .filter { try $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory == true }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
            .map(WorkedExample.init)
    }

    /// Replays the example with the built `tagstream replay`, as a user would, and lists how its records and
    /// counts differ from the expected ones: empty when they are equal.
    func differences(workers: Int = 1) throws -> [String] {
        let out = try Fixtures.temporaryDirectory("example-\(name)")
        let arguments = ["replay", "--pipeline", Fixtures.referencePipeline, "--out", out.path, "--workers", "\(workers)"]
            + (try replayOptions()) + (try partitions())
        let replay = try Fixtures.run(Fixtures.tagstreamBinary, arguments)
        guard replay.status == 0 else {
            throw TestFailure("tagstream \(arguments.joined(separator: " ")) exited with \(replay.status): \(replay.stderr)")
        }
        let expectedFile = folder.appendingPathComponent("expected.jsonl")
        var differences = RecordSet.differences(expected: try RecordSet.load([expectedFile.path]), actual: try RecordSet.load(directory: out))
        let expected = try counts(inSummaryLineOf: expectedFile)
        let summaryFile = out.appendingPathComponent("summary.json")
        let actual = try Self.counts(in: Data(contentsOf: summaryFile), of: summaryFile)
        for count in Self.countNames where expected[count] != actual[count] {
            differences.append("\(count): expected \(expected[count].map(String.init) ?? "none"), got \(actual[count].map(String.init) ?? "none")")
        }
        return differences
    }

    /// The `partition-<n>.jsonl` files, by n.
    private func partitions() throws -> [String] {
        let numbered = try FileManager.default.contentsOfDirectory(atPath: folder.path).compactMap { file -> (Int, String)? in
            guard file.hasPrefix("partition-"), file.hasSuffix(".jsonl"),
                  let n = Int(file.dropFirst("partition-".count).dropLast(".jsonl".count)) else { return nil }
            return (n, folder.appendingPathComponent(file).path)
        }
        guard !numbered.isEmpty else { throw TestFailure("\(folder.path) has no partition-1.jsonl") }
        return numbered.sorted { $0.0 < $1.0 }.map(\.1)
    }

    private func replayOptions() throws -> [String] {
        let file = folder.appendingPathComponent("args")
        guard FileManager.default.fileExists(atPath: file.path) else { return [] }
        return try String(contentsOf: file, encoding: .utf8).split(whereSeparator: \.isWhitespace).map(String.init)
    }

    private func counts(inSummaryLineOf file: URL) throws -> [String: Int] {
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        guard let line = lines.last(where: { $0.contains("\"summary\"") }) else {
            throw TestFailure("\(file.path) has no {\"kind\":\"summary\",…} line with the input counts")
        }
        return try Self.counts(in: Data(line.utf8), of: file)
    }

    /// The counts by outcome in a JSON object: the summary line of `expected.jsonl` or a replay's `summary.json`.
    private static func counts(in json: Data, of file: URL) throws -> [String: Int] {
        guard let object = try JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw TestFailure("\(file.path): the counts are not a JSON object")
        }
        return object.compactMapValues { $0 as? Int }.filter { countNames.contains($0.key) }
    }
}

extension Fixtures {
    /// The repository's own worked examples, one folder each.
    static let repositoryExamples = packageRoot.appendingPathComponent("examples")
}
