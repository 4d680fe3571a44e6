/// A figure per user compared between the arms of an A/B test, such as GMV per user: each arm's
/// total, mean and standard deviation over its users, and variant − control with Welch's 95 % interval.
public struct MeanComparison: Sendable {
    /// An arm needs at least this many users for the normal approximation of the interval.
    public static let minimumUsers = 30

    public struct Arm: Sendable {
        public let values: PerUserValues
        /// The sum, as `report.json` writes it: exact for amounts.
        let total: ReportJSON
    }

    public let control: Arm
    public let variant: Arm

    /// Variant's mean − control's mean, with Welch's interval; nil when an arm has fewer than two users.
    public var difference: (difference: Double, lower: Double, upper: Double)? {
        WelchInterval.difference(variant.values, control.values)
    }

    public var warning: String? {
        let problems = [("control", control), ("variant", variant)].compactMap { role, arm in
            arm.values.users < Self.minimumUsers ? "only \(arm.values.users) users in the \(role) (at least \(Self.minimumUsers) needed)" : nil
        }
        return problems.isEmpty ? nil : "too small to tell: " + problems.joined(separator: ", ")
    }

    var json: ReportJSON {
        let difference = difference
        func arm(_ arm: Arm) -> ReportJSON {
            .object(["users": .integer(arm.values.users), "total": arm.total, "mean": .optional(arm.values.mean),
                     "standard_deviation": .optional(arm.values.standardDeviation)])
        }
        return .object([
            "control": arm(control),
            "variant": arm(variant),
            "difference": .optional(difference?.difference),
            "ci95": difference.map { .array([.number($0.lower), .number($0.upper)]) } ?? .null,
            "warning": warning.map(ReportJSON.string) ?? .null,
        ])
    }
}
