import Testing
@testable import TagStreamCore

/// Daily refresh (SPEC §4 "Daily refresh", §5 "End of replay") and tiers.
///
/// Most tests build a population of filler users `f01…f20` spending 1…20 on 2026-01-01, so
/// that the refresh at 2026-01-02T00:00Z computes p95 = 19 (index ⌈0.95·20⌉ − 1 = 18) and
/// p75 = 15 (index ⌈0.75·20⌉ − 1 = 14); a user `x` who orders after that midnight is not
/// part of that population, so its tier shows the thresholds directly.
@Suite struct TierAndRefreshTests {
    let m1 = jan1 + day

    // MARK: First refresh

    @Test(arguments: [
        (-1, [jan1, jan1 + day, jan1 + 2 * day]),
        (0, [jan1, jan1 + day, jan1 + 2 * day]),
        (1, [jan1 + day, jan1 + 2 * day]),
    ] as [(Int64, [Int64])])
    func firstRefreshIsTheFirstMidnightAtOrAfterTheFirstAppliedEvent(offset: Int64, refreshes: [Int64]) throws {
        var feed = Feed()
        feed.order("u1", at: jan1 + offset, community: "c1")
        let run = try replay(feed, until: jan1 + 2 * day)
        let statsInstants = run.records.filter { $0.kind == .communityStats }.map(\.ts)
        #expect(statsInstants == refreshes)
    }

    @Test func refreshesStopAtUntil() throws {
        var feed = Feed()
        feed.order("u1", at: jan1 + hour, community: "c1")
        let run = try replay(feed, until: jan1 + 3 * day - 1)
        #expect(run.records.filter { $0.kind == .communityStats }.map(\.ts) == [jan1 + day, jan1 + 2 * day])
    }

    // MARK: Percentiles

    @Test(arguments: [
        ("20", "platinum"), ("19", "platinum"), ("18.99", "gold"), ("15", "gold"), ("15.00", "gold"),
        ("14.99", "silver"), ("0.01", "silver"),
    ])
    func tierAtAnOrderUsesNearestRankThresholdsAndEqualSpendMeetsThem(amount: String, tier: String) throws {
        var feed = Feed()
        feed.fillers(count: 20, at: jan1 + hour)
        feed.order("x", at: m1 + hour, amount: amount)
        let run = try replay(feed)
        #expect(run.tags("tier", user: "x") == ["\(m1 + hour) \(tier)<-null"])
    }

    /// With spends 1…n the value at index ⌈q·n⌉ − 1 is ⌈q·n⌉ itself.
    @Test(arguments: [20, 21, 39, 40, 41, 100])
    func nearestRankIndexIsCeilingOfQTimesNMinusOne(n: Int) throws {
        let p95 = (95 * n + 99) / 100
        let p75 = (75 * n + 99) / 100
        var feed = Feed()
        feed.fillers(count: n, at: jan1 + hour)
        feed.order("x95", at: m1 + hour, amount: String(p95))
        feed.order("x95-", at: m1 + hour, amount: "\(p95 - 1).99")
        feed.order("x75", at: m1 + hour, amount: String(p75))
        feed.order("x75-", at: m1 + hour, amount: "\(p75 - 1).99")
        let run = try replay(feed)
        #expect(run.tags("tier", user: "x95") == ["\(m1 + hour) platinum<-null"])
        #expect(run.tags("tier", user: "x95-") == ["\(m1 + hour) gold<-null"])
        #expect(run.tags("tier", user: "x75") == ["\(m1 + hour) gold<-null"])
        #expect(run.tags("tier", user: "x75-") == ["\(m1 + hour) silver<-null"])
    }

    @Test func nineteenUsersGiveNoThresholdsSoNobodyIsAboveSilver() throws {
        var feed = Feed()
        feed.fillers(count: 19, at: jan1 + hour)
        feed.order("x", at: m1 + hour, amount: "1000")
        let run = try replay(feed)
        #expect(run.tags("tier", user: "x") == ["\(m1 + hour) silver<-null"])
        // The refresh itself promotes nobody either.
        #expect(!run.records.contains { $0.body == .tag(group: "tier", tag: "platinum", previous: "silver") })
    }

    @Test func twentyUsersPromoteTheTopOnesAtTheRefresh() throws {
        var feed = Feed()
        feed.fillers(count: 20, at: jan1 + hour)
        let run = try replay(feed, until: m1)
        // p95 = 19 and p75 = 15: f19 and f20 become platinum, f15…f18 gold, the rest stay silver.
        let promoted = run.records.filter { $0.ts == m1 && $0.cause == .refresh }.map(run.describe)
        #expect(promoted == (15...20).map { n in
            "\(m1) tag tier \(n >= 19 ? "platinum" : "gold")<-silver f\(n)"
        })
    }

    @Test func usersWithoutPositiveSpendAreNotInThePopulation() throws {
        var feed = Feed()
        feed.fillers(count: 19, at: jan1 + hour)
        // Refunded in full: one order in the window but spend 0, so still n = 19.
        feed.order("z", at: jan1 + hour, amount: "5")
        feed.refund("z", at: jan1 + 2 * hour, amount: "5")
        // A free order: spend 0.
        feed.order("w", at: jan1 + hour, amount: "0")
        feed.order("x", at: m1 + hour, amount: "1000")
        let run = try replay(feed)
        #expect(run.tags("tier", user: "x") == ["\(m1 + hour) silver<-null"])
    }

    @Test func tenOrdersOfTenCentsMeetAThresholdOfOneExactly() throws {
        var feed = Feed()
        // Sorted spends 0.01…0.18, 1, 2: p95 = 1 (index 18), p75 = 0.15 (index 14).
        feed.fillers((1...18).map { "0.\($0 < 10 ? "0" : "")\($0)" } + ["1", "2"], at: jan1 + hour)
        for k in 0..<10 { feed.order("x", at: m1 + hour + Int64(k) * minute, amount: "0.1") }
        let run = try replay(feed)
        #expect(run.tags("tier", user: "x") == [
            "\(m1 + hour) silver<-null",
            "\(m1 + hour + minute) gold<-silver",
            "\(m1 + hour + 9 * minute) platinum<-gold",
        ])
    }

    @Test(arguments: [("1", "platinum"), ("1.01", "gold"), ("5.01", "silver")])
    func refundReducesSpendAtTheRefundEvent(refund: String, tier: String) throws {
        var feed = Feed()
        feed.fillers(count: 20, at: jan1 + hour)
        feed.order("x", at: m1 + hour, amount: "20")
        let refundID = feed.refund("x", at: m1 + 2 * hour, amount: refund)
        let run = try replay(feed)
        let changes = run.tags("tier", user: "x")
        if tier == "platinum" {
            #expect(changes == ["\(m1 + hour) platinum<-null"])
        } else {
            #expect(changes == ["\(m1 + hour) platinum<-null", "\(m1 + 2 * hour) \(tier)<-platinum"])
            #expect(run.tagRecords("tier", user: "x").last?.cause == .event(refundID))
        }
    }

    /// Samples are kept from one refresh to the next only while nothing they read changes: f01's
    /// order between the refreshes at m1 and m2 makes its spend 1001, so m2's p95 is 20 (f02…f20
    /// spend 2…20) and an order of 19.5 is gold; with f01's sample of m1 it would be platinum.
    @Test func aSpendChangedBetweenRefreshesIsSampledAgain() throws {
        let m2 = m1 + day
        var feed = Feed()
        feed.fillers(count: 20, at: jan1 + hour)
        feed.order("f01", at: m1 + hour, amount: "1000")
        feed.order("x", at: m2 + hour, amount: "19.5")
        let run = try replay(feed)
        #expect(run.tags("tier", user: "x") == ["\(m2 + hour) gold<-null"])
    }

    // MARK: The 90-day window

    /// `x` orders 10 at A; the population (f01…f20 and x) is measured at A's midnight + 90d,
    /// where p95 = 19; x's second order of 9 makes 19 only while the first is in (t − 90d, t].
    @Test(arguments: [(-1, "platinum"), (0, nil), (1, nil)] as [(Int64, String?)])
    func spendWindowAtAnOrderExcludesTheOrderExactlyNinetyDaysOld(offset: Int64, tier: String?) throws {
        let a = jan1 + hour
        var feed = Feed()
        feed.order("x", at: a, amount: "10")
        feed.fillers(count: 20, at: jan1 + 89 * day + 2 * hour)
        feed.order("x", at: a + 90 * day + offset, amount: "9")
        let run = try replay(feed)
        let expected = ["\(a) silver<-null"] + (tier.map { ["\(a + 90 * day + offset) \($0)<-silver"] } ?? [])
        #expect(run.tags("tier", user: "x") == expected)
    }

    /// A filler that ordered exactly 90 days before the midnight is out of the population, so
    /// only 19 users remain and there are no thresholds.
    @Test(arguments: [(-1, "silver"), (0, "silver"), (1, "platinum")] as [(Int64, String)])
    func refreshPopulationExcludesAnOrderExactlyNinetyDaysBeforeTheMidnight(offset: Int64, tier: String) throws {
        let m = jan1 + 100 * day
        var feed = Feed()
        feed.order("edge", at: m - 90 * day + offset, amount: "1")
        feed.fillers((2...20).map(String.init), at: m - 89 * day)
        feed.order("x", at: m + hour, amount: "19")
        let run = try replay(feed)
        #expect(run.tags("tier", user: "x") == ["\(m + hour) \(tier)<-null"])
    }

    // MARK: Tier at a midnight

    @Test(arguments: [
        (-1, ["silver<-null @-1ms by event", "platinum<-silver @0 by refresh"]),
        (0, ["silver<-null @0 by event", "platinum<-silver @0 by refresh"]),
        (1, ["platinum<-null @1ms by event"]),
    ] as [(Int64, [String])])
    func orderAtExactlyMidnightUsesThePreviousThresholdsAndTheRefreshAfterItTheNewOnes(
        offset: Int64, expected: [String]
    ) throws {
        var feed = Feed()
        feed.fillers(count: 20, at: jan1 + hour)
        feed.order("x", at: m1 + offset, amount: "19")
        let run = try replay(feed, until: m1 + hour)
        let changes = run.tagRecords("tier", user: "x").map { record -> String in
            guard case let .tag(_, tag, previous) = record.body else { return "?" }
            let d = record.ts - m1
            let cause = record.cause == .refresh ? "refresh" : record.cause == .timer ? "timer" : "event"
            return "\(tag ?? "null")<-\(previous ?? "null") @\(d == 0 ? "0" : "\(d)ms") by \(cause)"
        }
        #expect(changes == expected)
    }

    /// p95 is 19 from the refresh at m1 and 118 from the one at m2 (20 more users spending
    /// 101…120): an order of 19 exactly at m2 is platinum by m1's thresholds, then the refresh
    /// at m2 demotes it.
    @Test func orderAtMidnightUsesTheThresholdsOfTheDayBefore() throws {
        let m2 = m1 + day
        var feed = Feed()
        feed.fillers(count: 20, at: jan1 + hour)
        feed.fillers((101...120).map(String.init), at: m1 + hour, prefix: "g")
        let id = feed.order("x", at: m2, amount: "19")
        let run = try replay(feed, until: m2)
        #expect(run.tags("tier", user: "x") == ["\(m2) platinum<-null", "\(m2) silver<-platinum"])
        #expect(run.tagRecords("tier", user: "x").map(\.cause) == [.event(id), .refresh])
    }

    @Test func tierDecaysAtRefreshesByRecency() throws {
        let l = m1 + hour
        var feed = Feed()
        feed.fillers(count: 20, at: jan1 + hour)
        feed.order("x", at: l, amount: "100")
        let run = try replay(feed, until: l + 91 * day)
        // platinum needs t − last_paid < 30d, gold < 60d, silver < 90d; checked at midnights.
        #expect(run.tags("tier", user: "x") == [
            "\(l) platinum<-null",
            "\(m1 + 31 * day) gold<-platinum",
            "\(m1 + 61 * day) silver<-gold",
            "\(m1 + 91 * day) null<-silver",
        ])
    }

    @Test func tierDecayAtAMidnightExactlyThirtyDaysAfterTheLastOrder() throws {
        var feed = Feed()
        feed.fillers(count: 20, at: jan1 + hour)
        feed.order("x", at: m1 + hour, amount: "100")
        feed.order("x", at: m1 + day, amount: "1")
        let run = try replay(feed, until: m1 + 31 * day)
        #expect(run.tags("tier", user: "x") == ["\(m1 + hour) platinum<-null", "\(m1 + 31 * day) gold<-platinum"])
    }

    @Test func clickstreamEventsDoNotReevaluateTheTier() throws {
        let l = m1 + hour
        var feed = Feed()
        feed.fillers(count: 20, at: jan1 + hour)
        feed.order("x", at: l, amount: "100")
        feed.open("x", at: l + 30 * day)
        let run = try replay(feed, until: l + 30 * day + hour)
        // At l + 30d the user is at_risk, but the tier only changes at the next refresh.
        #expect(run.tags("lifecycle", user: "x").last == "\(l + 30 * day) at_risk<-new")
        #expect(run.tags("tier", user: "x") == ["\(l) platinum<-null"])
        let later = try replay(feed, until: m1 + 31 * day)
        #expect(later.tags("tier", user: "x").last == "\(m1 + 31 * day) gold<-platinum")
    }

    /// Users whose ids come in reverse order: f20 first, f01 last. The refresh goes through users in
    /// the order they appeared, yet its records come in user_id order, each user's in rule order.
    @Test func refreshRecordsComeInUserIdOrderWhicheverOrderUsersAppearedIn() throws {
        var feed = Feed()
        let families: Set = [16, 20]
        for n in (1...20).reversed() {
            let name = n < 10 ? "f0\(n)" : "f\(n)"
            let at = jan1 + hour + Int64(20 - n) * minute
            feed.order(name, at: at, amount: String(n), items: families.contains(n) ? [item(sku: "b1", category: "baby", qty: "1")] : [])
        }
        let run = try replay(feed, until: m1)
        let refreshed = run.records.filter { $0.ts == m1 && $0.cause == .refresh }.map(run.describe)
        var expected: [String] = []
        for n in 15...20 {
            expected.append("\(m1) tag tier \(n >= 19 ? "platinum" : "gold")<-silver f\(n)")
            if families.contains(n) { expected.append("\(m1) tag high_value_family high_value_family<-null f\(n)") }
        }
        #expect(refreshed == expected)
    }

    /// A tag a refresh changes that starts a campaign with a daily cap: users then go in user_id
    /// order, so of f19 and f20 (who appeared first) f19 gets the community's one trigger.
    @Test func refreshStartingCappedCampaignsGoesInUserIdOrder() throws {
        let pipeline = try Pipeline.reference {
            $0.replacingOccurrences(of: "  campaigns:\n", with: "  campaigns:\n    vip_welcome: {trigger: tier -> platinum, daily_cap_per_community: 1}\n")
        }
        var feed = Feed()
        for n in (1...20).reversed() {
            feed.order(n < 10 ? "f0\(n)" : "f\(n)", at: jan1 + hour + Int64(20 - n) * minute, amount: String(n), community: "c1")
        }
        let run = try replay(feed, pipeline: pipeline, until: m1)
        #expect(run.tags("tier", user: "f20").last == "\(m1) platinum<-silver")
        #expect(run.coupons("vip_welcome", user: "f19") == [m1])
        #expect(run.coupons("vip_welcome", user: "f20") == [])
    }

    @Test func refreshEvaluatesUsersWithoutOrdersInUserIdOrder() throws {
        var feed = Feed()
        feed.fillers(count: 20, at: jan1 + hour)
        let run = try replay(feed, until: m1)
        let refreshUsers = run.records.filter { $0.cause == .refresh && $0.user >= 0 }.compactMap(run.userName)
        #expect(refreshUsers == refreshUsers.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }
}
