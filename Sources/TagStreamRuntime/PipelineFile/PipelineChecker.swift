import TagStreamCore
import Yams

/// Walks a pipeline's YAML tree, collecting every mistake with its position.
struct PipelineChecker {
    let file: String
    var issues: [PipelineIssue] = []

    init(file: String) { self.file = file }

    mutating func report(_ node: Node?, _ message: String) {
        let mark = node?.mark
        issues.append(PipelineIssue(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }

    // MARK: Sections

    mutating func pipeline(_ root: Node?) -> Pipeline? {
        guard let fields = mapping(root, "the pipeline", allowed: [
            "pipeline", "time", "topics", "lifecycle", "tier", "flags", "alerts", "coupons", "community_stats",
        ], required: ["pipeline", "lifecycle", "tier"]) else { return nil }
        var p = Pipeline(name: string(fields["pipeline"]) ?? "")
        if let time = mapping(fields["time"], "time", allowed: ["lateness", "dedupe_horizon"]) {
            duration(time["lateness"]).map { p.time.lateness = $0 }
            duration(time["dedupe_horizon"]).map { p.time.dedupeHorizon = $0 }
        }
        if let t = mapping(fields["topics"], "topics", allowed: [
            "clickstream", "orders", "tags", "alerts", "coupons", "community_stats", "dead_letters", "late",
        ]) {
            string(t["clickstream"]).map { p.topics.clickstream = $0 }
            string(t["orders"]).map { p.topics.orders = $0 }
            string(t["tags"]).map { p.topics.tags = $0 }
            string(t["alerts"]).map { p.topics.alerts = $0 }
            string(t["coupons"]).map { p.topics.coupons = $0 }
            string(t["community_stats"]).map { p.topics.communityStats = $0 }
            string(t["dead_letters"]).map { p.topics.deadLetters = $0 }
            string(t["late"]).map { p.topics.late = $0 }
        }
        lifecycle(fields["lifecycle"], into: &p.lifecycle)
        tier(fields["tier"], into: &p.tier)
        p.flags.all = flags(fields["flags"], tiers: p.tier.levels.map(\.name))
        alerts(fields["alerts"], into: &p, tiers: p.tier.levels.map(\.name))
        coupons(fields["coupons"], into: &p.coupons)
        p.communityStats = communityStats(fields["community_stats"])
        return p
    }

    mutating func lifecycle(_ node: Node?, into rule: inout LifecycleRule) {
        guard let f = mapping(node, "lifecycle", allowed: ["new_within", "at_risk_after", "sleeping_after", "churned_after"]) else { return }
        duration(f["new_within"]).map { rule.newWithin = $0 }
        duration(f["at_risk_after"]).map { rule.atRiskAfter = $0 }
        duration(f["sleeping_after"]).map { rule.sleepingAfter = $0 }
        duration(f["churned_after"]).map { rule.churnedAfter = $0 }
        if !(rule.atRiskAfter.milliseconds <= rule.sleepingAfter.milliseconds
             && rule.sleepingAfter.milliseconds <= rule.churnedAfter.milliseconds) {
            report(node, "lifecycle: expected at_risk_after <= sleeping_after <= churned_after")
        }
    }

    mutating func tier(_ node: Node?, into rule: inout TierRule) {
        guard let f = mapping(node, "tier", allowed: ["spend_window", "min_population", "levels"], required: ["levels"]) else { return }
        duration(f["spend_window"]).map { rule.spendWindow = $0 }
        integer(f["min_population"], minimum: 1).map { rule.minimumPopulation = $0 }
        guard let levels = sequence(f["levels"], "tier.levels") else { return }
        if levels.isEmpty { report(f["levels"], "tier has no levels: add at least one `- tag: NAME`") }
        rule.levels = levels.compactMap { level in
            guard let l = mapping(level, "a tier level", allowed: ["tag", "spend_at_least", "last_paid_within"],
                                  required: ["tag", "last_paid_within"]),
                  let name = string(l["tag"]), let recency = duration(l["last_paid_within"]) else { return nil }
            return TierRule.Level(name: name, spendPercentile: l["spend_at_least"].flatMap { percentile($0) }, recency: recency)
        }
        checkUnique(levels.map { $0["tag"] }, what: "tier level")
    }

    mutating func flags(_ node: Node?, tiers: [String]) -> [FlagRule] {
        guard let node else { return [] }
        guard let list = sequence(node, "flags") else { return [] }
        var result: [FlagRule] = []
        let conditions = ["coupon_share", "bought_category", "searched", "flag_and_tier"]
        for item in list {
            guard let f = mapping(item, "a flag", allowed: ["flag"] + conditions, required: ["flag"]),
                  let name = string(f["flag"]) else { continue }
            let given = conditions.filter { f[$0] != nil }
            guard given.count == 1 else {
                report(item, "flag '\(name)' needs exactly one condition: \(conditions.joined(separator: ", "))")
                continue
            }
            let body = f[given[0]]
            var condition: FlagRule.Condition?
            switch given[0] {
            case "coupon_share":
                if let c = mapping(body, "coupon_share", allowed: ["min_orders", "at_least"], required: ["min_orders", "at_least"]),
                   let minimum = integer(c["min_orders"], minimum: 1), let share = ratio(c["at_least"]) {
                    condition = .couponShare(minimumOrders: minimum, couponShare: share)
                }
            case "bought_category":
                if let c = mapping(body, "bought_category", allowed: ["categories", "within"], required: ["categories", "within"]),
                   let categories = strings(c["categories"]), let window = duration(c["within"]) {
                    condition = .boughtCategory(categories: categories, window: window)
                }
            case "searched":
                if let c = mapping(body, "searched", allowed: ["keywords", "at_least", "within"], required: ["keywords", "within"]),
                   let keywords = strings(c["keywords"]), let window = duration(c["within"]) {
                    let count = c["at_least"].map { integer($0, minimum: 1) } ?? 1
                    if let count { condition = .searchedKeywords(keywords: keywords, count: count, window: window) }
                }
            default:
                if let c = mapping(body, "flag_and_tier", allowed: ["flag", "tiers"], required: ["flag", "tiers"]),
                   let other = string(c["flag"]), let tierNames = strings(c["tiers"]) {
                    if !result.contains(where: { $0.name == other }) {
                        report(c["flag"], "unknown flag '\(other)': flag_and_tier may only use a flag defined above it")
                    }
                    checkTiers(tierNames, known: tiers, at: c["tiers"])
                    condition = .flagAndTier(flag: other, tiers: tierNames)
                }
            }
            if let condition { result.append(FlagRule(name: name, condition: condition)) }
        }
        checkUnique(list.map { $0["flag"] }, what: "flag")
        if result.count > 60 { report(node, "at most 60 flags") }
        return result
    }

    mutating func alerts(_ node: Node?, into p: inout Pipeline, tiers: [String]) {
        p.vipChurn = nil
        p.communityAlert = nil
        guard let node, let f = mapping(node, "alerts", allowed: ["vip_churn_risk", "community_sleeping_ratio_high"]) else { return }
        if let v = mapping(f["vip_churn_risk"], "vip_churn_risk", allowed: [
            "min_orders", "mean_gap_of_last", "silence_at_least", "gap_multiplier", "tiers",
        ], required: ["tiers"]) {
            var rule = VipChurnRule()
            integer(v["min_orders"], minimum: 2).map { rule.minimumOrders = $0 }
            integer(v["mean_gap_of_last"], minimum: 2).map { rule.lastOrders = $0 }
            duration(v["silence_at_least"]).map { rule.minimumDelay = $0 }
            ratio(v["gap_multiplier"]).map { rule.gapMultiplier = $0 }
            if let t = strings(v["tiers"]) {
                checkTiers(t, known: tiers, at: v["tiers"])
                rule.tiers = t
            }
            p.vipChurn = rule
        }
        if let c = mapping(f["community_sleeping_ratio_high"], "community_sleeping_ratio_high",
                           allowed: ["min_customers", "ratio_at_least"], required: ["ratio_at_least"]) {
            var rule = CommunityAlertRule()
            integer(c["min_customers"], minimum: 1).map { rule.minimumCustomers = $0 }
            ratio(c["ratio_at_least"]).map { rule.ratio = $0 }
            p.communityAlert = rule
        }
    }

    mutating func coupons(_ node: Node?, into rules: inout CouponRules) {
        rules.secondOrder = nil
        rules.wakeUp = nil
        rules.cartRescue = nil
        guard let node, let f = mapping(node, "coupons", allowed: ["holdout_percent", "second_order", "wake_up", "cart_rescue"]) else { return }
        integer(f["holdout_percent"], minimum: 0, maximum: 100).map { rules.holdoutPercent = $0 }
        let cap = "daily_cap_per_community"
        if let s = mapping(f["second_order"], "second_order", allowed: [cap]) {
            var campaign = CouponRules.SecondOrder()
            campaign.dailyCapPerCommunity = integer(s[cap], minimum: 1)
            rules.secondOrder = campaign
        }
        if let w = mapping(f["wake_up"], "wake_up", allowed: ["cooldown", cap]) {
            var campaign = CouponRules.WakeUp()
            duration(w["cooldown"]).map { campaign.cooldown = $0 }
            campaign.dailyCapPerCommunity = integer(w[cap], minimum: 1)
            rules.wakeUp = campaign
        }
        if let c = mapping(f["cart_rescue"], "cart_rescue", allowed: ["delay", "cooldown", cap]) {
            var campaign = CouponRules.CartRescue()
            duration(c["delay"]).map { campaign.delay = $0 }
            duration(c["cooldown"]).map { campaign.cooldown = $0 }
            campaign.dailyCapPerCommunity = integer(c[cap], minimum: 1)
            rules.cartRescue = campaign
        }
    }

    mutating func communityStats(_ node: Node?) -> CommunityStatsRule? {
        guard let node, let f = mapping(node, "community_stats", allowed: [
            "active_window", "gmv_window", "orders_window", "top_skus_window", "top_skus",
        ]) else { return nil }
        var rule = CommunityStatsRule()
        duration(f["active_window"]).map { rule.activeWindow = $0 }
        duration(f["gmv_window"]).map { rule.gmvWindow = $0 }
        duration(f["orders_window"]).map { rule.ordersWindow = $0 }
        duration(f["top_skus_window"]).map { rule.topSkusWindow = $0 }
        integer(f["top_skus"], minimum: 0).map { rule.topSkus = $0 }
        return rule
    }

    // MARK: Values

    /// The keys of a mapping; reports unknown and missing keys. Nil when `node` is absent or not a mapping.
    mutating func mapping(_ node: Node?, _ what: String, allowed: [String], required: [String] = []) -> [String: Node]? {
        guard let node else { return nil }
        if case .scalar(let s) = node, s.string.isEmpty || s.string == "~" || s.string == "null" {
            guard required.isEmpty else {
                report(node, "\(what) needs \(required.joined(separator: ", "))")
                return nil
            }
            return [:]
        }
        guard case .mapping(let m) = node else {
            report(node, "\(what) must be a mapping of keys to values")
            return nil
        }
        var result: [String: Node] = [:]
        for (key, value) in m {
            guard let name = key.string else { report(key, "expected a key name"); continue }
            if allowed.contains(name) {
                result[name] = value
            } else {
                let hint = allowed.isEmpty ? "it takes no keys" : "expected one of: \(allowed.joined(separator: ", "))"
                report(key, "unknown key '\(name)' in \(what); \(hint)")
            }
        }
        for name in required where result[name] == nil { report(node, "\(what) needs '\(name)'") }
        return result
    }

    mutating func sequence(_ node: Node?, _ what: String) -> [Node]? {
        guard let node else { return nil }
        guard case .sequence(let s) = node else { report(node, "\(what) must be a list"); return nil }
        return Array(s)
    }

    mutating func scalar(_ node: Node?, expected: String) -> String? {
        guard let node else { return nil }
        guard case .scalar(let s) = node else { report(node, "expected \(expected)"); return nil }
        return s.string
    }

    mutating func string(_ node: Node?) -> String? {
        guard let text = scalar(node, expected: "a name") else { return nil }
        if text.isEmpty { report(node, "expected a non-empty name") }
        return text
    }

    mutating func strings(_ node: Node?) -> [String]? {
        guard let list = sequence(node, "this value") else { return nil }
        let values = list.compactMap { string($0) }
        if values.isEmpty { report(node, "expected at least one name") }
        return values
    }

    mutating func duration(_ node: Node?) -> TimeSpan? {
        guard let text = scalar(node, expected: "a duration such as 30d, 2h, 5m") else { return nil }
        guard let value = TimeSpan(parsing: text), value.milliseconds >= 0 else {
            report(node, "'\(text)' is not a duration: use a whole number and a unit ms, s, m, h, d or w (e.g. 30d, 2h, 5m)")
            return nil
        }
        return value
    }

    mutating func integer(_ node: Node?, minimum: Int, maximum: Int = .max) -> Int? {
        guard let text = scalar(node, expected: "a whole number") else { return nil }
        guard let value = Int(text), value >= minimum, value <= maximum else {
            report(node, "'\(text)' is not a whole number" + (maximum == .max ? " >= \(minimum)" : " from \(minimum) to \(maximum)"))
            return nil
        }
        return value
    }

    mutating func ratio(_ node: Node?) -> Ratio? {
        guard let text = scalar(node, expected: "a number") else { return nil }
        guard let value = Ratio(parsing: text) else {
            report(node, "'\(text)' is not a non-negative decimal number such as 0.6")
            return nil
        }
        return value
    }

    mutating func percentile(_ node: Node) -> Ratio? {
        guard let text = scalar(node, expected: "a percentile such as p95") else { return nil }
        guard text.hasPrefix("p"), let value = Ratio(parsing: String(text.dropFirst())),
              value.numerator > 0, value.numerator <= 100 * value.denominator else {
            report(node, "'\(text)' is not a percentile: use p1 … p100, e.g. p95 or p99.5")
            return nil
        }
        return Ratio(value.numerator, value.denominator * 100)
    }

    mutating func checkTiers(_ names: [String], known: [String], at node: Node?) {
        for name in names where !known.contains(name) {
            report(node, "unknown tier '\(name)'; the tiers are: \(known.joined(separator: ", "))")
        }
    }

    mutating func checkUnique(_ nodes: [Node?], what: String) {
        var seen = Set<String>()
        for node in nodes {
            guard let name = node?.string else { continue }
            if !seen.insert(name).inserted { report(node, "\(what) '\(name)' is defined twice") }
        }
    }
}
