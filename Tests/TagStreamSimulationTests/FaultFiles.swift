import Foundation
@testable import TagStreamCore
import TagStreamRuntime
@testable import TagStreamSimulation

/// Generated files with faults, and the engine's replay of them, for the fault tests.
enum FaultFiles {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A fresh directory under the system's temporary directory.
    static func directory(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("tagstream-faults-\(name)-\(UUID().uuidString)")
    }

    /// Every line of `url` as bytes (some bad lines are deliberately not UTF-8).
    static func lines(of url: URL) throws -> [Data] {
        Array(try Data(contentsOf: url).split(separator: 0x0A, omittingEmptySubsequences: false).dropLast())
    }

    /// The reference pipeline's replay of `files`, as `tagstream replay` runs it.
    static func replay(_ files: [URL]) throws -> ReplaySummary {
        let pipeline = try PipelineLoader.load(path: packageRoot.appendingPathComponent("pipelines/community-grocery.yaml").path)
        let out = directory("replay")
        defer { try? FileManager.default.removeItem(at: out) }
        let job = try ReplayJob(options: ReplayOptions(pipeline: pipeline, inputs: files.map(\.path), outputDirectory: out.path))
        return try job.run(progress: ProgressLine(enabled: false))
    }

    /// Every dead-letter reason code the decoder builds, by its list of fields: required
    /// strings and order fields may be missing, strings empty, and every field but `ts` (whose
    /// wrong kinds are `invalid_ts`) of the wrong type.
    static var decoderReasonCodes: Set<String> {
        let fields: [String] = EventDecoder.Field.allCases.map(\.name)
        let wrongType: [String] = fields.filter { $0 != "ts" }.map { "wrong_type_" + $0 }
        let missing: [String] = ["event_id", "type", "user_id", "ts", "amount", "order_id"].map { "missing_" + $0 }
        let empty: [String] = ["event_id", "type", "user_id", "order_id"].map { "empty_" + $0 }
        let other: [String] = ["invalid_json", "not_an_object", "invalid_ts", "negative_amount", "amount_out_of_range"]
        return Set(wrongType + missing + empty + other)
    }
}
