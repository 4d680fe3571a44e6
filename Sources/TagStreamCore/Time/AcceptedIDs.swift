/// The `event_id`s accepted within the dedupe horizon with their `ts`: an open-addressing table
/// keyed by a 128-bit hash of the id (a false match is as likely as a 2⁻¹²⁸ coincidence).
struct AcceptedIDs: Sendable {
    struct Key: Equatable, Sendable {
        var a: UInt64
        var b: UInt64

        /// Two independent 64-bit hashes of the id's UTF-8 bytes, mixed a word at a time.
        init(_ id: String) {
            var text = id
            self = text.withUTF8 { Key(utf8: $0) }
        }

        /// Words are little-endian; the last one is zero-padded.
        private init(utf8 bytes: UnsafeBufferPointer<UInt8>) {
            var a: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(bytes.count)
            var b: UInt64 = 0x9e37_79b9_7f4a_7c15
            func mix(_ word: UInt64) {
                a = (a ^ word) &* 0x9e37_79b9_7f4a_7c15
                a = (a << 31) | (a >> 33)
                b = (b ^ word) &* 0xff51_afd7_ed55_8ccd
                b = (b << 29) | (b >> 35)
            }
            var k = 0
            if let base = bytes.baseAddress {
                while k + 8 <= bytes.count {
                    mix(UInt64(littleEndian: UnsafeRawPointer(base + k).loadUnaligned(as: UInt64.self)))
                    k += 8
                }
            }
            if k < bytes.count {
                var word: UInt64 = 0
                for j in 0..<(bytes.count - k) { word |= UInt64(bytes[k + j]) << UInt64(8 * j) }
                mix(word)
            }
            a = (a ^ (a >> 33)) &* 0xc4ce_b9fe_1a85_ec53
            b = (b ^ (b >> 33)) &* 0xff51_afd7_ed55_8ccd
            self.a = a ^ (a >> 29)
            self.b = b ^ (b >> 32)
        }

        init(a: UInt64, b: UInt64) {
            self.a = a
            self.b = b
        }

        var slot: Int {
            var x = a ^ (a >> 33)
            x = x &* 0xc4ce_b9fe_1a85_ec53
            return Int(truncatingIfNeeded: x ^ (x >> 29))
        }
    }

    /// One slot: a key and its `ts`, side by side so a probe touches one cache line.
    struct Slot: Sendable {
        var key: Key
        /// `.min` marks an empty slot.
        var time: Int64
    }

    private(set) var slots: [Slot]
    private(set) var count = 0

    init(capacity: Int = 1 << 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: Slot(key: Key(a: 0, b: 0), time: .min), count: size)
    }

    private func find(_ key: Key) -> Int {
        let mask = slots.count - 1
        var i = key.slot & mask
        while slots[i].time != .min, slots[i].key != key { i = (i + 1) & mask }
        return i
    }

    func time(of key: Key) -> Int64? {
        let i = find(key)
        return slots[i].time == .min ? nil : slots[i].time
    }

    mutating func set(_ key: Key, time: Int64) {
        let i = find(key)
        if slots[i].time == .min {
            count += 1
            slots[i].key = key
        }
        slots[i].time = time
        if count * 10 > slots.count * 7 { grow() }
    }

    /// Drops every id whose `ts` is at or before `horizon`, in place: a steady stream of ids keeps
    /// one table of a steady size, and pruning never holds a second copy of it.
    mutating func prune(keepingAfter horizon: Int64) {
        var i = 0
        while i < slots.count {
            // A removal may shift a later entry into slot i: look at it again.
            if slots[i].time != .min, slots[i].time <= horizon { remove(at: i) } else { i += 1 }
        }
    }

    /// Empties slot `hole` by moving back each later entry of its probe run that may live there
    /// (backward-shift deletion), so lookups never need tombstones.
    private mutating func remove(at slot: Int) {
        let mask = slots.count - 1
        var hole = slot
        var j = slot
        while true {
            j = (j + 1) & mask
            guard slots[j].time != .min else { break }
            // The entry at j may move to the hole unless its home lies cyclically in (hole, j].
            let home = slots[j].key.slot & mask
            let homeAfterHole = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j)
            if !homeAfterHole {
                slots[hole] = slots[j]
                hole = j
            }
        }
        slots[hole].time = .min
        count -= 1
    }

    /// Moves the entries to a table twice the size.
    private mutating func grow() {
        var fresh = AcceptedIDs(capacity: count)
        for slot in slots where slot.time != .min { fresh.set(slot.key, time: slot.time) }
        self = fresh
    }

    /// The entries in slot order, for snapshots.
    var occupied: [Slot] { slots.filter { $0.time != .min } }

    /// A table of `size` slots holding `entries` taken in slot order from a table of that size:
    /// each insertion probes next to the one before, so a million entries go in sequentially.
    init(size: Int, entries: [Slot]) throws {
        guard size >= 16, size & (size - 1) == 0, entries.count * 10 <= size * 7,
              entries.allSatisfy({ $0.time != .min }) else {
            throw SnapshotError("snapshot has a malformed dedupe table")
        }
        slots = Array(repeating: Slot(key: Key(a: 0, b: 0), time: .min), count: size)
        for entry in entries { set(entry.key, time: entry.time) }
    }
}
