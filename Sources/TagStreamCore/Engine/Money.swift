/// An exact decimal amount in millionths (fixed point), so sums never drift (SPEC §5 "Money is exact").
public struct Money: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let scale: Int64 = 1_000_000
    public static let zero = Money(units: 0)

    /// The amount in millionths.
    public var units: Int64

    public init(units: Int64) { self.units = units }

    public static func < (a: Money, b: Money) -> Bool { a.units < b.units }
    public static func + (a: Money, b: Money) -> Money { Money(units: a.units &+ b.units) }
    public static func - (a: Money, b: Money) -> Money { Money(units: a.units &- b.units) }
    public static func += (a: inout Money, b: Money) { a.units &+= b.units }
    public static func -= (a: inout Money, b: Money) { a.units &-= b.units }

    /// Parses a JSON number's bytes exactly; digits beyond millionths are rounded half to even.
    /// Nil when the value does not fit.
    public static func parse<C: Collection>(_ bytes: C) -> Money? where C.Element == UInt8 {
        var negative = false
        var mantissa: Int64 = 0
        var fractionDigits = 0
        var exponent = 0
        var inFraction = false
        var droppedDigits: [UInt8] = []
        var iterator = bytes.makeIterator()
        var pending = iterator.next()
        if pending == 0x2D { negative = true; pending = iterator.next() }
        while let c = pending {
            switch c {
            case 0x30...0x39:
                if droppedDigits.isEmpty, mantissa <= (Int64.max - 9) / 10 {
                    mantissa = mantissa * 10 + Int64(c - 0x30)
                    if inFraction { fractionDigits += 1 }
                } else {
                    droppedDigits.append(c)
                    if !inFraction { exponent += 1 }
                }
            case 0x2E:
                inFraction = true
            case 0x65, 0x45:
                var sign = 1
                var e = 0
                pending = iterator.next()
                if pending == 0x2D { sign = -1; pending = iterator.next() } else if pending == 0x2B { pending = iterator.next() }
                while let d = pending, d >= 0x30, d <= 0x39 {
                    e = min(e * 10 + Int(d - 0x30), 100_000)
                    pending = iterator.next()
                }
                exponent += sign * e
                continue
            default:
                return nil
            }
            pending = iterator.next()
        }
        // value = mantissa × 10^(exponent − fractionDigits); bring it to 10^-6.
        var shift = exponent - fractionDigits + 6
        var value = mantissa
        var roundingDigit: Int64 = -1
        var sticky = droppedDigits.contains { $0 != 0x30 }
        while shift < 0 {
            if roundingDigit > 0 { sticky = true }
            roundingDigit = value % 10
            value /= 10
            shift += 1
        }
        while shift > 0 {
            guard value <= Int64.max / 10 else { return value == 0 ? .zero : nil }
            value *= 10
            shift -= 1
        }
        if roundingDigit > 5 || (roundingDigit == 5 && (sticky || value % 2 == 1)) { value += 1 }
        return Money(units: negative ? -value : value)
    }

    /// The shortest decimal text: `30`, `12.9`, `7.99`.
    public var description: String {
        let magnitude = units.magnitude
        let whole = magnitude / UInt64(Money.scale)
        var fraction = magnitude % UInt64(Money.scale)
        var text = (units < 0 ? "-" : "") + String(whole)
        if fraction != 0 {
            var digits = 6
            while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
            let f = String(fraction)
            text += "." + String(repeating: "0", count: digits - f.count) + f
        }
        return text
    }
}
