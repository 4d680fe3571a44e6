import Foundation
import Testing
import TagStreamCore
@testable import TagStreamRuntime

/// The engine's views for the leaders' dashboard: every figure agrees with the records a replay
/// wrote, and shards' parts merge into one engine's.
@Suite struct DashboardViewTests {
    static func options(_ inputs: [String], _ out: URL) throws -> ReplayOptions {
        ReplayOptions(pipeline: try PipelineLoader.load(path: Fixtures.referencePipeline), inputs: inputs, outputDirectory: out.path)
    }

    static func replay(_ inputs: [String], name: String) throws -> (ReplayJob, URL) {
        let out = try Fixtures.temporaryDirectory(name)
        let job = try ReplayJob(options: options(inputs, out))
        _ = try job.run(progress: ProgressLine(enabled: false))
        return (job, out)
    }

    @Test func shardsPartsMergeIntoOneEnginesPartOnMessyInput() throws {
        let input = try Fixtures.temporaryDirectory("dashboard-messy-in")
        let files = try Fixtures.generateEvents([
            "--users", "700", "--days", "120", "--seed", "23", "--communities", "12", "--partitions", "2", "--disorder-ms", "600000",
            "--dup-rate", "0.02", "--bad-rate", "0.01", "--late-rate", "0.005",
        ], into: input)
        let (one, _) = try Self.replay(files, name: "dashboard-messy-1")
        let expected = one.dashboardPart()
        #expect(expected.communities.count >= 5, "too few communities for the test to prove much")
        #expect(expected.communities.values.contains { !$0.vipsAtRisk.isEmpty } && expected.communities.values.contains { !$0.sleeping.isEmpty })
        // A part crosses instances of a split run as bytes, which only the same pipeline reads.
        let fingerprint = one.options.pipeline.fingerprint
        let bytes = expected.encoded(pipelineFingerprint: fingerprint)
        #expect(try DashboardPart(encoded: bytes, pipelineFingerprint: fingerprint) == expected)
        #expect(throws: SnapshotError.self) { try DashboardPart(encoded: bytes, pipelineFingerprint: fingerprint &+ 1) }
        let users = try Self.userIDs(in: files)
        for n in [2, 3, 4] {
            let sharded = try ShardedReplayJob(options: Self.options(files, try Fixtures.temporaryDirectory("dashboard-messy-\(n)")), workers: n)
            _ = try sharded.run(progress: ProgressLine(enabled: false))
            let merged = sharded.dashboardPart()
            #expect(merged.communities == expected.communities, "\(n) workers' merged parts differ from one engine's")
            #expect(merged.asOf == expected.asOf)
            for user in users { #expect(sharded.userView(user) == one.userView(user), "user \(user), \(n) workers") }
        }
    }

    @Test func viewsAgreeWithTheRecordsOfTheReplay() throws {
        let input = try Fixtures.temporaryDirectory("dashboard-in")
        let file = input.appendingPathComponent("events.jsonl").path
        try Fixtures.run(Fixtures.tagstreamBinary, ["generate", "--users", "600", "--days", "150", "--seed", "41", "--communities", "8", "--merged", file])
        let (job, out) = try Self.replay([file], name: "dashboard-records")
        let records = try Oracle(out: out, input: file)
        let part = job.dashboardPart()
        let t = part.asOf
        #expect(Set(part.communities.keys) == Set(records.communityOf.values))
        var checkedDays = 0, checkedFigures = 0
        for (community, view) in part.communities {
            let members = records.communityOf.filter { $0.value == community }.map(\.key)
            #expect(view.users == Int32(members.count), "\(community): users")
            #expect(view.tagCounts == records.tagCounts(part.countedGroups, users: members, at: .max), "\(community): tags now")
            for day in view.history {
                #expect(day.tagCounts == records.tagCounts(part.countedGroups, users: members, at: day.at), "\(community): tags at \(day.at)")
                checkedDays += 1
                guard let figures = day.figures else { continue }
                let line = records.communityStats[community + "@\(day.at)"] ?? ""
                for (name, value) in figures.fields {
                    let encoded = JSONWriter()
                    encoded.figure(value)
                    #expect(line.contains("\"\(name)\":" + String(decoding: encoded.bytes, as: UTF8.self)), "\(community) at \(day.at): \(name)")
                }
                checkedFigures += 1
            }
            #expect(view.history.map(\.at) == records.refreshes(of: community, after: t - Engine.historySpan))
            let lastPaid = records.lastPaid
            let vips = members.filter { records.openVIPAlert.contains($0) }
            #expect(view.vipsAtRisk.map(\.user) == Self.sorted(vips, by: { lastPaid[$0]! }, descending: false), "\(community): VIPs at risk")
            #expect(view.vipsAtRisk.allSatisfy { $0.lastPaid == lastPaid[$0.user] })
            let sleeping = members.filter { ["sleeping", "churned"].contains(records.tag(of: $0, group: "lifecycle", at: .max)) }
            #expect(view.sleeping.map(\.user) == Self.sorted(sleeping, by: { lastPaid[$0]! }, descending: true), "\(community): sleeping")
            let woken = sleeping.compactMap { user in records.wakeCoupons[user].flatMap { $0.ts >= lastPaid[user]! ? $0 : nil } }
            #expect(view.wakeCouponsSent == Int32(woken.filter { !$0.holdout }.count), "\(community): wake-up coupons sent")
            #expect(view.wakeCouponsHeldOut == Int32(woken.filter(\.holdout).count), "\(community): wake-up coupons held out")
            #expect(view.newCustomers == Int32(members.filter { (records.firstPaid[$0] ?? .min) > t - DashboardPart.newCustomerSpan }.count))
        }
        #expect(checkedDays > 100 && checkedFigures > 100, "the history holds too little for the test to prove much")
        #expect(part.communities.values.reduce(0) { $0 + $1.vipsAtRisk.count } > 0)
        #expect(part.communities.values.reduce(0) { $0 + $1.sleeping.count } > 0)
        #expect(part.communities.values.reduce(0) { $0 + $1.wakeCouponsSent } > 0)

        for user in records.communityOf.keys {
            let view = try #require(job.userView(user))
            let profile = Dictionary(uniqueKeysWithValues: view.profile.map { ($0.group, $0.tag) })
            #expect(profile == records.currentTags[user] ?? [:], "\(user): profile")
            #expect(view.community == records.communityOf[user])
            #expect(view.openAlerts == (records.openVIPAlert.contains(user) ? ["vip_churn_risk"] : []), "\(user): open alerts")
            #expect(view.aggregates.first { $0.name == "last_paid" }?.value == records.lastPaid[user].map { .instant($0) } ?? .absent)
        }
        #expect(job.userView("nobody") == nil)
    }

    static func sorted(_ users: [String], by key: (String) -> Int64, descending: Bool) -> [String] {
        Array(users.sorted { a, b in key(a) != key(b) ? (key(a) < key(b)) != descending : a < b }.prefix(DashboardPart.listLimit))
    }

    /// The users of well-formed lines (messy files hold lines that are not JSON or not UTF-8).
    static func userIDs(in files: [String]) throws -> Set<String> {
        var users = Set<String>()
        for file in files {
            for line in try Data(contentsOf: URL(fileURLWithPath: file)).split(separator: 0x0A) {
                if let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], let user = object["user_id"] as? String {
                    users.insert(user)
                }
            }
        }
        return users
    }

    /// What a replay's files and its (clean) input say, read independently of the engine.
    struct Oracle {
        /// Per user: the tag records, in order, as (ts, group, tag or nil).
        var tagRecords: [String: [(ts: Int64, group: String, tag: String?)]] = [:]
        var communityOf: [String: String] = [:]
        /// Record lines of community_stats by "community@ts".
        var communityStats: [String: String] = [:]
        var openVIPAlert = Set<String>()
        var lastPaid: [String: Int64] = [:]
        var firstPaid: [String: Int64] = [:]
        var wakeCoupons: [String: (ts: Int64, holdout: Bool)] = [:]

        init(out: URL, input: String) throws {
            func objects(_ path: String) throws -> [(line: String, object: [String: Any])] {
                try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { line in
                    (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]).map { (String(line), $0) }
                }
            }
            func ts(_ o: [String: Any]) -> Int64 { (o["ts"] as! NSNumber).int64Value }
            for (_, o) in try objects(input) where o["type"] as? String == "order_paid" {
                let user = o["user_id"] as! String
                lastPaid[user] = max(lastPaid[user] ?? .min, ts(o))
                firstPaid[user] = min(firstPaid[user] ?? .max, ts(o))
            }
            for (_, o) in try objects(out.appendingPathComponent("tags.jsonl").path) {
                let user = o["user_id"] as! String
                tagRecords[user, default: []].append((ts(o), o["group"] as! String, o["tag"] as? String))
                if let community = o["community_id"] as? String { communityOf[user] = community }
            }
            for (line, o) in try objects(out.appendingPathComponent("community_stats.jsonl").path) {
                communityStats["\(o["community_id"] as! String)@\(ts(o))"] = line
            }
            var lastAlert: [String: Int64] = [:]
            for (_, o) in try objects(out.appendingPathComponent("alerts.jsonl").path) where o["alert"] as? String == "vip_churn_risk" {
                lastAlert[o["user_id"] as! String] = ts(o)
            }
            openVIPAlert = Set(lastAlert.filter { $0.value > (lastPaid[$0.key] ?? .min) }.keys)
            for (_, o) in try objects(out.appendingPathComponent("coupons.jsonl").path) where o["campaign"] as? String == "wake_up" {
                wakeCoupons[o["user_id"] as! String] = (ts(o), o["holdout"] as! Bool)
            }
        }

        /// The user's tag of `group` after the records at or before `t`.
        func tag(of user: String, group: String, at t: Int64) -> String? {
            tagRecords[user, default: []].last { $0.group == group && $0.ts <= t }?.tag
        }

        var currentTags: [String: [String: String]] {
            tagRecords.mapValues { records in
                var tags: [String: String] = [:]
                for r in records { tags[r.group] = r.tag }
                return tags
            }
        }

        func tagCounts(_ groups: [CountedGroup], users: [String], at t: Int64) -> [Int32] {
            groups.flatMap { group in
                group.tags.map { tag in Int32(users.filter { self.tag(of: $0, group: group.name, at: t) == tag }.count) }
            }
        }

        /// The refreshes after `start` at which the community had a record.
        func refreshes(of community: String, after start: Int64) -> [Int64] {
            communityStats.keys.compactMap { key -> Int64? in
                let parts = key.split(separator: "@")
                guard parts[0] == community, let t = Int64(parts[1]), t > start else { return nil }
                return t
            }.sorted()
        }
    }
}
