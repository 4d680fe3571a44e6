import CMemoryHints

/// The `event_id`s accepted within the dedupe horizon with their `ts`: an open-addressing table
/// keyed by a 64-bit fingerprint of the id. Two ids share a fingerprint with probability 2⁻⁶⁴, so
/// a table of a million live ids takes an event for a duplicate about once in 10¹³ lookups.
/// Fingerprints and times are kept apart: a lookup probes 8-byte fingerprints, eight to a cache
/// line, and reads a time only when it finds the id.
public struct AcceptedIDs: Sendable {
    /// An event id's dedupe key.
    public struct Key: Equatable, Sendable {
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

    /// An entry, as snapshots store it.
    struct Slot: Sendable {
        var key: Key
        var time: Int64
    }

    /// Per slot: the stored fingerprint (`stored(_:)`), 0 for an empty slot, and its `ts`.
    private var fingerprints: [UInt64]
    private var times: [Int64]
    private(set) var count = 0

    /// A table of `size` slots, any size from 16 up: a key's home slot scales its fingerprint to
    /// the size, so the table grows by half instead of doubling. It asks for huge pages: every
    /// lookup lands on a random page.
    init(size: Int = 1 << 17) {
        let count = max(16, size)
        func column<T>(_ empty: T) -> [T] {
            Array(unsafeUninitializedCapacity: count) { buffer, initialized in
                tagstream_advise_huge_pages(buffer.baseAddress!, count * MemoryLayout<T>.stride)
                buffer.initialize(repeating: empty)
                initialized = count
            }
        }
        fingerprints = column(0)
        times = column(.min)
    }

    /// The number of slots.
    var size: Int { fingerprints.count }

    /// How a key is stored: 0 marks an empty slot, so the fingerprint 0 is stored as 1 (the two
    /// ids then count as one, with probability 2⁻⁶³ more).
    @inline(__always)
    private static func stored(_ key: Key) -> UInt64 { max(key.fingerprint, 1) }

    /// The first slot probed for a stored fingerprint.
    @inline(__always)
    private func home(_ stored: UInt64) -> Int {
        Int(stored.multipliedFullWidth(by: UInt64(fingerprints.count)).high)
    }

    /// Starts loading the slots where `key` is looked up and then stored into the cache. The table
    /// outgrows every cache, so a `find` costs a trip to memory; started while the rest of the
    /// record is decoded, the trip overlaps it. A lookup of a new id probes past its home slot to
    /// the first empty one, often into the next cache line, so that one is loaded too.
    func prefetch(_ key: Key) {
        let i = home(Self.stored(key))
        fingerprints.withUnsafeBufferPointer { f in
            tagstream_prefetch(f.baseAddress! + i)
            tagstream_prefetch(f.baseAddress! + min(i + 8, f.count - 1))
        }
        times.withUnsafeBufferPointer { tagstream_prefetch($0.baseAddress! + i) }
    }

    /// Where `key` is, or the empty slot where it would go; valid until the table next changes.
    func find(_ key: Key) -> Int {
        let k = Self.stored(key)
        var i = home(k)
        while fingerprints[i] != 0, fingerprints[i] != k {
            i += 1
            if i == fingerprints.count { i = 0 }
        }
        return i
    }

    /// The `ts` stored at a slot `find` returned; nil for an empty slot.
    func time(at slot: Int) -> Int64? {
        fingerprints[slot] == 0 ? nil : times[slot]
    }

    mutating func set(_ key: Key, time: Int64) {
        set(key, time: time, at: find(key))
    }

    /// Stores `key` with `time` at the slot `find(key)` returned, with no change to the table since.
    mutating func set(_ key: Key, time: Int64, at i: Int) {
        if fingerprints[i] == 0 {
            count += 1
            fingerprints[i] = Self.stored(key)
        }
        times[i] = time
    }

    /// Whether the table is too full for lookups to stay short: time to `makeRoom`.
    var isCrowded: Bool { count * 10 > size * 7 }

    /// Drops the ids accepted at or before `horizon`, which can never be duplicates again, and
    /// grows the table by half only if more than 60 % of it is still in use. So the table stays the size
    /// that the ids of one horizon need, and pruning, in place, never holds a second copy of it.
    mutating func makeRoom(droppingAtOrBefore horizon: Int64) {
        prune(keepingAfter: horizon)
        if count * 10 > size * 6 { grow() }
    }

    /// One pass from a slot that was empty, which no probe run crosses: each dropped id's slot is
    /// emptied, and each kept entry that a hole now separates from its home slot moves back into
    /// the first hole on its way, so every entry stays reachable without tombstones. Written with
    /// masks rather than branches, whose outcome per slot no predictor would guess (the compiler
    /// turns conditional expressions back into branches).
    private mutating func prune(keepingAfter horizon: Int64) {
        guard let start = fingerprints.firstIndex(of: 0) else { return }
        let size = self.size
        var kept = 0
        fingerprints.withUnsafeMutableBufferPointer { keys in
            times.withUnsafeMutableBufferPointer { times in
                // Positions count from `start`: in these terms, home ≤ position for every entry.
                var lastHole = 0, j = start
                for position in 1..<size {
                    j = j + 1 == size ? 0 : j + 1
                    // The mask is all ones for an entry newer than the horizon (an empty slot stays empty).
                    let k = keys[j] & UInt64(bitPattern: (horizon &- times[j]) >> 63)
                    keys[j] = k
                    kept &+= Self.isSet(k)
                    // `home(k)`, spelled out: `self` is being changed here.
                    let home = Int(k.multipliedFullWidth(by: UInt64(size)).high)
                    let offset = home &- start
                    // Past every position for an empty slot, which has nothing to move.
                    let homePosition = offset &+ (size & (offset &- 1) >> 63) | (Int.max & (Self.isSet(k) &- 1))
                    if lastHole >= homePosition {
                        var hole = home
                        while keys[hole] != 0 { hole = hole + 1 == size ? 0 : hole + 1 }
                        keys[hole] = k
                        times[hole] = times[j]
                        keys[j] = 0
                    }
                    let isHole = 0 &- (1 &- Self.isSet(keys[j]))
                    lastHole = (position & isHole) | (lastHole & ~isHole)
                }
            }
        }
        count = kept
    }

    /// 1 for a slot in use, 0 for an empty one.
    @inline(__always)
    private static func isSet(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key | (0 &- key)) >> 63) }

    /// Moves the entries to a table half as large again.
    private mutating func grow() {
        var fresh = AcceptedIDs(size: size + size / 2)
        for i in fingerprints.indices where fingerprints[i] != 0 {
            fresh.set(Key(fingerprint: fingerprints[i]), time: times[i])
        }
        self = fresh
    }

    /// The entries in slot order, for snapshots.
    var occupied: [Slot] {
        fingerprints.indices.filter { fingerprints[$0] != 0 }.map { Slot(key: Key(fingerprint: fingerprints[$0]), time: times[$0]) }
    }

    /// A table of `size` slots holding `entries` taken in slot order from a table of that size:
    /// each insertion probes next to the one before, so a million entries go in sequentially.
    init(size: Int, entries: [Slot]) throws {
        guard size >= 16, entries.count * 10 <= size * 7 else {
            throw SnapshotError("snapshot has a malformed dedupe table")
        }
        self.init(size: size)
        for entry in entries { set(entry.key, time: entry.time) }
    }
}
