import Foundation
import TagStreamCore

/// The output files of a replay: one JSONL file per record kind, dead letters and late events.
/// Used from one thread; its state skips the run-time exclusivity checks (see `ReplayJob`).
public final class ReplayOutput {
    /// File names by record kind, in `OutputRecord.Kind` order.
    public static let recordFiles = ["tags.jsonl", "alerts.jsonl", "coupons.jsonl", "community_stats.jsonl", "coupon_outcomes.jsonl"]
    public static let deadLetterFile = "dead_letters.jsonl"
    public static let lateFile = "late.jsonl"
    public static var allFiles: [String] { recordFiles + [deadLetterFile, lateFile] }

    private let writers: [FileWriter]
    private let encoder = RecordEncoder()
    private let deadLetter = DeadLetterRecord()
    @exclusivity(unchecked) public private(set) var tally = OutputTally()

    /// Creates the directory and opens the files, truncated to `sizes` (by `allFiles` order) when resuming.
    public init(directory: String, resumingAt sizes: [Int64]? = nil) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        writers = try Self.allFiles.enumerated().map { i, name in
            try FileWriter(path: (directory as NSString).appendingPathComponent(name), truncateTo: sizes?[i] ?? 0)
        }
    }

    /// Bytes written to each file, in `allFiles` order.
    public var sizes: [Int64] { writers.map(\.size) }

    public func restoreTally(_ tally: OutputTally) { self.tally = tally }

    /// Encodes and appends records.
    public func write(_ records: [OutputRecord], symbols: SymbolTable) throws {
        for record in records {
            try encoder.withEncoded(record, symbols: symbols) { try writers[record.kind.rawValue].writeLine($0) }
            tally.count(record)
        }
    }

    /// Appends a record a shard encoded (and counted in a tally of its own) to its kind's file.
    func writeEncoded(_ line: UnsafeBufferPointer<UInt8>, kind: Int) throws {
        try writers[kind].writeLine(line)
    }

    /// Adds the counts of records written by `writeEncoded`.
    func addTally(_ other: OutputTally) { tally.add(other) }

    /// Appends a dead letter: the reason, where the record came from, and its original bytes.
    public func writeDeadLetter(_ raw: UnsafeBufferPointer<UInt8>, reason: DeadLetterReason, file: String, line: Int) throws {
        let record = deadLetter.encode(raw, reason: reason) { w in
            w.key("file"); w.string(file)
            w.key("line"); w.integer(Int64(line))
        }
        try writers[Self.recordFiles.count].writeLine(record)
    }

    /// Appends a late event's original bytes unchanged, so the file can be replayed as it is.
    public func writeLate(_ raw: UnsafeBufferPointer<UInt8>) throws {
        try writers[Self.recordFiles.count + 1].writeLine(raw)
    }

    /// Writes buffered bytes to the files; with `durable`, fsyncs them too.
    public func flush(durable: Bool = false) throws {
        for writer in writers { try durable ? writer.sync() : writer.flush() }
    }
}

/// Output records counted by kind and by tag, alert and campaign, for the summary.
public struct OutputTally: Sendable, Codable, Equatable {
    public var byKind: [String: Int] = [:]
    /// Records that set a tag, by group and tag.
    public var tagsSet: [String: [String: Int]] = [:]
    public var alerts: [String: Int] = [:]
    public var coupons: [String: Int] = [:]
    public var holdouts: [String: Int] = [:]

    public init() {}

    /// Adds another tally's counts.
    public mutating func add(_ other: OutputTally) {
        byKind.merge(other.byKind, uniquingKeysWith: +)
        for (group, tags) in other.tagsSet { tagsSet[group, default: [:]].merge(tags, uniquingKeysWith: +) }
        alerts.merge(other.alerts, uniquingKeysWith: +)
        coupons.merge(other.coupons, uniquingKeysWith: +)
        holdouts.merge(other.holdouts, uniquingKeysWith: +)
    }

    public mutating func count(_ record: OutputRecord) {
        byKind[record.kind.name, default: 0] += 1
        switch record.body {
        case let .tag(group, tag, _):
            if let tag { tagsSet[group, default: [:]][tag, default: 0] += 1 }
        case .alert(let name):
            alerts[name, default: 0] += 1
        case let .coupon(campaign, holdout):
            coupons[campaign, default: 0] += 1
            if holdout { holdouts[campaign, default: 0] += 1 }
        case .communityStats, .couponOutcome:
            break
        }
    }
}
