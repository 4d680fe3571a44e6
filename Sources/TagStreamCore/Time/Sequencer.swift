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

    public let lateness: Int64
    public let dedupeHorizon: Int64
    public internal(set) var partitions: [Partition]
    /// The largest accepted `ts` over all partitions.
    public internal(set) var maxAccepted: Int64 = .min
    /// The engine's watermark: the minimum over active partitions, never moving back.
    public internal(set) var watermark: Int64 = .min
    var acceptedIDs = AcceptedIDs()
    var buffer = ReorderBuffer()

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
    /// Mutating only so that a call through a class's property uses the sequencer in place: reading
    /// it there copies it, once per record.
    public mutating func partitionHoldingWatermark(where isCandidate: (Int) -> Bool) -> Int? {
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
    public var buffered: Int { buffer.count }

    /// Decides whether `event`, read from partition `p`, is a duplicate, late, or accepted (then buffered).
    public mutating func admit(_ event: Event, partition p: Int) -> Admission {
        admit(event, partition: p, key: AcceptedIDs.Key(event.eventID))
    }

    /// `admit` with the event id's dedupe key already computed (by the decoder). Takes the event
    /// over, so that buffering it copies nothing.
    mutating func admit(_ event: consuming Event, partition p: Int, key: AcceptedIDs.Key) -> Admission {
        let admission = classify(ts: event.ts, key: key, partition: p)
        if admission == .accepted { buffer.insert(event) }
        return admission
    }

    /// Decides whether an event at `ts` with dedupe key `key`, read from partition `p`, is a
    /// duplicate, late or accepted, and moves the watermarks as `admit` does, without buffering it
    /// (a sharded run buffers events in the shard that holds their user).
    public mutating func classify(ts: Int64, key: AcceptedIDs.Key, partition p: Int) -> Admission {
        let slot = acceptedIDs.find(key)
        if let prior = acceptedIDs.time(at: slot), prior > maxAccepted - dedupeHorizon { return .duplicate }
        if ts < watermark(ofPartition: p) || ts < watermark { return .late }
        acceptedIDs.set(key, time: ts, at: slot)
        if ts > maxAccepted { maxAccepted = ts }
        if ts > partitions[p].maxAccepted {
            // Only a partition at or below the engine's watermark can be the one holding it back.
            let mayHoldWatermark = watermark(ofPartition: p) <= watermark
            partitions[p].maxAccepted = ts
            if mayHoldWatermark { updateWatermark() }
        }
        if acceptedIDs.isCrowded { acceptedIDs.makeRoom(droppingAtOrBefore: maxAccepted - dedupeHorizon) }
        return .accepted
    }

    /// Starts loading the dedupe table's slot for `key`, which `classify` reads soon after
    /// (mutating for the same reason as `partitionHoldingWatermark`).
    public mutating func prefetch(_ key: AcceptedIDs.Key) { acceptedIDs.prefetch(key) }

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
        buffer.next(below: watermark)
    }

    /// The next buffered event below `bound` (by default any), for the end of a bounded run.
    public mutating func nextBuffered(below bound: Int64 = .max) -> Event? {
        buffer.next(below: bound)
    }

    /// The `ts` of the first buffered event, if any.
    var firstBuffered: Int64? { buffer.events.map(\.ts).min() }

    /// Moves the watermark up to `instant` (a task following the other tasks of a split run).
    public mutating func raiseWatermark(to instant: Int64) {
        watermark = max(watermark, instant)
    }

    /// Every buffered event, in no particular order (for snapshots).
    var bufferedEvents: [Event] { buffer.events }

    /// Replaces the buffer with `events`.
    mutating func restoreBuffer(_ events: [Event]) { buffer = ReorderBuffer(events) }

    private mutating func updateWatermark() {
        var lowest = Int64.max
        for p in partitions.indices where partitions[p].isActive {
            lowest = min(lowest, watermark(ofPartition: p))
        }
        if lowest != .max, lowest > watermark { watermark = lowest }
    }
}
