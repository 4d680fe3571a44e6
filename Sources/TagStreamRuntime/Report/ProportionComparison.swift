/// A share compared between the arms of an A/B test, such as converted coupons among sent ones:
/// each arm's count and share, and variant − control with Newcombe's 95 % interval.
public struct ProportionComparison: Sendable {
    public struct Arm: Sendable {
        public var trials = 0
        public var successes = 0

        public var rate: Double? { trials > 0 ? Double(successes) / Double(trials) : nil }
    }

    public var control = Arm()
    public var variant = Arm()
    /// What `trials` and `successes` are called in `report.json` and warnings: `coupons` and `converted`.
    let names: (trials: String, successes: String)

    init(trials: String, successes: String) { names = (trials, successes) }

    /// Variant's share − control's share, with Newcombe's hybrid score interval; nil when an arm is empty.
    public var difference: (difference: Double, lower: Double, upper: Double)? {
        ProportionInterval.newcombeDifference(successes1: variant.successes, trials1: variant.trials,
                                              successes2: control.successes, trials2: control.trials)
    }

    /// Why the arms cannot tell much: fewer than `CampaignFigures.minimumCoupons` trials or
    /// `minimumConversions` successes in an arm (the thresholds of the campaigns' figures).
    public var warning: String? {
        var problems: [String] = []
        for (role, arm) in [("control", control), ("variant", variant)] {
            if arm.trials < CampaignFigures.minimumCoupons {
                problems.append("only \(arm.trials) \(names.trials) in the \(role) (at least \(CampaignFigures.minimumCoupons) needed)")
            } else if arm.successes < CampaignFigures.minimumConversions {
                problems.append("only \(arm.successes) \(names.successes) in the \(role) (at least \(CampaignFigures.minimumConversions) needed)")
            }
        }
        return problems.isEmpty ? nil : "too small to tell: " + problems.joined(separator: ", ")
    }

    var json: ReportJSON {
        let difference = difference
        func arm(_ arm: Arm) -> ReportJSON {
            .object([names.trials: .integer(arm.trials), names.successes: .integer(arm.successes), "rate": .optional(arm.rate)])
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
