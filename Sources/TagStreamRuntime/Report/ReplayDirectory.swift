import Foundation
import TagStreamCore

/// The output directory of `tagstream replay --out DIR`, as the report and `compare` read it.
public struct ReplayDirectory: Sendable {
    public static let tagFile = "tags.jsonl"
    public static let alertFile = "alerts.jsonl"
    public static let couponFile = "coupons.jsonl"
    public static let couponOutcomeFile = "coupon_outcomes.jsonl"
    public static let communityStatsFile = "community_stats.jsonl"
    public static let summaryFile = "summary.json"

    /// The parts of `summary.json` the report reads.
    struct Summary: Decodable {
        let inputFiles: [String]
        let lastEventTime: String?
        let variants: [ReplaySummary.VariantArm]?
    }

    public let path: String
    /// The event files the replay read, as `summary.json` lists them (relative to where it ran).
    public let inputFiles: [String]
    /// The last event the replay applied; later events in the input files were not applied.
    public let lastAppliedEvent: Int64?
    /// The arms of an A/B replay; nil for a replay of one pipeline.
    public let arms: ArmSplit?

    /// Opens a replay's directory: it must hold `summary.json` and `tags.jsonl` at least.
    public init(path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RecordFileError(file: path, line: 0, field: nil, message: "no such directory")
        }
        let summaryPath = (path as NSString).appendingPathComponent(Self.summaryFile)
        guard let data = FileManager.default.contents(atPath: summaryPath) else {
            throw RecordFileError(file: summaryPath, line: 0, field: nil, message: "missing: is this the --out directory of a replay?")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let summary: Summary
        do {
            summary = try decoder.decode(Summary.self, from: data)
        } catch let error as DecodingError {
            throw RecordFileError(file: summaryPath, line: 0, field: nil, message: "not a replay summary (\(error))")
        }
        inputFiles = summary.inputFiles
        lastAppliedEvent = summary.lastEventTime.flatMap { EventTime.parseRFC3339(Array($0.utf8)) }
        arms = try ArmSplit(summary.variants, summaryFile: summaryPath)
        for required in [Self.tagFile] where !contains(required) {
            throw RecordFileError(file: self.path(of: required), line: 0, field: nil, message: "missing")
        }
    }

    /// The path of one of the directory's files.
    public func path(of file: String) -> String { (path as NSString).appendingPathComponent(file) }

    public func contains(_ file: String) -> Bool { FileManager.default.fileExists(atPath: path(of: file)) }

    /// Where each input file is now: as listed when it exists from the current directory, else
    /// relative to the replay's directory; nil for a file found in neither place.
    public func locatedInputFiles() -> [(listed: String, found: String?)] {
        inputFiles.map { listed in
            let candidates = listed.hasPrefix("/") ? [listed] : [listed, path(of: listed)]
            return (listed, candidates.first { FileManager.default.isReadableFile(atPath: $0) })
        }
    }
}

/// Progress of a long report or comparison, as one line on a terminal's stderr.
public final class ReportProgress {
    private let line: ProgressLine

    public init(_ line: ProgressLine = ProgressLine()) { self.line = line }

    func lines(_ count: Int, of what: String) { line.update("reading \(what): \(count) lines") }

    func step(_ text: String) { line.update(text) }

    /// Clears the line before other output.
    public func finish() { line.finish() }
}
