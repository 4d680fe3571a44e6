/// An exact fraction written as a decimal (`0.6`, `0.95`, `2`), so threshold checks never round.
public struct Ratio: Hashable, Sendable, CustomStringConvertible {
    public let numerator: Int64
    public let denominator: Int64

    public init(_ numerator: Int64, _ denominator: Int64) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// Parses a non-negative decimal with up to 9 fraction digits.
    public init?(parsing text: String) {
        let parts = text.trimmingSpaces().split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = Int64(parts[0]), whole >= 0, parts[0].allSatisfy(\.isASCII) else { return nil }
        var fraction: Int64 = 0
        var denominator: Int64 = 1
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].count <= 9, let f = Int64(parts[1]), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            fraction = f
            for _ in 0..<parts[1].count { denominator *= 10 }
        }
        guard whole < Int64.max / denominator / 2 else { return nil }
        self.init(whole * denominator + fraction, denominator)
    }

    /// Whether `part / whole >= self`, computed without rounding.
    public func isMet(part: Int64, whole: Int64) -> Bool {
        whole > 0 && part.multipliedFullWidth(by: denominator) >= numerator.multipliedFullWidth(by: whole)
    }

    /// ⌈self × value⌉ for a non-negative value.
    public func ceilTimes(_ value: Int64) -> Int64 {
        let product = numerator.multipliedFullWidth(by: value)
        let (q, r) = denominator.dividingFullWidth(product)
        return r > 0 ? q + 1 : q
    }

    public var description: String {
        if denominator == 1 { return String(numerator) }
        let value = Double(numerator) / Double(denominator)
        return String(value)
    }
}

private func >= (a: (high: Int64, low: UInt64), b: (high: Int64, low: UInt64)) -> Bool {
    a.high != b.high ? a.high > b.high : a.low >= b.low
}
