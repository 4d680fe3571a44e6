import TagStreamCore

/// The two arms of an A/B replay (`replay --variant`), as its `summary.json` lists them under
/// `variants`, control first, and the hash that put each user in one of them.
public struct ArmSplit: Sendable {
    /// One arm: its pipeline, its share of users and how many users it held.
    public struct Arm: Sendable, Equatable {
        public let name: String
        public let percent: Int
        public let users: Int
    }

    public let control: Arm
    public let variant: Arm
    let split: UserSplit

    /// The split of `summary.variants`, or nil for a replay of one pipeline; an entry that cannot
    /// be a split of two arms is an error naming `summary.json` and the field.
    init?(_ arms: [ReplaySummary.VariantArm]?, summaryFile: String) throws {
        guard let arms else { return nil }
        func fail(_ message: String) -> RecordFileError { RecordFileError(file: summaryFile, line: 0, field: "variants", message: message) }
        guard arms.count == 2 else { throw fail("expected two arms, the control and the variant; found \(arms.count)") }
        for (i, arm) in arms.enumerated() {
            guard (0...100).contains(arm.percent) else { throw fail("arm \(i) ('\(arm.name)'): percent \(arm.percent) is not from 0 to 100") }
            guard arm.users >= 0 else { throw fail("arm \(i) ('\(arm.name)'): users \(arm.users) is negative") }
        }
        guard arms[0].percent + arms[1].percent == 100 else { throw fail("the arms' percents add up to \(arms[0].percent + arms[1].percent), not 100") }
        guard arms[0].name != arms[1].name else { throw fail("both arms are named '\(arms[0].name)'") }
        control = Arm(name: arms[0].name, percent: arms[0].percent, users: arms[0].users)
        variant = Arm(name: arms[1].name, percent: arms[1].percent, users: arms[1].users)
        split = UserSplit(percent: variant.percent)
    }

    /// The name of the arm `user` is in: the variant's when FNV-1a-64 of `"variant:<user_id>"`
    /// mod 100 is below the variant's percent, the same hash as the replay's.
    func arm(of user: String) -> String { split.isVariant(user) ? variant.name : control.name }
}
