import Foundation
import Redis
import Testing
import TagStreamCore
@testable import TagStreamRuntime
import TestServers

/// The dashboard of a run split by partition, as users run it: two `tagstream run
/// --split-by-partition` processes of one group on the embedded cluster, each from a directory of
/// its own with its output in a log. Each instance answers for the users and communities of its
/// tasks and redirects the rest to the instance that holds them; their answers agree with the
/// Redis profile store, and a community's page merges its customers from every task.
@Suite(.serialized) struct DashboardSplitTests {
    static let group = "dashboard-split"
    static let tasks = 4

    @Test func eachInstanceAnswersForItsTasksAndRedirectsTheRestToTheirHolder() async throws {
        let files = try Fixtures.generateEvents(["--users", "800", "--days", "45", "--seed", "12", "--communities", "8", "--partitions", "\(Self.tasks)",
                                                 "--dup-rate", "0.002", "--bad-rate", "0.002", "--escape-rate", "0.01"],
                                                into: try Fixtures.temporaryDirectory("dashboard-split-in"))
        let redis = try RedisServer()
        let (cluster, _) = try LiveCheckpointTests.cluster(with: files, partitions: Self.tasks)
        let secret = try DashboardAPITests.secretFile("dashboard-split"), token = try DashboardAPITests.secretFile("dashboard-split-token")
        let ports = [try LoopbackPort.free(), try LoopbackPort.free()]
        let urls = ports.map { "http://127.0.0.1:\($0)" }
        let engines = try ports.indices.map { i in
            let directory = try Fixtures.temporaryDirectory("dashboard-split-instance-\(i)")
            var engine = LiveCheckpointTests.Engine(cluster: cluster, redisURL: redis.url, group: Self.group, log: directory.appendingPathComponent("run.log"),
                                                    extra: ["--split-by-partition", "--http-port", "\(ports[i])", "--advertise-url", urls[i],
                                                            "--secret-file", secret.path, "--operator-token-file", token.path])
            engine.directory = directory
            engine.stopAtEnd = false
            return engine
        }
        let processes = try engines.map { try $0.launch() }
        defer { for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let client = RedisClient(url: try RedisURL(redis.url))
        let bearer = ["Authorization": "Bearer " + String(decoding: token.bytes, as: UTF8.self)]
        let partitionOf = try Self.partitions(of: files)
        func logs() -> String { engines.map { String($0.logText.suffix(800)) }.joined(separator: "\n---\n") }

        // Both instances hold tasks.
        try await Self.waitUntil(seconds: 240, "both instances hold tasks; log: \(logs())") {
            Set(try Self.addresses(client).compactMap { $0 }) == Set(urls)
        }

        // Once every record is in and checkpointed, every user is answered by the holder of their
        // task, directly or after one redirect, and as the profile store says.
        var check = UserCheck()
        try await Self.waitUntil(seconds: 180, "users agree: \(check), e.g. \(check.differing.prefix(3)); log: \(logs())") {
            check = try await Self.checkUsers(partitionOf, asking: urls, bearer: bearer, client)
            return check.differing.isEmpty
        }
        #expect(check.differing.isEmpty, "\(check.differing.count) of \(partitionOf.count) users differ, e.g. \(check.differing.prefix(3)); log: \(logs())")
        #expect(check.redirected > 0 && check.answeredDirectly > 0, "\(check)")

        // A community is answered by one instance, and redirected there by the other. Its figures
        // are the profile store's, and its customers, merged from every task, are the users whose
        // profiles say they live there.
        let overview = try DashboardAPITests.json(try await HTTP.get(url: urls[0] + "/api/v1/communities", headers: bearer))
        let communities = try #require(overview["communities"] as? [[String: Any]]).compactMap { $0["community_id"] as? String }
        #expect(communities.count == 8, "\(overview)")
        let profiles = try Self.profiles(of: Array(partitionOf.keys), client)
        for community in communities {
            let path = "/api/v1/communities/\(community)"
            let answers = try await urls.asyncMap { try await HTTP.get(url: $0 + path, headers: bearer, followRedirects: false) }
            let (answering, redirecting) = answers[0].status == 200 ? (0, 1) : (1, 0)
            #expect(answers[answering].status == 200 && answers[redirecting].status == 307, "\(community): \(answers.map(\.status))")
            #expect(answers[redirecting].headers["location"] == urls[answering] + path)
            let document = try DashboardAPITests.json(answers[answering])
            let figures = try #require(document["figures"] as? [String: Any], "\(community): no figures")
            try DashboardAPITests.expectFiguresEqualStore(figures, community: community, client)
            let members = profiles.values.filter { $0["community_id"] == community }
            #expect(document["users"] as? Int == members.count, "\(community)")
            let lifecycle = try #require((document["groups"] as? [[String: Any]])?.first { $0["group"] as? String == "lifecycle" })
            for entry in try #require(lifecycle["tags"] as? [[String: Any]]) {
                let tag = try #require(entry["tag"] as? String)
                #expect(entry["now"] as? Int == members.filter { $0["lifecycle"] == tag }.count, "\(community) \(tag)")
            }
        }
        // Every instance merges the same overview.
        try await Self.waitUntil(seconds: 30, "the instances' overviews differ") {
            let bodies = try await urls.asyncMap { try await HTTP.get(url: $0 + "/api/v1/communities", headers: bearer).body }
            return bodies[0] == bodies[1]
        }

        // A leader's link opens the page on either instance: the other sends it on, query and all.
        let community = communities[0]
        let link = LinkSigner(secret: secret.bytes).sign(path: "/communities/\(community)", expires: Date().addingTimeInterval(600))
        let pages = try await urls.asyncMap { try await HTTP.get(url: $0 + link, followRedirects: false) }
        let owner = pages[0].status == 200 ? 0 : 1
        #expect(pages[owner].status == 200 && pages[owner].headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(pages[1 - owner].status == 307 && pages[1 - owner].headers["location"] == urls[owner] + link)
        #expect(try await HTTP.get(url: urls[1 - owner] + "/communities/\(community)", followRedirects: false).status == 403, "access is decided before redirecting")

        // An instance that stops gives its tasks up: the other takes them over and answers for everyone.
        kill(processes[1].processIdentifier, SIGTERM)
        try await OperationsTests.waitForExit(processes[1])
        #expect(processes[1].terminationStatus == 0, "log: \(engines[1].logText.suffix(800))")
        try await Self.waitUntil(seconds: 240, "instance 0 holds every task; log: \(logs())") {
            try Self.addresses(client) == Array(repeating: urls[0], count: Self.tasks)
        }
        try await Self.waitUntil(seconds: 60, "instance 0 answers every user: \(check), e.g. \(check.differing.prefix(3))") {
            check = try await Self.checkUsers(partitionOf, asking: [urls[0]], bearer: bearer, client)
            return check.differing.isEmpty
        }
        #expect(check.differing.isEmpty && check.redirected == 0, "\(check.differing.prefix(3))")

        kill(processes[0].processIdentifier, SIGTERM)
        try await OperationsTests.waitForExit(processes[0])
        #expect(processes[0].terminationStatus == 0, "log: \(engines[0].logText.suffix(800))")
        #expect(try Self.addresses(client).allSatisfy { $0 == nil }, "a stopped instance leaves no address")
        for engine in engines {
            #expect(!engine.logText.contains(String(decoding: secret.bytes, as: UTF8.self)) && !engine.logText.contains("sig="))
        }
    }

    /// What asking for every user gave.
    struct UserCheck: CustomStringConvertible {
        var differing: [String] = []
        var redirected = 0
        var answeredDirectly = 0
        var description: String { "\(differing.count) differ, \(redirected) redirected, \(answeredDirectly) answered directly" }
    }

    /// Asks one of `instances` for each user: the answer comes from the instance whose address is
    /// beside the lease of the user's partition's task, after at most one redirect, and agrees
    /// with the user's profile hash.
    static func checkUsers(_ partitionOf: [String: Int], asking instances: [String], bearer: [String: String], _ client: RedisClient) async throws -> UserCheck {
        var check = UserCheck()
        let holders = try addresses(client)
        for (i, (user, partition)) in partitionOf.sorted(by: { $0.key < $1.key }).enumerated() {
            let path = "/api/v1/users/" + (user.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? user)
            let asked = instances[i % instances.count]
            var response = try await HTTP.get(url: asked + path, headers: bearer, followRedirects: false)
            if response.status == 307 {
                guard let holder = holders[partition], holder != asked, response.headers["location"] == holder + path else {
                    check.differing.append("\(user): redirected to \(response.headers["location"] ?? "-"), task \(partition) is at \(holders[partition] ?? "-")")
                    continue
                }
                check.redirected += 1
                response = try await HTTP.get(url: holder + path, headers: bearer, followRedirects: false)
            } else {
                check.answeredDirectly += 1
            }
            var expected = try DashboardAPITests.hash("tagstream:user:\(user)", client)
            expected["updated_at"] = nil
            // Users of dead letters only were never seen: not found, and no profile.
            if response.status == 404, expected.isEmpty { continue }
            guard response.status == 200 else { check.differing.append("\(user): HTTP \(response.status)"); continue }
            let view = try DashboardAPITests.json(response)
            var actual = (view["profile"] as? [String: String]) ?? [:]
            actual["community_id"] = view["community_id"] as? String
            if actual != expected { check.differing.append("\(user): API \(actual), Redis \(expected)") }
        }
        return check
    }

    /// The address beside each task's lease.
    static func addresses(_ client: RedisClient) throws -> [String?] {
        try (0..<tasks).map { try client.command(["GET", "tagstream:checkpoint:{community-grocery:\(group):task-\($0)}:http"]).text() }
    }

    static func profiles(of users: [String], _ client: RedisClient) throws -> [String: [String: String]] {
        try Dictionary(uniqueKeysWithValues: users.map { ($0, try DashboardAPITests.hash("tagstream:user:\($0)", client)) })
    }

    /// The partition each user's events are in, read off the generated files' names (`<stream>-<partition>.jsonl`).
    static func partitions(of files: [String]) throws -> [String: Int] {
        var partitionOf: [String: Int] = [:]
        for file in files {
            let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
            let partition = try #require(name.split(separator: "-").last.flatMap { Int($0) }, "\(file)")
            for user in try DashboardViewTests.userIDs(in: [file]) { partitionOf[user] = partition }
        }
        return partitionOf
    }

    static func waitUntil(seconds: Double, _ what: @autoclosure () -> String, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .seconds(1))
        }
        throw TestFailure("not within \(Int(seconds)) s: \(what())")
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
