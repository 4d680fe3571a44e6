import Testing
@testable import TagStreamCore

/// Each aggregate kind over an exact window `(t − W, t]`: an occurrence at `ts` counts up to
/// `ts + W − 1` and is gone at `ts + W`.
@Suite struct AggregateWindowTests {
    static let w: Int64 = 10 * day
    static let t0 = jan1

    struct Case: Sendable, CustomTestStringConvertible {
        var kind: AggregateKind
        var field: EventField?
        /// Expected values one millisecond before, at and after the first occurrence expires, and after the second does.
        var expected: [Value]
        var testDescription: String { kind.rawValue }
    }

    static func money(_ n: Int64) -> Value { .number(n * Money.scale, Money.scale) }

    static let cases: [Case] = [
        Case(kind: .count, field: nil, expected: [.number(3), .number(2), .number(2), .number(1)]),
        Case(kind: .sum, field: .amount, expected: [money(11), money(6), money(6), money(4)]),
        Case(kind: .min, field: .amount, expected: [money(2), money(2), money(2), money(4)]),
        Case(kind: .max, field: .amount, expected: [money(5), money(4), money(4), money(4)]),
        Case(kind: .first, field: .amount, expected: [money(5), money(2), money(2), money(4)]),
        Case(kind: .last, field: .ts, expected: [.instant(t0 + 2 * day), .instant(t0 + 2 * day), .instant(t0 + 2 * day), .instant(t0 + 2 * day)]),
        Case(kind: .distinct, field: .itemSku, expected: [.number(2), .number(2), .number(2), .number(1)]),
    ]

    /// Occurrences at t0 (5, sku 1), t0 + 1d (2, sku 2), t0 + 2d (4, sku 1).
    static func column(_ c: Case) -> AggregateColumn {
        var column = AggregateColumn(CompiledAggregate(
            name: "a", kind: c.kind, key: .user, field: c.field, rankedBy: nil, eventTypes: 0xFFFF, filter: nil,
            window: w, iteratesItems: c.field?.isItemField ?? false, count: 0, type: c.field == .ts ? .instant : .number))
        column.grow(to: 1)
        for (offset, amount, sku) in [(0 as Int64, 5 as Int64, 1 as Int64), (day, 2, 2), (2 * day, 4, 1)] {
            let ts = t0 + offset
            column.add(0, ts: ts, value: c.field == .ts ? ts : c.kind == .count || c.kind == .distinct ? 1 : amount * Money.scale, subject: sku)
        }
        return column
    }

    /// A read drops what left the window by its instant on its own.
    @Test(arguments: cases)
    func valueAtTheWindowBoundaries(_ c: Case) {
        var column = Self.column(c)
        var seen: [Value] = []
        for t in [Self.t0 + Self.w - 1, Self.t0 + Self.w, Self.t0 + Self.w + 1, Self.t0 + day + Self.w] {
            seen.append(column.value(0, at: t))
        }
        for (got, want) in zip(seen, c.expected) { #expect(Value.compare(got, want) == 0, "got \(got), want \(want)") }
    }

    @Test func lastOverAWindowIsGoneWhenItsOccurrenceLeaves() throws {
        var column = Self.column(try #require(Self.cases.first { $0.kind == .last }, "no case of a `last` aggregate"))
        let t = Self.t0 + 2 * day + Self.w
        #expect(column.nextExpiry(0, after: t - 1) == t)
        #expect(!column.value(0, at: t - 1).isNone)
        #expect(column.value(0, at: t).isNone)
        #expect(column.nextExpiry(0, after: t) == .max)
    }

    @Test func nextExpiryIsTheOldestOccurrencePlusTheWindow() {
        var column = Self.column(Self.cases[0])
        #expect(column.nextExpiry(0, after: Self.t0) == Self.t0 + Self.w)
        // At the first occurrence's expiry it is dropped, and the next one's expiry is the answer.
        #expect(column.nextExpiry(0, after: Self.t0 + Self.w) == Self.t0 + day + Self.w)
        #expect(column.nextExpiry(0, after: Self.t0 + 2 * day + Self.w) == .max)
    }

    @Test func topRanksBySummedTotalThenName() {
        var column = AggregateColumn(CompiledAggregate(
            name: "top", kind: .top, key: .community, field: .itemSku, rankedBy: .itemQuantity, eventTypes: 0xFFFF, filter: nil,
            window: Self.w, iteratesItems: true, count: 2, type: .ranking))
        column.grow(to: 1)
        column.add(0, ts: Self.t0, value: 5, subject: 3)
        column.add(0, ts: Self.t0 + day, value: 2, subject: 1)
        column.add(0, ts: Self.t0 + day, value: 2, subject: 2)
        // Each ranking drops what left the window by its instant on its own.
        #expect(column.ranking(0, at: Self.t0 + Self.w - 1, count: 2, precedes: <).map(\.subject) == [3, 1])
        #expect(column.ranking(0, at: Self.t0 + Self.w, count: 2, precedes: <).map(\.subject) == [1, 2])
        #expect(column.ranking(0, at: Self.t0 + day + Self.w, count: 2, precedes: <).isEmpty)
    }

    @Test func meanGapIsOverTheLastOccurrencesAndExact() {
        var column = AggregateColumn(CompiledAggregate(
            name: "gap", kind: .meanGap, key: .user, field: .ts, rankedBy: nil, eventTypes: 0xFFFF, filter: nil,
            window: nil, iteratesItems: false, count: 3, type: .duration))
        column.grow(to: 1)
        column.add(0, ts: 0, value: 0, subject: 0)
        #expect(column.value(0, at: 0).isNone)
        for ts in [100 as Int64, 1_000, 1_001] { column.add(0, ts: ts, value: ts, subject: 0) }
        // The last 3: 100, 1000, 1001 → (1001 − 100) / 2 = 450.5 ms, kept exact.
        #expect(column.value(0, at: 2_000) == Value.duration(901, 2))
        #expect(Value.multiply(.number(2), column.value(0, at: 2_000)) == Value.duration(901))
    }
}
