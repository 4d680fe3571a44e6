import CHiredis
import Foundation

/// One connection to a Redis server over hiredis: commands, pipelines and MULTI/EXEC.
/// Not thread-safe: one owner. After a `.connection` error the connection is closed; make a new one.
public final class RedisConnection {
    private var context: UnsafeMutablePointer<redisContext>?
    public let url: RedisURL

    /// Connects, logs in (AUTH, with the ACL user when the URL names one) and selects the database.
    public init(url: RedisURL, connectTimeout: TimeInterval = 2, commandTimeout: TimeInterval = 10) throws(RedisError) {
        self.url = url
        guard let context = redisConnectWithTimeout(url.host, Int32(url.port), Self.timeval(connectTimeout)) else {
            throw .connection("cannot allocate a connection to \(url)")
        }
        self.context = context
        guard context.pointee.err == 0 else {
            let message = Self.errorText(context)
            close()
            throw .connection("cannot connect to \(url): \(message)")
        }
        redisSetTimeout(context, Self.timeval(commandTimeout))
        if let password = url.password {
            _ = try command(url.user.map { ["AUTH", $0, password] } ?? ["AUTH", password])
        }
        if url.database != 0 { _ = try command(["SELECT", url.database]) }
    }

    deinit { close() }

    /// Whether the connection is still usable.
    public var isOpen: Bool { context != nil }

    public func close() {
        if let context { redisFree(context) }
        context = nil
    }

    /// Runs one command; an error reply throws `.server` with Redis's message.
    public func command(_ arguments: [any RedisArgument]) throws(RedisError) -> RedisValue {
        let reply = try pipeline([arguments])[0]
        if case .error(let message) = reply { throw .server(message) }
        return reply
    }

    /// Sends all commands at once and reads their replies in order (error replies are values).
    public func pipeline(_ commands: [[any RedisArgument]]) throws(RedisError) -> [RedisValue] {
        guard let context else { throw .connection("the connection to \(url) is closed") }
        for arguments in commands { try append(arguments.map(\.redisBytes), to: context) }
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw failure("read from") }
            defer { freeReplyObject(raw) }
            replies.append(Self.value(raw.assumingMemoryBound(to: redisReply.self)))
        }
        return replies
    }

    /// Runs the commands in MULTI/EXEC: all or none. Returns their replies; throws if the
    /// transaction was refused (a queued command was invalid).
    public func transaction(_ commands: [[any RedisArgument]]) throws(RedisError) -> [RedisValue] {
        let replies = try pipeline([["MULTI"]] + commands + [["EXEC"]])
        for case .error(let message) in replies.dropLast() { throw .server(message) }
        switch replies.last {
        case .array(let results)?: return results
        case .error(let message)?: throw .server(message)
        default: throw .unexpectedReply("EXEC answered \(String(describing: replies.last))")
        }
    }

    private func append(_ arguments: [[UInt8]], to context: UnsafeMutablePointer<redisContext>) throws(RedisError) {
        var pointers: [UnsafePointer<CChar>?] = []
        pointers.reserveCapacity(arguments.count)
        // hiredis copies the arguments while formatting the command: point into the arrays themselves.
        let status = Self.withPointers(to: arguments[...], collecting: &pointers) { pointers in
            redisAppendCommandArgv(context, Int32(arguments.count), &pointers, arguments.map(\.count))
        }
        guard status == REDIS_OK else { throw failure("send to") }
    }

    /// Calls `body` with a pointer to the bytes of each argument, valid for the call.
    private static func withPointers(to arguments: ArraySlice<[UInt8]>, collecting pointers: inout [UnsafePointer<CChar>?],
                                     _ body: (inout [UnsafePointer<CChar>?]) -> Int32) -> Int32 {
        guard let first = arguments.first else { return body(&pointers) }
        return first.withUnsafeBytes { raw in
            pointers.append(raw.baseAddress.map { $0.assumingMemoryBound(to: CChar.self) } ?? Self.empty)
            return withPointers(to: arguments.dropFirst(), collecting: &pointers, body)
        }
    }

    /// Where an empty argument points (never written).
    nonisolated(unsafe) private static let empty: UnsafePointer<CChar> = UnsafePointer(strdup("")!)

    /// The connection's error as a `.connection` error; the connection is closed.
    private func failure(_ verb: String) -> RedisError {
        let message = context.map(Self.errorText) ?? "closed"
        close()
        return .connection("cannot \(verb) \(url): \(message)")
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private static func value(_ reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let r = reply.pointee
        func bytes() -> [UInt8] { r.str.map { Array(UnsafeRawBufferPointer(start: $0, count: r.len)) } ?? [] }
        switch r.type {
        case REDIS_REPLY_STRING: return .string(bytes())
        case REDIS_REPLY_STATUS: return .status(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_INTEGER: return .integer(r.integer)
        case REDIS_REPLY_ARRAY: return .array((0..<r.elements).map { value(r.element[$0]!) })
        default: return .null
        }
    }

    private static func timeval(_ seconds: TimeInterval) -> Glibc.timeval {
        Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
    }
}
