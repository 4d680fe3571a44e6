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

    public mutating func integer(_ value: Int64) { raw(String(value)) }
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
            for c in utf8 {
                switch c {
                case 0x22: bytes.append(0x5C); bytes.append(0x22)
                case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
                case 0x0A: bytes.append(0x5C); bytes.append(0x6E)
                case 0x0D: bytes.append(0x5C); bytes.append(0x72)
                case 0x09: bytes.append(0x5C); bytes.append(0x74)
                case 0..<0x20:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 15)]])
                default: bytes.append(c)
                }
            }
        }
        bytes.append(0x22)
    }
}
