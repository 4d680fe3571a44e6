/// A first-in, first-out queue of events that moves each event in and out. A `Deque` copies the
/// element it is given and the caller then destroys its own: a retain and a release of each of an
/// event's strings and arrays, 2.4 % of a replay. Copies of a queue share storage until one changes.
struct EventQueue: Sendable {
    /// Sendable because storage is only changed while one queue holds it alone (copy on write):
    /// shared storage is only read.
    private final class Storage: @unchecked Sendable {
        let slots: UnsafeMutableBufferPointer<Event>
        /// The oldest event's slot, and how many follow from it (wrapping around).
        var head = 0
        var count = 0

        init(capacity: Int) { slots = .allocate(capacity: capacity) }

        deinit {
            for k in 0..<count { (slots.baseAddress! + slot(k)).deinitialize(count: 1) }
            slots.deallocate()
        }

        @inline(__always)
        func slot(_ k: Int) -> Int {
            let i = head + k
            return i < slots.count ? i : i - slots.count
        }

        /// A storage of `capacity` slots holding copies of these events, oldest first from slot 0.
        func copy(capacity: Int) -> Storage {
            let copy = Storage(capacity: capacity)
            for k in 0..<count { (copy.slots.baseAddress! + k).initialize(to: slots[slot(k)]) }
            copy.count = count
            return copy
        }

        /// Moves the events into a larger storage, oldest first from slot 0.
        func moved(toCapacity capacity: Int) -> Storage {
            let larger = Storage(capacity: capacity)
            for k in 0..<count { (larger.slots.baseAddress! + k).moveInitialize(from: slots.baseAddress! + slot(k), count: 1) }
            larger.count = count
            count = 0
            return larger
        }
    }

    private var storage = Storage(capacity: 16)

    var count: Int { storage.count }
    var isEmpty: Bool { storage.count == 0 }

    /// The oldest event's `ts`; the queue must not be empty.
    var firstTimestamp: Int64 {
        assert(storage.count > 0, "firstTimestamp of an empty queue")
        return storage.slots[storage.head].ts
    }

    /// Whether `event` comes before the newest queued event in `(ts, event_id)` order.
    func precedesLast(_ event: borrowing Event) -> Bool {
        guard storage.count > 0 else { return false }
        return event.precedes(storage.slots[storage.slot(storage.count - 1)])
    }

    /// Whether the oldest queued event comes before `event`; the queue must not be empty.
    func firstPrecedes(_ event: borrowing Event) -> Bool {
        storage.slots[storage.head].precedes(event)
    }

    mutating func append(_ event: consuming Event) {
        let capacity = storage.count == storage.slots.count ? storage.slots.count * 2 : storage.slots.count
        if !isKnownUniquelyReferenced(&storage) {
            storage = storage.copy(capacity: capacity)
        } else if capacity > storage.slots.count {
            storage = storage.moved(toCapacity: capacity)
        }
        (storage.slots.baseAddress! + storage.slot(storage.count)).initialize(to: event)
        storage.count += 1
    }

    /// Removes and returns the oldest event; the queue must not be empty.
    mutating func removeFirst() -> Event {
        precondition(storage.count > 0, "removeFirst on an empty queue")
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy(capacity: storage.slots.count) }
        let event = (storage.slots.baseAddress! + storage.head).move()
        storage.head = storage.slot(1)
        storage.count -= 1
        return event
    }

    /// The queued events, oldest first.
    var events: [Event] { (0..<storage.count).map { storage.slots[storage.slot($0)] } }
}
