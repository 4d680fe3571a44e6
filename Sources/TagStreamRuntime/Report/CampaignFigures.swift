import TagStreamCore

/// Coupons of one arm of a campaign (sent, or held out) whose outcome window has closed.
public struct ArmTally: Equatable, Sendable {
    public var coupons = 0
    public var converted = 0
    /// What the arm's users paid in their windows.
    public var amount = Money.zero

    public init() {}

    /// Converted coupons over coupons; nil without coupons.
    public var conversionRate: Double? { coupons > 0 ? Double(converted) / Double(coupons) : nil }

    /// Amount per coupon; nil without coupons.
    public var amountPerCoupon: Double? { coupons > 0 ? amount.doubleValue / Double(coupons) : nil }

    mutating func add(converted: Bool, amount: Money) {
        coupons += 1
        if converted { self.converted += 1 }
        self.amount += amount
    }
}

/// A campaign's result over some coupons: the sent arm against the held-out arm.
public struct CampaignFigures: Equatable, Sendable {
    /// An arm needs at least this many coupons for its figures to tell anything.
    public static let minimumCoupons = 30
    /// An arm needs at least this many conversions: with fewer, one user more or less moves the
    /// rate by a fifth or more, and the interval's normal approximation is poor.
    public static let minimumConversions = 5

    public var sent = ArmTally()
    public var heldOut = ArmTally()

    public init() {}

    mutating func add(_ outcome: CouponOutcomeRecord) {
        if outcome.holdout {
            heldOut.add(converted: outcome.converted, amount: outcome.amount)
        } else {
            sent.add(converted: outcome.converted, amount: outcome.amount)
        }
    }

    /// Conversion rate of the sent arm minus that of the held-out arm, with Newcombe's 95 % interval.
    public var uplift: (difference: Double, lower: Double, upper: Double)? {
        ProportionInterval.newcombeDifference(successes1: sent.converted, trials1: sent.coupons,
                                              successes2: heldOut.converted, trials2: heldOut.coupons)
    }

    /// 1000 × (amount per sent coupon − amount per held-out coupon): what a thousand coupons add.
    public var incrementalGMVPer1000: Double? {
        guard let sentMean = sent.amountPerCoupon, let heldOutMean = heldOut.amountPerCoupon else { return nil }
        return 1000 * (sentMean - heldOutMean)
    }

    /// Why the figures cannot tell much, or nil when both arms are large enough.
    public var warning: String? {
        var problems: [String] = []
        for (name, arm) in [("sent", sent), ("held-out", heldOut)] {
            if arm.coupons < Self.minimumCoupons {
                problems.append("only \(arm.coupons) \(name) coupon\(arm.coupons == 1 ? "" : "s") (at least \(Self.minimumCoupons) needed)")
            } else if arm.converted < Self.minimumConversions {
                problems.append("only \(arm.converted) conversion\(arm.converted == 1 ? "" : "s") among \(name) coupons (at least \(Self.minimumConversions) needed)")
            }
        }
        return problems.isEmpty ? nil : "too small to tell: " + problems.joined(separator: ", ")
    }

    /// The figures under the keys of `report.json`.
    var json: ReportJSON {
        let uplift = uplift
        return .object([
            "sent": .integer(sent.coupons),
            "held_out": .integer(heldOut.coupons),
            "sent_converted": .integer(sent.converted),
            "held_out_converted": .integer(heldOut.converted),
            "sent_conversion_rate": .optional(sent.conversionRate),
            "held_out_conversion_rate": .optional(heldOut.conversionRate),
            "sent_amount": .money(sent.amount),
            "held_out_amount": .money(heldOut.amount),
            "uplift": .optional(uplift?.difference),
            "ci95": uplift.map { .array([.number($0.lower), .number($0.upper)]) } ?? .null,
            "incremental_gmv_per_1000": .optional(incrementalGMVPer1000),
            "warning": warning.map(ReportJSON.string) ?? .null,
        ])
    }
}
