/// One shard of a sharded run, I/O-free: decodes the records routed to it, holds its users'
/// accepted events until the run's watermark passes them, and drives its engine, meeting the other
/// shards at each daily refresh. The run's one `Sequencer` decides what is accepted (`classify`).
public struct ShardProcessor: Sendable {
    /// What a record decoded to, as far as the run's sequencer needs to know.
    public enum Decoded: Sendable {
        /// An event of this shard's, appended to the caller's events.
        case event(ts: Int64, key: AcceptedIDs.Key)
        /// An event of a user that another shard holds: that shard decodes it again.
        case elsewhere(shard: Int)
        case ignored(type: String)
        case deadLetter(DeadLetterReason)
    }

    public var decoder = EventDecoder()
    public var engine: Engine
    var buffer = ReorderBuffer()
    /// Events after this instant are not applied, and time stops here. Nil: no bound.
    public let until: Int64?
    /// Accepted events after `until`.
    public private(set) var notApplied = 0
    /// The `ts` of the first and of the last applied event.
    public private(set) var firstApplied: Int64 = .min
    public private(set) var lastApplied: Int64 = .min
    /// Per interned user: the shard that holds it, once computed.
    private var userShards: [Int32] = []

    public init(pipeline: Pipeline, shard: ShardRole, until: Int64?) {
        engine = Engine(pipeline: pipeline, shard: shard)
        self.until = until
    }

    public var shard: ShardRole { engine.shard }

    /// Decodes one record (not blank), interning its names in this shard's engine; an event of
    /// this shard's goes to the end of `events` (handed over, not copied).
    public mutating func decode(_ bytes: UnsafeBufferPointer<UInt8>, into events: inout [Event]) -> Decoded {
        switch decoder.decode(bytes, symbols: &engine.symbols) {
        case .deadLetter(let reason): return .deadLetter(reason)
        case .ignored(let type): return .ignored(type: type)
        case .event(let event):
            let owner = shard(ofUser: event.user)
            guard owner == shard.index else { return .elsewhere(shard: owner) }
            let ts = event.ts, key = AcceptedIDs.Key(event.eventID)
            events.append(event)
            return .event(ts: ts, key: key)
        }
    }

    private mutating func shard(ofUser u: Int32) -> Int {
        if Int(u) >= userShards.count { userShards.extend(to: max(Int(u) + 1, userShards.count * 2), with: -1) }
        if userShards[Int(u)] < 0 {
            userShards[Int(u)] = Int32(ShardRole.shard(of: engine.symbols.users[u], count: shard.count))
        }
        return Int(userShards[Int(u)])
    }

    /// Buffers an event the run's sequencer accepted.
    public mutating func accept(_ event: consuming Event) { buffer.insert(event) }

    /// Applies the buffered events below the run's watermark and fires what is due before it.
    /// `firstApplied`, once known, is the run's first applied `ts`: it fixes the first refresh,
    /// which every shard must meet at, also one that has applied nothing yet.
    public mutating func release(below watermark: Int64, firstApplied: Int64?, exchange: any RefreshExchange) throws {
        if let firstApplied { engine.scheduleRefreshes(from: firstApplied) }
        while let event = buffer.next(below: watermark) { try apply(event, exchange: exchange) }
        if watermark != .min { try engine.advance(through: min(watermark - 1, until ?? .max), exchange: exchange) }
    }

    /// The end of a bounded run: applies every buffered event, then fires timers and refreshes up to
    /// `until`, or else up to `end` (the largest accepted `ts`, `.min` when none was).
    public mutating func finish(end: Int64, firstApplied: Int64?, exchange: any RefreshExchange) throws {
        if let firstApplied { engine.scheduleRefreshes(from: firstApplied) }
        while let event = buffer.next() { try apply(event, exchange: exchange) }
        let end = until ?? end
        if end != .min { try engine.advance(through: end, exchange: exchange) }
    }

    private mutating func apply(_ event: Event, exchange: any RefreshExchange) throws {
        if let until, event.ts > until {
            notApplied += 1
            return
        }
        try engine.advance(through: event.ts - 1, exchange: exchange)
        engine.apply(event)
        if firstApplied == .min { firstApplied = event.ts }
        lastApplied = event.ts
    }
}
