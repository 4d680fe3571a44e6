import CMemoryHints

/// The `event_id`s accepted within the dedupe horizon with their `ts`: an open-addressing table
/// keyed by a 64-bit fingerprint of the id. Two ids share a fingerprint with probability 2⁻⁶⁴, so
/// a table of a million live ids takes an event for a duplicate about once in 10¹³ lookups; in
/// exchange a slot is 16 bytes, and a probe touches a quarter of a cache line.
struct AcceptedIDs: Sendable {
    struct Key: Equatable, Sendable {
        var fingerprint: UInt64

        /// A 64-bit hash of the id's UTF-8 bytes, mixed a word at a time.
        init(_ id: String) {
            self = id.withUTF8Bytes { Key(utf8: $0) }
        }

        /// Words are little-endian; the last one is zero-padded, and the length is mixed in.
        init(utf8 bytes: UnsafeBufferPointer<UInt8>) {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ (UInt64(bytes.count) &* 0x9e37_79b9_7f4a_7c15)
            func mix(_ word: UInt64) {
                h = (h ^ (word &* 0xff51_afd7_ed55_8ccd)) &* 0x9e37_79b9_7f4a_7c15
                h = (h << 31) | (h >> 33)
            }
            var k = 0
            if let base = bytes.baseAddress {
                while k + 8 <= bytes.count {
                    mix(UInt64(littleEndian: UnsafeRawPointer(base + k).loadUnaligned(as: UInt64.self)))
                    k += 8
                }
            }
            if k < bytes.count { mix(bytes.trailingWord) }
            // The finalizer of MurmurHash3: every input bit reaches every output bit.
            h = (h ^ (h >> 33)) &* 0xff51_afd7_ed55_8ccd
            h = (h ^ (h >> 33)) &* 0xc4ce_b9fe_1a85_ec53
            fingerprint = h ^ (h >> 33)
        }

        init(fingerprint: UInt64) { self.fingerprint = fingerprint }
    }

    /// One slot: a key and its `ts`, side by side so a probe touches one cache line.
    struct Slot: Sendable {
        var key: Key
        /// `.min` marks an empty slot.
        var time: Int64
    }

    private(set) var slots: [Slot]
    private(set) var count = 0

    /// A table of `size` slots, any size from 16 up: a key's home slot scales its fingerprint to
    /// the size, so the table grows by half instead of doubling. It asks for huge pages: every
    /// lookup lands on a random page.
    init(size: Int = 1 << 17) {
        let count = max(16, size)
        slots = Array(unsafeUninitializedCapacity: count) { buffer, initialized in
            tagstream_advise_huge_pages(buffer.baseAddress!, count * MemoryLayout<Slot>.stride)
            buffer.initialize(repeating: Slot(key: Key(fingerprint: 0), time: .min))
            initialized = count
        }
    }

    /// The first slot probed for `key`.
    @inline(__always)
    private func home(_ key: Key) -> Int {
        Int(key.fingerprint.multipliedFullWidth(by: UInt64(slots.count)).high)
    }

    /// Starts loading `key`'s home slot into the cache. The table outgrows every cache, so a `find`
    /// costs a trip to memory; started while the rest of the record is decoded, the trip overlaps it.
    func prefetch(_ key: Key) {
        slots.withUnsafeBufferPointer { tagstream_prefetch($0.baseAddress! + home(key)) }
    }

    /// Where `key` is, or the empty slot where it would go; valid until the table next changes.
    func find(_ key: Key) -> Int {
        var i = home(key)
        while slots[i].time != .min, slots[i].key != key {
            i += 1
            if i == slots.count { i = 0 }
        }
        return i
    }

    /// The `ts` stored at a slot `find` returned; nil for an empty slot.
    func time(at slot: Int) -> Int64? {
        slots[slot].time == .min ? nil : slots[slot].time
    }

    mutating func set(_ key: Key, time: Int64) {
        set(key, time: time, at: find(key))
    }

    /// Stores `key` with `time` at the slot `find(key)` returned, with no change to the table since.
    mutating func set(_ key: Key, time: Int64, at i: Int) {
        if slots[i].time == .min {
            count += 1
            slots[i].key = key
        }
        slots[i].time = time
    }

    /// Whether the table is too full for lookups to stay short: time to `makeRoom`.
    var isCrowded: Bool { count * 10 > slots.count * 7 }

    /// Drops the ids accepted at or before `horizon`, which can never be duplicates again, and
    /// grows the table by half only if more than 60 % of it is still in use. So the table stays the size
    /// that the ids of one horizon need, and pruning, in place, never holds a second copy of it.
    mutating func makeRoom(droppingAtOrBefore horizon: Int64) {
        prune(keepingAfter: horizon)
        if count * 10 > slots.count * 6 { grow() }
    }

    private mutating func prune(keepingAfter horizon: Int64) {
        var i = 0
        while i < slots.count {
            // A removal may shift a later entry into slot i: look at it again.
            if slots[i].time != .min, slots[i].time <= horizon { remove(at: i) } else { i += 1 }
        }
    }

    /// Empties slot `hole` by moving back each later entry of its probe run that may live there
    /// (backward-shift deletion), so lookups never need tombstones.
    private mutating func remove(at slot: Int) {
        var hole = slot
        var j = slot
        while true {
            j = j + 1 == slots.count ? 0 : j + 1
            guard slots[j].time != .min else { break }
            // The entry at j may move to the hole unless its home lies cyclically in (hole, j].
            let origin = home(slots[j].key)
            let homeAfterHole = hole <= j ? (origin > hole && origin <= j) : (origin > hole || origin <= j)
            if !homeAfterHole {
                slots[hole] = slots[j]
                hole = j
            }
        }
        slots[hole].time = .min
        count -= 1
    }

    /// Moves the entries to a table half as large again.
    private mutating func grow() {
        var fresh = AcceptedIDs(size: slots.count + slots.count / 2)
        for slot in slots where slot.time != .min { fresh.set(slot.key, time: slot.time) }
        self = fresh
    }

    /// The entries in slot order, for snapshots.
    var occupied: [Slot] { slots.filter { $0.time != .min } }

    /// A table of `size` slots holding `entries` taken in slot order from a table of that size:
    /// each insertion probes next to the one before, so a million entries go in sequentially.
    init(size: Int, entries: [Slot]) throws {
        guard size >= 16, entries.count * 10 <= size * 7,
              entries.allSatisfy({ $0.time != .min }) else {
            throw SnapshotError("snapshot has a malformed dedupe table")
        }
        self.init(size: size)
        for entry in entries { set(entry.key, time: entry.time) }
    }
}
