import Testing
@testable import TagStreamCore

/// The expression parser: precedence, positions of every node, and mistakes at their offset.
@Suite struct ExpressionParserTests {
    @Test func andBindsTighterThanOrAndNotTighterThanAnd() throws {
        #expect(try ExpressionParser.parse("a or b and not c") == .binary(
            .or, .name("a", at: 0), .binary(.and, .name("b", at: 5), .not(.name("c", at: 15), at: 11), at: 7), at: 2))
    }

    @Test func arithmeticBindsTighterThanComparison() throws {
        #expect(try ExpressionParser.parse("since(last_paid) >= max(14d, 2 * gap)") == .binary(
            .greaterOrEqual,
            .call("since", [.name("last_paid", at: 6)], at: 0),
            .call("max", [.duration(milliseconds: 14 * day, at: 24),
                          .binary(.times, .number(numerator: 2, denominator: 1, at: 29), .name("gap", at: 33), at: 31)], at: 20),
            at: 17))
    }

    @Test func numbersAreExactDecimalsAndDurationsTakeUnits() throws {
        #expect(try ExpressionParser.parse("0.30") == .number(numerator: 30, denominator: 100, at: 0))
        #expect(try ExpressionParser.parse("2h") == .duration(milliseconds: 2 * hour, at: 0))
        #expect(try ExpressionParser.parse("tier in [\"gold\", 'platinum']")
                == .binary(.in, .name("tier", at: 0), .list(["gold", "platinum"], at: 8), at: 5))
    }

    static let mistakes: [(String, Int, String)] = [
        ("orders >= 30 fortnights", 10, "'30 fortnights' is not a duration"),
        ("orders >= 3fortnights", 10, "'3fortnights' is not a duration"),
        ("(orders >= 3", 12, "expected ')'"),
        ("orders >=", 9, "the expression ends too early"),
        ("query == \"organic", 9, "this string has no closing"),
        ("orders # 3", 7, "unexpected character '#'"),
        ("orders 3", 7, "unexpected '3'"),
        ("tier in [gold]", 9, "a list holds quoted strings"),
    ]

    @Test(arguments: mistakes)
    func mistakeIsReportedAtItsOffset(text: String, offset: Int, message: String) {
        #expect {
            try ExpressionParser.parse(text)
        } throws: { error in
            guard let e = error as? ExpressionError else { return false }
            return e.offset == offset && e.message.hasPrefix(message)
        }
    }
}

/// Exact arithmetic of values: fractions compare without rounding, and none propagates.
@Suite struct ValueArithmeticTests {
    @Test func fractionsCompareExactly() {
        // 2/3 ≥ 0.6 and 3/5 = 0.6 exactly; 0.6 − 1e-9 < 0.6.
        #expect(Value.compare(Value.divide(.number(2), .number(3)), .number(6, 10)) == 1)
        #expect(Value.compare(Value.divide(.number(3), .number(5)), .number(6, 10)) == 0)
        #expect(Value.compare(.number(599_999_999, 1_000_000_000), .number(6, 10)) == -1)
    }

    @Test func instantPlusAFractionalDurationRoundsUp() {
        // last_paid + 2 × mean gap, with a mean gap of 450.5 ms: ⌈901⌉ … and ⌈450.5⌉ = 451 for one gap.
        #expect(Value.add(.instant(1_000), .duration(901, 2), negate: false) == .instant(1_451))
        #expect(Value.add(.instant(1_000), Value.multiply(.number(2), .duration(901, 2)), negate: false) == .instant(1_901))
    }

    @Test func noneMakesMaxAndArithmeticNone() {
        struct NoInput: ExpressionInput {
            mutating func leaf(_ node: Node) -> Value { .none }
            func text(_ field: EventField) -> String? { nil }
        }
        var input = NoInput()
        let none = Node.userAggregate(0)
        #expect(Node.maximum([.constant(.duration(14)), none]).evaluate(&input).isNone)
        #expect(Node.maximum([none, .constant(.duration(14))]).evaluate(&input).isNone)
        #expect(Node.maximum([.constant(.duration(14)), .constant(.duration(20))]).evaluate(&input) == .duration(20))
        #expect(Node.compare(.greaterOrEqual, none, .constant(.number(0))).evaluate(&input) == .false)
        #expect(Node.not(.compare(.less, none, .constant(.number(0)))).evaluate(&input) == .true)
        #expect(Value.divide(.number(1), .number(0)).isNone)
    }

    @Test func millionthsAreReducedAsEuclidReducesThem() {
        var random = SystemRandomNumberGenerator()
        let samples: [Int64] = [0, 1, -1, 5, -5, 25, 64, 15_625, 1_000_000, -2_000_000, 3_906_250, 5_859_375, .max, .min, .min + 1]
            + (0..<10_000).map { _ in Int64.random(in: -1_000_000_000_000...1_000_000_000_000, using: &random) }
            + (0..<1_000).map { _ in Int64.random(in: -1_000_000...1_000_000, using: &random) * 1_000 }
            + (0..<1_000).map { _ in Int64.random(in: -1_000...1_000, using: &random) * 15_625 * Int64(1 << Int.random(in: 0...6)) }
        for n in samples {
            let g = Value.gcd(n, Money.scale)
            #expect(Value.reducedMillionths(.number, n) == .number(n / g, Money.scale / g), "\(n) / 10^6")
        }
        // A sum of money in whole units is reduced to an integer, as before.
        #expect(Value.add(.number(12_500_000, Money.scale), .number(2_500_000, Money.scale), negate: true) == .number(10))
    }
}
