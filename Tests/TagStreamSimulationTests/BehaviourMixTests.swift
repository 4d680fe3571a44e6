import Foundation
import Testing
import TagStreamSimulation

/// The run looks like a real community group-buy app: loyal buyers, lapsed ones, families,
/// quality seekers, browsers, newcomers over time, mealtime peaks.
@Suite struct BehaviourMixTests {
    @Test func someUsersOrderAtLeastThreeTimes() throws {
        let frequent = try SimulationRun.shared.paidTimestamps().values.filter { $0.count >= 3 }
        #expect(frequent.count >= 50)
    }

    @Test func someUsersStopOrderingForNinetyDaysOrMore() throws {
        let run = try SimulationRun.shared
        let end = run.config.start + Int64(run.config.days) * millisecondsPerDay
        let ninetyDays = 90 * millisecondsPerDay
        var stopped = 0
        var cameBack = 0
        for timestamps in run.paidTimestamps().values {
            let lastPaid = try #require(timestamps.last, "a user listed with no paid order")
            if end - lastPaid >= ninetyDays { stopped += 1 }
            if zip(timestamps, timestamps.dropFirst()).contains(where: { $1 - $0 >= ninetyDays }) { cameBack += 1 }
        }
        #expect(stopped >= 10)
        #expect(cameBack >= 1)
    }

    @Test func someOrdersContainBabyItems() throws {
        let orders = try SimulationRun.shared.lines(ofType: "order_paid")
        let withBaby = orders.filter { line in
            (line.object["items"] as? [[String: Any]] ?? []).contains { $0["category"] as? String == "baby" }
        }
        #expect(withBaby.count >= 20)
        #expect(withBaby.count < orders.count / 4)
    }

    @Test func someUsersSearchForQualityFoodTwiceWithinThirtyDays() throws {
        let terms = ["organic", "imported", "有机", "进口"]
        var searches: [String: [Int64]] = [:]
        var mixedCase = false
        for line in try SimulationRun.shared.lines(ofType: "search") {
            let query = line.object["query"] as? String ?? ""
            guard terms.contains(where: { query.lowercased().contains($0) }) else { continue }
            searches[line.event.userID, default: []].append(line.event.ts)
            if query.contains("Organic") || query.contains("IMPORTED") { mixedCase = true }
        }
        let seekers = searches.values.filter { timestamps in
            zip(timestamps, timestamps.dropFirst()).contains { $1 - $0 < 30 * millisecondsPerDay }
        }
        #expect(seekers.count >= 10)
        #expect(mixedCase)
    }

    @Test func someUsersBrowseWithoutEverBuying() throws {
        let run = try SimulationRun.shared
        let buyers = Set(run.paidTimestamps().keys)
        let users = Set(run.lines.map(\.event.userID))
        #expect(users.subtracting(buyers).count >= run.config.users / 20)
    }

    @Test func usersJoinOverThePeriod() throws {
        let run = try SimulationRun.shared
        var firstDay: [String: Int] = [:]
        for line in run.lines where firstDay[line.event.userID] == nil { firstDay[line.event.userID] = line.day }
        #expect(firstDay.count == run.config.users)
        let onDayOne = firstDay.values.filter { $0 == 0 }.count
        let lateJoiners = firstDay.values.filter { $0 >= run.config.days / 2 }.count
        #expect(onDayOne > run.config.users / 5 && onDayOne < run.config.users / 2)
        #expect(lateJoiners > run.config.users / 5)
    }

    @Test func leadersAndReferrersAreMembersOfTheCommunity() throws {
        let run = try SimulationRun.shared
        var communityOf: [String: String] = [:]
        for line in run.lines { communityOf[line.event.userID] = line.object["community_id"] as? String }
        var leaders = 0
        var referrers = 0
        var violations = Violations()
        for line in run.lines {
            let community = line.object["community_id"] as? String
            if let leader = line.object["leader_id"] as? String {
                leaders += 1
                violations.check(communityOf[leader] == community, "leader outside the community", in: line)
            }
            if let referrer = line.object["referrer_id"] as? String {
                referrers += 1
                violations.check(referrer != line.event.userID && communityOf[referrer] == community,
                                 "referrer outside the community", in: line)
            }
        }
        #expect(leaders > run.lines.count / 2)
        #expect(referrers > 0)
        #expect(violations.isEmpty, "\(violations)")
    }

    @Test func mostSessionsStartAtShanghaiMealtimePeaks() throws {
        let opens = try SimulationRun.shared.lines(ofType: "app_open")
        let peakHours: Set<Int64> = [6, 7, 8, 11, 12, 13, 18, 19, 20, 21]
        let atPeaks = opens.filter { line in
            let local = line.event.ts + 8 * 3_600_000
            return peakHours.contains((local % millisecondsPerDay) / 3_600_000)
        }
        #expect(Double(atPeaks.count) > 0.7 * Double(opens.count))
    }

    @Test func sessionsBelongToOneUserAndStartWithAppOpen() throws {
        var owner: [String: String] = [:]
        var violations = Violations()
        for line in try SimulationRun.shared.lines {
            guard let session = line.object["session_id"] as? String else { continue }
            if let user = owner[session] {
                violations.check(user == line.event.userID, "session of another user", in: line)
            } else {
                owner[session] = line.event.userID
                violations.check(line.type == "app_open", "session does not start with app_open", in: line)
            }
        }
        #expect(violations.isEmpty, "\(violations)")
    }
}
