/// Builds one JSON line in a reused byte buffer: a few appends per field and no encoder, so
/// millions of lines cost little more than their bytes.
struct EventLineWriter: Sendable {
    private(set) var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(1024)
    }

    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Appends literal JSON punctuation and keys, e.g. `,"ts":`.
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends `text` as a quoted JSON string, escaping what JSON requires.
    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(byte)
            case 0..<0x20:
                raw("\\u00")
                bytes.append(Self.hexDigit(byte >> 4))
                bytes.append(Self.hexDigit(byte & 0xF))
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends a quoted id made of `prefix` and a decimal number, e.g. `"e1234"`.
    mutating func numberedID(_ prefix: StaticString, _ number: Int) {
        bytes.append(UInt8(ascii: "\""))
        raw(prefix)
        integer(Int64(number))
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends an entry of a ``QuotedStrings`` table: a whole JSON string in one copy.
    mutating func quoted(_ table: QuotedStrings, _ index: Int) {
        table.withBytes(of: index) { bytes.append(contentsOf: $0) }
    }

    mutating func integer(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var index = 20
            repeat {
                index -= 1
                digits[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[index...]))
        }
    }

    /// Appends integer cents as a JSON number with the fewest decimals: 30, 12.9, 7.99.
    mutating func money(cents: Int) {
        if cents < 0 { bytes.append(UInt8(ascii: "-")) }
        let magnitude = cents.magnitude
        integer(Int64(magnitude / 100))
        let fraction = Int(magnitude % 100)
        guard fraction != 0 else { return }
        bytes.append(UInt8(ascii: "."))
        bytes.append(UInt8(ascii: "0") + UInt8(fraction / 10))
        if fraction % 10 != 0 { bytes.append(UInt8(ascii: "0") + UInt8(fraction % 10)) }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    func makeString() -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

/// Strings written again and again (ids, categories, queries), stored once already quoted
/// and escaped in one byte arena, so writing one is a single copy.
struct QuotedStrings: Sendable {
    private let arena: [UInt8]
    private let ends: [Int]

    init(_ strings: [String]) {
        var writer = EventLineWriter()
        var ends: [Int] = []
        ends.reserveCapacity(strings.count)
        for text in strings {
            writer.string(text)
            ends.append(writer.bytes.count)
        }
        arena = writer.bytes
        self.ends = ends
    }

    var count: Int { ends.count }

    func withBytes<Result>(of index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        let start = index == 0 ? 0 : ends[index - 1]
        return arena.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[start..<ends[index]])) }
    }
}

/// Integer cents as the text a JSON line carries: 30, 12.9, 7.99.
func formatMoney(cents: Int) -> String {
    var writer = EventLineWriter()
    writer.money(cents: cents)
    return writer.makeString()
}
