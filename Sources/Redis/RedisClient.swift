import Foundation

/// A Redis connection that reconnects on its own: after a connection error the next call
/// reconnects, but not before a backoff delay that doubles with each failure (up to `maxBackoff`),
/// so a server that is down is not hammered and callers are never blocked for long.
/// Not thread-safe: one owner.
public final class RedisClient {
    public let url: RedisURL
    public var connectTimeout: TimeInterval
    public var commandTimeout: TimeInterval
    public var minBackoff: TimeInterval = 0.1
    public var maxBackoff: TimeInterval = 5
    private var connection: RedisConnection?
    private var backoff: TimeInterval = 0
    private var retryAt = Date.distantPast

    public init(url: RedisURL, connectTimeout: TimeInterval = 2, commandTimeout: TimeInterval = 10) {
        self.url = url
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }

    /// Runs `body` on a live connection, connecting first when needed. A connection error drops
    /// the connection and is rethrown; so is the last one while the backoff delay lasts.
    public func withConnection<T>(_ body: (RedisConnection) throws(RedisError) -> T) throws(RedisError) -> T {
        let wait = retryAt.timeIntervalSinceNow
        if connection == nil, wait > 0 { throw .connection("\(url) is unreachable; next attempt in \(String(format: "%.1f", wait)) s") }
        do {
            let result = try body(try connected())
            backoff = 0
            return result
        } catch {
            if case .connection = error {
                connection = nil
                backoff = min(max(backoff * 2, minBackoff), maxBackoff)
                retryAt = Date().addingTimeInterval(backoff)
            }
            throw error
        }
    }

    public func command(_ arguments: [any RedisArgument]) throws(RedisError) -> RedisValue {
        try withConnection { connection throws(RedisError) in try connection.command(arguments) }
    }

    public func pipeline(_ commands: [[any RedisArgument]]) throws(RedisError) -> [RedisValue] {
        try withConnection { connection throws(RedisError) in try connection.pipeline(commands) }
    }

    public func transaction(_ commands: [[any RedisArgument]]) throws(RedisError) -> [RedisValue] {
        try withConnection { connection throws(RedisError) in try connection.transaction(commands) }
    }

    private func connected() throws(RedisError) -> RedisConnection {
        if let connection, connection.isOpen { return connection }
        let fresh = try RedisConnection(url: url, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
        connection = fresh
        return fresh
    }
}
