/// A figure of every user of an arm, such as what each paid: the users who have a value other
/// than zero, and how many users there are in all (the others count 0).
public struct PerUserValues: Equatable, Sendable {
    /// All the arm's users, with a value or without.
    public let users: Int
    /// The values other than zero, one per user who has one, in ascending order: sums in a fixed
    /// order give the same bits whatever order the users came in, so the same records give the same report.
    public let values: [Double]

    /// `nonZero` holds at most `users` values.
    public init(users: Int, nonZero: [Double]) {
        precondition(nonZero.count <= users, "\(nonZero.count) values for \(users) users")
        self.users = users
        values = nonZero.filter { $0 != 0 }.sorted()
    }

    /// The mean over all the users; nil without users.
    public var mean: Double? { users > 0 ? values.reduce(0, +) / Double(users) : nil }

    /// The sample variance (divided by users − 1); nil with fewer than two users. Two passes over
    /// the values, with the zeros' share added at once, so that large means lose no precision.
    public var variance: Double? {
        guard users > 1, let mean else { return nil }
        let spread = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } + Double(users - values.count) * mean * mean
        return spread / Double(users - 1)
    }

    public var standardDeviation: Double? { variance?.squareRoot() }
}
