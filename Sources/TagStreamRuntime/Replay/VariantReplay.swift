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
        func lines(_ name: String, _ file: String) throws -> [Substring] {
            try String(contentsOfFile: (directory(of: name) as NSString).appendingPathComponent(file), encoding: .utf8).split(separator: "\n")
        }
        for file in ReplayOutput.recordFiles {
            let arms = try names.map { name in try lines(name, file).map { (ts: Self.timestamp(of: $0), line: Self.adding(variant: name, to: $0)) } }
            // Each arm's file is in time order already: a stable sort by ts keeps it, the control first.
            let merged = arms.joined().enumerated().sorted { ($0.element.ts, $0.offset) < ($1.element.ts, $1.offset) }
            try Data(merged.map { $0.element.line + "\n" }.joined().utf8).write(to: out.appendingPathComponent(file))
        }
        try Data(try lines(names[0], ReplayOutput.deadLetterFile).map { $0 + "\n" }.joined().utf8).write(to: out.appendingPathComponent(ReplayOutput.deadLetterFile))
        try Data(try names.flatMap { try lines($0, ReplayOutput.lateFile) }.map { $0 + "\n" }.joined().utf8).write(to: out.appendingPathComponent(ReplayOutput.lateFile))
    }

    /// A record's `ts` (every record has one, as an integer).
    static func timestamp(of line: Substring) -> Int64 {
        guard let range = line.range(of: #""ts":-?[0-9]+"#, options: .regularExpression) else { return .min }
        return Int64(line[range].dropFirst(5)) ?? .min
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
