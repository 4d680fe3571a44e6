import TagStreamCore
import Yams

/// Walks a pipeline's YAML tree into a `PipelineDefinition`, collecting every mistake of shape
/// (unknown or missing keys, bad durations and numbers) with its position. Names and types
/// inside expressions are checked afterwards by `Pipeline.compile`.
struct PipelineChecker {
    let file: String
    var issues: [PipelineIssue] = []

    init(file: String) { self.file = file }

    mutating func report(_ node: Node?, _ message: String) {
        let mark = node?.mark
        issues.append(PipelineIssue(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }

    // MARK: Sections

    mutating func definition(_ root: Node?) -> PipelineDefinition? {
        guard let fields = mapping(root, "the pipeline", allowed: [
            "pipeline", "time", "topics", "aggregates", "values", "statistics", "tags", "flags", "alerts", "coupons",
            "community_counts", "community_stats",
        ], required: ["pipeline"]) else { return nil }
        var p = PipelineDefinition(name: string(fields["pipeline"]) ?? "")
        if let time = mapping(fields["time"], "time", allowed: ["lateness", "dedupe_horizon"]) {
            duration(time["lateness"]).map { p.time.lateness = $0 }
            duration(time["dedupe_horizon"]).map { p.time.dedupeHorizon = $0 }
        }
        if let t = mapping(fields["topics"], "topics", allowed: [
            "clickstream", "orders", "tags", "alerts", "coupons", "community_stats", "coupon_outcomes", "dead_letters", "late",
        ]) {
            string(t["clickstream"]).map { p.topics.clickstream = $0 }
            string(t["orders"]).map { p.topics.orders = $0 }
            string(t["tags"]).map { p.topics.tags = $0 }
            string(t["alerts"]).map { p.topics.alerts = $0 }
            string(t["coupons"]).map { p.topics.coupons = $0 }
            string(t["community_stats"]).map { p.topics.communityStats = $0 }
            string(t["coupon_outcomes"]).map { p.topics.couponOutcomes = $0 }
            string(t["dead_letters"]).map { p.topics.deadLetters = $0 }
            string(t["late"]).map { p.topics.late = $0 }
        }
        for (name, node) in entries(fields["aggregates"], "aggregates") {
            if let a = aggregate(name, node) { p.aggregates.append(a) }
        }
        for (name, node) in entries(fields["values"], "values") {
            if let e = expression(node) { p.values.append(NamedExpression(name: name, expression: e)) }
        }
        for (name, node) in entries(fields["statistics"], "statistics") {
            if let s = statistic(name, node) { p.statistics.append(s) }
        }
        for (name, node) in entries(fields["community_counts"], "community_counts") {
            if let e = expression(node) { p.communityCounts.append(NamedExpression(name: name, expression: e)) }
        }
        for (name, node) in entries(fields["tags"], "tags") {
            if let g = tagGroup(name, node) { p.groups.append(g) }
        }
        for (name, node) in entries(fields["flags"], "flags") {
            if let f = flag(name, node) { p.groups.append(f) }
        }
        for (name, node) in entries(fields["alerts"], "alerts") {
            if let a = alert(name, node) { p.alerts.append(a) }
        }
        if let c = mapping(fields["coupons"], "coupons", allowed: ["holdout_percent", "campaigns"]) {
            integer(c["holdout_percent"], minimum: 0, maximum: 100).map { p.holdoutPercent = $0 }
            for (name, node) in entries(c["campaigns"], "coupons.campaigns") {
                if let campaign = campaign(name, node) { p.campaigns.append(campaign) }
            }
        }
        if let s = mapping(fields["community_stats"], "community_stats", allowed: ["when", "fields"], required: ["fields"]) {
            var stats = CommunityStatsDefinition(condition: s["when"].flatMap { expression($0) }, fields: [])
            for (name, node) in entries(s["fields"], "community_stats.fields") {
                if let e = expression(node) { stats.fields.append(NamedExpression(name: name, expression: e)) }
            }
            p.communityStats = stats
        }
        return p
    }

    mutating func aggregate(_ name: SourceName, _ node: Node) -> AggregateDefinition? {
        let kinds = AggregateKind.allCases.map(\.rawValue)
        guard let f = mapping(node, "aggregate '\(name.name)'", allowed: kinds + ["of", "where", "window", "key", "over_last", "k", "by"]) else { return nil }
        let given = kinds.filter { f[$0] != nil }
        guard given.count == 1, let kind = AggregateKind(rawValue: given[0]) else {
            report(node, "aggregate '\(name.name)' needs exactly one of: \(kinds.joined(separator: ", "))")
            return nil
        }
        var a = AggregateDefinition(name: name, kind: kind)
        if kind == .count {
            a.eventTypes = eventTypes(f["count"])
            if f["of"] != nil { report(f["of"], "count names its event types itself, e.g. count: order_paid") }
        } else {
            a.field = sourceName(f[kind.rawValue])
            a.eventTypes = eventTypes(f["of"])
        }
        a.filter = f["where"].flatMap { expression($0) }
        a.window = duration(f["window"])?.milliseconds
        if let key = sourceName(f["key"]) {
            if let k = KeyKind(rawValue: key.name) { a.key = k } else { report(f["key"], "key is 'user' or 'community'") }
        }
        if kind == .meanGap {
            a.count = integer(f["over_last"], minimum: 2) ?? 0
        } else if f["over_last"] != nil {
            report(f["over_last"], "'over_last' is for mean_gap")
        }
        if kind == .top {
            a.count = integer(f["k"], minimum: 1) ?? 0
            a.rankedBy = sourceName(f["by"])
            if f["by"] == nil { report(node, "top needs 'by: FIELD', the field that ranks, e.g. by: item.qty") }
        } else {
            if f["k"] != nil { report(f["k"], "'k' is for top") }
            if f["by"] != nil { report(f["by"], "'by' is for top") }
        }
        return a
    }

    mutating func eventTypes(_ node: Node?) -> [SourceName] {
        guard let node else { return [] }
        if case .scalar = node {
            guard let name = sourceName(node) else { return [] }
            return name.name == "any" ? [] : [name]
        }
        guard let list = sequence(node, "event types") else { return [] }
        return list.compactMap { sourceName($0) }
    }

    mutating func statistic(_ name: SourceName, _ node: Node) -> StatisticDefinition? {
        guard let f = mapping(node, "statistic '\(name.name)'", allowed: ["percentile", "of", "where", "min_count"],
                              required: ["percentile", "of"]),
              let q = f["percentile"].flatMap({ percentile($0) }), let of = f["of"].flatMap({ expression($0) }) else { return nil }
        var s = StatisticDefinition(name: name, quantile: q, of: of)
        s.population = f["where"].flatMap { expression($0) }
        integer(f["min_count"], minimum: 1).map { s.minimumCount = $0 }
        return s
    }

    mutating func tagGroup(_ name: SourceName, _ node: Node) -> TagGroupDefinition? {
        guard let f = mapping(node, "tag group '\(name.name)'", allowed: ["evaluate_at", "rules"], required: ["rules"]) else { return nil }
        var rules: [TagGroupDefinition.Rule] = []
        if let list = sequence(f["rules"], "rules") {
            for item in list {
                guard case .mapping(let m) = item, m.count == 1, let (key, value) = m.first.map({ ($0.key, $0.value) }),
                      let tag = sourceName(key) else {
                    report(item, "a rule is one `TAG: CONDITION` pair, e.g. - sleeping: since(last_paid) >= 90d")
                    continue
                }
                if let condition = expression(value) { rules.append(.init(tag: tag, condition: condition)) }
            }
        }
        return TagGroupDefinition(name: name, rules: rules, evaluateAt: evaluationPoints(f["evaluate_at"], default: ["event", "refresh"]), isFlag: false)
    }

    mutating func flag(_ name: SourceName, _ node: Node) -> TagGroupDefinition? {
        var condition: ExpressionSource?
        var points: [SourceName] = []
        if case .scalar = node {
            condition = expression(node)
            points = evaluationPoints(nil, default: ["event", "refresh"])
        } else if let f = mapping(node, "flag '\(name.name)'", allowed: ["when", "evaluate_at"], required: ["when"]) {
            condition = f["when"].flatMap { expression($0) }
            points = evaluationPoints(f["evaluate_at"], default: ["event", "refresh"])
        }
        guard let condition else { return nil }
        return TagGroupDefinition(name: name, rules: [.init(tag: name, condition: condition)], evaluateAt: points, isFlag: true)
    }

    mutating func alert(_ name: SourceName, _ node: Node) -> AlertDefinition? {
        guard let f = mapping(node, "alert '\(name.name)'", allowed: ["key", "evaluate_at", "when", "rearm"], required: ["when"]),
              let condition = f["when"].flatMap({ expression($0) }) else { return nil }
        var key = KeyKind.user
        if let k = sourceName(f["key"]) {
            if let parsed = KeyKind(rawValue: k.name) { key = parsed } else { report(f["key"], "key is 'user' or 'community'") }
        }
        var a = AlertDefinition(name: name, key: key,
                                evaluateAt: evaluationPoints(f["evaluate_at"], default: key == .user ? ["event", "boundary"] : ["refresh"]),
                                condition: condition)
        a.rearm = f["rearm"].flatMap { expression($0) }
        return a
    }

    mutating func campaign(_ name: SourceName, _ node: Node) -> CampaignDefinition? {
        guard let f = mapping(node, "campaign '\(name.name)'", allowed: ["trigger", "delay", "when", "cooldown", "daily_cap_per_community", "outcome"],
                              required: ["trigger"]),
              let trigger = sourceName(f["trigger"]) else { return nil }
        var c = CampaignDefinition(name: name, trigger: trigger)
        c.delay = duration(f["delay"])?.milliseconds
        c.condition = f["when"].flatMap { expression($0) }
        c.cooldown = duration(f["cooldown"])?.milliseconds
        c.dailyCapPerCommunity = integer(f["daily_cap_per_community"], minimum: 1)
        if let node = f["outcome"], let o = mapping(node, "campaign '\(name.name)' outcome", allowed: ["event", "within"], required: []) {
            let event = o["event"].flatMap { sourceName($0) } ?? SourceName(OutcomeDefinition.defaultEvent, at: origin(node))
            c.outcome = OutcomeDefinition(event: event, within: duration(o["within"])?.milliseconds ?? OutcomeDefinition.defaultWithin)
        }
        return c
    }

    mutating func evaluationPoints(_ node: Node?, default names: [String]) -> [SourceName] {
        guard let node else { return names.map { SourceName($0, at: SourceOrigin(line: 1, column: 1)) } }
        guard let list = sequence(node, "evaluate_at") else { return [] }
        if list.isEmpty { report(node, "evaluate_at needs at least one of: event, an event type, boundary, refresh") }
        return list.compactMap { sourceName($0) }
    }

    // MARK: Values

    /// The entries of a mapping section, in file order, with the position of each name.
    mutating func entries(_ node: Node?, _ what: String) -> [(SourceName, Node)] {
        guard let node else { return [] }
        if case .scalar(let s) = node, s.string.isEmpty || s.string == "~" || s.string == "null" { return [] }
        guard case .mapping(let m) = node else {
            report(node, "\(what) must be a mapping of names to definitions")
            return []
        }
        var result: [(SourceName, Node)] = []
        for (key, value) in m {
            guard let name = sourceName(key) else { continue }
            result.append((name, value))
        }
        return result
    }

    func origin(_ node: Node) -> SourceOrigin {
        var quoted = false
        if case .scalar(let s) = node { quoted = s.style == .singleQuoted || s.style == .doubleQuoted }
        return SourceOrigin(line: node.mark?.line ?? 1, column: node.mark?.column ?? 1, quoted: quoted)
    }

    mutating func sourceName(_ node: Node?) -> SourceName? {
        guard let node, let text = string(node) else { return nil }
        return SourceName(text, at: origin(node))
    }

    mutating func expression(_ node: Node) -> ExpressionSource? {
        guard let text = scalar(node, expected: "an expression such as since(last_paid) >= 30d") else { return nil }
        if text.isEmpty { report(node, "expected an expression") }
        return ExpressionSource(text, at: origin(node))
    }

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

    mutating func percentile(_ node: Node) -> Ratio? {
        guard let text = scalar(node, expected: "a percentile such as p95") else { return nil }
        guard text.hasPrefix("p"), let value = Ratio(parsing: String(text.dropFirst())),
              value.numerator > 0, value.numerator <= 100 * value.denominator else {
            report(node, "'\(text)' is not a percentile: use p1 … p100, e.g. p95 or p99.5")
            return nil
        }
        return Ratio(value.numerator, value.denominator * 100)
    }
}
