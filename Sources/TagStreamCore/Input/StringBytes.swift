extension String {
    /// Calls `body` with the string's UTF-8 bytes. Unlike `withUTF8`, which needs a `var` copy of
    /// the string (a retain and a release), it reads them in place.
    func withUTF8Bytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let result = try utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = self
        return try copy.withUTF8(body)
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Whether the line holds only spaces, tabs and line ends: a blank line of a file, skipped and
    /// not counted (SPEC §5).
    public var isBlankLine: Bool {
        !contains { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D && $0 != 0x0A }
    }

    /// The first eight bytes as a little-endian word, zero-padded when there are fewer. Shorter
    /// names (most user and community ids have four to seven bytes) are loaded in two overlapping
    /// loads instead of a byte at a time.
    var leadingWord: UInt64 {
        let n = count
        guard n > 0, let base = baseAddress else { return 0 }
        let raw = UnsafeRawPointer(base)
        if n >= 8 { return UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)) }
        if n >= 4 {
            let low = UInt64(UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)))
            let high = UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)))
            return low | high << UInt64(8 * (n - 4))
        }
        return UInt64(base[0]) | UInt64(base[n / 2]) << UInt64(8 * (n / 2)) | UInt64(base[n - 1]) << UInt64(8 * (n - 1))
    }

    /// The first sixteen bytes as two zero-padded little-endian words: the `leadingWord` of the
    /// first eight and of the eight after them.
    var leadingWordPair: (low: UInt64, high: UInt64) {
        let split = Swift.min(count, 8)
        return (UnsafeBufferPointer(rebasing: self[..<split]).leadingWord,
                UnsafeBufferPointer(rebasing: self[split..<Swift.min(count, 16)]).leadingWord)
    }

    /// The bytes after the last multiple of eight, zero-padded, as a little-endian word (0 when
    /// there are none): with eight bytes or more, one load of the last eight, shifted.
    var trailingWord: UInt64 {
        let rest = count % 8
        guard rest > 0 else { return 0 }
        guard count > 8 else { return leadingWord }
        let last = UInt64(littleEndian: UnsafeRawPointer(baseAddress! + count - 8).loadUnaligned(as: UInt64.self))
        return last >> UInt64(8 * (8 - rest))
    }
}
