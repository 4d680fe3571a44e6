/// Why a record is not valid JSON; a message for people.
struct JSONSyntaxError: Error {
    let message: String
    let offset: Int
}

/// One JSON value located in a record's bytes.
struct JSONToken {
    enum Kind: UInt8 { case string, number, object, array, bool, null }
    var kind: Kind
    /// For strings: the bytes between the quotes. Otherwise the value's bytes.
    var start: Int
    var end: Int
    /// Strings: contains a backslash escape. Numbers: has a fraction or an exponent.
    var flag: Bool

    var isIntegerNumber: Bool { kind == .number && !flag }
}

/// Up to 16 bytes of JSON text to recognise in place: two zero-padded little-endian words, the
/// masks that keep a key's bytes of two words loaded from the text, and a length.
struct QuotedKey: Sendable {
    let low: UInt64
    let high: UInt64
    let lowMask: UInt64
    let highMask: UInt64
    let length: Int

    init(_ text: String) {
        guard let words = shortNameWords(Array(text.utf8)) else { preconditionFailure("a key of 1 to 16 bytes: \(text)") }
        (low, high, length) = (words.low, words.high, text.utf8.count)
        (lowMask, highMask) = JSONReader.wordMasks(length: length)
    }
}

/// A strict, allocation-free JSON scanner (RFC 8259, UTF-8 checked) over one record.
struct JSONReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    static let maximumDepth = 256

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    func fail(_ message: String) -> JSONSyntaxError { JSONSyntaxError(message: message, offset: position) }

    @inline(__always)
    mutating func skipWhitespace() {
        // Compact JSON has no whitespace between tokens: test for that first.
        if position < bytes.count, bytes[position] > 0x20 { return }
        skipWhitespaceBytes()
    }

    private mutating func skipWhitespaceBytes() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    var atEnd: Bool { position >= bytes.count }

    func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    @inline(__always)
    mutating func expect(_ byte: UInt8, _ what: StaticString) throws(JSONSyntaxError) {
        if position < bytes.count, bytes[position] == byte {
            position += 1
            return
        }
        skipWhitespace()
        guard peek() == byte else { throw fail("expected \(what)") }
        position += 1
    }

    /// Advances past `key` when the bytes at the current position are exactly it.
    @inline(always)
    mutating func skip(_ key: QuotedKey) -> Bool {
        let low: UInt64, high: UInt64
        if bytes.count - position >= 16 {
            let base = UnsafeRawPointer(bytes.baseAddress! + position)
            low = base.loadUnaligned(as: UInt64.self) & key.lowMask
            high = base.loadUnaligned(fromByteOffset: 8, as: UInt64.self) & key.highMask
        } else {
            guard bytes.count - position >= key.length else { return false }
            (low, high) = words(at: position, length: key.length)
        }
        guard low == key.low, high == key.high else { return false }
        position += key.length
        return true
    }

    /// Reads any value, validating nested content.
    mutating func readValue(depth: Int = 0) throws(JSONSyntaxError) -> JSONToken {
        skipWhitespace()
        guard let c = peek() else { throw fail("unexpected end of input") }
        let start = position
        switch c {
        case 0x22: return try readString()
        case 0x7B:
            try skipContainer(close: 0x7D, depth: depth, isObject: true)
            return JSONToken(kind: .object, start: start, end: position, flag: false)
        case 0x5B:
            try skipContainer(close: 0x5D, depth: depth, isObject: false)
            return JSONToken(kind: .array, start: start, end: position, flag: false)
        case 0x74: try literal("true"); return JSONToken(kind: .bool, start: start, end: position, flag: false)
        case 0x66: try literal("false"); return JSONToken(kind: .bool, start: start, end: position, flag: false)
        case 0x6E: try literal("null"); return JSONToken(kind: .null, start: start, end: position, flag: false)
        case 0x2D, 0x30...0x39: return try readNumber()
        default: throw fail("unexpected character")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - position >= count else { throw fail("invalid literal") }
        for k in 0..<count where bytes[position + k] != word.utf8Start[k] { throw fail("invalid literal") }
        position += count
    }

    mutating func skipContainer(close: UInt8, depth: Int, isObject: Bool) throws(JSONSyntaxError) {
        guard depth < Self.maximumDepth else { throw fail("nesting too deep") }
        position += 1
        skipWhitespace()
        if peek() == close { position += 1; return }
        while true {
            if isObject {
                skipWhitespace()
                guard peek() == 0x22 else { throw fail("expected a key") }
                _ = try readString()
                try expect(0x3A, "':'")
            }
            _ = try readValue(depth: depth + 1)
            skipWhitespace()
            guard let c = peek() else { throw fail("unterminated container") }
            position += 1
            if c == close { return }
            guard c == 0x2C else { throw fail("expected ',' or a closing bracket") }
        }
    }

    /// Reads a string at the current quote; validates escapes and UTF-8.
    mutating func readString() throws(JSONSyntaxError) -> JSONToken {
        position += 1
        let start = position
        var escaped = false
        while true {
            skipPlainStringBytes()
            guard position < bytes.count else { throw fail("unterminated string") }
            switch bytes[position] {
            case 0x22:
                let token = JSONToken(kind: .string, start: start, end: position, flag: escaped)
                position += 1
                return token
            case 0x5C:
                escaped = true
                position += 1
                guard let e = peek() else { throw fail("unterminated escape") }
                switch e {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: position += 1
                case 0x75:
                    let unit = try readUnicodeEscape()
                    if unit >= 0xDC00, unit < 0xE000 { throw fail("lone low surrogate escape") }
                    if unit >= 0xD800, unit < 0xDC00 {
                        // Only a high surrogate followed by a low one spells a character.
                        guard bytes.count - position >= 2, bytes[position] == 0x5C, bytes[position + 1] == 0x75 else {
                            throw fail("lone high surrogate escape")
                        }
                        position += 1
                        let low = try readUnicodeEscape()
                        guard low >= 0xDC00, low < 0xE000 else { throw fail("lone high surrogate escape") }
                    }
                default: throw fail("invalid escape")
                }
            case 0x80...:
                try skipUTF8Sequence()
            default:
                throw fail("control character in string")
            }
        }
    }

    /// Reads the `u` and four hex digits of a `\\u` escape (the backslash is behind) as a UTF-16 unit.
    private mutating func readUnicodeEscape() throws(JSONSyntaxError) -> UInt32 {
        guard bytes.count - position >= 5 else { throw fail("invalid \\u escape") }
        var unit: UInt32 = 0
        for k in 1...4 {
            guard let digit = Self.hexValue(bytes[position + k]) else { throw fail("invalid \\u escape") }
            unit = unit << 4 | digit
        }
        position += 5
        return unit
    }

    /// Reads a string at the current quote when it is all printable ASCII without escapes, the
    /// common case, inlined where values are read; nil, with nothing read, otherwise.
    @inline(__always)
    mutating func readPlainString() -> JSONToken? {
        let start = position + 1
        var end = start
        skipPlainStringBytes(from: &end)
        guard end < bytes.count, bytes[end] == 0x22 else { return nil }
        position = end + 1
        return JSONToken(kind: .string, start: start, end: end, flag: false)
    }

    /// Advances over printable ASCII other than `"` and `\\`, eight bytes at a time where it can.
    private mutating func skipPlainStringBytes() {
        skipPlainStringBytes(from: &position)
    }

    @inline(__always)
    private func skipPlainStringBytes(from position: inout Int) {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let base = UnsafeRawPointer(bytes.baseAddress!)
        while position + 8 <= bytes.count {
            let w = base.loadUnaligned(fromByteOffset: position, as: UInt64.self)
            let quote = w ^ (ones &* 0x22), backslash = w ^ (ones &* 0x5C)
            let special = (((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((w &- ones &* 0x20) & ~w) | w) & highs
            // The lowest flagged byte is always a real one (borrows only run towards higher bytes).
            if special != 0 {
                position += special.trailingZeroBitCount / 8
                return
            }
            position += 8
        }
        while position < bytes.count {
            let c = bytes[position]
            guard c >= 0x20, c < 0x80, c != 0x22, c != 0x5C else { return }
            position += 1
        }
    }

    mutating func skipUTF8Sequence() throws(JSONSyntaxError) {
        let c = bytes[position]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw fail("invalid UTF-8")
        }
        guard bytes.count - position >= length else { throw fail("invalid UTF-8") }
        for k in 1..<length {
            let b = bytes[position + k]
            let (lo, hi) = k == 1 ? (low, high) : (UInt8(0x80), UInt8(0xBF))
            guard b >= lo, b <= hi else { throw fail("invalid UTF-8") }
        }
        position += length
    }

    mutating func readNumber() throws(JSONSyntaxError) -> JSONToken {
        let start = position
        var isFractional = false
        if peek() == 0x2D { position += 1 }
        guard let first = peek(), first >= 0x30, first <= 0x39 else { throw fail("invalid number") }
        position += 1
        if first != 0x30 { skipDigits() }
        if peek() == 0x2E {
            position += 1
            guard skipDigits() > 0 else { throw fail("invalid number") }
            isFractional = true
        }
        if let e = peek(), e == 0x65 || e == 0x45 {
            position += 1
            if let s = peek(), s == 0x2B || s == 0x2D { position += 1 }
            guard skipDigits() > 0 else { throw fail("invalid number") }
            isFractional = true
        }
        return JSONToken(kind: .number, start: start, end: position, flag: isFractional)
    }

    @discardableResult
    mutating func skipDigits() -> Int {
        let start = position
        while position < bytes.count, bytes[position] &- 0x30 < 10 { position += 1 }
        return position - start
    }

    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: return UInt32(c - 0x30)
        case 0x41...0x46: return UInt32(c - 0x41 + 10)
        case 0x61...0x66: return UInt32(c - 0x61 + 10)
        default: return nil
        }
    }

    /// The text of a string token, with escapes resolved.
    func string(_ token: JSONToken) -> String {
        let slice = UnsafeBufferPointer(rebasing: bytes[token.start..<token.end])
        guard token.flag else { return String(decoding: slice, as: UTF8.self) }
        var scalars = String.UnicodeScalarView()
        var utf8: [UInt8] = []
        var k = 0
        func flush() {
            if !utf8.isEmpty {
                scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
                utf8.removeAll(keepingCapacity: true)
            }
        }
        func hex4(_ at: Int) -> UInt32 {
            (0..<4).reduce(0) { $0 << 4 | Self.hexValue(slice[at + $1])! }
        }
        while k < slice.count {
            let c = slice[k]
            guard c == 0x5C else { utf8.append(c); k += 1; continue }
            flush()
            let e = slice[k + 1]
            k += 2
            switch e {
            case 0x62: scalars.append("\u{08}")
            case 0x66: scalars.append("\u{0C}")
            case 0x6E: scalars.append("\n")
            case 0x72: scalars.append("\r")
            case 0x74: scalars.append("\t")
            case 0x75:
                var value = hex4(k)
                k += 4
                if value >= 0xD800, value < 0xDC00, k + 6 <= slice.count, slice[k] == 0x5C, slice[k + 1] == 0x75 {
                    let low = hex4(k + 2)
                    if low >= 0xDC00, low < 0xE000 {
                        value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                        k += 6
                    }
                }
                scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            default: scalars.append(Unicode.Scalar(e))
            }
        }
        flush()
        return String(scalars)
    }

    /// The value a string token names in `table`, comparing bytes (escapes resolved).
    @inline(__always)
    func lookUp<Value>(_ token: JSONToken, in table: ShortNameTable<Value>) -> Value? {
        if token.flag { return table.value(named: string(token)) }
        let length = token.end - token.start
        guard length > 0, length <= 16 else { return nil }
        let (low, high) = words(at: token.start, length: length)
        return table.value(low: low, high: high)
    }

    /// The masks that keep the first `length` bytes (1...16) of two little-endian words.
    @inline(__always)
    static func wordMasks(length: Int) -> (low: UInt64, high: UInt64) {
        (length >= 8 ? .max : (1 << UInt64(8 * length)) - 1,
         length <= 8 ? 0 : length == 16 ? .max : (1 << UInt64(8 * (length - 8))) - 1)
    }

    /// The `length` bytes (1...16) at `start` as two zero-padded little-endian words, as
    /// `shortNameWords` spells a name.
    @inline(__always)
    private func words(at start: Int, length: Int) -> (low: UInt64, high: UInt64) {
        var low: UInt64 = 0, high: UInt64 = 0
        if start + 16 <= bytes.count {
            let base = UnsafeRawPointer(bytes.baseAddress! + start)
            low = base.loadUnaligned(as: UInt64.self)
            high = base.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            let masks = Self.wordMasks(length: length)
            low &= masks.low
            high &= masks.high
        } else {
            (low, high) = UnsafeBufferPointer(rebasing: bytes[start..<start + length]).leadingWordPair
        }
        return (low, high)
    }
}
