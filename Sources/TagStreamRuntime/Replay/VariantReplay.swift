import Foundation
import TagStreamCore

/// An A/B test of two pipelines on the same events (`replay --variant B.yaml --split N`). Users
/// are split by `UserSplit`; each arm is a replay of its own pipeline on its own users, written to
/// `DIR/variants/<pipeline name>/` (a plain replay's directory, which `report` and `compare` read
/// as they are). DIR then holds both arms' records, each with `"variant":"<pipeline name>"`, in
/// time order (the control's first at one instant), the dead letters and late lines once, and a
/// summary of both with the split.
public struct VariantReplay {
    public let control: ReplayOptions
    public let variant: Pipeline
    public let split: UserSplit

    public init(control: ReplayOptions, variant: Pipeline, split: UserSplit) throws {
        guard variant.name != control.pipeline.name else {
            throw VariantError("the variant's pipeline is also named '\(variant.name)': give it a name of its own, since every record carries it as its variant")
        }
        guard control.checkpoints == nil else { throw VariantError("an A/B replay takes no checkpoints; leave out --checkpoint-dir and --redis") }
        self.control = control
        self.variant = variant
        self.split = split
    }

    /// Replays both arms at once, a thread each, then writes DIR's files.
    public func run(progress: ProgressLine = ProgressLine()) throws -> ReplaySummary {
        let started = Date()
        let arms = [(pipeline: control.pipeline, isVariant: false), (pipeline: variant, isVariant: true)]
        let jobs = try arms.map { arm in
            var options = control
            options.pipeline = arm.pipeline
            options.outputDirectory = directory(of: arm.pipeline.name)
            options.arm = SplitArm(split: split, isVariant: arm.isVariant)
            return try ReplayJob(options: options)
        }
        let results = ArmResults(count: jobs.count)
        let group = DispatchGroup()
        for (i, job) in jobs.enumerated() {
            group.enter()
            // One progress line: the control arm's (both read the same files). Each job is used by its thread only.
            nonisolated(unsafe) let line = i == 0 ? progress : ProgressLine(enabled: false), job = job
            Thread {
                results.set(i, Result { try job.run(progress: line) })
                group.leave()
            }.start()
        }
        group.wait()
        let summaries = try results.all.map { try $0.get() }
        try mergeOutputs(names: arms.map(\.pipeline.name))
        let summary = ReplaySummary(arms: zip(summaries, arms).map { ($0, $1.isVariant ? split.percent : 100 - split.percent, $1.pipeline.name) },
                                    wallSeconds: Date().timeIntervalSince(started))
        try summary.json().write(to: URL(fileURLWithPath: control.outputDirectory).appendingPathComponent("summary.json"))
        return summary
    }

    /// Where the arm of pipeline `name` writes its own replay.
    public func directory(of name: String) -> String {
        (control.outputDirectory as NSString).appendingPathComponent("variants/\(name)")
    }

    /// Each record file of the arms, merged by `ts` with the arm's name added; dead letters (the
    /// control's: records of no user) and late lines (each arm's users') as they are.
    private func mergeOutputs(names: [String]) throws {
        let out = URL(fileURLWithPath: control.outputDirectory)
        func path(_ name: String, _ file: String) -> String { (directory(of: name) as NSString).appendingPathComponent(file) }
        for file in ReplayOutput.recordFiles {
            try merge(names.map { (name: $0, reader: try LineReader(path: path($0, file))) }, into: out.appendingPathComponent(file).path)
        }
        let deadLetters = out.appendingPathComponent(ReplayOutput.deadLetterFile).path
        try? FileManager.default.removeItem(atPath: deadLetters)
        try FileManager.default.copyItem(atPath: path(names[0], ReplayOutput.deadLetterFile), toPath: deadLetters)
        let late = try FileWriter(path: out.appendingPathComponent(ReplayOutput.lateFile).path)
        for name in names {
            let reader = try LineReader(path: path(name, ReplayOutput.lateFile))
            while let line = try reader.nextLine() { try late.writeLine(line) }
        }
        try late.flush()
    }

    /// Writes the arms' records in time order, the control's first at one instant, each with its
    /// arm's name: each arm's file is in time order, so one pass holds a line of each.
    private func merge(_ arms: [(name: String, reader: LineReader)], into path: String) throws {
        let writer = try FileWriter(path: path)
        func next(_ reader: LineReader) throws -> (ts: Int64, line: [UInt8])? {
            try reader.nextLine().map { (Self.timestamp(of: $0), Array($0)) }
        }
        var heads = try arms.map { try next($0.reader) }
        while let arm = heads.indices.filter({ heads[$0] != nil }).min(by: { heads[$0]!.ts < heads[$1]!.ts }) {
            try writer.writeLine(Self.adding(variant: arms[arm].name, to: Substring(decoding: heads[arm]!.line, as: UTF8.self)).utf8)
            heads[arm] = try next(arms[arm].reader)
        }
        try writer.flush()
    }

    /// A record's `ts` (every record has one, as an integer, before any evidence).
    static func timestamp<Line: Collection<UInt8>>(of line: Line) -> Int64 {
        guard let key = line.firstRange(of: Array(#""ts":"#.utf8)) else { return .min }
        let digits = line[key.upperBound...].prefix { $0 == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        return Int64(String(decoding: digits, as: UTF8.self)) ?? .min
    }

    /// The record with `"variant":"<name>"` as its last field.
    static func adding(variant name: String, to line: Substring) -> String {
        let writer = JSONWriter()
        writer.string(name)
        return line.dropLast() + ",\"variant\":" + String(decoding: writer.bytes, as: UTF8.self) + "}"
    }
}

/// Why an A/B replay cannot run.
public struct VariantError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// What the arms' threads give back.
private final class ArmResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<ReplaySummary, any Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ result: Result<ReplaySummary, any Error>) { lock.withLock { results[i] = result } }

    var all: [Result<ReplaySummary, any Error>] { lock.withLock { results.compactMap { $0 } } }
}
