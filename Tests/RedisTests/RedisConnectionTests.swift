import Foundation
import Redis
import TestServers
import Testing

@Suite("Redis connection against a real redis-server", .serialized)
struct RedisConnectionTests {
    @Test("URLs: user, password, port and database; the password never printed")
    func urls() throws {
        let url = try RedisURL("redis://ops:s%40cret@localhost:6380/3")
        #expect(url == RedisURL(host: "localhost", port: 6380, user: "ops", password: "s@cret", database: 3))
        #expect(url.description == "redis://ops:***@localhost:6380/3")
        #expect(try RedisURL("redis://:pw@h").password == "pw")
        #expect(try RedisURL("redis://h").port == 6379)
        #expect(throws: RedisError.self) { try RedisURL("http://h:1") }
        #expect(throws: RedisError.self) { try RedisURL("redis://h:1/x") }
    }

    @Test("Commands, binary values, pipelines and transactions")
    func commands() throws {
        let server = try RedisServer()
        let redis = try RedisConnection(url: try RedisURL(server.url))
        let binary: [UInt8] = (0...255).map { UInt8($0) } + [0, 0, 13, 10]
        #expect(try redis.command(["SET", "k", binary]) == .status("OK"))
        #expect(try redis.command(["GET", "k"]).bytes() == binary)
        #expect(try redis.command(["GET", "missing"]) == .null)
        let replies = try redis.pipeline([["INCR", "n"], ["INCR", "n"], ["HSET", "k", "f", "v"], ["GET", "n"]])
        #expect(replies[0] == .integer(1) && replies[1] == .integer(2) && replies[3] == .string(Array("2".utf8)))
        guard case .error(let message) = replies[2] else { Issue.record("expected WRONGTYPE, got \(replies[2])"); return }
        #expect(message.hasPrefix("WRONGTYPE"))
        #expect(try redis.transaction([["SET", "a", "1"], ["INCRBY", "a", 41]]) == [.status("OK"), .integer(42)])
        #expect(throws: RedisError.server("ERR unknown command 'NOSUCH', with args beginning with: ")) {
            try redis.command(["NOSUCH"])
        }
        let big = [UInt8](repeating: 7, count: 9 << 20)
        _ = try redis.command(["SET", "big", big])
        #expect(try redis.command(["GET", "big"]).bytes() == big)
    }

    @Test("Passwords and ACL users: wrong ones and missing permissions are clear errors")
    func authentication() throws {
        let server = try RedisServer(arguments: ["--requirepass", "secret"])
        try server.cli(["-a", "secret", "--no-auth-warning", "ACL", "SETUSER", "reader", "on", ">pw", "~*", "+get", "+ping"])
        let port = server.port
        #expect(try RedisConnection(url: try RedisURL("redis://:secret@127.0.0.1:\(port)")).command(["PING"]) == .status("PONG"))
        let reader = try RedisConnection(url: try RedisURL("redis://reader:pw@127.0.0.1:\(port)"))
        #expect(try reader.command(["GET", "x"]) == .null)
        let denied = #expect(throws: RedisError.self) { try reader.command(["SET", "x", "1"]) }
        #expect(denied?.isAccessDenied == true && denied?.description.contains("NOPERM") == true)
        let wrong = #expect(throws: RedisError.self) { try RedisConnection(url: try RedisURL("redis://:nope@127.0.0.1:\(port)")) }
        #expect(wrong?.isAccessDenied == true)
        let anonymous = try RedisConnection(url: try RedisURL("redis://127.0.0.1:\(port)"))
        #expect((#expect(throws: RedisError.self) { try anonymous.command(["GET", "x"]) })?.isAccessDenied == true)
    }

    @Test("The client reconnects after the server comes back, with backoff meanwhile")
    func reconnect() throws {
        let server = try RedisServer()
        let client = RedisClient(url: try RedisURL(server.url), connectTimeout: 0.5)
        client.minBackoff = 0.2
        #expect(try client.command(["SET", "k", "1"]) == .status("OK"))
        server.stop()
        let down = #expect(throws: RedisError.self) { try client.command(["GET", "k"]) }
        guard case .connection = down else { Issue.record("expected a connection error, got \(String(describing: down))"); return }
        // Within the backoff delay the client does not even try.
        let waiting = #expect(throws: RedisError.self) { try client.command(["GET", "k"]) }
        #expect(waiting?.description.contains("next attempt") == true)
        try server.start()
        let deadline = Date().addingTimeInterval(10)
        var reply: Result<RedisValue, RedisError> = .failure(.connection("not tried"))
        while case .failure = reply, Date() < deadline {
            reply = Result { () throws(RedisError) in try client.command(["PING"]) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(try reply.get() == .status("PONG"))
    }
}
