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
