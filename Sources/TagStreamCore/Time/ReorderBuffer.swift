import HeapModule

/// Accepted events waiting for the watermark, released in `(ts, event_id)` order. Arrivals in
/// order, the common case, go to a queue; the others to a heap.
public struct ReorderBuffer: Sendable {
    struct Pending: Comparable, Sendable {
        var event: Event
        static func < (a: Self, b: Self) -> Bool { a.event.precedes(b.event) }
        static func == (a: Self, b: Self) -> Bool { a.event.ts == b.event.ts && a.event.eventID == b.event.eventID }
    }

    var inOrder = EventQueue()
    var outOfOrder = Heap<Pending>()

    public init() {}

    /// A buffer holding `events`.
    init(_ events: [Event]) {
        for event in events.sorted(by: { $0.precedes($1) }) { inOrder.append(event) }
    }

    /// Number of events waiting.
    public var count: Int { inOrder.count + outOfOrder.count }

    /// Takes an event over, so that buffering it copies nothing.
    public mutating func insert(_ event: consuming Event) {
        if inOrder.precedesLast(event) { outOfOrder.insert(Pending(event: event)) } else { inOrder.append(event) }
    }

    /// The next event in order, when it is below `bound`.
    public mutating func next(below bound: Int64 = .max) -> Event? {
        if nextIsQueued {
            guard inOrder.firstTimestamp < bound else { return nil }
            return inOrder.removeFirst()
        }
        guard let ts = outOfOrder.min?.event.ts, ts < bound else { return nil }
        return outOfOrder.removeMin().event
    }

    /// Whether the next event in order heads the queue rather than the heap (tested without
    /// copying events in the common case of an empty heap).
    private var nextIsQueued: Bool {
        guard !inOrder.isEmpty else { return false }
        guard !outOfOrder.isEmpty else { return true }
        return inOrder.firstPrecedes(outOfOrder.min!.event)
    }

    /// Every event, in no particular order (for snapshots).
    var events: [Event] { inOrder.events + outOfOrder.unordered.map(\.event) }
}
