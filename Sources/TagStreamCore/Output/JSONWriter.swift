/// Appends JSON text to a reusable byte buffer; keys are written in the order given.
public struct JSONWriter {
    public var bytes: [UInt8] = []
    private var needsComma = false

    public init() { bytes.reserveCapacity(512) }

    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
    }

    public mutating func beginObject() { separator(); bytes.append(0x7B); needsComma = false }
    public mutating func endObject() { bytes.append(0x7D); needsComma = true }
    public mutating func beginArray() { separator(); bytes.append(0x5B); needsComma = false }
    public mutating func endArray() { bytes.append(0x5D); needsComma = true }

    public mutating func key(_ name: String) {
        separator()
        appendString(name)
        bytes.append(0x3A)
        needsComma = false
    }

    public mutating func string(_ value: String?) {
        separator()
        if let value { appendString(value) } else { appendRaw("null") }
        needsComma = true
    }

    /// Writes a 64-bit value as a string of 16 lowercase hex digits.
    public mutating func hex(_ value: UInt64) {
        separator()
        bytes.append(0x22)
        for shift in stride(from: 60, through: 0, by: -4) {
            let digit = UInt8(truncatingIfNeeded: value >> UInt64(shift)) & 15
            bytes.append(digit < 10 ? 0x30 + digit : 0x57 + digit)
        }
        bytes.append(0x22)
        needsComma = true
    }

    public mutating func integer(_ value: Int64) {
        separator()
        appendDigits(value)
        needsComma = true
    }

    /// Writes an instant as an RFC 3339 UTC string with milliseconds (for people reading evidence).
    public mutating func instant(_ ms: Int64) {
        separator()
        let days = EventTime.floorDiv(ms, EventTime.day)
        let (y, mo, d) = EventTime.civil(fromDays: days)
        let rest = ms - days * EventTime.day
        bytes.append(0x22)
        appendPadded(y, 4); bytes.append(0x2D); appendPadded(mo, 2); bytes.append(0x2D); appendPadded(d, 2)
        bytes.append(0x54)
        appendPadded(rest / EventTime.hour, 2); bytes.append(0x3A)
        appendPadded(rest / EventTime.minute % 60, 2); bytes.append(0x3A)
        appendPadded(rest / 1000 % 60, 2)
        if rest % 1000 != 0 { bytes.append(0x2E); appendPadded(rest % 1000, 3) }
        bytes.append(0x5A)
        bytes.append(0x22)
        needsComma = true
    }

    private mutating func appendPadded(_ value: Int64, _ width: Int) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        var v = value
        while divisor > 0 {
            bytes.append(UInt8(truncatingIfNeeded: 0x30 + v / divisor))
            v %= divisor
            divisor /= 10
        }
    }

    private mutating func appendDigits(_ value: Int64) {
        if value < 0 { bytes.append(0x2D) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // up to 20 digits, little-endian bytes
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(truncatingIfNeeded: 0x30 + magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for k in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[k]) }
        }
    }
    public mutating func bool(_ value: Bool) { raw(value ? "true" : "false") }
    public mutating func null() { raw("null") }
    public mutating func number(_ value: Double) { raw(value.isFinite ? String(value) : "null") }

    /// Writes pre-formatted JSON text (a number, a literal).
    public mutating func raw(_ text: String) {
        separator()
        appendRaw(text)
        needsComma = true
    }

    private mutating func separator() {
        if needsComma { bytes.append(0x2C) }
    }

    private mutating func appendRaw(_ text: String) {
        var t = text
        t.withUTF8 { bytes.append(contentsOf: $0) }
    }

    private mutating func appendString(_ value: String) {
        bytes.append(0x22)
        var v = value
        v.withUTF8 { utf8 in
            guard Self.needsEscaping(utf8) else {
                bytes.append(contentsOf: utf8)
                return
            }
            var start = 0
            for i in utf8.indices {
                let c = utf8[i]
                guard c == 0x22 || c == 0x5C || c < 0x20 else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i]))
                start = i + 1
                switch c {
                case 0x22: bytes.append(0x5C); bytes.append(0x22)
                case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
                case 0x0A: bytes.append(0x5C); bytes.append(0x6E)
                case 0x0D: bytes.append(0x5C); bytes.append(0x72)
                case 0x09: bytes.append(0x5C); bytes.append(0x74)
                default:
                    let hex: StaticString = "0123456789abcdef"
                    bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex.utf8Start[Int(c >> 4)], hex.utf8Start[Int(c & 15)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(0x22)
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
