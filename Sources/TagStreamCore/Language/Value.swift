/// A runtime value of the pipeline language: a plain-old-data triple, so evaluation never allocates.
/// Numbers and durations are exact fractions `numerator / denominator` (money is millionths,
/// durations milliseconds), compared without rounding.
struct Value: Sendable, Equatable {
    enum Kind: UInt8, Sendable {
        /// No value: an aggregate over nothing, a percentile of too small a population, a division by zero.
        case none
        case bool
        case number
        /// A number produced by division; written to outputs as a floating-point ratio.
        case ratio
        case duration
        /// Epoch milliseconds in `numerator`.
        case instant
        /// The index of a tag in its group in `numerator` (-1: no tag).
        case tag
    }

    var kind: Kind
    var numerator: Int64
    var denominator: Int64

    static let none = Value(kind: .none, numerator: 0, denominator: 1)
    static let `true` = Value(kind: .bool, numerator: 1, denominator: 1)
    static let `false` = Value(kind: .bool, numerator: 0, denominator: 1)

    static func bool(_ b: Bool) -> Value { b ? .true : .false }
    static func number(_ n: Int64, _ d: Int64 = 1) -> Value { Value(kind: .number, numerator: n, denominator: d) }
    static func duration(_ n: Int64, _ d: Int64 = 1) -> Value { Value(kind: .duration, numerator: n, denominator: d) }
    static func instant(_ t: Int64) -> Value { Value(kind: .instant, numerator: t, denominator: 1) }
    static func tag(_ index: Int) -> Value { Value(kind: .tag, numerator: Int64(index), denominator: 1) }

    var isNone: Bool { kind == .none }
    /// True only for a boolean true; none is false.
    var isTrue: Bool { kind == .bool && numerator != 0 }

    /// ⌈value⌉ of a fraction.
    var ceiling: Int64 {
        let (q, r) = numerator.quotientAndRemainder(dividingBy: denominator)
        return r > 0 ? q + 1 : q
    }

    /// ⌊value⌋ of a fraction.
    var floor: Int64 {
        let (q, r) = numerator.quotientAndRemainder(dividingBy: denominator)
        return r < 0 ? q - 1 : q
    }
}

// MARK: Exact arithmetic

extension Value {
    /// -1, 0 or 1; nil when either side is none or the kinds do not compare.
    static func compare(_ a: Value, _ b: Value) -> Int? {
        guard a.kind != .none, b.kind != .none else { return nil }
        if a.kind == .tag || a.kind == .bool || a.kind == .instant {
            guard b.kind == a.kind else { return nil }
            return a.numerator < b.numerator ? -1 : a.numerator == b.numerator ? 0 : 1
        }
        // a.n / a.d <=> b.n / b.d, denominators positive.
        let left = a.numerator.multipliedFullWidth(by: b.denominator)
        let right = b.numerator.multipliedFullWidth(by: a.denominator)
        if left.high != right.high { return left.high < right.high ? -1 : 1 }
        return left.low < right.low ? -1 : left.low == right.low ? 0 : 1
    }

    /// A strict total order on the values of one type: by `compare`, then (for values it finds
    /// equal) by kind and spelling, so that percentiles do not depend on the order of their samples.
    static func precedes(_ a: Value, _ b: Value) -> Bool {
        let order = compare(a, b) ?? 0
        return order != 0 ? order < 0 : (a.kind.rawValue, a.numerator, a.denominator) < (b.kind.rawValue, b.numerator, b.denominator)
    }

    /// The kind of a sum or difference: durations stay durations, instants move by durations.
    static func add(_ a: Value, _ b: Value, negate: Bool) -> Value {
        guard a.kind != .none, b.kind != .none else { return .none }
        var kind = Kind.number
        if a.kind == .instant || b.kind == .instant {
            // instant ± duration (rounded up to the millisecond), instant − instant
            if a.kind == .instant, b.kind == .instant {
                return negate ? .duration(a.numerator &- b.numerator) : .none
            }
            if a.kind == .instant { return .instant(negate ? a.numerator &- b.ceiling : a.numerator &+ b.ceiling) }
            return negate ? .none : .instant(b.numerator &+ a.ceiling)
        }
        if a.kind == .duration || b.kind == .duration { kind = .duration }
        if a.kind == .ratio || b.kind == .ratio { kind = .ratio }
        return fraction(kind, a.numerator, a.denominator, b.numerator, b.denominator, negate: negate)
    }

    private static func fraction(_ kind: Kind, _ an: Int64, _ ad: Int64, _ bn: Int64, _ bd: Int64, negate: Bool) -> Value {
        if ad == bd {
            let (n, o) = negate ? an.subtractingReportingOverflow(bn) : an.addingReportingOverflow(bn)
            return o ? .none : reduced(kind, n, ad)
        }
        let (x, o1) = an.multipliedReportingOverflow(by: bd)
        let (y, o2) = bn.multipliedReportingOverflow(by: ad)
        let (d, o3) = ad.multipliedReportingOverflow(by: bd)
        let (n, o4) = negate ? x.subtractingReportingOverflow(y) : x.addingReportingOverflow(y)
        return o1 || o2 || o3 || o4 ? .none : reduced(kind, n, d)
    }

    static func multiply(_ a: Value, _ b: Value) -> Value {
        guard a.kind != .none, b.kind != .none else { return .none }
        let kind: Kind = a.kind == .duration || b.kind == .duration ? .duration : a.kind == .ratio || b.kind == .ratio ? .ratio : .number
        let g1 = gcd(a.numerator, b.denominator), g2 = gcd(b.numerator, a.denominator)
        let (n, o1) = (a.numerator / g1).multipliedReportingOverflow(by: b.numerator / g2)
        let (d, o2) = (a.denominator / g2).multipliedReportingOverflow(by: b.denominator / g1)
        return o1 || o2 ? .none : reduced(kind, n, d)
    }

    /// a / b; none when b is zero. A duration divided by a duration is a number.
    static func divide(_ a: Value, _ b: Value) -> Value {
        guard a.kind != .none, b.kind != .none, b.numerator != 0 else { return .none }
        let kind: Kind = a.kind == .duration && b.kind != .duration ? .duration : .ratio
        var inverse = Value(kind: b.kind == .duration ? .number : b.kind, numerator: b.denominator, denominator: b.numerator)
        if inverse.denominator < 0 { inverse.numerator = -inverse.numerator; inverse.denominator = -inverse.denominator }
        var product = multiply(Value(kind: a.kind == .duration ? .number : a.kind, numerator: a.numerator, denominator: a.denominator), inverse)
        if product.kind != .none { product.kind = kind }
        return product
    }

    static func reduced(_ kind: Kind, _ n: Int64, _ d: Int64) -> Value {
        if d == Money.scale { return reducedMillionths(kind, n) }
        let g = gcd(n, d)
        return g == 1 ? Value(kind: kind, numerator: n, denominator: d) : Value(kind: kind, numerator: n / g, denominator: d / g)
    }

    /// n / 10⁶ in lowest terms, without a division: sums of money, the most common fractions.
    /// `gcd(n, 10⁶)` is 2^p · 5^q with p, q ≤ 6. The twos go by a shift; each five by multiplying
    /// by the inverse of 5 modulo 2⁶⁴, which divides a multiple of 5 exactly and takes any other
    /// number above `UInt64.max / 5`.
    static func reducedMillionths(_ kind: Kind, _ n: Int64) -> Value {
        let inverseOfFive: UInt64 = 0xCCCC_CCCC_CCCC_CCCD
        let twos = min(n.magnitude.trailingZeroBitCount, 6)
        var m = n.magnitude >> twos, d = UInt64(Money.scale) >> twos
        for _ in 0..<6 {
            let quotient = m &* inverseOfFive
            guard quotient <= UInt64.max / 5 else { break }
            (m, d) = (quotient, d &* inverseOfFive)
        }
        return Value(kind: kind, numerator: n < 0 ? -Int64(m) : Int64(m), denominator: Int64(d))
    }

    static func gcd(_ a: Int64, _ b: Int64) -> Int64 {
        var (x, y) = (a.magnitude, b.magnitude)
        while y != 0 { (x, y) = (y, x % y) }
        return x == 0 ? 1 : Int64(x)
    }
}
