import Foundation
import TagStreamCore

/// What to replay and where the results go.
public struct ReplayOptions: Sendable {
    public var pipeline: Pipeline
    /// Input files, each one partition, in order.
    public var inputs: [String]
    public var outputDirectory: String
    /// Events after this instant are not applied; timers fire up to it. Nil: up to the largest `ts`.
    public var until: Int64?
    /// Where checkpoints go; nil: no checkpoints.
    public var checkpoints: CheckpointLocation?
    /// Input records between checkpoints. Default: 1,000,000.
    public var checkpointEvery = 1_000_000
    /// The arm of an A/B test this replay runs (see `VariantReplay`); nil: every user.
    public var arm: SplitArm?

    public init(pipeline: Pipeline, inputs: [String], outputDirectory: String, until: Int64? = nil,
                checkpoints: CheckpointLocation? = nil, checkpointEvery: Int = 1_000_000) {
        self.pipeline = pipeline
        self.inputs = inputs
        self.outputDirectory = outputDirectory
        self.until = until
        self.checkpoints = checkpoints
        self.checkpointEvery = checkpointEvery
    }
}

/// A backtest: replays event files through the engine exactly as live mode would see them,
/// resumable from checkpoints with byte-identical results. Used from one thread; the properties
/// touched per record skip Swift's run-time exclusivity checks (`@exclusivity(unchecked)`), which
/// took about 2 % of a replay together with those of the file reader and writers.
public final class ReplayJob {
    public let options: ReplayOptions
    private let readers: [LineReader]
    @exclusivity(unchecked) private var finished: [Bool]
    @exclusivity(unchecked) private var processor: Processor
    private let output: ReplayOutput
    private let checkpoints: CheckpointStore?
    /// Whether this run continues from a checkpoint.
    public let resumed: Bool

    public init(options: ReplayOptions) throws {
        self.options = options
        readers = try options.inputs.map { try LineReader(path: $0) }
        finished = Array(repeating: false, count: options.inputs.count)
        processor = Processor(pipeline: options.pipeline, partitions: options.inputs.count, until: options.until, arm: options.arm)
        // One backtest's checkpoints are apart from another's: the group names its input files.
        let group = String(format: "replay-%016llx", FNV1a64.hash(options.inputs.joined(separator: "\n")))
        checkpoints = try options.checkpoints?.store(pipeline: options.pipeline.name, group: group)
        if let saved = try checkpoints?.load() {
            let position = try ReplayCheckpoint.restore(saved, options: options, into: &processor)
            for (p, reader) in readers.enumerated() {
                try reader.skip(toOffset: position.offsets[p], lineNumber: position.lines[p])
            }
            finished = position.finished
            output = try ReplayOutput(directory: options.outputDirectory, resumingAt: position.outputSizes)
            output.restoreTally(position.tally)
            resumed = true
        } else {
            output = try ReplayOutput(directory: options.outputDirectory)
            resumed = false
        }
    }

    /// Reads every file to its end, finishes the run and writes `summary.json`.
    public func run(progress: ProgressLine = ProgressLine()) throws -> ReplaySummary {
        let started = Date()
        var records = 0
        var next = nextPartition()
        while let p = next {
            // The reader is taken out of the array once per run of records from its partition:
            // taking it per record cost a retain and a release each (1 % of a replay).
            let reader = readers[p]
            repeat {
                try readRecord(from: p, reader)
                records += 1
                if records & 0xFFFF == 0 {
                    progress.update(self.progressText(records: records, since: started))
                }
                if checkpoints != nil, records % options.checkpointEvery == 0 { try checkpoint() }
                next = nextPartition()
            } while next == p
        }
        try processor.finish()
        try writeRecords()
        try output.flush(durable: checkpoints != nil)
        progress.finish()
        let summary = ReplaySummary(
            inputFiles: options.inputs, counts: processor.counts, outputs: output.tally,
            finalState: processor.engine.distribution(),
            eventTimes: processor.firstApplied == .min ? nil : (processor.firstApplied, processor.lastApplied),
            wallSeconds: Date().timeIntervalSince(started))
        try summary.json().write(to: URL(fileURLWithPath: options.outputDirectory).appendingPathComponent("summary.json"))
        try checkpoints?.clear()
        return summary
    }

    /// The leaders' dashboard as the run left it (after `run`).
    public func dashboardPart(_ names: DashboardBindings.Names = .init()) -> DashboardPart { processor.engine.dashboardPart(names) }

    /// User `id` as the run left them (after `run`); nil for a user never seen.
    public func userView(_ id: String) -> UserView? { processor.engine.userView(id) }

    /// Makes the outputs so far durable, then records where every input and output stands.
    private func checkpoint() throws {
        try output.flush(durable: true)
        let position = ReplayCheckpoint.Position(
            offsets: readers.map(\.offset), lines: readers.map(\.lineNumber), finished: finished,
            outputSizes: output.sizes, tally: output.tally)
        try checkpoints?.save(try ReplayCheckpoint.encode(position, options: options, processor: processor),
                              summary: CheckpointSummary(processor: processor))
    }

    /// The unfinished partition that holds the engine's watermark back (the lowest; ties: the first).
    private func nextPartition() -> Int? {
        processor.partitionHoldingWatermark { !finished[$0] }
    }

    private func readRecord(from p: Int, _ reader: LineReader) throws {
        if let bytes = try reader.nextLine() {
            switch try processor.process(bytes, partition: p) {
            case .deadLetter(let reason):
                try output.writeDeadLetter(bytes, reason: reason, file: reader.path, line: reader.lineNumber)
            case .late:
                try output.writeLate(bytes)
            case .accepted, .duplicate, .ignored, .blank, .otherArm:
                break
            }
        } else {
            finished[p] = true
            try processor.setPartition(p, active: false)
        }
        try writeRecords()
    }

    private func writeRecords() throws {
        try processor.drainOutput { records, symbols, _ in try output.write(records, symbols: symbols) }
    }

    private func progressText(records: Int, since start: Date) -> String {
        let seconds = Date().timeIntervalSince(start)
        let rate = seconds > 0 ? Double(records) / seconds : 0
        let reached = processor.lastApplied == .min ? "-" : EventTime.format(processor.lastApplied)
        return "replay: \(records) records, event time \(reached), \(Int(rate)) records/s"
    }
}

/// A replay checkpoint: the processor snapshot plus where each input file and output file stands.
enum ReplayCheckpoint {
    struct Position {
        var offsets: [Int64]
        var lines: [Int]
        var finished: [Bool]
        var outputSizes: [Int64]
        var tally: OutputTally
    }

    static func encode(_ position: Position, options: ReplayOptions, processor: Processor) throws -> [UInt8] {
        let tallyJSON = Array(try JSONEncoder().encode(position.tally))
        return SnapshotEnvelope.seal(pipelineFingerprint: options.pipeline.fingerprint) { w in
            w.write(options.inputs) { w, path in w.write(path) }
            w.write(position.offsets) { w, o in w.write(o) }
            w.write(position.lines) { w, l in w.write(l) }
            w.write(position.finished) { w, f in w.write(f) }
            w.write(position.outputSizes) { w, s in w.write(s) }
            w.write(raw: tallyJSON)
            processor.write(to: &w)
        }
    }

    static func restore(_ bytes: [UInt8], options: ReplayOptions, into processor: inout Processor) throws -> Position {
        var r = try SnapshotEnvelope.open(bytes, pipelineFingerprint: options.pipeline.fingerprint)
        let inputs = try r.readArray { try $0.readString() }
        guard inputs == options.inputs else {
            throw SnapshotError("the checkpoint is for other input files (\(inputs.joined(separator: ", "))); use the same files or another --checkpoint-dir")
        }
        let position = Position(
            offsets: try r.readArray { try $0.readInt64() }, lines: try r.readArray { try $0.readInt() },
            finished: try r.readArray { try $0.readBool() }, outputSizes: try r.readArray { try $0.readInt64() },
            tally: try JSONDecoder().decode(OutputTally.self, from: Data(try r.readRaw())))
        try processor.restore(from: &r)
        return position
    }
}
