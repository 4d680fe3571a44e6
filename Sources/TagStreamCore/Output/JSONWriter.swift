/// Appends JSON text to a reusable byte buffer; keys are written in the order given.
/// The buffer is memory of its own rather than an array, whose uniqueness and capacity checks ran
/// on each of a record's thirty-odd appends. Used from one thread at a time; its state skips the
/// run-time exclusivity checks.
public final class JSONWriter {
    @exclusivity(unchecked) private var base: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) private var capacity: Int
    /// Bytes written since the last `reset`.
    @exclusivity(unchecked) private var count = 0
    @exclusivity(unchecked) private var needsComma = false

    public init(capacity: Int = 512) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    /// A copy of the bytes written since the last `reset`.
    public var bytes: [UInt8] { withBytes(Array.init) }

    /// Calls `body` with the bytes written since the last `reset`, valid during the call only.
    public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: count))
    }

    public func reset() {
        count = 0
        needsComma = false
    }

    public func beginObject() { separator(); append(0x7B); needsComma = false }
    public func endObject() { append(0x7D); needsComma = true }
    public func beginArray() { separator(); append(0x5B); needsComma = false }
    public func endArray() { append(0x5D); needsComma = true }

    public func key(_ name: String) {
        separator()
        appendString(name)
        append(0x3A)
        needsComma = false
    }

    public func string(_ value: String?) {
        separator()
        if let value { appendString(value) } else { appendRaw("null") }
        needsComma = true
    }

    /// Writes a 64-bit value as a string of 16 lowercase hex digits.
    public func hex(_ value: UInt64) {
        separator()
        var text: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &text) { buffer in
            buffer[0] = 0x22
            for k in 0..<16 {
                let digit = UInt8(truncatingIfNeeded: value >> UInt64(60 - 4 * k)) & 15
                buffer[1 + k] = digit < 10 ? 0x30 + digit : 0x57 + digit
            }
            buffer[17] = 0x22
            append(UnsafeRawBufferPointer(rebasing: buffer[..<18]))
        }
        needsComma = true
    }

    public func integer(_ value: Int64) {
        separator()
        if value < 0 { append(0x2D) }
        appendDigits(value.magnitude)
        needsComma = true
    }

    /// Writes an amount as `Money.description` spells it (`30`, `12.9`, `-0.05`), without making a `String`.
    public func money(_ amount: Money) {
        separator()
        if amount.units < 0 { append(0x2D) }
        let scale = UInt64(Money.scale)
        appendDigits(amount.units.magnitude / scale)
        var fraction = amount.units.magnitude % scale, digits = 6
        if fraction != 0 {
            while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
            append(0x2E)
            appendDigits(fraction, minimumCount: digits)
        }
        needsComma = true
    }

    /// Writes an instant as an RFC 3339 UTC string with milliseconds (for people reading evidence).
    public func instant(_ ms: Int64) {
        separator()
        let days = EventTime.floorDiv(ms, EventTime.day)
        let (y, mo, d) = EventTime.civil(fromDays: days)
        let rest = ms - days * EventTime.day
        var text: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // "yyyy-mm-ddThh:mm:ss.mmmZ"
        withUnsafeMutableBytes(of: &text) { buffer in
            var count = 0
            func put(_ byte: UInt8) {
                buffer[count] = byte
                count += 1
            }
            func put(_ value: Int64, width: Int) {
                var v = value
                for k in stride(from: width - 1, through: 0, by: -1) {
                    buffer[count + k] = UInt8(truncatingIfNeeded: 0x30 + v % 10)
                    v /= 10
                }
                count += width
            }
            put(0x22)
            put(y, width: 4); put(0x2D); put(mo, width: 2); put(0x2D); put(d, width: 2)
            put(0x54)
            put(rest / EventTime.hour, width: 2); put(0x3A)
            put(rest / EventTime.minute % 60, width: 2); put(0x3A)
            put(rest / 1000 % 60, width: 2)
            if rest % 1000 != 0 { put(0x2E); put(rest % 1000, width: 3) }
            put(0x5A)
            put(0x22)
            append(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
        needsComma = true
    }

    /// Writes `magnitude` in decimal, with leading zeros up to `minimumCount` digits.
    private func appendDigits(_ magnitude: UInt64, minimumCount: Int = 1) {
        var magnitude = magnitude
        var text: (UInt64, UInt64, UInt64) = (0, 0, 0)  // up to 20 digits, written from the end
        withUnsafeMutableBytes(of: &text) { buffer in
            var start = buffer.count
            repeat {
                start -= 1
                buffer[start] = UInt8(truncatingIfNeeded: 0x30 + magnitude % 10)
                magnitude /= 10
            } while magnitude > 0 || buffer.count - start < minimumCount
            append(UnsafeRawBufferPointer(rebasing: buffer[start...]))
        }
    }
    public func bool(_ value: Bool) { raw(value ? "true" : "false") }
    public func null() { raw("null") }
    public func number(_ value: Double) { raw(value.isFinite ? String(value) : "null") }

    /// Writes pre-formatted JSON text (a number, a literal).
    public func raw(_ text: String) {
        separator()
        appendRaw(text)
        needsComma = true
    }

    private func separator() {
        if needsComma { append(0x2C) }
    }

    @inline(__always)
    private func append(_ byte: UInt8) {
        if count == capacity { grow(to: count + 1) }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    private func append(_ text: UnsafeBufferPointer<UInt8>) {
        if count + text.count > capacity { grow(to: count + text.count) }
        if let source = text.baseAddress { (base + count).update(from: source, count: text.count) }
        count += text.count
    }

    private func append(_ text: UnsafeRawBufferPointer) {
        append(text.assumingMemoryBound(to: UInt8.self))
    }

    private func grow(to needed: Int) {
        capacity = max(needed, capacity * 2)
        let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        larger.update(from: base, count: count)
        base.deallocate()
        base = larger
    }

    private func appendRaw(_ text: String) {
        text.withUTF8Bytes { append($0) }
    }

    private func appendString(_ value: String) {
        append(0x22)
        value.withUTF8Bytes { utf8 in
            guard Self.needsEscaping(utf8) else {
                append(utf8)
                return
            }
            var start = 0
            for i in utf8.indices {
                let c = utf8[i]
                guard c == 0x22 || c == 0x5C || c < 0x20 else { continue }
                append(UnsafeBufferPointer(rebasing: utf8[start..<i]))
                start = i + 1
                switch c {
                case 0x22: append(0x5C); append(0x22)
                case 0x5C: append(0x5C); append(0x5C)
                case 0x0A: append(0x5C); append(0x6E)
                case 0x0D: append(0x5C); append(0x72)
                case 0x09: append(0x5C); append(0x74)
                default:
                    let hex: StaticString = "0123456789abcdef"
                    for byte in [0x5C, 0x75, 0x30, 0x30, hex.utf8Start[Int(c >> 4)], hex.utf8Start[Int(c & 15)]] { append(byte) }
                }
            }
            append(UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        append(0x22)
    }

    /// Whether the text holds a byte that a JSON string must escape (`"`, `\\`, a control character),
    /// testing eight bytes at a time.
    private static func needsEscaping(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        var k = 0
        if let base = utf8.baseAddress {
            while k + 8 <= utf8.count {
                let w = UnsafeRawPointer(base + k).loadUnaligned(as: UInt64.self)
                let quote = w ^ (ones &* 0x22), backslash = w ^ (ones &* 0x5C)
                // Each term has a high bit set exactly when some byte is zero (or below 0x20).
                if ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash | (w &- ones &* 0x20) & ~w) & highs != 0 {
                    return true
                }
                k += 8
            }
        }
        while k < utf8.count {
            let c = utf8[k]
            if c == 0x22 || c == 0x5C || c < 0x20 { return true }
            k += 1
        }
        return false
    }
}
