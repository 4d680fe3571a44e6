/// How an A/B test (`replay --variant`) or a canary divides users between two pipelines: a user
/// is in the variant's arm when FNV-1a-64 of `"variant:<user_id>"` mod 100 < `percent`. The salt
/// keeps the split independent of the campaigns' holdout hash (`"<campaign>:<user_id>"`), and the
/// same users stay in the same arm in every run with the same percentage.
public struct UserSplit: Sendable, Equatable {
    /// The variant's share of users, 0 to 100.
    public let percent: Int

    public init(percent: Int) {
        precondition((0...100).contains(percent), "a split of \(percent) %")
        self.percent = percent
    }

    public func isVariant(_ user: String) -> Bool {
        FNV1a64.hash("variant:\(user)") % 100 < UInt64(percent)
    }
}

/// One arm of a split: the processor of an arm applies its users' events only. Records that
/// belong to no user (dead letters, unknown types) are the control arm's, so that each is
/// counted once over both arms.
public struct SplitArm: Sendable, Equatable {
    public let split: UserSplit
    public let isVariant: Bool

    public init(split: UserSplit, isVariant: Bool) {
        self.split = split
        self.isVariant = isVariant
    }
}
