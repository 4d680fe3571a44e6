import Foundation
import Testing
@testable import TagStreamCore

/// The JSON lines of SPEC §2: shape, deterministic ids, escaping.
@Suite struct RecordEncodingTests {
    let t0 = jan1 + 10 * hour

    func sampleFeed() -> Feed {
        var feed = Feed()
        feed.fillers(count: 20, at: jan1 + hour)
        feed.order("u1", at: t0 + day, amount: "12.50", coupon: "C", items: [item(sku: "a", category: "baby", qty: "2")], community: "c1")
        feed.addToCart("u2", at: t0 + day)
        feed.search("u3", at: t0 + day, query: "organic")
        return feed
    }

    @Test func sameInputGivesTheSameIdsAndEveryRecordHasItsOwn() throws {
        let first = try replay(sampleFeed(), until: t0 + 100 * day).jsonObjects()
        let second = try replay(sampleFeed(), until: t0 + 100 * day).jsonObjects()
        let ids = first.compactMap { $0["id"] as? String }
        #expect(ids.count == first.count)
        #expect(ids == second.compactMap { $0["id"] as? String })
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.count == 16 && $0.allSatisfy(\.isHexDigit) })
    }

    @Test func everyRecordHasKindIdAndIntegerTs() throws {
        let objects = try replay(sampleFeed(), until: t0 + 100 * day).jsonObjects()
        #expect(!objects.isEmpty)
        for object in objects {
            #expect(["tag", "alert", "coupon", "community_stats", "coupon_outcome"].contains(object["kind"] as? String ?? ""))
            #expect(object["id"] is String)
            let ts = object["ts"] as? NSNumber
            #expect(ts.map { Double($0.int64Value) == $0.doubleValue } == true)
        }
        // SPEC §6: an outcome names its coupon and says how the coupon's window went.
        let outcomes = objects.filter { $0["kind"] as? String == "coupon_outcome" }
        let couponIDs = Set(objects.filter { $0["kind"] as? String == "coupon" }.compactMap { $0["id"] as? String })
        #expect(!outcomes.isEmpty)
        for outcome in outcomes {
            #expect(Set(outcome.keys) == ["kind", "id", "coupon_id", "campaign", "user_id", "community_id", "ts", "holdout", "converted", "converted_ts", "amount"])
            #expect(couponIDs.contains(outcome["coupon_id"] as? String ?? ""))
            #expect((outcome["converted"] as? Bool) == !(outcome["converted_ts"] is NSNull))
        }
    }

    @Test func unknownCommunityIsNull() throws {
        var feed = Feed()
        feed.order("u1", at: t0)
        let objects = try replay(feed).jsonObjects()
        #expect(!objects.isEmpty)
        #expect(objects.allSatisfy { $0["community_id"] is NSNull })
    }

    @Test func tagRecordNamesTheCurrentCommunity() throws {
        var feed = Feed()
        feed.order("u1", at: t0, community: "c1")
        feed.open("u1", at: t0 + day, community: "c2")
        let run = try replay(feed, until: t0 + 30 * day)
        let atRisk = run.jsonObjects().first { $0["tag"] as? String == "at_risk" }
        #expect(atRisk?["community_id"] as? String == "c2")
    }

    @Test(arguments: [#"a\"b"#, #"back\\slash"#, #"line\nbreak\ttab"#, #"ctl\u0001"#, "用户🥬", #"\u2028sep"#])
    func userIdsAreEscapedSoTheLineParsesBackToTheSameString(jsonUser: String) throws {
        var feed = Feed()
        feed.order(jsonUser, at: t0)
        let run = try replay(feed)
        let expected = (try? JSONSerialization.jsonObject(with: Data("\"\(jsonUser)\"".utf8), options: .fragmentsAllowed)) as? String
        let lines = run.jsonLines()
        #expect(!lines.isEmpty)
        #expect(lines.allSatisfy { !$0.contains("\n") })
        #expect(run.jsonObjects().allSatisfy { $0["user_id"] as? String == expected })
    }

    @Test func moneyIsWrittenWithNoMoreDecimalsThanTheInput() throws {
        var feed = Feed()
        feed.order("u1", at: t0, amount: "12.50", items: [item(sku: "a", qty: "2.250")], community: "c1")
        feed.order("u2", at: t0, amount: "0.10", community: "c1")
        let run = try replay(feed, until: jan1 + day)
        let line = run.jsonLines().first { $0.contains(#""kind":"community_stats""#) }
        #expect(line?.contains(#""gmv_30d":12.6,"#) == true)
        #expect(line?.contains(#"{"sku":"a","qty":2.25}"#) == true)
    }

    @Test func writtenMoneyIsItsDescription() {
        var random = SystemRandomNumberGenerator()
        let units: [Int64] = [0, 1, -1, 10, 100_000, 1_000_000, -1_000_000, 1_500_000, -50_000, 12_345_678, .max, .min, .min + 1]
            + (0..<2_000).map { _ in Int64.random(in: -10_000_000_000...10_000_000_000, using: &random) }
            + (0..<200).map { _ in Int64.random(in: .min ... .max, using: &random) }
        let writer = JSONWriter()
        for u in units {
            writer.reset()
            writer.money(Money(units: u))
            #expect(writer.withBytes { String(decoding: $0, as: UTF8.self) } == Money(units: u).description, "\(u)")
        }
    }
}
