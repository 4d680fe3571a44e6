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
    var pruneAt = 1 << 16
    var buffer = Heap<Pending>()

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

    /// Number of accepted events waiting for the watermark.
    public var buffered: Int { buffer.count }

    /// Decides whether `event`, read from partition `p`, is a duplicate, late, or accepted (then buffered).
    public mutating func admit(_ event: Event, partition p: Int) -> Admission {
        let key = AcceptedIDs.Key(event.eventID)
        if let prior = acceptedIDs.time(of: key), prior > maxAccepted - dedupeHorizon { return .duplicate }
        if event.ts < watermark(ofPartition: p) || event.ts < watermark { return .late }
        acceptedIDs.set(key, time: event.ts)
        if event.ts > maxAccepted { maxAccepted = event.ts }
        if event.ts > partitions[p].maxAccepted {
            partitions[p].maxAccepted = event.ts
            updateWatermark()
        }
        buffer.insert(Pending(event: event))
        if acceptedIDs.count >= pruneAt { pruneAcceptedIDs() }
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
        guard let top = buffer.min, top.event.ts < watermark else { return nil }
        return buffer.removeMin().event
    }

    /// The next buffered event regardless of the watermark, for the end of a bounded run.
    public mutating func nextBuffered() -> Event? {
        buffer.isEmpty ? nil : buffer.removeMin().event
    }

    private mutating func updateWatermark() {
        var lowest = Int64.max
        for p in partitions.indices where partitions[p].isActive {
            lowest = min(lowest, watermark(ofPartition: p))
        }
        if lowest != .max, lowest > watermark { watermark = lowest }
    }

    private mutating func pruneAcceptedIDs() {
        acceptedIDs.prune(keepingAfter: maxAccepted - dedupeHorizon)
        pruneAt = max(1 << 16, acceptedIDs.count * 2)
    }
}
