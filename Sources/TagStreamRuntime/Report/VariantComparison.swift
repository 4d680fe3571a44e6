import TagStreamCore

/// The arms of an A/B replay compared, variant against control: conversion of sent coupons
/// (overall and per campaign), GMV per user, coupons per user, lifecycle transitions per user and
/// churn, each per arm and as variant − control with a 95 % interval.
public struct VariantComparison: Sendable {
    /// The final lifecycle stages that count as churn.
    public static let churnStages: Set<String> = ["sleeping", "churned"]

    public let arms: ArmSplit
    /// Nil without `coupon_outcomes.jsonl`.
    public let conversion: ProportionComparison?
    public let conversionByCampaign: [String: ProportionComparison]
    /// Nil without the input event files.
    public let gmvPerUser: MeanComparison?
    public let couponsPerUser: MeanComparison
    public let lifecycleTransitionsPerUser: MeanComparison
    public let churn: ProportionComparison

    /// The figures from the campaign results, each arm's records and the input orders. An arm whose
    /// records or orders name more users than `summary.json` says it held is an error.
    init(arms: ArmSplit, campaigns: CampaignResults, activity: ArmActivity, orders: InputOrders?, summaryFile: String) throws {
        self.arms = arms
        let roles = [arms.control, arms.variant]
        if campaigns.outcomesPresent {
            var overall = ProportionComparison(trials: "coupons", successes: "converted")
            var byCampaign: [String: ProportionComparison] = [:]
            for (campaign, result) in campaigns.campaigns {
                var figures = ProportionComparison(trials: "coupons", successes: "converted")
                for (arm, tally) in [(\ProportionComparison.control, result.variants[arms.control.name]?.sent),
                                     (\ProportionComparison.variant, result.variants[arms.variant.name]?.sent)] {
                    figures[keyPath: arm] = .init(trials: tally?.coupons ?? 0, successes: tally?.converted ?? 0)
                    overall[keyPath: arm].trials += tally?.coupons ?? 0
                    overall[keyPath: arm].successes += tally?.converted ?? 0
                }
                byCampaign[campaign] = figures
            }
            conversion = overall
            conversionByCampaign = byCampaign
        } else {
            conversion = nil
            conversionByCampaign = [:]
        }
        for (i, arm) in roles.enumerated() {
            let named = activity.arms[arm.name]!.users.count
            guard named <= arm.users else {
                throw RecordFileError(file: summaryFile, line: 0, field: "variants.\(i).users",
                                      message: "\(arm.users) users in the arm of '\(arm.name)', but its records name \(named)")
            }
        }
        func perUser(_ values: (ArmActivity.Arm) -> [String: Int]) -> MeanComparison {
            let arms = roles.map { arm in
                let counts = values(activity.arms[arm.name]!).values
                return MeanComparison.Arm(values: PerUserValues(users: arm.users, nonZero: counts.map(Double.init)), total: .integer(counts.reduce(0, +)))
            }
            return MeanComparison(control: arms[0], variant: arms[1])
        }
        couponsPerUser = perUser(\.sentCoupons)
        lifecycleTransitionsPerUser = perUser(\.lifecycleRecords)
        var churn = ProportionComparison(trials: "users", successes: "churned")
        for (arm, role) in [(\ProportionComparison.control, arms.control), (\ProportionComparison.variant, arms.variant)] {
            churn[keyPath: arm] = .init(trials: role.users,
                                        successes: activity.arms[role.name]!.finalLifecycle.values.filter(Self.churnStages.contains).count)
        }
        self.churn = churn
        if let orders {
            var net: [String: [String: Money]] = [:]
            for (user, amount) in orders.netByUser { net[arms.arm(of: user), default: [:]][user] = amount }
            gmvPerUser = try MeanComparison(control: Self.gmvArm(arms.control, net, index: 0, summaryFile: summaryFile),
                                            variant: Self.gmvArm(arms.variant, net, index: 1, summaryFile: summaryFile))
        } else {
            gmvPerUser = nil
        }
    }

    private static func gmvArm(_ arm: ArmSplit.Arm, _ net: [String: [String: Money]], index: Int, summaryFile: String) throws -> MeanComparison.Arm {
        let amounts = net[arm.name] ?? [:]
        guard amounts.count <= arm.users else {
            throw RecordFileError(file: summaryFile, line: 0, field: "variants.\(index).users",
                                  message: "\(arm.users) users in the arm of '\(arm.name)', but \(amounts.count) of its users have orders in the input files")
        }
        return .init(values: PerUserValues(users: arm.users, nonZero: amounts.values.map(\.doubleValue)),
                     total: .money(amounts.values.reduce(.zero, +)))
    }
}
