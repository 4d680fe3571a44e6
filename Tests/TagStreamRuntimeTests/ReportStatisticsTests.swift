import Foundation
import Testing
@testable import TagStreamRuntime
import TagStreamCore

/// The arithmetic behind a campaign's figures, against published and hand-computed values.
@Suite struct ReportStatisticsTests {
    /// Newcombe, R. G. (1998). Interval estimation for the difference between independent
    /// proportions: comparison of eleven methods. Statistics in Medicine 17, 873–890. Table II,
    /// method 10 (score interval for each proportion, hybrid), examples (a) to (h), to 4 decimals.
    /// (56/70 − 48/80 is 0.8 − 0.6 = 0.2000.)
    static let newcombeTableII: [(x1: Int, n1: Int, x2: Int, n2: Int, difference: Double, lower: Double, upper: Double)] = [
        (56, 70, 48, 80, 0.2000, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.6000, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.5714, 0.0582, 0.8062),
        (5, 56, 0, 29, 0.0893, -0.0381, 0.1926),
        (0, 10, 0, 20, 0.0000, -0.1611, 0.2775),
        (0, 10, 0, 10, 0.0000, -0.2775, 0.2775),
        (10, 10, 0, 20, 1.0000, 0.6791, 1.0000),
        (10, 10, 0, 10, 1.0000, 0.6075, 1.0000),
    ]

    @Test(arguments: newcombeTableII.indices) func newcombesHybridIntervalMatchesHisTable(_ i: Int) throws {
        let example = Self.newcombeTableII[i]
        let result = try #require(ProportionInterval.newcombeDifference(successes1: example.x1, trials1: example.n1,
                                                                         successes2: example.x2, trials2: example.n2))
        #expect(abs(result.difference - example.difference) < 0.00005)
        #expect(abs(result.lower - example.lower) < 0.00005, "lower \(result.lower)")
        #expect(abs(result.upper - example.upper) < 0.00005, "upper \(result.upper)")
    }

    /// Wilson's interval for 0/10 and 10/10 ends exactly at 0 and 1, and for 81/263 (Newcombe 1998's
    /// single-proportion example in his companion paper: 0.2553 to 0.3662).
    @Test func wilsonIntervalAtTheEndsAndInBetween() throws {
        #expect(ProportionInterval.wilson(successes: 0, trials: 10)?.lower == 0)
        #expect(ProportionInterval.wilson(successes: 10, trials: 10)?.upper == 1)
        let interval = try #require(ProportionInterval.wilson(successes: 81, trials: 263))
        #expect(abs(interval.lower - 0.2553) < 0.00005 && abs(interval.upper - 0.3662) < 0.00005, "\(interval)")
        #expect(ProportionInterval.wilson(successes: 0, trials: 0) == nil)
    }

    /// 40 of 100 sent coupons converted, paying 1,000.50 in all; 5 of 50 held-out ones, paying 100:
    /// uplift 0.40 − 0.10 = 0.30; extra GMV 1000 × (10.005 − 2) = 8,005 per 1,000 coupons.
    @Test func upliftAndIncrementalGMVOfACampaign() throws {
        var figures = CampaignFigures()
        for i in 0..<100 { figures.sent.add(converted: i < 40, amount: i == 0 ? Money(units: 1_000_500_000) : .zero) }
        for i in 0..<50 { figures.heldOut.add(converted: i < 5, amount: i == 0 ? Money(units: 100_000_000) : .zero) }
        let uplift = try #require(figures.uplift)
        #expect(abs(uplift.difference - 0.30) < 1e-12)
        #expect(uplift.lower < 0.30 && uplift.upper > 0.30)
        #expect(abs(try #require(figures.incrementalGMVPer1000) - 8005) < 1e-9)
        #expect(figures.warning == nil)
    }

    @Test func anArmTooSmallToTellGivesAWarning() {
        var figures = CampaignFigures()
        for i in 0..<200 { figures.sent.add(converted: i < 50, amount: .zero) }
        for i in 0..<29 { figures.heldOut.add(converted: i < 10, amount: .zero) }
        #expect(figures.warning?.contains("only 29 held-out coupons") == true)
        figures.heldOut.add(converted: false, amount: .zero)
        #expect(figures.warning == nil)
        var fewConversions = CampaignFigures()
        for i in 0..<100 { fewConversions.sent.add(converted: i < 4, amount: .zero) }
        for i in 0..<100 { fewConversions.heldOut.add(converted: i < 20, amount: .zero) }
        #expect(fewConversions.warning?.contains("only 4 conversions among sent coupons") == true)
        #expect(CampaignFigures().uplift == nil && CampaignFigures().incrementalGMVPer1000 == nil)
    }

    /// By hand: values 0, 0, 3, 5, 12 (mean 4, squared deviations 98, variance 98/4 = 24.5) against
    /// 1, 2, 2, 9 (mean 3.5, squared deviations 41, variance 41/3); standard error
    /// √(24.5/5 + 41/12) = √8.316667 = 2.883872, margin 1.959964 × 2.883872 = 5.652268.
    @Test func welchIntervalOfTwoArmsByHand() throws {
        let first = PerUserValues(users: 5, nonZero: [12, 3, 5])
        let second = PerUserValues(users: 4, nonZero: [1, 2, 2, 9])
        #expect(first.mean == 4 && first.variance == 24.5)
        #expect(abs(try #require(second.variance) - 41.0 / 3) < 1e-12)
        let result = try #require(WelchInterval.difference(first, second))
        #expect(abs(result.difference - 0.5) < 1e-12)
        #expect(abs(result.lower - -5.152268) < 5e-7 && abs(result.upper - 6.152268) < 5e-7, "\(result)")
        // A user alone has no variance, and an arm without users no mean.
        #expect(WelchInterval.difference(first, PerUserValues(users: 1, nonZero: [7])) == nil)
        #expect(PerUserValues(users: 0, nonZero: []).mean == nil)
        // Large values keep their spread: 10⁹ + 1, 2, 3 have variance 1.
        #expect(PerUserValues(users: 3, nonZero: [1e9 + 1, 1e9 + 2, 1e9 + 3]).variance == 1)
    }

    /// The arms' comparison is variant − control: 56/70 against 48/80 is Newcombe's example (a),
    /// 0.2000 (0.0524 to 0.3339); with 20 users in an arm it is too small to tell.
    @Test func armsAreComparedVariantMinusControl() throws {
        var figure = ProportionComparison(trials: "users", successes: "churned")
        figure.variant = .init(trials: 70, successes: 56)
        figure.control = .init(trials: 80, successes: 48)
        let result = try #require(figure.difference)
        #expect(abs(result.difference - 0.2) < 1e-12 && abs(result.lower - 0.0524) < 0.00005 && abs(result.upper - 0.3339) < 0.00005)
        #expect(figure.warning == nil && VariantComparison.verdict(result) == "higher in the variant")
        figure.control = .init(trials: 20, successes: 12)
        #expect(figure.warning == "too small to tell: only 20 users in the control (at least 30 needed)")
        figure.control = .init(trials: 80, successes: 4)
        #expect(figure.warning == "too small to tell: only 4 churned in the control (at least 5 needed)")
        #expect(VariantComparison.verdict((-0.1, -0.2, -0.01)) == "lower in the variant")
        #expect(VariantComparison.verdict((0.1, -0.2, 0.3)).hasPrefix("no clear difference"))
        let means = MeanComparison(control: .init(values: PerUserValues(users: 29, nonZero: [1]), total: .integer(1)),
                                   variant: .init(values: PerUserValues(users: 30, nonZero: []), total: .integer(0)))
        #expect(means.warning == "too small to tell: only 29 users in the control (at least 30 needed)")
    }

    /// ISO weeks at year ends, checked against Foundation's ISO 8601 calendar.
    @Test(arguments: ["2024-12-30T00:00:00Z", "2025-12-28T23:59:59.999Z", "2026-01-01T00:00:00Z", "2026-01-04T12:00:00Z",
                      "2026-01-05T00:00:00Z", "2020-12-31T10:00:00Z", "2021-01-03T10:00:00Z", "2027-01-01T00:00:00Z"])
    func isoWeeksAgreeWithFoundation(_ text: String) throws {
        let instant = try #require(EventTime.parseRFC3339(Array(text.utf8)))
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: Date(timeIntervalSince1970: Double(instant) / 1000))
        let expected = String(format: "%04d-W%02d", components.yearForWeekOfYear!, components.weekOfYear!)
        #expect(ReportCalendar.isoWeek(instant) == expected)
    }

    @Test func monthsCountOnAcrossYears() throws {
        let instant = try #require(EventTime.parseRFC3339(Array("2026-12-31T23:59:59Z".utf8)))
        let month = ReportCalendar.monthIndex(instant)
        #expect(ReportCalendar.monthLabel(month) == "2026-12" && ReportCalendar.monthLabel(month + 1) == "2027-01")
        #expect(ReportCalendar.start(ofMonth: month + 1) == EventTime.parseRFC3339(Array("2027-01-01T00:00:00Z".utf8)))
    }

    @Test func reportJSONIsSortedAndExact() {
        let value = ReportJSON.object(["b": .money(Money(units: 12_900_000)), "a": .array([.number(0.1), .number(-0.0), .number(.nan)]),
                                       "c": .string("say \"hi\"\n")])
        #expect(value.text() == "{\n  \"a\": [0.1, 0, null],\n  \"b\": 12.9,\n  \"c\": \"say \\\"hi\\\"\\n\"\n}\n")
    }

    @Test func numbersForPeople() {
        #expect(ReportFormat.integer(3210) == "3,210")
        #expect(ReportFormat.points(0.041) == "+4.1" && ReportFormat.points(-0.0123) == "-1.2" && ReportFormat.points(0.00001) == "0.0")
        #expect(ReportFormat.number(-1234567.891, decimals: 2) == "-1,234,567.89")
    }
}
