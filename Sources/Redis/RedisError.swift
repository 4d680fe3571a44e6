/// An error talking to Redis: the connection failed, or the server answered with an error.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL is not `redis://[user:password@]host:port/db`.
    case invalidURL(String)
    /// Connecting, sending or receiving failed (refused, timed out, closed); a reconnect may help.
    case connection(String)
    /// Redis answered with an error reply; carries Redis's own message (`WRONGPASS …`, `NOPERM …`).
    case server(String)
    /// A reply of a shape the caller did not expect.
    case unexpectedReply(String)

    public var description: String {
        switch self {
        case .invalidURL(let message): "invalid Redis URL: \(message)"
        case .connection(let message): "Redis unavailable: \(message)"
        case .server(let message): "Redis error: \(message)"
        case .unexpectedReply(let message): "unexpected Redis reply: \(message)"
        }
    }

    /// Whether the server refused the credentials or the user's permissions (ACL).
    public var isAccessDenied: Bool {
        guard case .server(let message) = self else { return false }
        return ["WRONGPASS", "NOAUTH", "NOPERM", "ERR invalid password", "ERR AUTH"].contains { message.hasPrefix($0) }
    }
}
