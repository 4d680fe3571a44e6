import Testing
@testable import TagStreamCore

/// The engine keeps alerts, campaigns and aggregates per community as 64-bit masks: a pipeline
/// with 64 of each (the most the language allows) uses every bit, and the 64th of each works.
@Suite struct MaskLimitTests {
    static let pipeline = Result { try Pipeline.reference { _ in
        "pipeline: limits\naggregates:\n  orders: {count: order_paid}\n"
            + (0..<64).map { "  c\($0): {key: community, count: order_paid}\n" }.joined()
            + "alerts:\n" + (0..<64).map { "  a\($0): {evaluate_at: [order_paid], when: orders >= \($0 + 1)}\n" }.joined()
            + "coupons:\n  campaigns:\n" + (0..<64).map { "    k\($0): {trigger: order_paid, when: orders == \($0 + 1)}\n" }.joined()
            + "community_stats:\n  fields:\n    c0: c0\n    c63: c63\n"
    } }

    @Test func theSixtyFourthOfEachWorks() throws {
        var feed = Feed()
        for n in 0..<64 { feed.order("u1", at: jan1 + Int64(n) * minute, community: "c1") }
        let run = try replay(feed, pipeline: Self.pipeline.get(), until: jan1 + day)
        let names = run.records.map { record -> String in
            switch record.body {
            case .alert(let name): name
            case .coupon(let campaign, _): campaign
            default: "other"
            }
        }
        // Order n (1-based) fires alert a(n-1) and starts campaign k(n-1): each exactly once.
        #expect(names.filter { $0.hasPrefix("a") } == (0..<64).map { "a\($0)" })
        #expect(names.filter { $0.hasPrefix("k") } == (0..<64).map { "k\($0)" })
        let stats = run.records.compactMap { record -> CommunityFigures? in
            if case .communityStats(let figures) = record.body { figures } else { nil }
        }
        // The refreshes at the first order's midnight (after it) and a day later (after all 64).
        #expect(stats.count == 2)
        #expect(stats.last?["c0"] == .integer(64))
        #expect(stats.last?["c63"] == .integer(64))
    }
}
