import HeapModule

/// What the sequencer decided about a well-formed event (SPEC §1, §3).
public enum Admission: Sendable, Equatable {
    case accepted, duplicate, late
}

/// Watermarks per input partition, the dedupe horizon, and the reorder buffer that releases
/// accepted events in `(ts, event_id)` order once the engine's watermark is past them.
public struct Sequencer: Sendable {
    /// One input partition: a Kafka partition or one replayed file.
    public struct Partition: Sendable {
        public var maxAccepted: Int64 = .min
        /// An idle or finished partition no longer holds the engine's watermark back.
        public var isActive = true
    }

    struct Pending: Comparable, Sendable {
        var event: Event
        static func < (a: Self, b: Self) -> Bool { a.event.precedes(b.event) }
        static func == (a: Self, b: Self) -> Bool { a.event.ts == b.event.ts && a.event.eventID == b.event.eventID }
    }

    public let lateness: Int64
    public let dedupeHorizon: Int64
    public internal(set) var partitions: [Partition]
    /// The largest accepted `ts` over all partitions.
    public internal(set) var maxAccepted: Int64 = .min
    /// The engine's watermark: the minimum over active partitions, never moving back.
    public internal(set) var watermark: Int64 = .min
    var acceptedIDs = AcceptedIDs()
    /// The reorder buffer: arrivals in order go to a queue, the others to a heap.
    var inOrder = EventQueue()
    var outOfOrder = Heap<Pending>()

    public init(partitions: Int, lateness: Int64, dedupeHorizon: Int64) {
        self.partitions = Array(repeating: Partition(), count: partitions)
        self.lateness = lateness
        self.dedupeHorizon = dedupeHorizon
    }

    /// The watermark of one partition: its largest accepted `ts` minus the allowed lateness.
    public func watermark(ofPartition p: Int) -> Int64 {
        let max = partitions[p].maxAccepted
        return max == .min ? .min : max - lateness
    }

    /// Of the partitions `isCandidate` admits, the one that holds the engine's watermark back:
    /// the lowest watermark, ties to the first. Replay reads its next record from it, and so does live mode.
    public func partitionHoldingWatermark(where isCandidate: (Int) -> Bool) -> Int? {
        var best: Int?
        var lowest = Int64.max
        for p in partitions.indices where isCandidate(p) {
            let w = watermark(ofPartition: p)
            if best == nil || w < lowest {
                best = p
                lowest = w
            }
        }
        return best
    }

    /// Number of accepted events waiting for the watermark.
    public var buffered: Int { inOrder.count + outOfOrder.count }

    /// Decides whether `event`, read from partition `p`, is a duplicate, late, or accepted (then buffered).
    public mutating func admit(_ event: Event, partition p: Int) -> Admission {
        admit(event, partition: p, key: AcceptedIDs.Key(event.eventID))
    }

    /// `admit` with the event id's dedupe key already computed (by the decoder). Takes the event
    /// over, so that buffering it copies nothing.
    mutating func admit(_ event: consuming Event, partition p: Int, key: AcceptedIDs.Key) -> Admission {
        let slot = acceptedIDs.find(key)
        if let prior = acceptedIDs.time(at: slot), prior > maxAccepted - dedupeHorizon { return .duplicate }
        if event.ts < watermark(ofPartition: p) || event.ts < watermark { return .late }
        acceptedIDs.set(key, time: event.ts, at: slot)
        if event.ts > maxAccepted { maxAccepted = event.ts }
        if event.ts > partitions[p].maxAccepted {
            // Only a partition at or below the engine's watermark can be the one holding it back.
            let mayHoldWatermark = watermark(ofPartition: p) <= watermark
            partitions[p].maxAccepted = event.ts
            if mayHoldWatermark { updateWatermark() }
        }
        if inOrder.precedesLast(event) { outOfOrder.insert(Pending(event: event)) } else { inOrder.append(event) }
        if acceptedIDs.isCrowded { acceptedIDs.makeRoom(droppingAtOrBefore: maxAccepted - dedupeHorizon) }
        return .accepted
    }

    /// Marks a partition idle or finished (inactive), or active again.
    public mutating func setActive(_ active: Bool, partition p: Int) {
        partitions[p].isActive = active
        updateWatermark()
    }

    /// Adds a partition (a Kafka assignment); it holds the watermark until its first event.
    public mutating func addPartition() -> Int {
        partitions.append(Partition())
        return partitions.count - 1
    }

    /// The next buffered event below the watermark, in order.
    public mutating func nextReady() -> Event? {
        nextBuffered(below: watermark)
    }

    /// The next buffered event below `bound` (by default any), for the end of a bounded run.
    public mutating func nextBuffered(below bound: Int64 = .max) -> Event? {
        if nextIsQueued {
            guard inOrder.firstTimestamp < bound else { return nil }
            return inOrder.removeFirst()
        }
        guard let ts = outOfOrder.min?.event.ts, ts < bound else { return nil }
        return outOfOrder.removeMin().event
    }

    /// Whether the next event in order heads the in-order queue rather than the heap
    /// (tested without copying events in the common case of an empty heap).
    private var nextIsQueued: Bool {
        guard !inOrder.isEmpty else { return false }
        guard !outOfOrder.isEmpty else { return true }
        return inOrder.firstPrecedes(outOfOrder.min!.event)
    }

    /// Every buffered event, in no particular order (for snapshots).
    var bufferedEvents: [Event] { inOrder.events + outOfOrder.unordered.map(\.event) }

    /// Replaces the buffer with `events`.
    mutating func restoreBuffer(_ events: [Event]) {
        inOrder = EventQueue()
        for event in events.sorted(by: { $0.precedes($1) }) { inOrder.append(event) }
        outOfOrder = Heap()
    }

    private mutating func updateWatermark() {
        var lowest = Int64.max
        for p in partitions.indices where partitions[p].isActive {
            lowest = min(lowest, watermark(ofPartition: p))
        }
        if lowest != .max, lowest > watermark { watermark = lowest }
    }
}
