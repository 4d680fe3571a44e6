import Foundation
import Testing
@testable import TagStreamCore

/// Community stats and `community_sleeping_ratio_high` (SPEC §4, §5 "Community figures").
@Suite struct CommunityTests {
    let m = jan1 + 40 * day

    @Test func statsFiguresUseTheirWindowsWithExclusiveLowerEdges() throws {
        var feed = Feed()
        feed.order("u1", at: m - hour, amount: "10", items: [item(sku: "A", qty: "2"), item(sku: "B", qty: "1")], community: "c1")
        feed.refund("u1", at: m - 30 * minute, amount: "2.25", community: "c1")
        feed.order("u2", at: m - 30 * day, amount: "5.5", community: "c1")      // out of gmv, not active
        feed.order("u3", at: m - 30 * day + 1, amount: "7", community: "c1")    // in gmv, active
        feed.order("u4", at: m - 7 * day, amount: "3", items: [item(sku: "A", qty: "5")], community: "c1")
        feed.order("u5", at: m - 7 * day + 1, amount: "1.25", items: [item(sku: "C", qty: "1.5")], community: "c1")
        feed.order("u6", at: m - 90 * day, amount: "4", community: "c1")        // sleeping exactly at m
        let run = try replay(feed, until: m)
        #expect(run.stats("c1").last
            == "\(m) stats @c1 customers=6 active=4 gmv=19 orders=2 sleeping=1 top=[A:2,C:1.5,B:1]")
        #expect(run.tags("lifecycle", user: "u6").last == "\(m) sleeping<-at_risk")

        let json = run.jsonObjects().last { $0["kind"] as? String == "community_stats" }
        #expect(json?["community_id"] as? String == "c1")
        #expect(json?["user_id"] == nil)
        #expect((json?["ts"] as? NSNumber)?.int64Value == m)
        #expect((json?["customers"] as? NSNumber)?.intValue == 6)
        #expect((json?["active_30d"] as? NSNumber)?.intValue == 4)
        #expect((json?["gmv_30d"] as? NSNumber)?.doubleValue == 19)
        #expect((json?["orders_7d"] as? NSNumber)?.intValue == 2)
        #expect(abs(((json?["sleeping_ratio"] as? NSNumber)?.doubleValue ?? -1) - 1.0 / 6.0) < 1e-12)
        let top = json?["top_skus_7d"] as? [[String: Any]] ?? []
        #expect(top.map { $0["sku"] as? String } == ["A", "C", "B"])
        #expect(top.map { ($0["qty"] as? NSNumber)?.doubleValue } == [2, 1.5, 1])
    }

    @Test func gmvFollowsTheEventsCommunityWhileCustomersFollowTheCurrentCommunity() throws {
        var feed = Feed()
        feed.order("u1", at: m - 2 * hour, amount: "10", community: "c1")
        feed.open("u1", at: m - hour, community: "c2")
        feed.order("u2", at: m - 2 * hour, amount: "5", community: "c1")
        feed.order("u3", at: m - 2 * hour, amount: "7")
        feed.open("u3", at: m - hour, community: "c1")
        feed.open("prospect", at: m - hour, community: "c3")
        let run = try replay(feed, until: m)
        let atM = run.records.filter { $0.ts == m && $0.kind == .communityStats }.map(run.describe)
        #expect(atM == [
            // u1's and u2's orders carried c1; u3's order carried none. Customers: u2 and u3.
            "\(m) stats @c1 customers=2 active=2 gmv=15 orders=2 sleeping=0 top=[]",
            "\(m) stats @c2 customers=1 active=1 gmv=0 orders=0 sleeping=0 top=[]",
        ])
    }

    @Test func topSkusBreakTiesBySkuAscendingAndKeepFive() throws {
        var feed = Feed()
        feed.order("u1", at: m - hour, items: [
            item(sku: "b", qty: "3"), item(sku: "a", qty: "3"), item(sku: "c", qty: "5"), item(sku: "e", qty: "1"),
            item(sku: "d", qty: "1"), item(sku: "f", qty: "1"), item(category: "baby", qty: "100"), item(sku: "g"),
        ], community: "c1")
        let run = try replay(feed, until: m)
        #expect(run.stats("c1").last?.hasSuffix("top=[c:5,a:3,b:3,d:1,e:1]") == true)
        // Ties compare code points: "B" (0x42) sorts before "a" (0x61).
        feed.order("u2", at: m - hour, items: [item(sku: "B", qty: "3")], community: "c1")
        #expect(try replay(feed, until: m).stats("c1").last?.hasSuffix("top=[c:5,B:3,a:3,b:3,d:1]") == true)
    }

    @Test func topSkusSumQuantitiesOverOrdersAndCountAMissingQtyAsZero() throws {
        var feed = Feed()
        feed.order("u1", at: m - 3 * hour, items: [item(sku: "x"), item(sku: "y", qty: "0.5")], community: "c1")
        feed.order("u2", at: m - 2 * hour, items: [item(sku: "y", qty: "1.25"), item(sku: "Z", qty: "0.75")], community: "c1")
        feed.order("u3", at: m - hour, items: [item(sku: "w", qty: "9")], community: "c2")  // another community
        feed.add("order_refunded", "u1", at: m - hour, community: "c1",
                 fields: #""order_id":"r1","amount":1,"items":[{"sku":"q","qty":7}]"#)
        let run = try replay(feed, until: m)
        #expect(run.stats("c1").last?.hasSuffix("top=[y:1.75,Z:0.75,x:0]") == true)
    }

    @Test(arguments: [(-1 as Int64, true), (0, false), (1, false)])
    func topSkusWindowIsTheLastSevenDays(offset: Int64, counted: Bool) throws {
        var feed = Feed()
        feed.order("u1", at: m - 7 * day - offset, items: [item(sku: "s", qty: "2")], community: "c1")
        let run = try replay(feed, until: m)
        #expect(run.stats("c1").last?.hasSuffix(counted ? "orders=1 sleeping=0 top=[s:2]" : "orders=0 sleeping=0 top=[]") == true)
    }

    /// Which counts a user meets is kept from one refresh to the next only until something it
    /// reads changes. With `active_30d` redefined so that no tag changes with it, a spend that
    /// reaches 100 by a second order counts from the refresh after it, and the user stops
    /// counting at the refresh exactly 7 days after that order.
    @Test func countsFollowEventsAndTimeThatChangeNoTag() throws {
        let pipeline = try Pipeline.reference {
            $0.replacingOccurrences(of: "active_30d: paid_orders >= 1 and since(last_paid) < 30d",
                                    with: "active_30d: paid_90d >= 100 and since(last_paid) < 7d")
        }
        var feed = Feed()
        feed.order("u1", at: jan1 + hour, amount: "50", community: "c1")
        feed.order("u1", at: jan1 + 2 * day, amount: "60", community: "c1")
        let run = try replay(feed, pipeline: pipeline, until: jan1 + 10 * day)
        let active = run.stats("c1").map { $0.split(separator: " ").first { $0.hasPrefix("active=") } ?? "?" }
        // The refreshes at days 1…10: the second order is applied before the refresh at day 2.
        #expect(active == ["active=0"] + Array(repeating: "active=1", count: 7) + ["active=0", "active=0"])
        #expect(run.tags("lifecycle", user: "u1") == ["\(jan1 + hour) new<-null"])
    }

    // MARK: community_sleeping_ratio_high

    /// 20 customers of c1 order on day 0; `sleepers` of them never again, the others again on day 60.
    func population(sleepers: Int) -> Feed {
        let t0 = jan1 + hour
        var feed = Feed()
        for k in 0..<20 {
            let user = k < sleepers ? "s\(k)" : "a\(k)"
            feed.order(user, at: t0, community: "c1")
            if k >= sleepers { feed.order(user, at: t0 + 60 * day, community: "c1") }
        }
        return feed
    }

    @Test(arguments: [(5, false), (6, true), (7, true)])
    func alertNeedsAShareOfThirtyPercentSleepingOrChurned(sleepers: Int, alerted: Bool) throws {
        let run = try replay(population(sleepers: sleepers), until: jan1 + 95 * day)
        // Sleeping from jan1 + 90d + 1h, so first counted by the refresh at jan1 + 91d.
        #expect(run.alerts("community_sleeping_ratio_high", community: "c1") == (alerted ? [jan1 + 91 * day] : []))
    }

    @Test func alertFiresOnCrossingAndNotAgainWhileTheShareStaysHigh() throws {
        let t0 = jan1 + hour
        var feed = Feed()
        for k in 0..<5 { feed.order("s\(k)", at: t0, community: "c1") }
        feed.order("s5", at: t0 + day, community: "c1")
        for k in 0..<14 {
            feed.order("a\(k)", at: t0, community: "c1")
            feed.order("a\(k)", at: t0 + 60 * day, community: "c1")
        }
        let run = try replay(feed, until: jan1 + 100 * day)
        #expect(run.alerts("community_sleeping_ratio_high") == [jan1 + 92 * day])
        let ratios = run.jsonObjects().filter { $0["kind"] as? String == "community_stats" }
            .filter { ($0["ts"] as? NSNumber)?.int64Value == jan1 + 91 * day || ($0["ts"] as? NSNumber)?.int64Value == jan1 + 92 * day }
            .map { ($0["sleeping_ratio"] as? NSNumber)?.doubleValue }
        #expect(ratios == [0.25, 0.3])
        let alert = run.jsonObjects().first { $0["kind"] as? String == "alert" }
        #expect(alert?["alert"] as? String == "community_sleeping_ratio_high")
        #expect(alert?["community_id"] as? String == "c1")
        #expect(alert?.keys.contains("user_id") == false)
    }

    @Test func alertFiresAgainAfterTheShareFellBelowAndRoseAgain() throws {
        let t0 = jan1 + hour
        var feed = Feed()
        for k in 0..<5 { feed.order("s\(k)", at: t0, community: "c1") }
        feed.order("s5", at: t0 + day, community: "c1")
        for k in 0..<13 {
            feed.order("a\(k)", at: t0, community: "c1")
            feed.order("a\(k)", at: t0 + 60 * day, community: "c1")
        }
        feed.order("a13", at: t0, community: "c1")
        feed.order("a13", at: t0 + 3 * day, community: "c1")      // sleeping from t0 + 93d
        feed.order("s0", at: jan1 + 92 * day + hour, community: "c1")  // wakes up: 5/20 at jan1 + 93d
        let run = try replay(feed, until: jan1 + 96 * day)
        #expect(run.alerts("community_sleeping_ratio_high") == [jan1 + 92 * day, jan1 + 94 * day])
    }

    @Test func communityNotEvaluatedWithFewerThanTwentyCustomersAlertsWhenItReachesTwenty() throws {
        let t0 = jan1 + hour
        var feed = Feed()
        for k in 0..<6 { feed.order("s\(k)", at: t0, community: "c1") }
        for k in 0..<13 { feed.order("a\(k)", at: t0 + 60 * day, community: "c1") }
        feed.order("newcomer", at: jan1 + 93 * day + hour, community: "c1")
        let run = try replay(feed, until: jan1 + 96 * day)
        // 6/19 from jan1 + 91d: high but not evaluated; 6/20 at jan1 + 94d: evaluated for the first time.
        #expect(run.alerts("community_sleeping_ratio_high") == [jan1 + 94 * day])
    }

    @Test func churnedCustomersCountAsSleeping() throws {
        let t0 = jan1 + hour
        var feed = Feed()
        for k in 0..<6 { feed.order("s\(k)", at: t0, community: "c1") }
        for k in 0..<14 { feed.order("a\(k)", at: t0 + 185 * day, community: "c1") }
        let run = try replay(feed, until: jan1 + 190 * day)
        // The six are churned from day 180 + 1h; the 20 customers exist from day 185 + 1h, so the
        // first evaluation, at day 186, alerts.
        #expect(run.tags("lifecycle", user: "s0").last == "\(t0 + 180 * day) churned<-sleeping")
        #expect(run.alerts("community_sleeping_ratio_high") == [jan1 + 186 * day])
        #expect(run.stats("c1").last?.contains("customers=20") == true)
        #expect(run.stats("c1").last?.contains("sleeping=6") == true)
    }
}
