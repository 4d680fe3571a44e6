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
            var start = 0
            for (i, c) in utf8.enumerated() where c == 0x22 || c == 0x5C || c < 0x20 {
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
}
