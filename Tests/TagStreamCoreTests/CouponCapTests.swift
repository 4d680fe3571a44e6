import Foundation
import Testing
@testable import TagStreamCore

/// Optional per-community daily caps of coupon campaigns.
@Suite struct CouponCapTests {
    let t0 = jan1 + 10 * hour
    func cappedPipeline(_ cap: Int) throws -> Pipeline {
        try Pipeline.reference { $0.replacingOccurrences(of: "cooldown: 24h", with: "cooldown: 24h\n      daily_cap_per_community: \(cap)") }
    }

    /// Three users of one community abandon carts on one day; with a cap of 2 only the first two
    /// (timers fire ordered by user) get a trigger; the next UTC day the count starts again.
    @Test func capLimitsTriggersPerCommunityAndDay() throws {
        var feed = Feed()
        for user in ["a", "b", "c"] { feed.open(user, at: t0, community: "c1") }
        feed.open("z", at: t0, community: "c2")
        for user in ["a", "b", "c", "z"] { feed.addToCart(user, at: t0 + hour) }
        for user in ["a", "b", "c"] { feed.addToCart(user, at: t0 + day + hour) }
        let run = try replay(feed, pipeline: cappedPipeline(2), until: t0 + 2 * day)
        #expect(run.coupons("cart_rescue", user: "a") == [t0 + 3 * hour, t0 + day + 3 * hour])
        #expect(run.coupons("cart_rescue", user: "b") == [t0 + 3 * hour, t0 + day + 3 * hour])
        #expect(run.coupons("cart_rescue", user: "c") == [])
        #expect(run.coupons("cart_rescue", user: "z") == [t0 + 3 * hour])
    }

    @Test func withoutACapEveryUserGetsTheTrigger() throws {
        var feed = Feed()
        for user in ["a", "b", "c"] {
            feed.open(user, at: t0, community: "c1")
            feed.addToCart(user, at: t0 + hour)
        }
        let run = try replay(feed, until: t0 + day)
        #expect(run.coupons("cart_rescue").count == 3)
    }
}
