/// The size, length, seed and start of one simulated run; the same configuration always
/// gives byte-identical events.
public struct SimulationConfig: Sendable, Hashable, Codable {
    /// Users over the whole period (they join gradually). Default: 10,000.
    public var users: Int
    /// Communities (小区 group-buy groups), each with a group leader among its members.
    /// Default: `max(1, users / 300)`, computed from `users` at initialisation.
    public var communities: Int
    /// Days of traffic. Default: 240.
    public var days: Int
    /// Random seed. Default: 1.
    public var seed: UInt64
    /// First day, as epoch milliseconds of a UTC midnight. Default: 2026-01-01T00:00:00Z.
    public var start: Int64

    /// 2026-01-01T00:00:00Z in epoch milliseconds.
    public static let defaultStart: Int64 = 1_767_225_600_000
    /// Milliseconds in a day.
    public static let dayMilliseconds: Int64 = 86_400_000
    /// The largest accepted `users`; larger runs are better split by seed.
    public static let maximumUsers = 50_000_000
    /// The largest accepted `days` (about 100 years).
    public static let maximumDays = 36_500

    public init(
        users: Int = 10_000,
        communities: Int? = nil,
        days: Int = 240,
        seed: UInt64 = 1,
        start: Int64 = SimulationConfig.defaultStart
    ) {
        self.users = users
        self.communities = communities ?? max(1, users / 300)
        self.days = days
        self.seed = seed
        self.start = start
    }

    /// Throws a ``SimulationError`` with code `.invalidConfiguration` naming the first bad
    /// setting. ``EventSimulator/init(config:)`` calls it.
    public func validate() throws(SimulationError) {
        if users < 1 {
            throw .invalidConfiguration("users must be at least 1 (got \(users))")
        }
        if users > Self.maximumUsers {
            throw .invalidConfiguration("users must be at most \(Self.maximumUsers) (got \(users))")
        }
        if days < 1 {
            throw .invalidConfiguration("days must be at least 1 (got \(days))")
        }
        if days > Self.maximumDays {
            throw .invalidConfiguration("days must be at most \(Self.maximumDays) (got \(days))")
        }
        if communities < 1 {
            throw .invalidConfiguration("communities must be at least 1 (got \(communities))")
        }
        if communities > users {
            throw .invalidConfiguration(
                "communities must not exceed users, since every community needs a leader among its members (got \(communities) communities for \(users) users)"
            )
        }
        if start < 0 || start % Self.dayMilliseconds != 0 {
            throw .invalidConfiguration("start must be the epoch milliseconds of a UTC midnight (got \(start))")
        }
    }
}

/// An error of the simulation module: a machine-readable code and a message for people.
public struct SimulationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, for callers that branch on it.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        /// A ``SimulationConfig`` setting is out of range.
        public static let invalidConfiguration = Code(name: "invalidConfiguration")
        /// An output directory or file could not be created or written.
        public static let fileOutput = Code(name: "fileOutput")
        public var description: String { name }
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    static func invalidConfiguration(_ message: String) -> SimulationError {
        SimulationError(code: .invalidConfiguration, message: message)
    }

    public var description: String { "\(code): \(message)" }
}
