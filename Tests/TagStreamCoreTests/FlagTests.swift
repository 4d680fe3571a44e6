import Foundation
import Testing
@testable import TagStreamCore

/// The flags of SPEC §4: each its own group of one tag, evaluated at the user's events and at
/// every refresh.
@Suite struct FlagTests {
    let t0 = jan1 + 10 * hour

    // MARK: price_sensitive

    /// `c`: an order with a coupon, `n`: without; expected: the 1-based orders at which the
    /// flag turns on (+) or off (−).
    @Test(arguments: [
        ("cc", []),
        ("ccc", ["+3"]),
        ("ccn", ["+3"]),
        ("cnn", []),
        ("nnccc", ["+5"]),          // 3/5 = 0.6 exactly
        ("cccnn", ["+3"]),          // 3/4, then 3/5 = 0.6 keeps it
        ("cccnnn", ["+3", "-6"]),   // 3/6 = 0.5
        ("nnnncccccc", ["+10"]),    // 5/9 < 0.6, 6/10 = 0.6
    ] as [(String, [String])])
    func priceSensitiveNeedsThreeOrdersAndASixtyPercentCouponShare(pattern: String, expected: [String]) throws {
        var feed = Feed()
        for (k, c) in pattern.enumerated() {
            feed.order("u1", at: t0 + Int64(k) * hour, coupon: c == "c" ? "C\(k)" : nil)
        }
        let run = try replay(feed)
        let changes = run.tagRecords("price_sensitive", user: "u1").map { record -> String in
            guard case let .tag(_, tag, _) = record.body else { return "?" }
            return (tag == nil ? "-" : "+") + String((record.ts - t0) / hour + 1)
        }
        #expect(changes == expected)
    }

    @Test(arguments: [
        (#""coupon_id":"""#, false),
        (#""coupon_id":null"#, false),
        ("", false),
        (#""coupon_id":"SAVE5""#, true),
        (#""coupon_id":"\u0053""#, true),
    ] as [(String, Bool)])
    func onlyANonEmptyCouponIdCountsAsACoupon(couponField: String, counts: Bool) throws {
        var feed = Feed()
        for k in 0..<3 {
            let id = feed.freshID()
            var fields = #""order_id":"o\#(k)","amount":10"#
            if !couponField.isEmpty { fields += "," + couponField }
            feed.add("order_paid", "u1", at: t0 + Int64(k) * hour, fields: fields, id: id)
        }
        let run = try replay(feed)
        #expect(run.tags("price_sensitive", user: "u1") == (counts ? ["\(t0 + 2 * hour) price_sensitive<-null"] : []))
    }

    @Test(arguments: [-1 as Int64, 0, 1])
    func priceSensitiveCountsOrdersInTheNinetyDayWindowOnly(offset: Int64) throws {
        var feed = Feed()
        for k in 0..<3 { feed.order("u1", at: t0 + Int64(k) * day, coupon: "C") }
        feed.open("u1", at: t0 + 90 * day + offset)
        let run = try replay(feed)
        var expected = ["\(t0 + 2 * day) price_sensitive<-null"]
        if offset >= 0 { expected.append("\(t0 + 90 * day + offset) null<-price_sensitive") }
        #expect(run.tags("price_sensitive", user: "u1") == expected)
    }

    @Test func priceSensitiveIsRemovedByTheRefreshWhenOrdersLeaveTheWindow() throws {
        var feed = Feed()
        for k in 0..<3 { feed.order("u1", at: t0 + Int64(k) * day, coupon: "C") }
        let run = try replay(feed, until: jan1 + 91 * day)
        #expect(run.tags("price_sensitive", user: "u1") == [
            "\(t0 + 2 * day) price_sensitive<-null", "\(jan1 + 91 * day) null<-price_sensitive",
        ])
        #expect(run.tagRecords("price_sensitive", user: "u1").last?.cause == .refresh)
    }

    // MARK: family_with_kids

    @Test(arguments: [-1 as Int64, 0, 1])
    func familyWithKidsLastsOneHundredEightyDaysAfterTheBabyOrder(offset: Int64) throws {
        var feed = Feed()
        feed.order("u1", at: t0, items: [item(sku: "diapers", category: "baby", qty: "1")])
        feed.open("u1", at: t0 + 180 * day + offset)
        let run = try replay(feed)
        var expected = ["\(t0) family_with_kids<-null"]
        if offset >= 0 { expected.append("\(t0 + 180 * day + offset) null<-family_with_kids") }
        #expect(run.tags("family_with_kids", user: "u1") == expected)
    }

    @Test func familyWithKidsIsRemovedAtTheFirstRefreshAfterTheWindow() throws {
        var feed = Feed()
        feed.order("u1", at: t0, items: [item(sku: "diapers", category: "baby", qty: "1")])
        let run = try replay(feed, until: jan1 + 182 * day)
        #expect(run.tags("family_with_kids", user: "u1") == [
            "\(t0) family_with_kids<-null", "\(jan1 + 181 * day) null<-family_with_kids",
        ])
    }

    @Test func aLaterBabyOrderExtendsTheWindow() throws {
        var feed = Feed()
        feed.order("u1", at: t0, items: [item(sku: "diapers", category: "baby", qty: "1")])
        feed.order("u1", at: t0 + 100 * day, items: [item(sku: "wipes", category: "baby")])
        feed.open("u1", at: t0 + 279 * day)
        feed.open("u1", at: t0 + 280 * day)
        let run = try replay(feed)
        #expect(run.tags("family_with_kids", user: "u1") == [
            "\(t0) family_with_kids<-null", "\(t0 + 280 * day) null<-family_with_kids",
        ])
    }

    @Test func onlyBabyItemsOfPaidOrdersCount() throws {
        var feed = Feed()
        feed.order("u1", at: t0, items: [item(sku: "milk", category: "dairy", qty: "1")])
        feed.add("order_refunded", "u1", at: t0 + hour,
                 fields: #""order_id":"r1","amount":1,"items":[{"sku":"d","category":"baby","qty":1}]"#)
        feed.add("view", "u1", at: t0 + 2 * hour, fields: #""sku":"d","category":"baby""#)
        feed.order("u2", at: t0, items: [item(category: "baby")])
        let run = try replay(feed)
        #expect(run.tags("family_with_kids", user: "u1").isEmpty)
        #expect(run.tags("family_with_kids", user: "u2") == ["\(t0) family_with_kids<-null"])
    }

    // MARK: quality_seeker

    @Test(arguments: [
        (["ORGANIC milk", "imported beef"], true),
        (["有机蔬菜", "进口牛奶"], true),
        ([#"\u6709\u673a"#, "OrGaNiC eggs"], true),
        ([#"\u8fdb\u53e3"#, "buy Imported now"], true),
        (["organic", "organic"], true),
        (["organic", "milk"], false),
        (["organ ic", "import"], false),
        (["有 机", "进"], false),
    ] as [([String], Bool)])
    func qualitySeekerNeedsTwoKeywordSearchesCaseInsensitively(queries: [String], flagged: Bool) throws {
        var feed = Feed()
        for (k, q) in queries.enumerated() { feed.search("u1", at: t0 + Int64(k) * hour, query: q) }
        let run = try replay(feed)
        #expect(run.tags("quality_seeker", user: "u1") == (flagged ? ["\(t0 + hour) quality_seeker<-null"] : []))
    }

    @Test(arguments: [-1 as Int64, 0, 1])
    func qualitySeekerCountsSearchesInTheThirtyDayWindow(offset: Int64) throws {
        var feed = Feed()
        feed.search("u1", at: t0, query: "organic")
        feed.search("u1", at: t0 + day, query: "imported")
        feed.open("u1", at: t0 + 30 * day + offset)
        let run = try replay(feed)
        var expected = ["\(t0 + day) quality_seeker<-null"]
        if offset >= 0 { expected.append("\(t0 + 30 * day + offset) null<-quality_seeker") }
        #expect(run.tags("quality_seeker", user: "u1") == expected)
    }

    @Test func onlySearchEventsCountForQualitySeeker() throws {
        var feed = Feed()
        feed.add("view", "u1", at: t0, fields: #""query":"organic""#)
        feed.search("u1", at: t0 + hour, query: "organic")
        let run = try replay(feed)
        #expect(run.tags("quality_seeker", user: "u1").isEmpty)
    }

    // MARK: high_value_family

    @Test func highValueFamilyNeedsFamilyWithKidsAndPlatinumOrGold() throws {
        let m1 = jan1 + day
        var feed = Feed()
        feed.fillers(count: 20, at: jan1 + hour)
        let baby = [item(sku: "diapers", category: "baby", qty: "1")]
        feed.order("rich", at: m1 + hour, amount: "20", items: baby)
        feed.order("goldie", at: m1 + hour, amount: "15", items: baby)
        feed.order("modest", at: m1 + hour, amount: "10", items: baby)
        feed.order("modest", at: m1 + 2 * hour, amount: "10")
        let run = try replay(feed)
        #expect(run.tags("high_value_family", user: "rich") == ["\(m1 + hour) high_value_family<-null"])
        #expect(run.tags("high_value_family", user: "goldie") == ["\(m1 + hour) high_value_family<-null"])
        // Silver at first; spend 20 at the second order makes it platinum.
        #expect(run.tags("tier", user: "modest") == ["\(m1 + hour) silver<-null", "\(m1 + 2 * hour) platinum<-silver"])
        #expect(run.tags("high_value_family", user: "modest") == ["\(m1 + 2 * hour) high_value_family<-null"])
    }

    @Test func highValueFamilyEndsWhenTheTierFallsToSilver() throws {
        let m1 = jan1 + day
        var feed = Feed()
        feed.fillers(count: 20, at: jan1 + hour)
        feed.order("rich", at: m1 + hour, amount: "20", items: [item(sku: "diapers", category: "baby", qty: "1")])
        let run = try replay(feed, until: m1 + 61 * day)
        #expect(run.tags("tier", user: "rich") == [
            "\(m1 + hour) platinum<-null", "\(m1 + 31 * day) gold<-platinum", "\(m1 + 61 * day) silver<-gold",
        ])
        #expect(run.tags("high_value_family", user: "rich") == [
            "\(m1 + hour) high_value_family<-null", "\(m1 + 61 * day) null<-high_value_family",
        ])
    }

    @Test func flagRemovalIsATagNullWithThePreviousFlag() throws {
        var feed = Feed()
        for k in 0..<3 { feed.order("u1", at: t0 + Int64(k) * hour, coupon: "C") }
        feed.order("u1", at: t0 + 3 * hour)
        feed.order("u1", at: t0 + 4 * hour)
        feed.order("u1", at: t0 + 5 * hour)
        let run = try replay(feed)
        let flags = run.jsonObjects().filter { ($0["group"] as? String) == "price_sensitive" }
        #expect(flags.count == 2)
        #expect(flags.first?["tag"] as? String == "price_sensitive")
        #expect(flags.first?["previous"] is NSNull)
        #expect(flags.last?["tag"] is NSNull)
        #expect(flags.last?["previous"] as? String == "price_sensitive")
    }
}
