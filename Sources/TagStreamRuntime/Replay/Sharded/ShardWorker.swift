import DequeModule
import Foundation
import TagStreamCore

/// An accepted event: the chunk it was read in and its slot among the chunk's events of its shard.
struct EventRef: Sendable {
    var chunk: Int32
    var slot: Int32
}

/// Work for every shard's worker. Each task goes to all workers in the same order, so that they
/// meet at the same refreshes.
enum ShardTask: Sendable {
    /// Decode the chunk's lines routed to this shard.
    case decode(LineChunk)
    /// Decode the chunk's lines that another shard found to be this shard's.
    case decodeElsewhere(LineChunk)
    /// Buffer the accepted events (per shard), apply those below the watermark, and forget the
    /// chunks; `firstApplied`: the run's first applied `ts`, once the watermark has passed it.
    case apply(accepted: [[EventRef]], watermark: Int64, firstApplied: Int64?, doneChunks: [Int])
    /// Apply everything buffered and fire what is due up to `end`; then stop.
    case finish(end: Int64, firstApplied: Int64?)
    /// Stop at once (the run failed).
    case stop
}

/// Tells the reader when every worker has done a task, and collects what each produced.
final class TaskCompletion: @unchecked Sendable {
    private let lock = NSLock()
    private var remaining: Int
    private var records: [EncodedRecords?]
    private var elsewhere = 0
    private var failure: (any Error)?

    init(workers: Int) {
        remaining = workers
        records = Array(repeating: nil, count: workers)
    }

    func done(by worker: Int, records produced: EncodedRecords?, elsewhere lines: Int, failure: (any Error)? = nil) {
        lock.lock()
        records[worker] = produced
        elsewhere += lines
        if let failure { self.failure = self.failure ?? failure }
        remaining -= 1
        lock.unlock()
    }

    /// Once every worker has done the task, the records each produced and how many lines went
    /// elsewhere, or what a worker failed with; nil before.
    func result() throws -> (records: [EncodedRecords], elsewhere: Int)? {
        lock.lock()
        defer { lock.unlock() }
        guard remaining == 0 else { return nil }
        if let failure { throw failure }
        return (records.map { $0 ?? EncodedRecords() }, elsewhere)
    }
}

/// The workers' tasks, and whether the reader may go on: one lock for all, so that a worker with
/// nothing to do of its own is the one woken to read.
final class Crew: @unchecked Sendable {
    private let condition = NSCondition()
    private var queues: [Deque<(ShardTask, TaskCompletion)>]
    private var readWanted = false

    /// What a worker does next.
    enum Turn {
        case task(ShardTask, TaskCompletion)
        case read
    }

    init(workers: Int) { queues = Array(repeating: [], count: workers) }

    /// Hands each worker the task, in the order the tasks are given.
    func broadcast(_ task: ShardTask) -> TaskCompletion {
        let completion = TaskCompletion(workers: queues.count)
        condition.lock()
        for w in queues.indices { queues[w].append((task, completion)) }
        condition.broadcast()
        condition.unlock()
        return completion
    }

    /// Asks a worker with nothing of its own to do to read on.
    func wantRead() {
        condition.lock()
        readWanted = true
        condition.broadcast()
        condition.unlock()
    }

    /// The worker's next task; with none, a turn to read once one is wanted.
    func next(for worker: Int) -> Turn {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let (task, completion) = queues[worker].popFirst() { return .task(task, completion) }
            if readWanted {
                readWanted = false
                return .read
            }
            condition.wait()
        }
    }
}

/// One shard's thread: decodes the lines of its users, keeps their decoded events until the
/// sequencer's verdict, and runs the shard's engine, encoding the records it produces; and reads
/// on when it has nothing of its own to do.
final class ShardWorker: @unchecked Sendable {
    private let index: Int
    @exclusivity(unchecked) private var processor: ShardProcessor
    private let exchange: any RefreshExchange
    /// Decoded events of this shard per chunk, by slot, and emptied arrays to use again (their
    /// memory would otherwise be mapped anew for each chunk).
    @exclusivity(unchecked) private var events: [Int: [Event]] = [:]
    @exclusivity(unchecked) private var spareEvents: [[Event]] = []
    private let encoder = RecordEncoder()

    init(pipeline: Pipeline, shard: ShardRole, until: Int64?, exchange: any RefreshExchange) {
        index = shard.index
        processor = ShardProcessor(pipeline: pipeline, shard: shard, until: until)
        self.exchange = exchange
    }

    /// The shard's state, read once the worker has stopped.
    var state: ShardProcessor { processor }

    /// The shard's part of the leaders' dashboard, read once the worker has stopped.
    func dashboardPart(_ names: DashboardBindings.Names) -> DashboardPart { processor.engine.dashboardPart(names) }

    /// User `id`, if the shard holds them; read once the worker has stopped.
    func userView(_ id: String) -> UserView? { processor.engine.userView(id) }

    /// Starts the worker's thread. It takes its tasks from `crew`; with none, it calls `read` when
    /// asked to, and after each task it asks for that, as the task may let the reader go on.
    func start(crew: Crew, read: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in run(crew: crew, read: read) }
        thread.name = "shard \(index)"
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func run(crew: Crew, read: () -> Void) {
        while true {
            guard case let .task(task, completion) = crew.next(for: index) else {
                read()
                continue
            }
            switch task {
            case .decode(let chunk):
                completion.done(by: index, records: nil, elsewhere: decode(chunk, elsewhere: false))
            case .decodeElsewhere(let chunk):
                completion.done(by: index, records: nil, elsewhere: decode(chunk, elsewhere: true))
            case let .apply(accepted, watermark, firstApplied, doneChunks):
                accept(accepted[index])
                for chunk in doneChunks {
                    guard var spare = events.removeValue(forKey: chunk) else { continue }
                    spare.removeAll(keepingCapacity: true)
                    spareEvents.append(spare)
                }
                guard perform(completion, { try processor.release(below: watermark, firstApplied: firstApplied, exchange: exchange) }) else {
                    read()
                    return
                }
            case let .finish(end, firstApplied):
                perform(completion) { try processor.finish(end: end, firstApplied: firstApplied, exchange: exchange) }
                // This thread ends here: it writes what it can of the last records itself.
                read()
                return
            case .stop:
                completion.done(by: index, records: nil, elsewhere: 0)
                return
            }
            crew.wantRead()
        }
    }

    /// Runs a step of the engine and hands its records, or its failure, to `completion`. False
    /// when it failed: the worker then stops, as the run does.
    @discardableResult
    private func perform(_ completion: TaskCompletion, _ step: () throws -> Void) -> Bool {
        do {
            try step()
            completion.done(by: index, records: drainRecords(), elsewhere: 0)
            return true
        } catch {
            completion.done(by: index, records: nil, elsewhere: 0, failure: error)
            return false
        }
    }

    /// Buffers the accepted events, moving each out of its chunk's array (a copy retained its
    /// strings and items, and clearing the array released them again).
    private func accept(_ refs: [EventRef]) {
        var chunk = -1
        var decoded: [Event] = []
        for ref in refs {
            if ref.chunk != chunk {
                if chunk >= 0 { events[chunk] = decoded }
                chunk = Int(ref.chunk)
                decoded = events.removeValue(forKey: chunk) ?? []
            }
            var event = Event.empty
            swap(&event, &decoded[Int(ref.slot)])
            processor.accept(event)
        }
        if chunk >= 0 { events[chunk] = decoded }
    }

    /// Decodes this shard's lines of the chunk and writes their facts; returns how many lines
    /// turned out to be another shard's.
    private func decode(_ chunk: LineChunk, elsewhere: Bool) -> Int {
        var decoded = events.removeValue(forKey: chunk.id) ?? spareEvents.popLast() ?? []
        var notes = chunk.notes[index]
        chunk.notes[index] = []
        var sent = 0
        let routes = chunk.routes, facts = chunk.facts
        chunk.withLines { line in
            for i in routes.indices where routes[i] == index {
                if elsewhere {
                    guard case .elsewhere(let shard) = facts[i], shard == index else { continue }
                }
                switch processor.decode(line(i), into: &decoded) {
                case .deadLetter(let reason):
                    notes.append(.deadLetter(reason))
                    facts[i] = .deadLetter(shard: Int32(index), note: Int32(notes.count - 1))
                case .ignored(let type):
                    notes.append(.ignored(type: type))
                    facts[i] = .ignored(shard: Int32(index), note: Int32(notes.count - 1))
                case .elsewhere(let shard):
                    sent += 1
                    facts[i] = .elsewhere(shard: Int32(shard))
                case let .event(ts, key):
                    facts[i] = .event(ts: ts, key: key, shard: Int32(index), slot: Int32(decoded.count - 1))
                }
            }
        }
        events[chunk.id] = decoded
        chunk.notes[index] = notes
        return sent
    }

    private func drainRecords() -> EncodedRecords {
        var records = EncodedRecords()
        records.append(processor.engine.output, symbols: processor.engine.symbols, encoder: encoder)
        processor.engine.output.removeAll(keepingCapacity: true)
        return records
    }
}
