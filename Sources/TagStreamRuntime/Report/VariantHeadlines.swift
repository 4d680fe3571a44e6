/// `report.json`'s `variants` section and the plain sentences that sum it up.
extension VariantComparison {
    /// One sentence on the arms, then one per figure: each arm, the difference, its interval and
    /// what that means, with the warning when an arm is too small to tell.
    public var headlines: [String] {
        var lines = ["A/B test of two pipelines: \(arms.control.name) is the control (\(arms.control.percent) % of users, \(ReportFormat.integer(arms.control.users)) seen), "
                     + "\(arms.variant.name) the variant (\(arms.variant.percent) %, \(ReportFormat.integer(arms.variant.users)) seen); each user is in one arm, by a hash of their user_id"]
        if let conversion { lines.append(Self.sentence("Conversion of sent coupons", conversion)) }
        if let gmvPerUser { lines.append(Self.sentence("GMV per user", gmvPerUser)) }
        lines.append(Self.sentence("Coupons sent per user", couponsPerUser))
        lines.append(Self.sentence("Lifecycle transitions per user", lifecycleTransitionsPerUser))
        lines.append(Self.sentence("Churn (users ending sleeping or churned)", churn))
        return lines
    }

    static func sentence(_ what: String, _ figure: ProportionComparison) -> String {
        var line = "\(what): \(ReportFormat.percent(figure.variant.rate)) in the variant, \(ReportFormat.percent(figure.control.rate)) in the control"
        if let difference = figure.difference {
            line += ": \(ReportFormat.points(difference.difference)) pts (95 % CI \(ReportFormat.points(difference.lower)) … \(ReportFormat.points(difference.upper))), "
                + verdict(difference)
        }
        return line + (figure.warning.map { " (\($0))" } ?? "")
    }

    static func sentence(_ what: String, _ figure: MeanComparison) -> String {
        func mean(_ arm: MeanComparison.Arm) -> String { arm.values.mean.map { ReportFormat.number($0, decimals: 2) } ?? "–" }
        var line = "\(what): \(mean(figure.variant)) in the variant, \(mean(figure.control)) in the control"
        if let difference = figure.difference {
            line += ": \(ReportFormat.signedAmount(difference.difference)) (95 % CI \(ReportFormat.signedAmount(difference.lower)) … \(ReportFormat.signedAmount(difference.upper))), "
                + verdict(difference)
        }
        return line + (figure.warning.map { " (\($0))" } ?? "")
    }

    /// What an interval of variant − control says, in words.
    static func verdict(_ difference: (difference: Double, lower: Double, upper: Double)) -> String {
        if difference.lower > 0 { return "higher in the variant" }
        if difference.upper < 0 { return "lower in the variant" }
        return "no clear difference (the interval includes 0)"
    }

    var json: ReportJSON {
        func arm(_ arm: ArmSplit.Arm) -> ReportJSON {
            .object(["pipeline": .string(arm.name), "percent": .integer(arm.percent), "users": .integer(arm.users)])
        }
        return .object([
            "control": arm(arms.control),
            "variant": arm(arms.variant),
            "split": .string("a user is in the variant when FNV-1a-64 of the UTF-8 bytes of \"variant:<user_id>\" mod 100 < \(arms.variant.percent)"),
            "headlines": .array(headlines.map(ReportJSON.string)),
            "conversion": conversion.map { overall in
                guard case var .object(members) = overall.json else { preconditionFailure("figures are an object") }
                members["campaigns"] = .object(conversionByCampaign.mapValues(\.json))
                return .object(members)
            } ?? .null,
            "gmv_per_user": gmvPerUser?.json ?? .null,
            "coupons_per_user": couponsPerUser.json,
            "lifecycle_transitions_per_user": lifecycleTransitionsPerUser.json,
            "churn": churn.json,
            "thresholds": .object([
                "minimum_trials_per_arm": .integer(CampaignFigures.minimumCoupons),
                "minimum_successes_per_arm": .integer(CampaignFigures.minimumConversions),
                "minimum_users_per_arm": .integer(MeanComparison.minimumUsers),
                "z": .number(ProportionInterval.z95),
            ]),
        ])
    }
}
