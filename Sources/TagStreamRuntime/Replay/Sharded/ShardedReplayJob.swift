import DequeModule
import Foundation
import TagStreamCore

/// Why a sharded replay cannot run as asked.
public struct ShardedReplayError: Error, CustomStringConvertible {
    public let description: String
}

/// A backtest whose users are split among several shards, one thread each, with output files
/// byte-identical to `ReplayJob`'s. This thread reads the files and runs the one sequencer
/// (watermarks, duplicates, late events: they depend on every record, in read order); the shards
/// decode their users' records ahead of it, then apply the events it accepts, meeting at each
/// daily refresh; their records are merged back into one engine's order.
public final class ShardedReplayJob {
    public let options: ReplayOptions
    private let shards: Int
    private let readers: [LineReader]
    private let workers: [ShardWorker]
    @exclusivity(unchecked) private var sequencer: Sequencer
    @exclusivity(unchecked) private var counts = OutcomeCounts()
    private let output: ReplayOutput

    /// A chunk handed to the workers, and whether its facts are all known yet.
    private struct PendingChunk {
        var chunk: LineChunk
        var decoding: TaskCompletion
        var decoded = false
    }

    /// Per partition: its chunks being decoded or read, oldest first; the next line of the first;
    /// whether its reader is at the end; whether the sequencer has seen its end.
    @exclusivity(unchecked) private var chunks: [Deque<PendingChunk>]
    @exclusivity(unchecked) private var position: [Int]
    @exclusivity(unchecked) private var readerDone: [Bool]
    @exclusivity(unchecked) private var finished: [Bool]
    private var nextChunkID = 0
    /// Chunks read to the end, to fill again.
    private var spareChunks: [LineChunk] = []
    /// Accepted events per shard, and chunks read to the end, since the last apply task.
    private var accepted: [[EventRef]]
    private var acceptedCount = 0
    private var doneChunks: [Int] = []
    /// The smallest accepted `ts` that `until` lets be applied: the run's first applied event.
    private var firstApplicable = Int64.max
    /// Apply tasks whose records are not written yet, oldest first.
    private var applying = Deque<TaskCompletion>()

    /// Lines per chunk (about 2 MB of the benchmark's events).
    static let chunkLines = 8_192
    /// Accepted events per apply task. What is in flight (chunks read ahead, decoded events and
    /// records not written yet) is memory a single engine does not need: kept to what keeps every
    /// thread busy (see the performance log).
    static let applyBatch = 8_192
    /// Apply tasks that may run ahead of the writing of their records.
    static let applyAhead = 1
    /// Chunks per partition read and handed to the workers ahead of the one being sequenced.
    static let readAhead = 1

    public convenience init(options: ReplayOptions, workers: Int) throws {
        let exchange = ThreadExchange(shards: workers)
        try self.init(options: options, workers: workers) { _ in exchange }
    }

    /// A replay whose shards meet through the exchange `exchange(k)` gives shard k (a Kafka topic,
    /// say, as instances of a consumer group do).
    public init(options: ReplayOptions, workers: Int, exchange: (Int) throws -> any RefreshExchange) throws {
        precondition(workers >= 2, "a sharded replay has at least two shards")
        if let obstacle = ShardRole.obstacle(in: options.pipeline) { throw ShardedReplayError(description: obstacle) }
        guard options.checkpoints == nil else {
            throw ShardedReplayError(description: "checkpoints of a replay with several workers are not supported yet; use --workers 1 with checkpoints")
        }
        self.options = options
        shards = workers
        readers = try options.inputs.map { try LineReader(path: $0) }
        self.workers = try (0..<workers).map { k in
            ShardWorker(pipeline: options.pipeline, shard: ShardRole(index: k, count: workers), until: options.until, exchange: try exchange(k))
        }
        let partitions = options.inputs.count
        sequencer = Sequencer(partitions: partitions, lateness: options.pipeline.time.lateness.milliseconds,
                              dedupeHorizon: options.pipeline.time.dedupeHorizon.milliseconds)
        output = try ReplayOutput(directory: options.outputDirectory)
        chunks = Array(repeating: Deque(), count: partitions)
        position = Array(repeating: 0, count: partitions)
        readerDone = Array(repeating: false, count: partitions)
        finished = Array(repeating: false, count: partitions)
        accepted = Array(repeating: [], count: workers)
    }

    /// Reads every file to its end, finishes the run and writes `summary.json`.
    public func run(progress: ProgressLine = ProgressLine()) throws -> ReplaySummary {
        let started = Date()
        for worker in workers { worker.start() }
        do {
            try sequenceEveryLine(progress: progress, since: started)
        } catch {
            // Workers wait for tasks until told otherwise; a failed run tells them to stop.
            _ = try? broadcast(.stop).wait()
            throw error
        }
        applying.append(broadcast(.finish(end: sequencer.maxAccepted, firstApplied: firstApplicable == .max ? nil : firstApplicable)))
        while let step = applying.popFirst() { try output.writeMerged(step.wait().records) }
        try output.flush()
        progress.finish()
        return try summarize(since: started)
    }

    /// Reads the files in the order the watermark asks for them and hands what the sequencer
    /// accepts to the shards.
    private func sequenceEveryLine(progress: ProgressLine, since started: Date) throws {
        var records = 0
        while let p = nextPartition() {
            guard let chunk = try decodedChunk(p) else {
                finished[p] = true
                sequencer.setActive(false, partition: p)
                continue
            }
            records += try consumeRun(of: chunk)
            progress.update(progressText(records: records, since: started))
            if position[p] == chunk.count {
                chunks[p].removeFirst()
                position[p] = 0
                doneChunks.append(chunk.id)
                spareChunks.append(chunk)
            }
            if acceptedCount >= Self.applyBatch { try dispatchApply() }
        }
        try dispatchApply()
    }

    /// The first chunk of partition `p` with every fact known, reading ahead so that the workers
    /// decode the next chunk while this one is sequenced; nil at the end of the file.
    private func decodedChunk(_ p: Int) throws -> LineChunk? {
        while chunks[p].count < 1 + Self.readAhead, !readerDone[p] {
            let chunk = spareChunks.popLast() ?? LineChunk(capacity: Self.chunkLines, shards: shards)
            guard try chunk.fill(id: nextChunkID, partition: p, reader: readers[p]) else {
                readerDone[p] = true
                spareChunks.append(chunk)
                break
            }
            nextChunkID += 1
            chunks[p].append(PendingChunk(chunk: chunk, decoding: broadcast(.decode(chunk))))
        }
        guard var first = chunks[p].first else { return nil }
        if !first.decoded {
            if try first.decoding.wait().elsewhere > 0 {
                // Lines whose user the quick scan placed wrongly go to the shard that holds the user.
                for i in 0..<first.chunk.count {
                    if case .elsewhere(let shard) = first.chunk.facts[i] { first.chunk.routes[i] = shard }
                }
                _ = try broadcast(.decodeElsewhere(first.chunk)).wait()
            }
            first.decoded = true
            chunks[p][0] = first
        }
        return first.chunk
    }

    /// Sequences the chunk's lines from its partition's position while the partition holds the
    /// watermark back; returns how many. The counts and accepted events are taken out of `self`
    /// meanwhile: used in place, each line retained and checked them.
    private func consumeRun(of chunk: LineChunk) throws -> Int {
        let p = chunk.partition, start = position[p]
        var counts = self.counts, accepted = self.accepted, newlyAccepted = 0
        self.accepted = []
        defer {
            self.counts = counts
            self.accepted = accepted
            acceptedCount += newlyAccepted
        }
        var i = start
        repeat {
            if i + 8 < chunk.count, case .event(_, let key, _, _) = chunk.facts[i + 8] { sequencer.prefetch(key) }
            switch chunk.facts[i] {
            case .blank:
                counts.blank += 1
            case let .deadLetter(shard, note):
                guard case .deadLetter(let reason) = chunk.notes[Int(shard)][Int(note)] else { preconditionFailure("a dead letter without its reason") }
                counts.deadLetter += 1
                counts.deadLetterReasons[reason.code, default: 0] += 1
                try chunk.withLine(i) { try output.writeDeadLetter($0, reason: reason, file: readers[p].path, line: chunk.firstLine + i) }
            case let .ignored(shard, note):
                guard case .ignored(let type) = chunk.notes[Int(shard)][Int(note)] else { preconditionFailure("an ignored record without its type") }
                counts.ignored += 1
                counts.ignoredTypes[type, default: 0] += 1
            case let .event(ts, key, shard, slot):
                switch sequencer.classify(ts: ts, key: key, partition: p) {
                case .duplicate:
                    counts.duplicate += 1
                case .late:
                    counts.late += 1
                    try chunk.withLine(i) { try output.writeLate($0) }
                case .accepted:
                    counts.accepted += 1
                    newlyAccepted += 1
                    if ts < firstApplicable, ts <= options.until ?? .max { firstApplicable = ts }
                    accepted[Int(shard)].append(EventRef(chunk: Int32(chunk.id), slot: slot))
                }
            case .pending, .elsewhere:
                preconditionFailure("line \(chunk.firstLine + i) of \(readers[p].path) was not decoded")
            }
            i += 1
        } while i < chunk.count && (chunks.count == 1 || nextPartition() == p)
        position[p] = i
        return i - start
    }

    /// Hands the accepted events and the watermark to the shards, and writes the records of the
    /// apply tasks that are more than `applyAhead` behind.
    private func dispatchApply() throws {
        // The first applicable event is the first applied once the watermark has passed it: no
        // event accepted later can come before it.
        let firstApplied = firstApplicable < sequencer.watermark ? firstApplicable : nil
        applying.append(broadcast(.apply(accepted: accepted, watermark: sequencer.watermark, firstApplied: firstApplied, doneChunks: doneChunks)))
        accepted = Array(repeating: [], count: shards)
        acceptedCount = 0
        doneChunks = []
        while applying.count > Self.applyAhead { try output.writeMerged(applying.removeFirst().wait().records) }
    }

    /// The unfinished partition that holds the watermark back. Through the processor-style mutating
    /// call: reading a struct property of a class to call a method on it copied the sequencer.
    private func nextPartition() -> Int? {
        sequencer.partitionHoldingWatermark { !finished[$0] }
    }

    private func broadcast(_ task: ShardTask) -> TaskCompletion {
        let completion = TaskCompletion(workers: shards)
        for worker in workers { worker.submit(task, completion) }
        return completion
    }

    private func summarize(since started: Date) throws -> ReplaySummary {
        let states = workers.map(\.state)
        counts.notApplied = states.reduce(0) { $0 + $1.notApplied }
        let first = states.map(\.firstApplied).filter { $0 != .min }.min()
        let last = states.map(\.lastApplied).max() ?? .min
        let summary = ReplaySummary(
            inputFiles: options.inputs, counts: counts, outputs: output.tally,
            finalState: StateDistribution(merging: states.map(\.engine)),
            eventTimes: first.map { ($0, last) }, wallSeconds: Date().timeIntervalSince(started))
        try summary.json().write(to: URL(fileURLWithPath: options.outputDirectory).appendingPathComponent("summary.json"))
        return summary
    }

    private func progressText(records: Int, since start: Date) -> String {
        let seconds = Date().timeIntervalSince(start)
        let rate = seconds > 0 ? Double(records) / seconds : 0
        return "replay (\(shards) workers): \(records) records, \(Int(rate)) records/s"
    }
}
