import Testing
@testable import TagStreamCore

/// `select` finds the element a sort would put at an index, and percentiles do not depend on the
/// order of their samples.
@Suite struct SelectionTests {
    /// Arrays with many repeats, already sorted, reversed and all equal; every index of each.
    static let shapes: [(String, [Int])] = {
        var random = SplitMix(seed: 7)
        let repeats = (0..<300).map { _ in Int(random.next() % 20) }
        let spread = (0..<300).map { _ in Int(random.next() % 1_000_000) }
        return [("repeats", repeats), ("spread", spread), ("sorted", Array(0..<300)), ("reversed", Array((0..<300).reversed())),
                ("equal", Array(repeating: 5, count: 300)), ("one", [42]), ("two", [2, 1])]
    }()

    @Test(arguments: [nil, 1, 0])
    func selectPutsTheSortedElementAtEveryIndex(rounds: Int?) {
        for (name, values) in Self.shapes {
            let sorted = values.sorted()
            for k in values.indices {
                var a = values
                a.select(k, by: <, rounds: rounds)
                #expect(a[k] == sorted[k], "\(name), k = \(k)")
                #expect(a[..<k].allSatisfy { $0 <= a[k] } && a[(k + 1)...].allSatisfy { $0 >= a[k] }, "\(name), k = \(k)")
                #expect(a.sorted() == sorted, "\(name): the same elements")
            }
        }
    }

    @Test func valuesEqualInAmountAreOrderedByKindAndSpelling() {
        let values: [Value] = [.number(3, 2), Value(kind: .ratio, numerator: 3, denominator: 2), .number(1), .duration(3, 2), .number(3, 2)]
        let expected = values.sorted(by: Value.precedes)
        for permutation in [values, values.reversed(), [values[2], values[4], values[1], values[0], values[3]]] {
            #expect(permutation.sorted(by: Value.precedes) == expected)
        }
        #expect(expected.first == .number(1))
        #expect(Value.precedes(.number(3, 2), Value(kind: .ratio, numerator: 3, denominator: 2)))
        #expect(!Value.precedes(.number(3, 2), .number(3, 2)))
    }
}
