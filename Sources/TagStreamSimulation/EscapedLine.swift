/// Rewrites a JSON line with the escapes some producers write: `\uXXXX` for every non-ASCII
/// character (`有机` becomes `\u6709\u673a`), `\/` for `/`, and ASCII letters of keys and
/// values as `\u00XX`. The strings a reader unescapes stay the same.
enum EscapedLine {
    /// Chance that a string (key or value) gets one ASCII letter escaped.
    private static let letterChance = 0.15
    /// Strings every line of the simulator starts with, all with letters: the keys and values of
    /// `event_id`, `type` and `user_id`, and the key `ts`. One of them always gets a letter
    /// escaped, so every rewritten line holds an escape.
    private static let leadingStrings = 7

    static func rewrite(_ line: [UInt8], random: inout RandomSource) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(line.count * 2)
        var inString = false
        var escapeNextLetter = false
        var strings = 0
        let certainString = random.below(leadingStrings)
        var i = 0
        while i < line.count {
            let byte = line[i]
            guard inString else {
                out.append(byte)
                if byte == UInt8(ascii: "\"") {
                    inString = true
                    escapeNextLetter = random.chance(letterChance) || strings == certainString
                    strings += 1
                }
                i += 1
                continue
            }
            switch byte {
            case UInt8(ascii: "\\"):
                // An escape already there stays as it is: `\"`, `\\`, `\u0001`.
                let length = i + 1 < line.count && line[i + 1] == UInt8(ascii: "u") ? 6 : 2
                out.append(contentsOf: line[i..<min(i + length, line.count)])
                i += length
            case UInt8(ascii: "\""):
                out.append(byte)
                inString = false
                i += 1
            case UInt8(ascii: "/"):
                out.append(contentsOf: #"\/"#.utf8)
                i += 1
            case 0x80...:
                let (scalar, length) = decodeScalar(line, at: i)
                appendEscaped(scalar, to: &out)
                i += length
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                if escapeNextLetter {
                    appendUnit(UInt16(byte), to: &out)
                    escapeNextLetter = false
                } else {
                    out.append(byte)
                }
                i += 1
            default:
                out.append(byte)
                i += 1
            }
        }
        return out
    }

    /// The scalar of the (valid) UTF-8 sequence at `index` and its length in bytes.
    private static func decodeScalar(_ bytes: [UInt8], at index: Int) -> (UInt32, Int) {
        let lead = bytes[index]
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
        var scalar = UInt32(lead) & (length == 4 ? 0x07 : length == 3 ? 0x0F : 0x1F)
        for k in 1..<length {
            scalar = scalar << 6 | UInt32(bytes[index + k] & 0x3F)
        }
        return (scalar, length)
    }

    /// `\uXXXX`, or a surrogate pair beyond the Basic Multilingual Plane.
    private static func appendEscaped(_ scalar: UInt32, to out: inout [UInt8]) {
        if scalar < 0x1_0000 {
            appendUnit(UInt16(scalar), to: &out)
        } else {
            let value = scalar - 0x1_0000
            appendUnit(UInt16(0xD800 + (value >> 10)), to: &out)
            appendUnit(UInt16(0xDC00 + (value & 0x3FF)), to: &out)
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func appendUnit(_ unit: UInt16, to out: inout [UInt8]) {
        out.append(contentsOf: #"\u"#.utf8)
        for shift in stride(from: 12, through: 0, by: -4) {
            out.append(hexDigits[Int(unit >> UInt16(shift) & 0xF)])
        }
    }
}
