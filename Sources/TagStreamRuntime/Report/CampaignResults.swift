import TagStreamCore

/// One campaign's results: overall, per ISO week of the coupon, and per variant (A/B runs).
public struct CampaignResult: Sendable {
    public var overall = CampaignFigures()
    /// By ISO week of the coupon's `ts` (`2026-W09`).
    public var weeks: [String: CampaignFigures] = [:]
    /// By the records' `variant`; empty for a replay of one pipeline.
    public var variants: [String: CampaignFigures] = [:]
    /// Coupons whose outcome window was still open at the end of the replay, by arm.
    public var openSent = 0
    public var openHeldOut = 0

    var json: ReportJSON {
        guard case var .object(members) = overall.json else { preconditionFailure("figures are an object") }
        members["weeks"] = .object(weeks.mapValues(\.json))
        if !variants.isEmpty { members["variants"] = .object(variants.mapValues(\.json)) }
        members["window_open"] = .object(["sent": .integer(openSent), "held_out": .integer(openHeldOut)])
        return .object(members)
    }
}

/// Campaign results from a replay's `coupons.jsonl` and `coupon_outcomes.jsonl`: the outcome
/// records give the figures, their coupons give the week.
public struct CampaignResults: Sendable {
    /// By campaign name.
    public var campaigns: [String: CampaignResult] = [:]
    /// False when the directory has no `coupon_outcomes.jsonl` (a replay from before outcomes):
    /// then there are no figures.
    public var outcomesPresent: Bool

    /// Reads the two files. An outcome that names no coupon of the directory, or a coupon of another
    /// campaign, user or arm, or a second outcome of one coupon, is an error: the files do not belong together.
    public static func read(_ directory: ReplayDirectory, progress: ReportProgress) throws -> CampaignResults {
        guard directory.contains(ReplayDirectory.couponOutcomeFile) else { return CampaignResults(outcomesPresent: false) }
        struct Coupon {
            let record: CouponRecord
            var outcomeSeen = false
        }
        var coupons: [String: Coupon] = [:]
        var order: [String] = []
        let couponFile = directory.path(of: ReplayDirectory.couponFile)
        try RecordFileReader.forEach(CouponRecord.self, in: couponFile, progress: { progress.lines($0, of: "coupons") }) { coupon, line in
            guard coupons[coupon.id] == nil else {
                throw RecordFileError(file: couponFile, line: line, field: "id", message: "'\(coupon.id)' is the id of an earlier coupon too")
            }
            coupons[coupon.id] = Coupon(record: coupon)
            order.append(coupon.id)
        }
        let outcomeFile = directory.path(of: ReplayDirectory.couponOutcomeFile)
        var results = CampaignResults(outcomesPresent: true)
        try RecordFileReader.forEach(CouponOutcomeRecord.self, in: outcomeFile, progress: { progress.lines($0, of: "outcomes") }) { outcome, line in
                guard let coupon = coupons[outcome.couponID]?.record else {
                    throw RecordFileError(file: outcomeFile, line: line, field: "coupon_id",
                                          message: "'\(outcome.couponID)' is the id of no record in \(ReplayDirectory.couponFile)")
                }
                for (field, same) in [("campaign", coupon.campaign == outcome.campaign), ("user_id", coupon.userID == outcome.userID),
                                      ("holdout", coupon.holdout == outcome.holdout), ("variant", coupon.variant == outcome.variant)] where !same {
                    throw RecordFileError(file: outcomeFile, line: line, field: field,
                                          message: "differs from that of coupon '\(coupon.id)' in \(ReplayDirectory.couponFile)")
                }
                guard !coupons[outcome.couponID]!.outcomeSeen else {
                    throw RecordFileError(file: outcomeFile, line: line, field: "coupon_id", message: "coupon '\(coupon.id)' has an earlier outcome too")
                }
                coupons[outcome.couponID]!.outcomeSeen = true
                results.campaigns[outcome.campaign, default: CampaignResult()].add(outcome, week: ReportCalendar.isoWeek(coupon.ts))
        }
        for id in order {
            let coupon = coupons[id]!
            guard !coupon.outcomeSeen else { continue }
            if coupon.record.holdout {
                results.campaigns[coupon.record.campaign, default: CampaignResult()].openHeldOut += 1
            } else {
                results.campaigns[coupon.record.campaign, default: CampaignResult()].openSent += 1
            }
        }
        return results
    }

    /// Coupons whose window was still open at the end, over every campaign.
    public var openCoupons: Int { campaigns.values.reduce(0) { $0 + $1.openSent + $1.openHeldOut } }

    var json: ReportJSON { .object(campaigns.mapValues(\.json)) }
}

extension CampaignResult {
    mutating func add(_ outcome: CouponOutcomeRecord, week: String) {
        overall.add(outcome)
        weeks[week, default: CampaignFigures()].add(outcome)
        if let variant = outcome.variant { variants[variant, default: CampaignFigures()].add(outcome) }
    }
}
