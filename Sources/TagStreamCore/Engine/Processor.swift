/// How one input record ended (SPEC §1): exactly one outcome per record, blank lines aside.
public enum RecordOutcome: Sendable, Equatable {
    case accepted
    case deadLetter(DeadLetterReason)
    case duplicate
    case late
    case ignored(type: String)
    /// A blank line of a file: skipped and not counted.
    case blank
    /// A record of the other arm of a split (see `SplitArm`): skipped and not counted here.
    case otherArm
}

/// Counts of input records by outcome, for the summary.
public struct OutcomeCounts: Sendable, Equatable {
    public var accepted = 0
    public var deadLetter = 0
    public var duplicate = 0
    public var late = 0
    public var ignored = 0
    public var blank = 0
    /// Accepted events after `--until`, which are not applied.
    public var notApplied = 0
    public var deadLetterReasons: [String: Int] = [:]
    public var ignoredTypes: [String: Int] = [:]

    public var total: Int { accepted + deadLetter + duplicate + late + ignored }

    public init() {}

    /// Adds another part of a run's counts (another task's).
    public mutating func add(_ other: OutcomeCounts) {
        accepted += other.accepted
        deadLetter += other.deadLetter
        duplicate += other.duplicate
        late += other.late
        ignored += other.ignored
        blank += other.blank
        notApplied += other.notApplied
        deadLetterReasons.merge(other.deadLetterReasons, uniquingKeysWith: +)
        ignoredTypes.merge(other.ignoredTypes, uniquingKeysWith: +)
    }
}

/// The I/O-free heart of a run: decodes records, sequences them and drives the engine.
/// Sources feed it bytes; sinks drain `engine.output`.
public struct Processor: Sendable {
    public var decoder = EventDecoder()
    public var sequencer: Sequencer
    public var engine: Engine
    public var counts = OutcomeCounts()
    /// Events after this instant are not applied, and time stops here. Nil: no bound.
    public let until: Int64?
    /// The `ts` of the first and of the last applied event.
    public internal(set) var firstApplied: Int64 = .min
    public internal(set) var lastApplied: Int64 = .min
    /// The `ts` of the event accepted last (live mode matches output records to their input by it).
    public private(set) var lastAccepted: Int64 = .min
    /// How this processor meets the other tasks of a live run split by input partition; nil when
    /// it holds every user.
    public var agreement: (any TaskAgreement)?
    /// The arm of a split this processor runs (`replay --variant`); nil: every user.
    public let arm: SplitArm?
    /// A second engine, under a canary pipeline, for a share of the users (`run --canary`).
    public internal(set) var canary: Canary?
    /// Who moved between the control and the canary pipeline at the last restore.
    public internal(set) var canaryMoves = CanaryMoves()
    /// Per interned user, whether they are in the variant's arm (-1: not asked yet).
    private var userInVariant: [Int8] = []

    /// `shard`: the users this processor holds (with an `agreement` to meet the other shards).
    /// `canary`: a pipeline for a share of the users, which `canaryObstacle` found none against.
    public init(pipeline: Pipeline, partitions: Int, until: Int64? = nil, shard: ShardRole = .single, arm: SplitArm? = nil,
                canary: (pipeline: Pipeline, split: UserSplit)? = nil) {
        precondition(canary.flatMap { pipeline.canaryObstacle($0.pipeline) } == nil, "a canary that cannot run beside its pipeline")
        sequencer = Sequencer(
            partitions: partitions, lateness: pipeline.time.lateness.milliseconds,
            dedupeHorizon: pipeline.time.dedupeHorizon.milliseconds)
        engine = Engine(pipeline: pipeline, shard: shard)
        self.until = until
        self.arm = arm
        self.canary = canary.map { Canary(pipeline: $0.pipeline, split: $0.split, shard: shard) }
    }

    /// Classifies one record read from partition `p`, buffers it when accepted, and applies
    /// whatever the watermark has released.
    public mutating func process(_ bytes: UnsafeBufferPointer<UInt8>, partition p: Int) throws -> RecordOutcome {
        guard !bytes.isBlankLine else {
            counts.blank += 1
            return .blank
        }
        let decoded = decoder.decode(bytes, symbols: &engine.symbols, prefetchingIn: sequencer.acceptedIDs)
        if let arm, !holds(decoded, arm) { return .otherArm }
        switch decoded {
        case .deadLetter(let reason):
            counts.deadLetter += 1
            counts.deadLetterReasons[reason.code, default: 0] += 1
            return .deadLetter(reason)
        case .ignored(let type):
            counts.ignored += 1
            counts.ignoredTypes[type, default: 0] += 1
            return .ignored(type: type)
        case .event(let event):
            let ts = event.ts, key = decoder.eventIDKey ?? AcceptedIDs.Key(event.eventID)
            switch sequencer.admit(event, partition: p, key: key) {
            case .duplicate:
                counts.duplicate += 1
                return .duplicate
            case .late:
                counts.late += 1
                return .late
            case .accepted:
                counts.accepted += 1
                lastAccepted = ts
                try applyReady()
                return .accepted
            }
        }
    }

    /// Whether a record is this arm's: an event of one of its users, or, for the control arm, a
    /// record of no user.
    private mutating func holds(_ decoded: DecodeResult, _ arm: SplitArm) -> Bool {
        guard case .event(let event) = decoded else { return !arm.isVariant }
        let u = Int(event.user)
        if u >= userInVariant.count { userInVariant.append(contentsOf: repeatElement(-1, count: u + 1 - userInVariant.count)) }
        if userInVariant[u] < 0 { userInVariant[u] = arm.split.isVariant(engine.symbols.users[event.user]) ? 1 : 0 }
        return (userInVariant[u] == 1) == arm.isVariant
    }

    /// Marks partition `p` finished or idle (inactive), or active again, and applies what that releases.
    public mutating func setPartition(_ p: Int, active: Bool) throws {
        sequencer.setActive(active, partition: p)
        try applyReady()
    }

    /// Hands the records produced so far, with the symbols that name them and, with a canary, the
    /// name of the pipeline that made them (their variant), to `body`, then forgets them.
    public mutating func drainOutput(_ body: ([OutputRecord], SymbolTable, _ variant: String?) throws -> Void) rethrows {
        if !engine.output.isEmpty {
            try body(engine.output, engine.symbols, canary == nil ? nil : engine.pipeline.name)
            engine.output.removeAll(keepingCapacity: true)
        }
        if canary?.engine.output.isEmpty == false {
            try body(canary!.engine.output, canary!.engine.symbols, canary!.engine.pipeline.name)
            canary!.engine.output.removeAll(keepingCapacity: true)
        }
    }

    /// Applies every buffered event below the watermark and fires the timers before it.
    public mutating func applyReady() throws {
        while let event = sequencer.nextReady() { try apply(event) }
        let watermark = sequencer.watermark
        if watermark != .min { try advance(through: min(watermark - 1, until ?? .max)) }
    }

    /// The partition `isCandidate` admits that holds the watermark back (see
    /// `Sequencer.partitionHoldingWatermark`). Mutating so that a call through a class's property
    /// uses the processor in place instead of copying it.
    public mutating func partitionHoldingWatermark(where isCandidate: (Int) -> Bool) -> Int? {
        sequencer.partitionHoldingWatermark(where: isCandidate)
    }

    /// Adds an input partition (a Kafka partition seen for the first time) and returns its index.
    public mutating func addPartition() -> Int { sequencer.addPartition() }

    /// Applies every buffered event without waiting for the watermark (a live run shutting down).
    public mutating func applyBuffered() throws {
        while let event = sequencer.nextBuffered() { try apply(event) }
    }

    /// The end of a bounded run: applies everything buffered, then fires timers and refreshes
    /// up to `until`, or else up to the largest accepted `ts` (of every task, with an agreement).
    public mutating func finish() throws {
        try applyBuffered()
        var end = until ?? sequencer.maxAccepted
        if let agreement {
            if !engine.refreshesScheduled { try agreeOnStart(first: nil, agreement) }
            end = try agreedEnd(end, agreement)
        }
        if end != .min { try advance(through: end) }
    }

    private mutating func apply(_ event: Event) throws {
        if let until, event.ts > until {
            counts.notApplied += 1
            return
        }
        if let agreement, !engine.refreshesScheduled { try agreeOnStart(first: event.ts, agreement) }
        if canary == nil, agreement == nil {
            engine.apply(event)  // which advances the engine to the event itself
        } else {
            // Both engines advance to the event, meeting the other tasks' at the refreshes.
            try advance(through: event.ts - 1)
            if let translated = canary?.translate(event, from: engine.symbols) { canary!.engine.apply(translated) } else { engine.apply(event) }
        }
        if firstApplied == .min { firstApplied = event.ts }
        lastApplied = event.ts
    }

    /// Advances both engines, refresh by refresh: the main one, then the canary's, each meeting
    /// the other tasks' at the refresh. Every task takes the steps in this order, so none waits at
    /// one step for a task that waits at another.
    private mutating func advance(through instant: Int64) throws {
        if canary != nil {
            while case let next = min(engine.nextRefresh, canary!.engine.nextRefresh), next < instant {
                try advanceEngines(through: next)
            }
        }
        try advanceEngines(through: instant)
    }

    private mutating func advanceEngines(through instant: Int64) throws {
        if let agreement {
            try engine.advance(through: instant, exchange: agreement)
            try canary?.engine.advance(through: instant, exchange: agreement.canaryExchange)
        } else {
            engine.advance(through: instant)
            canary?.engine.advance(through: instant)
        }
    }

    // MARK: Agreeing with the other tasks

    /// Schedules the refreshes from the run's first applied event: every task's refreshes are at
    /// the same midnights, also those of a task whose first event comes days after another's.
    private mutating func agreeOnStart(first: Int64?, _ agreement: any TaskAgreement) throws {
        if let runFirst = try agreement.agreeOnFirst(first, from: engine.shard.index) ?? first {
            engine.scheduleRefreshes(from: runFirst)
            canary?.engine.scheduleRefreshes(from: runFirst)
        }
    }

    /// A task whose partitions are idle follows the others, as one engine's watermark moves on
    /// with the partitions that have records: it answers the agreement on the first event they wait
    /// at, and meets them at a refresh they wait at, once it has applied its events before it (and
    /// marks what comes later before that refresh late, as one engine would).
    public mutating func followOtherTasks() throws {
        guard let agreement else { return }
        switch try agreement.awaited(by: engine.shard.index) {
        case nil:
            break
        case .first:
            if !engine.refreshesScheduled { try agreeOnStart(first: sequencer.firstBuffered, agreement) }
        case .refresh(let m):
            sequencer.raiseWatermark(to: m + 1)
            try applyReady()
        }
    }

    /// The run's end, the largest accepted `ts` of every task: a task that reached its own end
    /// meanwhile follows the others to each refresh they wait at, as one engine would fire it.
    private mutating func agreedEnd(_ end: Int64, _ agreement: any TaskAgreement) throws -> Int64 {
        while true {
            switch try agreement.awaitEnd(end, from: engine.shard.index) {
            case .end(let runEnd): return runEnd
            case .refresh(let m): try advance(through: m)
            }
        }
    }
}
