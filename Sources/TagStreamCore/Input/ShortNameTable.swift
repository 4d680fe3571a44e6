/// Finds a value by a short name (1...16 UTF-8 bytes) without making a `String`: the name's
/// bytes, zero-padded to two little-endian words, key a small open-addressing table.
/// Names never contain NUL bytes, so the two words identify a name exactly.
struct ShortNameTable<Value: Sendable>: Sendable {
    private struct Slot: Sendable {
        var low: UInt64
        var high: UInt64
        /// Nil: an empty slot.
        var value: Value?
    }

    private var slots: [Slot]

    /// `entries` names must be 1...16 bytes long and distinct.
    init(_ entries: [(name: String, value: Value)]) {
        var size = 8
        while size < entries.count * 4 { size <<= 1 }
        slots = Array(repeating: Slot(low: 0, high: 0, value: nil), count: size)
        for (name, value) in entries {
            guard let (low, high) = shortNameWords(Array(name.utf8)) else { preconditionFailure("name too long: \(name)") }
            var i = slot(low, high)
            while slots[i].value != nil { i = (i + 1) & (size - 1) }
            slots[i] = Slot(low: low, high: high, value: value)
        }
    }

    /// The value named by the two words of `shortNameWords`.
    @inline(__always)
    func value(low: UInt64, high: UInt64) -> Value? {
        var i = slot(low, high)
        while true {
            let entry = slots[i]
            guard let value = entry.value else { return nil }
            if entry.low == low, entry.high == high { return value }
            i = (i + 1) & (slots.count - 1)
        }
    }

    /// The value named `name` (the slow path, for names spelled with JSON escapes).
    func value(named name: String) -> Value? {
        shortNameWords(Array(name.utf8)).flatMap { value(low: $0.low, high: $0.high) }
    }

    @inline(__always)
    private func slot(_ low: UInt64, _ high: UInt64) -> Int {
        let mixed = (low ^ (high &* 0x9e37_79b9_7f4a_7c15)) &* 0xff51_afd7_ed55_8ccd
        return Int(truncatingIfNeeded: mixed >> 40) & (slots.count - 1)
    }
}

/// A name's bytes as two zero-padded little-endian words; nil when empty or longer than 16 bytes.
func shortNameWords(_ bytes: [UInt8]) -> (low: UInt64, high: UInt64)? {
    guard !bytes.isEmpty, bytes.count <= 16 else { return nil }
    return bytes.withUnsafeBufferPointer(\.leadingWordPair)
}
