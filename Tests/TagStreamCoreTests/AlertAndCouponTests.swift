import Foundation
import Testing
@testable import TagStreamCore

/// `vip_churn_risk` (SPEC §4 "Alerts", §5 "vip_churn_risk") and the coupon triggers.
///
/// VIP tests use 19 filler users spending 1…19 on 2026-01-01 and the user `v` spending 100 per
/// order, so every refresh (while the fillers are in the 90-day window) has n = 20, p95 = 19
/// and `v` is platinum from the first refresh on.
@Suite struct VipChurnRiskTests {
    let o1 = jan1 + 2 * hour

    func vipFeed(_ orders: [Int64]) -> Feed {
        var feed = Feed()
        feed.fillers(count: 19, at: jan1 + hour)
        for t in orders { feed.order("v", at: t, amount: "100") }
        return feed
    }

    /// SPEC §5: last_paid + max(14d, ⌈2·(t_last − t_first)/(k−1)⌉) over the last k ≤ 5 orders.
    func expectedInstant(_ paid: [Int64]) throws -> Int64 {
        let last = Array(paid.suffix(5))
        guard let first = last.first, let latest = last.last, last.count >= 2 else {
            throw TestFailure("the rhythm needs at least two orders, got \(paid.count)")
        }
        let k = Int64(last.count)
        let span = latest - first
        let ceilGap = (2 * span + (k - 1) - 1) / (k - 1)
        return latest + max(14 * day, ceilGap)
    }

    @Test(arguments: [-1 as Int64, 0, 1])
    func alertFiresFourteenDaysAfterTheLastOrderWhenTheRhythmIsFaster(offset: Int64) throws {
        let orders = [o1, o1 + day, o1 + 2 * day]
        let due = o1 + 16 * day
        #expect(try expectedInstant(orders) == due)
        let run = try replay(vipFeed(orders), until: due + offset)
        #expect(run.alerts("vip_churn_risk") == (offset >= 0 ? [due] : []))
    }

    @Test func alertInstantUsesTheCeilingOfTwiceTheMeanGap() throws {
        // k = 4, span 30d + 1ms: 2·span/3 = 20d + 0.67ms, so the check is at last + 20d + 1ms.
        let orders = [o1, o1 + 10 * day, o1 + 20 * day, o1 + 30 * day + 1]
        let due = try #require(orders.last) + 20 * day + 1
        #expect(try expectedInstant(orders) == due)
        #expect(try replay(vipFeed(orders), until: due - 1).alerts("vip_churn_risk").isEmpty)
        #expect(try replay(vipFeed(orders), until: due + day).alerts("vip_churn_risk") == [due])
    }

    @Test func exactlyDivisibleGapIsNotRoundedUp() throws {
        // k = 3, span 20d: 2·span/2 = 20d exactly.
        let orders = [o1, o1 + 10 * day, o1 + 20 * day]
        let run = try replay(vipFeed(orders), until: o1 + 41 * day)
        #expect(run.alerts("vip_churn_risk") == [o1 + 40 * day])
    }

    @Test func onlyTheLastFiveOrdersSetTheRhythm() throws {
        // Last five span 32d → 2·32d/4 = 16d. All six (span 72d) would give 28.8d.
        let o2 = o1 + 40 * day
        let orders = [o1] + (0..<5).map { o2 + Int64($0) * 8 * day }
        let lastOrder = try #require(orders.last)
        let due = lastOrder + 16 * day
        #expect(try expectedInstant(orders) == due)
        let run = try replay(vipFeed(orders), until: lastOrder + 30 * day)
        #expect(run.alerts("vip_churn_risk") == [due])
    }

    @Test func twoOrdersAreNotEnough() throws {
        let run = try replay(vipFeed([o1, o1 + day]), until: o1 + 60 * day)
        #expect(run.alerts("vip_churn_risk").isEmpty)
    }

    @Test func alertFiresOncePerSilenceAndALaterOrderRearmsIt() throws {
        let due1 = o1 + 16 * day
        let o4 = due1 + day
        let orders = [o1, o1 + day, o1 + 2 * day, o4]
        let due2 = try expectedInstant(orders)
        #expect(due2 == o4 + 14 * day)
        let run = try replay(vipFeed(orders), until: o4 + 40 * day)
        #expect(run.alerts("vip_churn_risk") == [due1, due2])
    }

    @Test(arguments: [-1 as Int64, 0, 1])
    func anOrderAtTheVeryInstantOfTheCheckReplacesIt(offset: Int64) throws {
        let due1 = o1 + 16 * day
        let orders = [o1, o1 + day, o1 + 2 * day, due1 + offset]
        let due2 = try expectedInstant(orders)
        let run = try replay(vipFeed(orders), until: due2 + day)
        #expect(run.alerts("vip_churn_risk") == (offset > 0 ? [due1, due2] : [due2]))
    }

    @Test func silverUsersAreNotAlerted() throws {
        var feed = Feed()
        for k in 0..<3 { feed.order("v", at: o1 + Int64(k) * day, amount: "100") }
        let run = try replay(feed, until: o1 + 60 * day)
        #expect(run.tags("tier", user: "v") == ["\(o1) silver<-null"])
        #expect(run.alerts("vip_churn_risk").isEmpty)
    }

    /// The check falls on a midnight at which the refresh demotes `v` from gold to silver:
    /// the tier at that instant is the one before the refresh, so the alert fires.
    @Test func checkAtAMidnightUsesTheTierBeforeThatMidnightsRefreshWhenItFalls() throws {
        let orders = [jan1, jan1 + 30 * day, jan1 + 60 * day]  // 2g = 60d
        let due = jan1 + 120 * day
        #expect(try expectedInstant(orders) == due)
        var feed = Feed()
        for t in orders { feed.order("v", at: t, amount: "100") }
        feed.fillers(count: 19, at: jan1 + 89 * day + 12 * hour)
        let run = try replay(feed, until: due)
        #expect(run.tags("tier", user: "v").suffix(2) == ["\(jan1 + 90 * day) gold<-silver", "\(due) silver<-gold"])
        #expect(run.alerts("vip_churn_risk") == [due])
        let atDue = run.lines(user: "v").filter { $0.hasPrefix("\(due) ") }
        #expect(atDue == ["\(due) alert vip_churn_risk v", "\(due) tag tier silver<-gold v"])
    }

    /// The check falls on the midnight whose refresh first promotes `v`: still silver at the
    /// check, so no alert.
    @Test func checkAtAMidnightUsesTheTierBeforeThatMidnightsRefreshWhenItRises() throws {
        let orders = [jan1 + hour, jan1 + day + hour, jan1 + 2 * day]
        let due = jan1 + 16 * day
        #expect(try expectedInstant(orders) == due)
        var feed = Feed()
        for t in orders { feed.order("v", at: t, amount: "100") }
        feed.fillers(count: 19, at: due - 12 * hour)
        let run = try replay(feed, until: due + 30 * day)
        #expect(run.tags("tier", user: "v").prefix(2) == ["\(jan1 + hour) silver<-null", "\(due) platinum<-silver"])
        #expect(run.alerts("vip_churn_risk").isEmpty)
    }

    @Test func alertRecordCarriesUserAndCommunity() throws {
        var feed = vipFeed([])
        for k in 0..<3 { feed.order("v", at: o1 + Int64(k) * day, amount: "100", community: "c9") }
        let run = try replay(feed, until: o1 + 17 * day)
        let alert = run.jsonObjects().first { $0["kind"] as? String == "alert" }
        #expect(alert?["alert"] as? String == "vip_churn_risk")
        #expect(alert?["user_id"] as? String == "v")
        #expect(alert?["community_id"] as? String == "c9")
        #expect((alert?["ts"] as? NSNumber)?.int64Value == o1 + 16 * day)
    }
}

@Suite struct CouponTests {
    let t0 = jan1 + 10 * hour

    // MARK: second_order

    @Test func secondOrderCouponOnlyAtTheFirstPaidOrder() throws {
        var feed = Feed()
        feed.open("u1", at: t0)
        feed.refund("u1", at: t0 + hour, amount: "1")
        feed.order("u1", at: t0 + 2 * hour)
        feed.order("u1", at: t0 + 3 * hour)
        feed.order("u1", at: t0 + 40 * day)
        let run = try replay(feed)
        #expect(run.coupons("second_order") == [t0 + 2 * hour])
    }

    @Test(arguments: ["u1", "u3", "u15", "bob", "alice", "用户一", "u35"])
    func holdoutIsFNV1aOfCampaignAndUserModuloHundredBelowTen(user: String) throws {
        var feed = Feed()
        feed.order(user, at: t0)
        let run = try replay(feed)
        let coupons = run.couponRecords("second_order", user: user)
        #expect(coupons.count == 1)
        let holdout = expectedHoldout(campaign: "second_order", user: user)
        #expect(coupons.first?.body == .coupon(campaign: "second_order", holdout: holdout))
        #expect(run.jsonObjects().first { $0["kind"] as? String == "coupon" }?["holdout"] as? Bool == holdout)
    }

    @Test func referenceHashMatchesPublishedFNV1aVectors() {
        // Test vectors of the FNV specification (draft-eastlake-fnv).
        #expect(referenceFNV1a64("") == 0xcbf2_9ce4_8422_2325)
        #expect(referenceFNV1a64("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(referenceFNV1a64("foobar") == 0x8594_4171_f739_67e8)
        // The users chosen above include both outcomes.
        #expect(expectedHoldout(campaign: "second_order", user: "u3"))
        #expect(!expectedHoldout(campaign: "second_order", user: "u1"))
    }

    // MARK: wake_up

    @Test(arguments: [-1 as Int64, 0, 1])
    func wakeUpFiresWhenTheUserBecomesSleeping(offset: Int64) throws {
        var feed = Feed()
        feed.order("u1", at: t0)
        let run = try replay(feed, until: t0 + 90 * day + offset)
        #expect(run.coupons("wake_up") == (offset >= 0 ? [t0 + 90 * day] : []))
        if offset >= 0 {
            // After the lifecycle change that caused it.
            #expect(run.lines(user: "u1").suffix(2) == [
                "\(t0 + 90 * day) tag lifecycle sleeping<-at_risk u1", "\(t0 + 90 * day) coupon wake_up u1",
            ])
        }
    }

    @Test func wakeUpFromAnEventExactlyAtTheSleepingInstantCarriesThatEvent() throws {
        var feed = Feed()
        feed.order("u1", at: t0)
        let probe = feed.open("u1", at: t0 + 90 * day)
        let run = try replay(feed, until: t0 + 91 * day)
        let coupons = run.couponRecords("wake_up")
        #expect(coupons.map(\.ts) == [t0 + 90 * day])
        #expect(coupons.first?.cause == .event(probe))
    }

    @Test func wakeUpAgainOnALaterSleepingSpell() throws {
        var feed = Feed()
        feed.order("u1", at: t0)
        feed.order("u1", at: t0 + 100 * day)
        let run = try replay(feed, until: t0 + 400 * day)
        #expect(run.coupons("wake_up") == [t0 + 90 * day, t0 + 190 * day])
    }

    /// With the reference ladder two sleeping spells are always > 90d apart, so the 60d rule is
    /// exercised with `sleeping` after 35d: spells at S and S + 60d + δ.
    @Test(arguments: [-1 as Int64, 0, 1])
    func wakeUpNeedsThePreviousOneAtLeastSixtyDaysBefore(delta: Int64) throws {
        let pipeline = try Pipeline.reference { $0.replacingOccurrences(of: "since(last_paid) >= 90d", with: "since(last_paid) >= 35d") }
        let s1 = t0 + 35 * day
        let l2 = s1 + 25 * day + delta
        let s2 = l2 + 35 * day
        var feed = Feed()
        feed.order("u1", at: t0)
        feed.order("u1", at: l2)
        let run = try replay(feed, pipeline: pipeline, until: s2 + day)
        #expect(run.tags("lifecycle", user: "u1").filter { $0.contains("sleeping<-") } == [
            "\(s1) sleeping<-at_risk", "\(s2) sleeping<-at_risk",
        ])
        #expect(run.coupons("wake_up") == (delta >= 0 ? [s1, s2] : [s1]))
    }

    // MARK: cart_rescue

    @Test(arguments: [-1 as Int64, 0, 1])
    func cartRescueFiresTwoHoursAfterTheAddToCart(offset: Int64) throws {
        var feed = Feed()
        feed.addToCart("u1", at: t0)
        let run = try replay(feed, until: t0 + 2 * hour + offset)
        #expect(run.coupons("cart_rescue") == (offset >= 0 ? [t0 + 2 * hour] : []))
        #expect(run.couponRecords("cart_rescue").allSatisfy { $0.cause == .timer })
    }

    /// An order in [a, a + 2h] cancels; ids decide whether the order comes before or after the
    /// add_to_cart at the same instant, and either way it cancels.
    @Test(arguments: [
        (-1, "k0", true), (0, "k0", false), (0, "k2", false), (hour, "k2", false), (2 * hour, "k2", false),
        (2 * hour + 1, "k2", true),
    ] as [(Int64, String, Bool)])
    func anOrderInsideTheClosedIntervalCancelsTheRescue(orderOffset: Int64, orderID: String, fires: Bool) throws {
        var feed = Feed()
        feed.addToCart("u1", at: t0, id: "k1")
        feed.order("u1", at: t0 + orderOffset, id: orderID)
        let run = try replay(feed, until: t0 + 3 * hour)
        #expect(run.coupons("cart_rescue") == (fires ? [t0 + 2 * hour] : []))
    }

    @Test func anotherUsersOrderDoesNotCancel() throws {
        var feed = Feed()
        feed.addToCart("u1", at: t0)
        feed.order("u2", at: t0 + hour)
        let run = try replay(feed, until: t0 + 3 * hour)
        #expect(run.coupons("cart_rescue") == [t0 + 2 * hour])
    }

    @Test(arguments: [-1 as Int64, 0, 1])
    func cartRescueCooldownIsTwentyFourHoursWindowed(delta: Int64) throws {
        let first = t0 + 2 * hour
        let second = first + 24 * hour + delta
        var feed = Feed()
        feed.addToCart("u1", at: t0)
        feed.addToCart("u1", at: second - 2 * hour)
        let run = try replay(feed, until: second + hour)
        #expect(run.coupons("cart_rescue") == (delta >= 0 ? [first, second] : [first]))
    }

    /// A delayed trigger's condition that reads a window sees it as at the trigger's instant, not
    /// as at the add_to_cart: a search 30 days or more before that instant has left the window,
    /// and nothing else of the user is evaluated in between.
    @Test(arguments: [(-1 as Int64, true), (0, true), (1, false)])
    func delayedConditionReadsItsWindowAtTheTriggersInstant(searchOffset: Int64, fires: Bool) throws {
        let pipeline = try Pipeline.reference {
            $0.replacingOccurrences(of: "when: not (since(last_paid) <= 2h)", with: "when: quality_searches_30d == 0")
        }
        let cart = t0 + 30 * day
        var feed = Feed()
        feed.search("u1", at: cart + 2 * hour - 30 * day + searchOffset, query: "organic")
        feed.addToCart("u1", at: cart)
        let run = try replay(feed, pipeline: pipeline, until: cart + 3 * hour)
        #expect(run.coupons("cart_rescue") == (fires ? [cart + 2 * hour] : []))
    }

    @Test func severalAddToCartsInOneSpellGiveOneRescue() throws {
        var feed = Feed()
        feed.addToCart("u1", at: t0)
        feed.addToCart("u1", at: t0 + 30 * minute)
        feed.addToCart("u1", at: t0 + 3 * hour)
        let run = try replay(feed, until: t0 + 6 * hour)
        #expect(run.coupons("cart_rescue") == [t0 + 2 * hour])
    }

    @Test func heldOutTriggersAreEmittedAndCountForTheCooldown() throws {
        let user = "u17"
        #expect(expectedHoldout(campaign: "cart_rescue", user: user))
        var feed = Feed()
        feed.addToCart(user, at: t0)
        feed.addToCart(user, at: t0 + hour)
        let run = try replay(feed, until: t0 + 6 * hour)
        let coupons = run.couponRecords("cart_rescue")
        #expect(coupons.map(\.ts) == [t0 + 2 * hour])
        #expect(coupons.first?.body == .coupon(campaign: "cart_rescue", holdout: true))
    }

    @Test func rescuesOfSeveralUsersAtOneInstantAreOrderedByUserId() throws {
        var feed = Feed()
        feed.addToCart("zed", at: t0)
        feed.addToCart("amy", at: t0)
        feed.addToCart("Bob", at: t0)
        let run = try replay(feed, until: t0 + 2 * hour)
        let users = run.couponRecords("cart_rescue").compactMap(run.userName)
        #expect(users == ["Bob", "amy", "zed"])
    }
}
