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

    public init(pipeline: Pipeline, inputs: [String], outputDirectory: String, until: Int64? = nil) {
        self.pipeline = pipeline
        self.inputs = inputs
        self.outputDirectory = outputDirectory
        self.until = until
    }
}

/// A backtest: replays event files through the engine exactly as live mode would see them.
public final class ReplayJob {
    public let options: ReplayOptions
    private let readers: [LineReader]
    private var finished: [Bool]
    private var processor: Processor
    private let output: ReplayOutput
    private var firstApplied: Int64?

    public init(options: ReplayOptions) throws {
        self.options = options
        readers = try options.inputs.map { try LineReader(path: $0) }
        finished = Array(repeating: false, count: options.inputs.count)
        processor = Processor(pipeline: options.pipeline, partitions: options.inputs.count, until: options.until)
        output = try ReplayOutput(directory: options.outputDirectory)
    }

    /// Reads every file to its end, finishes the run and writes `summary.json`.
    public func run(progress: ProgressLine = ProgressLine()) throws -> ReplaySummary {
        let started = Date()
        var records = 0
        while let p = nextPartition() {
            try readRecord(from: p)
            records += 1
            if records & 0xFFFF == 0 {
                progress.update(self.progressText(records: records, since: started))
            }
        }
        processor.finish()
        try output.write(&processor.engine.output, symbols: processor.engine.symbols)
        try output.flush()
        progress.finish()
        let lastApplied = processor.lastApplied
        let summary = ReplaySummary(
            inputFiles: options.inputs, counts: processor.counts, outputs: output.tally,
            finalState: processor.engine.distribution(),
            eventTimes: firstApplied.map { ($0, lastApplied) }, wallSeconds: Date().timeIntervalSince(started))
        try summary.json().write(to: URL(fileURLWithPath: options.outputDirectory).appendingPathComponent("summary.json"))
        return summary
    }

    /// The unfinished partition that holds the engine's watermark back (the lowest; ties: the first).
    private func nextPartition() -> Int? {
        var best: Int?
        var lowest = Int64.max
        for p in readers.indices where !finished[p] {
            let watermark = processor.sequencer.watermark(ofPartition: p)
            if best == nil || watermark < lowest {
                best = p
                lowest = watermark
            }
        }
        return best
    }

    private func readRecord(from p: Int) throws {
        let reader = readers[p]
        let read: Void? = try reader.nextLine { bytes in
            switch processor.process(bytes, partition: p) {
            case .deadLetter(let reason):
                try output.writeDeadLetter(bytes, reason: reason, file: reader.path, line: reader.lineNumber)
            case .late:
                try output.writeLate(bytes)
            case .accepted, .duplicate, .ignored, .blank:
                break
            }
        }
        if read == nil {
            finished[p] = true
            processor.setPartition(p, active: false)
        }
        if firstApplied == nil, processor.lastApplied != .min { firstApplied = processor.lastApplied }
        if !processor.engine.output.isEmpty {
            try output.write(&processor.engine.output, symbols: processor.engine.symbols)
        }
    }

    private func progressText(records: Int, since start: Date) -> String {
        let seconds = Date().timeIntervalSince(start)
        let rate = seconds > 0 ? Double(records) / seconds : 0
        let reached = processor.lastApplied == .min ? "-" : EventTime.format(processor.lastApplied)
        return "replay: \(records) records, event time \(reached), \(Int(rate)) records/s"
    }
}
