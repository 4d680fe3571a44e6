import DequeModule
import Foundation
import TagStreamCore

/// Why a sharded replay cannot run as asked.
public struct ShardedReplayError: Error, CustomStringConvertible {
    public let description: String
}

/// A backtest whose users are split among several shards, one thread each, with output files
/// byte-identical to `ReplayJob`'s. The reader reads the files and runs the one sequencer
/// (watermarks, duplicates, late events: they depend on every record, in read order); the shards
/// decode their users' records ahead of it, then apply the events it accepts, meeting at each
/// daily refresh; their records are merged back into one engine's order.
///
/// The reader has no thread of its own: whichever shard's thread has nothing to do (an empty
/// queue, a wait at a refresh) reads on, as far as it can without waiting. A reader thread of its
/// own left a core idle whenever it and a shard waited for the other shard.
public final class ShardedReplayJob: @unchecked Sendable {
    public let options: ReplayOptions
    private let shards: Int
    private let readers: [LineReader]
    private let workers: [ShardWorker]
    private let crew: Crew
    @exclusivity(unchecked) private var sequencer: Sequencer
    @exclusivity(unchecked) private var counts = OutcomeCounts()
    private let output: ReplayOutput

    /// A chunk handed to the workers, and the decoding its facts wait for, if any.
    private struct PendingChunk {
        var chunk: LineChunk
        var decoding: TaskCompletion?
        /// Whether its misplaced lines have been handed to their shards, which decode them for good.
        var sentOn = false
    }

    /// What the reader found of a partition's next chunk.
    private enum NextChunk {
        case decoded(LineChunk)
        case decoding
        case endOfFile
    }

    /// One thread reads at a time; a thread that finds the reader busy asks for another round
    /// (`readAgain`), so that no worker's progress goes unnoticed.
    private let readerLock = NSLock()
    private let requests = NSCondition()
    private var readAgain = false
    /// Set once every record is written, or the run failed.
    private var outcome: Result<Void, any Error>?
    /// Whether the last step, which finishes the run, is handed to the workers.
    private var finishHandedOut = false
    /// Lines sequenced, and since when, for the progress line.
    private var records = 0
    private var started = Date()
    private var progress = ProgressLine(enabled: false)

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

    /// Lines per chunk (about 1 MB of the benchmark's events).
    static let chunkLines = 4_096
    /// Accepted events per apply task. What is in flight (chunks read ahead, decoded events and
    /// records not written yet) is memory a single engine does not need: kept to what keeps every
    /// thread busy (see the performance log).
    static let applyBatch = 4_096
    /// Apply tasks that may run ahead of the writing of their records.
    static let applyAhead = 2
    /// Chunks per partition read and handed to the workers ahead of the one being sequenced.
    static let readAhead = 2

    public convenience init(options: ReplayOptions, workers: Int) throws {
        let exchange = ThreadExchange(shards: workers)
        try self.init(options: options, workers: workers) { _ in exchange }
        exchange.whileWaiting = { [weak self] in self?.read() }
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
        crew = Crew(workers: workers)
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
        started = Date()
        self.progress = progress
        for worker in workers { worker.start(crew: crew) { [weak self] in self?.read() } }
        read()
        requests.lock()
        while outcome == nil { requests.wait() }
        let outcome = self.outcome!
        requests.unlock()
        do {
            try outcome.get()
        } catch {
            // Workers wait for tasks until told otherwise (one whose step failed has stopped).
            _ = crew.broadcast(.stop)
            throw error
        }
        return try summarize(since: started)
    }

    /// Reads on as far as the workers let the reader go without waiting for them, here or on
    /// another thread already reading; called by any thread whose work may let it go further.
    func read() {
        requests.withLock { readAgain = true }
        while readerLock.try() {
            while takeReadRequest() {
                do {
                    if try readUntilWaiting() { end(.success(())) }
                } catch {
                    end(.failure(error))
                }
            }
            readerLock.unlock()
            // A thread that asked between the last look and the unlock found the reader busy.
            guard requests.withLock({ readAgain && outcome == nil }) else { return }
        }
    }

    private func takeReadRequest() -> Bool {
        requests.withLock {
            defer { readAgain = false }
            return readAgain && outcome == nil
        }
    }

    private func end(_ result: Result<Void, any Error>) {
        requests.withLock {
            outcome = result
            requests.broadcast()
        }
    }

    /// Reads the files in the order the watermark asks for them and hands what the sequencer
    /// accepts to the shards, until it must wait for a worker; true once every record is written.
    private func readUntilWaiting() throws -> Bool {
        while true {
            try writeFinishedSteps()
            if finishHandedOut { return applying.isEmpty }
            // Workers behind: the reader waits rather than hold more in memory.
            if applying.count > Self.applyAhead { return false }
            guard let p = nextPartition() else {
                dispatchApply()
                applying.append(broadcast(.finish(end: sequencer.maxAccepted, firstApplied: firstApplicable == .max ? nil : firstApplicable)))
                finishHandedOut = true
                continue
            }
            let chunk: LineChunk
            switch try nextChunk(p) {
            case .decoding:
                return false
            case .endOfFile:
                finished[p] = true
                sequencer.setActive(false, partition: p)
                continue
            case .decoded(let decoded):
                chunk = decoded
            }
            records += try consumeRun(of: chunk)
            progress.update(progressText(records: records, since: started))
            if position[p] == chunk.count {
                chunks[p].removeFirst()
                position[p] = 0
                doneChunks.append(chunk.id)
                spareChunks.append(chunk)
            }
            if acceptedCount >= Self.applyBatch { dispatchApply() }
        }
    }

    /// Writes the records of the apply steps the workers have finished, oldest first; after the
    /// last, flushes the files.
    private func writeFinishedSteps() throws {
        while let step = applying.first, let result = try step.result() {
            try output.writeMerged(result.records)
            applying.removeFirst()
            if finishHandedOut, applying.isEmpty {
                try output.flush()
                progress.finish()
            }
        }
    }

    /// The first chunk of partition `p`, once every fact of it is known, reading ahead so that
    /// the workers decode the next chunk while this one is sequenced.
    private func nextChunk(_ p: Int) throws -> NextChunk {
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
        guard var first = chunks[p].first else { return .endOfFile }
        if let decoding = first.decoding {
            guard let result = try decoding.result() else { return .decoding }
            first.decoding = nil
            if result.elsewhere > 0, !first.sentOn {
                // Lines whose user the quick scan placed wrongly go to the shard that holds the user.
                for i in 0..<first.chunk.count {
                    if case .elsewhere(let shard) = first.chunk.facts[i] { first.chunk.routes[i] = shard }
                }
                first.decoding = broadcast(.decodeElsewhere(first.chunk))
                first.sentOn = true
            }
            chunks[p][0] = first
            if first.decoding != nil { return .decoding }
        }
        return .decoded(first.chunk)
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

    /// Hands the accepted events and the watermark to the shards.
    private func dispatchApply() {
        // The first applicable event is the first applied once the watermark has passed it: no
        // event accepted later can come before it.
        let firstApplied = firstApplicable < sequencer.watermark ? firstApplicable : nil
        applying.append(broadcast(.apply(accepted: accepted, watermark: sequencer.watermark, firstApplied: firstApplied, doneChunks: doneChunks)))
        accepted = Array(repeating: [], count: shards)
        acceptedCount = 0
        doneChunks = []
    }

    /// The unfinished partition that holds the watermark back. Through the processor-style mutating
    /// call: reading a struct property of a class to call a method on it copied the sequencer.
    private func nextPartition() -> Int? {
        sequencer.partitionHoldingWatermark { !finished[$0] }
    }

    private func broadcast(_ task: ShardTask) -> TaskCompletion { crew.broadcast(task) }

    /// The leaders' dashboard as the run left it, merged from every shard (after `run`).
    public func dashboardPart(_ names: DashboardBindings.Names = .init()) -> DashboardPart {
        DashboardPart.merge(workers.map { $0.dashboardPart(names) })
    }

    /// User `id` as the run left them (after `run`), from the shard that holds them.
    public func userView(_ id: String) -> UserView? { workers.lazy.compactMap { $0.userView(id) }.first }

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
