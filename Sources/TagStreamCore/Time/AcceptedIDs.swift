/// The `event_id`s accepted within the dedupe horizon with their `ts`: an open-addressing table
/// keyed by a 128-bit hash of the id (a false match is as likely as a 2⁻¹²⁸ coincidence).
struct AcceptedIDs: Sendable {
    struct Key: Equatable, Sendable {
        var a: UInt64
        var b: UInt64

        init(_ id: String) {
            var a: UInt64 = 0xcbf2_9ce4_8422_2325
            var b: UInt64 = 0x9e37_79b9_7f4a_7c15
            for byte in id.utf8 {
                a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
                b = (b ^ UInt64(byte)) &* 0xff51_afd7_ed55_8ccd
                b ^= b >> 29
            }
            self.a = a
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

    private(set) var keys: [Key]
    /// `.min` marks an empty slot.
    private(set) var times: [Int64]
    private(set) var count = 0

    init(capacity: Int = 1 << 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = Array(repeating: Key(a: 0, b: 0), count: size)
        times = Array(repeating: .min, count: size)
    }

    private func find(_ key: Key) -> Int {
        let mask = keys.count - 1
        var i = key.slot & mask
        while times[i] != .min, keys[i] != key { i = (i + 1) & mask }
        return i
    }

    func time(of key: Key) -> Int64? {
        let i = find(key)
        return times[i] == .min ? nil : times[i]
    }

    mutating func set(_ key: Key, time: Int64) {
        let i = find(key)
        if times[i] == .min {
            count += 1
            keys[i] = key
        }
        times[i] = time
        if count * 10 > keys.count * 7 { rebuild(keepingAfter: .min, capacity: count * 2) }
    }

    /// Drops every id whose `ts` is at or before `horizon`.
    mutating func prune(keepingAfter horizon: Int64) {
        rebuild(keepingAfter: horizon, capacity: max(1 << 16, count))
    }

    private mutating func rebuild(keepingAfter horizon: Int64, capacity: Int) {
        var fresh = AcceptedIDs(capacity: capacity)
        for i in times.indices where times[i] != .min && times[i] > horizon {
            fresh.set(keys[i], time: times[i])
        }
        self = fresh
    }

    /// Every entry, for snapshots.
    var entries: [(Key, Int64)] {
        times.indices.filter { times[$0] != .min }.map { (keys[$0], times[$0]) }
    }
}
