import Foundation
import Redis
import Testing
import TagStreamCore
@testable import TagStreamRuntime
import TestServers

/// The dashboard's JSON API served by `tagstream run --secret-file` on the embedded cluster: its
/// answers agree with the Redis profile store, and a link opens what it was signed for only.
@Suite(.serialized) struct DashboardAPITests {
    /// A secret file of 48 random bytes, readable by its owner only.
    static func secretFile(_ name: String) throws -> (path: String, bytes: [UInt8]) {
        let bytes = (0..<48).map { _ in UInt8.random(in: UInt8(ascii: "a")...UInt8(ascii: "z")) }
        let url = try Fixtures.temporaryDirectory("\(name)-secret").appendingPathComponent("secret")
        try Data(bytes).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
        return (url.path, bytes)
    }

    static func json(_ response: HTTP.Response) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any], "not a JSON object: \(response.body.prefix(300))")
    }

    /// The hash `key` of the profile store, as a dictionary.
    static func hash(_ key: String, _ client: RedisClient) throws -> [String: String] {
        let fields = try client.command(["HGETALL", key]).array().compactMap { try $0.text() }
        return Dictionary(uniqueKeysWithValues: stride(from: 0, to: fields.count, by: 2).map { (fields[$0], fields[$0 + 1]) })
    }

    @Test func apiAgreesWithTheProfileStoreAndOpensWhatALinkIsSignedFor() async throws {
        let files = try Fixtures.generateEvents(["--users", "400", "--days", "60", "--seed", "8", "--communities", "5", "--partitions", "4",
                                                 "--dup-rate", "0.002", "--bad-rate", "0.002", "--escape-rate", "0.01"],
                                                into: try Fixtures.temporaryDirectory("dashboard-api-in"))
        let redis = try RedisServer()
        let (cluster, _) = try LiveCheckpointTests.cluster(with: files, partitions: 4)
        let secret = try Self.secretFile("dashboard-api"), token = try Self.secretFile("dashboard-api-token")
        let port = try LoopbackPort.free()
        var engine = try LiveCheckpointFaultTests.engine(cluster, redis, group: "dashboard-api", extra: [
            "--http-port", "\(port)", "--secret-file", secret.path, "--operator-token-file", token.path,
        ])
        engine.stopAtEnd = false
        let process = try engine.launch()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let bearer = ["Authorization": "Bearer " + String(decoding: token.bytes, as: UTF8.self)]

        // Once every record is in and checkpointed, the profile store holds what the engine holds.
        let client = RedisClient(url: try RedisURL(redis.url))
        let users = try DashboardViewTests.userIDs(in: files).sorted()
        let deadline = Date().addingTimeInterval(120)
        var differing: [String] = []
        repeat {
            try await Task.sleep(for: .seconds(1))
            differing = []
            for user in users {
                let path = "/api/v1/users/" + (user.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? user)
                let response = try await HTTP.get(port: port, path: path, headers: bearer)
                var expected = try Self.hash("tagstream:user:\(user)", client)
                expected["updated_at"] = nil
                // Users of dead letters only were never seen: not found, and no profile.
                if response.status == 404, expected.isEmpty { continue }
                guard response.status == 200 else { differing.append("\(user): HTTP \(response.status)"); continue }
                let view = try Self.json(response)
                var actual = (view["profile"] as? [String: String]) ?? [:]
                actual["community_id"] = view["community_id"] as? String
                if actual != expected { differing.append("\(user): API \(actual), Redis \(expected)") }
            }
        } while !differing.isEmpty && Date() < deadline && process.isRunning
        #expect(differing.isEmpty, "\(differing.count) of \(users.count) users differ, e.g. \(differing.first ?? ""); log: \(engine.logText.suffix(600))")

        let overview = try Self.json(try await HTTP.get(port: port, path: "/api/v1/communities", headers: bearer))
        let communities = try #require(overview["communities"] as? [[String: Any]]).compactMap { $0["community_id"] as? String }
        #expect(communities.count >= 2)
        for community in communities {
            let response = try await HTTP.get(port: port, path: "/api/v1/communities/\(community)", headers: bearer)
            let figures = try #require(try Self.json(response)["figures"] as? [String: Any], "\(community): no figures")
            try Self.expectFiguresEqualStore(figures, community: community, client)
        }

        // A plain id (messy input holds empty and escaped ones too).
        let known = try #require(users.first { !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } })
        try await Self.expectAccessFollowsTheLinks(port: port, secret: secret.bytes, communities: communities, user: known, bearer: bearer)
        kill(process.processIdentifier, SIGTERM)
        try await OperationsTests.waitForExit(process)
        #expect(process.terminationStatus == 0, "log: \(engine.logText.suffix(600))")
        #expect(!engine.logText.contains(String(decoding: secret.bytes, as: UTF8.self)) && !engine.logText.contains("sig="))
    }

    /// A community document's figures equal the fields of its hash in the profile store.
    static func expectFiguresEqualStore(_ figures: [String: Any], community: String, _ client: RedisClient) throws {
        let stored = try hash("tagstream:community:\(community)", client)
        #expect(!figures.isEmpty)
        for (name, value) in figures {
            let text = String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]), as: UTF8.self)
            #expect(try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) as? NSObject
                    == (try JSONSerialization.jsonObject(with: Data((stored[name] ?? "null").utf8), options: [.fragmentsAllowed]) as? NSObject),
                    "\(community) \(name): API \(text), Redis \(stored[name] ?? "none")")
        }
    }

    static func expectAccessFollowsTheLinks(port: Int, secret: [UInt8], communities: [String], user: String, bearer: [String: String]) async throws {
        let signer = LinkSigner(secret: secret)
        let (mine, other) = (communities[0], communities[1])
        let link = signer.sign(path: "/communities/\(mine)", expires: Date().addingTimeInterval(600))
        let query = String(link[link.firstIndex(of: "?")!...])
        func get(_ path: String, _ headers: [String: String] = [:]) async throws -> HTTP.Response {
            try await HTTP.get(port: port, path: path, headers: headers)
        }
        let opened = try await get("/api/v1/communities/\(mine)\(query)")
        #expect(opened.status == 200)
        for (name, value) in DashboardResponse.securityHeaders { #expect(opened.headers[name.lowercased()] == value, "\(name)") }

        let forbidden = try await get("/api/v1/communities/\(other)\(query)")
        #expect(forbidden.status == 403)
        for name in DashboardResponse.securityHeaders.keys { #expect(forbidden.headers[name.lowercased()] != nil, "403 without \(name)") }
        let denials = [
            try await get("/api/v1/communities/no-such-community\(query)"),
            try await get("/api/v1/communities\(query)"),
            try await get("/api/v1/users/\(user)\(query)"),
            try await get("/api/v1/communities/\(mine)"),
            try await get("/api/v1/communities/\(mine)", ["Authorization": "Bearer wrong-token-of-more-than-thirty-two-bytes"]),
            try await get("/api/v1/communities/\(mine)" + String(signer.sign(path: "/communities/\(mine)", expires: Date().addingTimeInterval(-1)).drop { $0 != "?" })),
            try await get("/api/v1/communities/\(mine)" + String(LinkSigner(secret: Array("another secret of at least 32 bytes!".utf8)).sign(path: "/communities/\(mine)", expires: Date().addingTimeInterval(600)).drop { $0 != "?" })),
        ]
        for denial in denials {
            #expect(denial.status == forbidden.status && denial.body == forbidden.body)
            #expect(denial.headers.filter { $0.key != "date" } == forbidden.headers.filter { $0.key != "date" })
        }
        #expect(try await get("/api/v1/users/\(user)", bearer).status == 200)
        #expect(try await get("/api/v1/users/nobody-at-all", bearer).status == 404)
        #expect(try await get("/api/v1/communities/no-such-community", bearer).status == 404)
    }
}
