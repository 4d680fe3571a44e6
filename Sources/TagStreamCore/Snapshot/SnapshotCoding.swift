/// Why a snapshot cannot be used; says what to do for a person.
public struct SnapshotError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
}

/// Appends the binary snapshot encoding: little-endian, zig-zag varints, length-prefixed bytes.
/// Columns of millions of values are written in one pass over raw memory (`write(column:)`).
public struct SnapshotWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// A writer whose buffer holds `capacity` bytes before it must grow.
    public init(reservingCapacity capacity: Int) { bytes.reserveCapacity(capacity) }

    /// Appends bytes as they are (no length prefix).
    public mutating func append(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }

    public mutating func write(_ value: Int64) {
        var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func write(_ value: Int) { write(Int64(value)) }
    public mutating func write(_ value: Int32) { write(Int64(value)) }
    public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func write(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    public mutating func write(_ value: String) {
        write(value.utf8.count)
        bytes.append(contentsOf: value.utf8)
    }

    public mutating func write(_ value: Money) { write(value.units) }

    public mutating func write(optional value: Int64?) {
        write(value != nil)
        if let value { write(value) }
    }

    public mutating func write<C: Collection>(_ values: C, _ element: (inout SnapshotWriter, C.Element) -> Void) {
        write(values.count)
        for value in values { element(&self, value) }
    }

    public mutating func write(raw: [UInt8]) {
        write(raw.count)
        bytes.append(contentsOf: raw)
    }

    /// A count, then each value as a varint of its zig-zag form plus two (wrapping), so that `.max`
    /// and `.min`, which mark "none" and "never" in the engine's columns, take one byte each.
    public mutating func write<C: Collection>(column values: C) where C.Element: FixedWidthInteger & SignedInteger {
        write(values.count)
        var iterator = values.makeIterator()
        encode(values.count, bytesPerValue: 10) { out in
            let x = Int64(iterator.next()!)
            var v = UInt64(bitPattern: (x << 1) ^ (x >> 63)) &+ 2
            var p = 0
            while v >= 0x80 {
                out[p] = UInt8(truncatingIfNeeded: v) | 0x80
                v >>= 7
                p += 1
            }
            out[p] = UInt8(truncatingIfNeeded: v)
            return p + 1
        }
    }

    /// A count, then one byte per flag.
    public mutating func write(column values: [Bool]) {
        write(values.count)
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    /// A count, then each value as 8 little-endian bytes (for hashes, which varints would lengthen).
    public mutating func write<C: Collection>(words values: C) where C.Element == UInt64 {
        write(values.count)
        var iterator = values.makeIterator()
        encode(values.count, bytesPerValue: 8) { out in
            UnsafeMutableRawPointer(out).storeBytes(of: iterator.next()!.littleEndian, as: UInt64.self)
            return 8
        }
    }

    /// Appends `count` values, each encoded by `value` into at most `bytesPerValue` bytes, through a
    /// small stack buffer: a column of millions costs no per-byte capacity check and no large copy.
    private mutating func encode(_ count: Int, bytesPerValue: Int, _ value: (UnsafeMutablePointer<UInt8>) -> Int) {
        let batch = 4096
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: batch * bytesPerValue) { buffer in
            let base = buffer.baseAddress!
            var remaining = count
            while remaining > 0 {
                let n = Swift.min(remaining, batch)
                var used = 0
                for _ in 0..<n { used += value(base + used) }
                bytes.append(contentsOf: UnsafeBufferPointer(start: base, count: used))
                remaining -= n
            }
        }
    }
}

/// Reads what `SnapshotWriter` wrote, refusing anything truncated or malformed.
public struct SnapshotReader {
    let bytes: [UInt8]
    var position = 0
    /// Where the readable bytes end (an envelope's checksum lies beyond).
    let end: Int

    public init(_ bytes: [UInt8], at position: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.position = position
        self.end = end ?? bytes.count
    }

    public var isAtEnd: Bool { position == end }

    public mutating func readInt64() throws -> Int64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end, shift < 64 else { throw SnapshotError("snapshot is truncated or corrupt") }
            let b = bytes[position]
            position += 1
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { break }
            shift += 7
        }
        return Int64(bitPattern: result >> 1) ^ -Int64(bitPattern: result & 1)
    }

    public mutating func readInt() throws -> Int { Int(try readInt64()) }

    public mutating func readInt32() throws -> Int32 {
        let v = try readInt64()
        guard let i = Int32(exactly: v) else { throw SnapshotError("snapshot is corrupt: \(v) is out of range") }
        return i
    }

    public mutating func readCount() throws -> Int {
        let n = try readInt()
        guard n >= 0, n <= end - position else { throw SnapshotError("snapshot is truncated or corrupt") }
        return n
    }

    public mutating func readBool() throws -> Bool {
        guard position < end else { throw SnapshotError("snapshot is truncated") }
        position += 1
        return bytes[position - 1] != 0
    }

    public mutating func readUInt64() throws -> UInt64 {
        guard end - position >= 8 else { throw SnapshotError("snapshot is truncated") }
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(bytes[position + k]) << UInt64(8 * k) }
        position += 8
        return v
    }

    public mutating func readString() throws -> String {
        let n = try readCount()
        defer { position += n }
        return String(decoding: bytes[position..<position + n], as: UTF8.self)
    }

    public mutating func readMoney() throws -> Money { Money(units: try readInt64()) }

    public mutating func readOptionalInt64() throws -> Int64? {
        try readBool() ? try readInt64() : nil
    }

    public mutating func readArray<T>(_ element: (inout SnapshotReader) throws -> T) throws -> [T] {
        let n = try readCount()
        var result: [T] = []
        result.reserveCapacity(n)
        for _ in 0..<n { result.append(try element(&self)) }
        return result
    }

    public mutating func readRaw() throws -> [UInt8] {
        let n = try readCount()
        defer { position += n }
        return Array(bytes[position..<position + n])
    }

    /// What `SnapshotWriter.write(column:)` wrote; refuses values out of `T`'s range.
    public mutating func readColumn<T: FixedWidthInteger & SignedInteger>(_: T.Type = T.self) throws -> [T] {
        let n = try readCount()
        var p = position
        let end = end
        let values = try bytes.withUnsafeBufferPointer { b in
            try [T](unsafeUninitializedCapacity: n) { out, initialized in
                for i in 0..<n {
                    var v: UInt64 = 0
                    var shift: UInt64 = 0
                    while true {
                        guard p < end, shift < 64 else { throw SnapshotError("snapshot is truncated or corrupt") }
                        let byte = b[p]
                        p += 1
                        v |= UInt64(byte & 0x7F) << shift
                        if byte < 0x80 { break }
                        shift += 7
                    }
                    v &-= 2
                    guard let value = T(exactly: Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)) else {
                        throw SnapshotError("snapshot is corrupt: a value is out of range")
                    }
                    out[i] = value
                    initialized = i + 1
                }
            }
        }
        position = p
        return values
    }

    /// What `SnapshotWriter.write(column: [Bool])` wrote.
    public mutating func readFlags() throws -> [Bool] {
        let n = try readCount()
        defer { position += n }
        return bytes[position..<position + n].map { $0 != 0 }
    }

    /// What `SnapshotWriter.write(words:)` wrote.
    public mutating func readWords() throws -> [UInt64] {
        let n = try readCount()
        guard n <= (end - position) / 8 else { throw SnapshotError("snapshot is truncated or corrupt") }
        defer { position += 8 * n }
        return bytes.withUnsafeBytes { b in
            (0..<n).map { UInt64(littleEndian: b.loadUnaligned(fromByteOffset: position + 8 * $0, as: UInt64.self)) }
        }
    }
}

/// A versioned, checksummed envelope around snapshot sections.
public enum SnapshotEnvelope {
    public static let magic: [UInt8] = Array("TAGSTREAM-SNAPSHOT".utf8)
    /// The format this build writes and reads.
    public static let formatVersion = 9

    /// FNV-1a-64 over little-endian 64-bit words, then the remaining bytes: a word at a time, so
    /// that snapshots of hundreds of megabytes are checked in a fraction of a second.
    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.withUnsafeBytes { raw in
            let prime: UInt64 = 0x0000_0100_0000_01B3
            var v: UInt64 = 0xcbf2_9ce4_8422_2325
            let words = raw.count / 8
            for i in 0..<words { v = (v ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))) &* prime }
            for b in raw[(words * 8)...] { v = (v ^ UInt64(b)) &* prime }
            return v
        }
    }

    /// The magic, version and pipeline fingerprint, then what `body` writes, then a checksum:
    /// written into one buffer (`capacity` is a hint of the size).
    public static func seal(pipelineFingerprint: UInt64, capacity: Int = 0,
                            _ body: (inout SnapshotWriter) throws -> Void) rethrows -> [UInt8] {
        var w = SnapshotWriter(reservingCapacity: magic.count + capacity + 40)
        w.append(magic)
        w.write(formatVersion)
        w.write(pipelineFingerprint)
        try body(&w)
        w.write(checksum(w.bytes[magic.count...]))
        return w.bytes
    }

    /// Checks the envelope and returns a reader of its body (no copy); refuses other formats,
    /// pipelines and damaged bytes.
    public static func open(_ bytes: [UInt8], pipelineFingerprint: UInt64) throws -> SnapshotReader {
        guard bytes.starts(with: magic) else { throw SnapshotError("not a TagStream snapshot") }
        guard bytes.count >= magic.count + 8 else { throw SnapshotError("snapshot is truncated") }
        var r = SnapshotReader(bytes, at: magic.count, end: bytes.count - 8)
        let version = try r.readInt()
        guard version == formatVersion else {
            throw SnapshotError("snapshot format version \(version) is not supported by this build (it reads version \(formatVersion))")
        }
        var tail = SnapshotReader(bytes, at: bytes.count - 8)
        guard try tail.readUInt64() == checksum(bytes[magic.count..<(bytes.count - 8)]) else {
            throw SnapshotError("snapshot checksum does not match: the data is damaged")
        }
        guard try r.readUInt64() == pipelineFingerprint else {
            throw SnapshotError("snapshot was taken with a different pipeline; start without it or use the same pipeline")
        }
        return r
    }
}
