import Foundation

/// Where a Redis server is and how to log in: `redis://[user:password@]host:port/db`.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String?
    public var password: String?
    public var database: Int

    public init(host: String = "127.0.0.1", port: Int = 6379, user: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    /// Parses a URL; the port defaults to 6379 and the database to 0.
    public init(_ text: String) throws(RedisError) {
        guard let components = URLComponents(string: text), components.scheme == "redis" else {
            throw .invalidURL("\(text) (expected redis://[user:password@]host:port/db)")
        }
        guard let host = components.host, !host.isEmpty else { throw .invalidURL("\(text) has no host") }
        let path = components.path.drop { $0 == "/" }
        guard path.isEmpty || Int(path) != nil else { throw .invalidURL("\(text): the database \"\(path)\" is not a number") }
        self.init(host: host, port: components.port ?? 6379,
                  user: components.percentEncodedUser.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding },
                  password: components.percentEncodedPassword?.removingPercentEncoding,
                  database: Int(path) ?? 0)
    }

    /// The URL without the password, for logs and messages.
    public var description: String {
        let login = user.map { "\($0)\(password == nil ? "" : ":***")@" } ?? (password == nil ? "" : ":***@")
        return "redis://\(login)\(host):\(port)/\(database)"
    }
}
