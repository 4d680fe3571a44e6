import Testing
@testable import TagStreamSimulation

@Suite struct MoneyFormattingTests {
    @Test(arguments: [
        (3_000, "30"), (1_290, "12.9"), (799, "7.99"), (0, "0"), (5, "0.05"), (10, "0.1"), (100_001, "1000.01"),
    ])
    func moneyIsPrintedWithTheFewestDecimals(cents: Int, text: String) {
        #expect(formatMoney(cents: cents) == text)
    }
}
