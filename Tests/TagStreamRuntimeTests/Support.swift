import Foundation
import TagStreamCore
import TagStreamRuntime

/// Paths and helpers shared by the runtime tests.
enum Fixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let referencePipeline = packageRoot.appendingPathComponent("pipelines/community-grocery.yaml").path

    /// The reference pipeline under another name (live tests use it for their consumer group).
    static func pipeline(named name: String) throws -> Pipeline {
        let text = try String(contentsOfFile: referencePipeline, encoding: .utf8)
        return try PipelineLoader.parse(yaml: text.replacingOccurrences(of: "pipeline: community-grocery", with: "pipeline: \(name)"), file: name)
    }
    static let oracle = packageRoot.appendingPathComponent("Tests/Oracle/spec_oracle.py").path

    /// A fresh empty directory in this test run's scratch directory.
    static func temporaryDirectory(_ name: String) throws -> URL {
        let url = scratch.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// This test process's directory under the system's temporary directory, removed when the
    /// process exits (a full run writes about 500 MB there) unless `TAGSTREAM_KEEP_TEST_FILES` is set.
    private static let scratch: URL = {
        if ProcessInfo.processInfo.environment["TAGSTREAM_KEEP_TEST_FILES"] == nil {
            atexit { try? FileManager.default.removeItem(at: Fixtures.scratch) }
        }
        return FileManager.default.temporaryDirectory.appendingPathComponent("tagstream-tests-\(getpid())")
    }()

    /// Runs a command to completion; returns its standard output, throwing on a non-zero exit.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// Writes a `tagstream generate` data set (deterministic for its arguments) and returns its files.
    static func generateEvents(_ arguments: [String], into directory: URL) throws -> [String] {
        let result = try run(tagstreamBinary, ["generate"] + arguments + ["--out", directory.path])
        guard result.status == 0 else { throw TestFailure("tagstream generate \(arguments) failed: \(result.stderr)") }
        return try jsonLinesFiles(in: directory)
    }

    /// The `.jsonl` files of `directory`, by name.
    static func jsonLinesFiles(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".jsonl") }.sorted()
            .map { directory.appendingPathComponent($0).path }
    }

    /// Replays `inputs` with the reference pipeline into `out`, with users split among `workers` threads.
    @discardableResult
    static func replay(_ inputs: [String], into out: URL, until: Int64? = nil, workers: Int = 1) throws -> ReplaySummary {
        let pipeline = try PipelineLoader.load(path: referencePipeline)
        let options = ReplayOptions(pipeline: pipeline, inputs: inputs, outputDirectory: out.path, until: until)
        if workers > 1 { return try ShardedReplayJob(options: options, workers: workers).run(progress: ProgressLine(enabled: false)) }
        return try ReplayJob(options: options).run(progress: ProgressLine(enabled: false))
    }

    /// Starts the built `tagstream` in the background; its output goes to `output` (default: nowhere).
    static func launch(_ arguments: [String], output: Pipe? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tagstreamBinary)
        process.arguments = arguments
        process.standardOutput = output ?? FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// The built `tagstream` executable beside the test bundle.
    static var tagstreamBinary: String {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("tagstream").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return packageRoot.appendingPathComponent(".build/debug/tagstream").path
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Output records compared as the worked examples are: a multiset, ignoring `id`, `evidence` and key order.
enum RecordSet {
    /// The records of SPEC §2, which the worked examples and the independent oracle give (not the
    /// outcomes of §6, which `CouponOutcomeTests` recomputes from the events).
    static let recordFiles = ["tags.jsonl", "alerts.jsonl", "coupons.jsonl", "community_stats.jsonl"]

    /// Canonical text of each record line of the files, `summary` lines left out.
    static func load(_ paths: [String]) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for path in paths {
            for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") where !line.isEmpty {
                guard var object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
                guard object["kind"] as? String != "summary" else { continue }
                object["id"] = nil
                object["evidence"] = nil
                counts[canonical(object), default: 0] += 1
            }
        }
        return counts
    }

    static func load(directory: URL) throws -> [String: Int] {
        try load(recordFiles.map { directory.appendingPathComponent($0).path })
    }

    static func canonical(_ value: Any) -> String {
        switch value {
        case let object as [String: Any]:
            return "{" + object.sorted { $0.key < $1.key }.map { "\($0.key):\(canonical($0.value))" }.joined(separator: ",") + "}"
        case let array as [Any]:
            return "[" + array.map(canonical).joined(separator: ",") + "]"
        case let number as NSNumber:  // booleans too: both sides are parsed alike
            return exactDecimal(number)
        case let string as String:
            return "\"\(string)\""
        case is NSNull:
            return "null"
        default:
            return "\(value)"
        }
    }

    /// The number's decimal value, trailing zeros aside: 14.855 and a binary-float sum's 14.854999999999999
    /// differ. Foundation keeps such long literals as NSDecimalNumber, whose `doubleValue` would round them.
    static func exactDecimal(_ number: NSNumber) -> String {
        if let decimal = number as? NSDecimalNumber { return decimal.decimalValue.description }
        return Decimal(string: "\(number.doubleValue)")?.description ?? "\(number)"
    }

    /// Lines describing what is missing and unexpected; empty when both sets are equal.
    static func differences(expected: [String: Int], actual: [String: Int], limit: Int = 10) -> [String] {
        var lines: [String] = []
        for (record, count) in expected where actual[record, default: 0] < count {
            lines.append("missing: \(record)")
        }
        for (record, count) in actual where expected[record, default: 0] < count {
            lines.append("unexpected: \(record)")
        }
        return Array(lines.sorted().prefix(limit))
    }
}
