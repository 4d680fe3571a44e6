/// A mistake found while compiling a pipeline: where (an origin and an offset into the text there) and what.
public struct CompileIssue: Sendable, Equatable {
    public var origin: SourceOrigin
    public var offset: Int
    public var message: String

    /// The 1-based line and column of the mistake, for a single-line scalar.
    public var line: Int { origin.line }
    public var column: Int { origin.column + offset + (origin.quoted && offset > 0 ? 1 : 0) }
}

/// Resolves names, checks types and turns a `PipelineDefinition` into a `Program`, collecting every mistake.
struct PipelineCompiler {
    private let definition: PipelineDefinition
    private(set) var issues: [CompileIssue] = []
    private var program = Program()
    private var groupNames: [String] = []
    private var groupTags: [[String]] = []
    private var expanding: Set<String> = []

    /// What an expression may read where it stands.
    private struct Scope {
        var key: KeyKind?
        var event = false
        var items = false
        var statistics = false
        var since = false
        var communityCounts = false
    }

    /// What one expression read, gathered while checking it.
    private struct Reads {
        var dependencies = Dependencies()
        var names: [String] = []
        var usesItems = false
    }

    private var origin = SourceOrigin(line: 1, column: 1)
    private var reads = Reads()

    init(_ definition: PipelineDefinition) { self.definition = definition }

    mutating func compile() -> Program {
        program.holdoutPercent = definition.holdoutPercent
        checkUnique(definition.aggregates.map(\.name) + definition.values.map(\.name) + definition.statistics.map(\.name)
                    + definition.communityCounts.map(\.name) + definition.groups.map(\.name), what: "name")
        checkUnique(definition.alerts.map(\.name), what: "alert")
        checkUnique(definition.campaigns.map(\.name), what: "campaign")
        groupNames = definition.groups.map(\.name.name)
        groupTags = definition.groups.map { group in group.isFlag ? [group.name.name] : uniqueTags(group) }
        if groupNames.count > 64 { report(definition.groups[64].name.origin, "at most 64 tag groups and flags") }
        for aggregate in definition.aggregates { compileAggregate(aggregate) }
        for key in [KeyKind.user, .community] {
            let aggregates = definition.aggregates.filter { $0.key == key }
            if aggregates.count > 64 { report(aggregates[64].name.origin, "at most 64 aggregates per \(key.rawValue)") }
        }
        for statistic in definition.statistics {
            let of = check(statistic.of, in: Scope(key: .user, since: true), expect: [.number, .duration, .instant])
            var dependencies = Dependencies()
            dependencies.formUnion(of.reads.dependencies)
            let population = statistic.population.map { check($0, in: Scope(key: .user, since: true), expect: [.bool]) }
            if let population { dependencies.formUnion(population.reads.dependencies) }
            program.statistics.append(CompiledStatistic(
                name: statistic.name.name, quantile: statistic.quantile, of: of.node,
                population: population?.node, minimumCount: statistic.minimumCount, dependencies: dependencies))
        }
        for count in definition.communityCounts {
            let c = check(count.expression, in: Scope(key: .user, statistics: true, since: true), expect: [.bool])
            program.communityCounts.append((count.name.name, c.node))
            program.communityCountDependencies.formUnion(c.reads.dependencies)
        }
        if definition.communityCounts.count > 64 { report(definition.communityCounts[64].name.origin, "at most 64 community counts") }
        for (index, group) in definition.groups.enumerated() { compileGroup(group, index: index) }
        for alert in definition.alerts { compileAlert(alert) }
        if definition.alerts.count > 64 { report(definition.alerts[64].name.origin, "at most 64 alerts") }
        for campaign in definition.campaigns { compileCampaign(campaign) }
        if definition.campaigns.count > 64 { report(definition.campaigns[64].name.origin, "at most 64 coupon campaigns") }
        if let stats = definition.communityStats {
            let scope = Scope(key: .community, communityCounts: true)
            let condition = stats.condition.map { check($0, in: scope, expect: [.bool]).node }
            var fields: [(String, Node)] = []
            for field in stats.fields {
                fields.append((field.name.name, check(field.expression, in: scope, expect: [.number, .ranking]).node))
            }
            checkUnique(stats.fields.map(\.name), what: "field")
            program.communityStats = CompiledCommunityStats(condition: condition, fields: fields)
        }
        return program
    }

    // MARK: Declarations

    private mutating func compileAggregate(_ a: AggregateDefinition) {
        var types: UInt16 = 0
        for name in a.eventTypes {
            if let type = EventType.allCases.first(where: { $0.name == name.name }) {
                types |= 1 << UInt16(type.rawValue)
            } else {
                report(name.origin, "unknown event type '\(name.name)'; the types are: \(EventType.allCases.map(\.name).joined(separator: ", "))")
            }
        }
        if a.eventTypes.isEmpty { types = 0xFFFF }
        var usesItems = false
        func field(_ name: SourceName?, allowed: [EventField]) -> EventField? {
            guard let name else { return nil }
            guard let f = EventField(rawValue: name.name), allowed.contains(f) else {
                report(name.origin, "'\(name.name)' cannot be aggregated by \(a.kind.rawValue); use one of: \(allowed.map(\.rawValue).joined(separator: ", "))")
                return nil
            }
            if f.isItemField { usesItems = true }
            return f
        }
        let numeric: [EventField] = [.amount, .itemQuantity]
        let value: EventField?
        var type = ValueType.number
        switch a.kind {
        case .count:
            value = nil
        case .sum:
            value = field(a.field, allowed: numeric)
        case .min, .max, .first, .last:
            value = field(a.field, allowed: [.ts] + numeric)
            if value == .ts { type = .instant }
        case .distinct:
            value = field(a.field, allowed: [.itemSku, .itemCategory])
        case .top:
            value = field(a.field, allowed: [.itemSku, .itemCategory])
            type = .ranking
        case .meanGap:
            value = field(a.field, allowed: [.ts])
            type = .duration
            if a.count < 2 { report(a.name.origin, "mean_gap needs 'over_last: N' with N >= 2 occurrences") }
        }
        let rankedBy = a.kind == .top ? field(a.rankedBy, allowed: numeric) : nil
        if a.kind == .top, a.count < 1 { report(a.name.origin, "top needs 'k: N' with N >= 1") }
        var filter: Node?
        if let f = a.filter {
            let checked = check(f, in: Scope(event: true, items: true), expect: [.bool])
            filter = checked.node
            if checked.reads.usesItems { usesItems = true }
        }
        if a.window != nil, a.window! <= 0 { report(a.name.origin, "a window must be longer than 0ms") }
        if a.kind == .meanGap, a.window != nil { report(a.name.origin, "mean_gap is over the last N occurrences, not a window") }
        let compiled = CompiledAggregate(
            name: a.name.name, kind: a.kind, key: a.key, field: value, rankedBy: rankedBy, eventTypes: types,
            filter: filter, window: a.window, iteratesItems: usesItems, count: a.count, type: type)
        if a.key == .user { program.userAggregates.append(compiled) } else { program.communityAggregates.append(compiled) }
    }

    private func uniqueTags(_ group: TagGroupDefinition) -> [String] {
        var tags: [String] = []
        for rule in group.rules where !tags.contains(rule.tag.name) { tags.append(rule.tag.name) }
        return tags
    }

    private mutating func compileGroup(_ group: TagGroupDefinition, index: Int) {
        if group.rules.isEmpty { report(group.name.origin, "tag group '\(group.name.name)' has no rules: add at least one `- TAG: CONDITION`") }
        if groupTags[index].count > 64 { report(group.name.origin, "tag group '\(group.name.name)' has more than 64 tags") }
        let points = evaluationPoints(group.evaluateAt, key: .user)
        var dependencies = Dependencies()
        var names: [String] = []
        var rules: [(Int, Node)] = []
        let tags = groupTags[index]
        for rule in group.rules {
            let checked = check(rule.condition, in: Scope(key: .user, statistics: true, since: true), expect: [.bool])
            merge(checked.reads, into: &dependencies, names: &names)
            rules.append((tags.firstIndex(of: rule.tag.name) ?? 0, checked.node))
        }
        if dependencies.groups & (1 << UInt64(index)) != 0 {
            report(group.name.origin, "tag group '\(group.name.name)' cannot depend on its own tag")
        }
        if points.boundary, dependencies.boundaries.isEmpty, dependencies.windowed.isEmpty {
            report(group.evaluateAt.first { $0.name == "boundary" }?.origin ?? group.name.origin,
                   "'boundary' needs a condition that time alone changes (since(…) or a windowed aggregate)")
        }
        program.groups.append(CompiledGroup(
            name: group.name.name, tags: tags, rules: rules, points: points, dependencies: dependencies,
            evidence: evidence(names, key: .user)))
    }

    private mutating func compileAlert(_ alert: AlertDefinition) {
        let scope = alert.key == .user ? Scope(key: .user, statistics: true, since: true) : Scope(key: .community, communityCounts: true)
        let points = evaluationPoints(alert.evaluateAt, key: alert.key)
        var dependencies = Dependencies()
        var names: [String] = []
        let condition = check(alert.condition, in: scope, expect: [.bool])
        merge(condition.reads, into: &dependencies, names: &names)
        var rearm = Node.not(condition.node)
        if let r = alert.rearm {
            let checked = check(r, in: scope, expect: [.bool])
            merge(checked.reads, into: &dependencies, names: &names)
            rearm = checked.node
        }
        program.alerts.append(CompiledAlert(
            name: alert.name.name, key: alert.key, points: points, condition: condition.node, rearm: rearm,
            dependencies: dependencies, evidence: evidence(names, key: alert.key)))
    }

    private mutating func compileCampaign(_ c: CampaignDefinition) {
        var trigger = CompiledCampaign.Trigger.event(.orderPaid)
        let parts = c.trigger.name.split(separator: "->").map { $0.trimmingSpaces() }
        if parts.count == 2 {
            if let g = groupNames.firstIndex(of: parts[0]) {
                if let t = groupTags[g].firstIndex(of: parts[1]) {
                    trigger = .tag(group: g, tag: t)
                } else {
                    report(c.trigger.origin, "tag group '\(parts[0])' has no tag '\(parts[1])'; its tags are: \(groupTags[g].joined(separator: ", "))")
                }
            } else {
                report(c.trigger.origin, "unknown tag group '\(parts[0])'")
            }
        } else if let type = EventType.allCases.first(where: { $0.name == c.trigger.name }) {
            trigger = .event(type)
        } else {
            report(c.trigger.origin, "a trigger is an event type (e.g. order_paid) or GROUP -> TAG (e.g. lifecycle -> sleeping)")
        }
        let condition = c.condition.map { check($0, in: Scope(key: .user, statistics: true, since: true), expect: [.bool]) }
        var outcome: (event: EventType, within: Int64)?
        if let goal = c.outcome {
            if let type = EventType.allCases.first(where: { $0.name == goal.event.name }) {
                outcome = (type, goal.within)
            } else {
                report(goal.event.origin, "an outcome is an event type (e.g. order_paid), not '\(goal.event.name)'")
            }
            if goal.within <= 0 { report(goal.event.origin, "an outcome's window ('within') must be longer than 0") }
        }
        program.campaigns.append(CompiledCampaign(
            name: c.name.name, trigger: trigger, delay: c.delay, condition: condition?.node, cooldown: c.cooldown,
            dailyCapPerCommunity: c.dailyCapPerCommunity, outcome: outcome))
    }

    private mutating func evaluationPoints(_ names: [SourceName], key: KeyKind) -> EvaluationPoints {
        var points = EvaluationPoints()
        for name in names {
            switch name.name {
            case "event" where key == .user: points.eventTypes = 0xFFFF
            case "boundary" where key == .user: points.boundary = true
            case "refresh": points.refresh = true
            default:
                if key == .user, let type = EventType.allCases.first(where: { $0.name == name.name }) {
                    points.eventTypes |= 1 << UInt16(type.rawValue)
                } else {
                    report(name.origin, key == .user
                           ? "unknown evaluation point '\(name.name)'; use event, an event type, boundary or refresh"
                           : "community rules are evaluated at 'refresh' only")
                }
            }
        }
        if names.isEmpty { report(origin, "evaluate_at needs at least one point") }
        return points
    }

    private func merge(_ reads: Reads, into dependencies: inout Dependencies, names: inout [String]) {
        dependencies.formUnion(reads.dependencies)
        for n in reads.names where !names.contains(n) { names.append(n) }
    }

    /// The values a record shows as evidence: every aggregate, value and statistic the rule reads.
    private mutating func evidence(_ names: [String], key: KeyKind) -> [(String, Node)] {
        let saved = reads
        defer { reads = saved }
        return names.compactMap { name in
            reads = Reads()
            let scope = key == .user ? Scope(key: .user, statistics: true) : Scope(key: .community, communityCounts: true)
            guard let (node, type) = resolve(name, at: 0, in: scope), type != .ranking else { return nil }
            return (name, node)
        }
    }

    // MARK: Expressions

    private mutating func check(_ source: ExpressionSource, in scope: Scope, expect: [ValueType]) -> (node: Node, reads: Reads) {
        origin = source.origin
        reads = Reads()
        let expression: Expression
        do {
            expression = try ExpressionParser.parse(source.text)
        } catch {
            issues.append(CompileIssue(origin: source.origin, offset: error.offset, message: error.message))
            return (.constant(.none), reads)
        }
        let (node, type) = check(expression, scope, sinceAllowed: false)
        if let type, !expect.contains(type) {
            report(at: expression.offset, "expected \(expect.map(\.description).joined(separator: " or ")) but this is \(type)")
        }
        return (node.fused(), reads)
    }

    /// The node and its type; a nil type means a mistake was reported already.
    private mutating func check(_ e: Expression, _ scope: Scope, sinceAllowed: Bool) -> (Node, ValueType?) {
        switch e {
        case let .number(n, d, _):
            return (.constant(.number(n, d)), .number)
        case let .duration(ms, _):
            return (.constant(.duration(ms)), .duration)
        case let .boolean(b, _):
            return (.constant(.bool(b)), .bool)
        case let .string(_, at):
            report(at: at, "a string can only be compared with a string field or a tag group (e.g. tier == \"gold\")")
            return (.constant(.none), nil)
        case let .list(_, at):
            report(at: at, "a list can only follow 'in' or be an argument of contains_any")
            return (.constant(.none), nil)
        case let .name(name, at):
            guard let (node, type) = resolve(name, at: at, in: scope) else { return (.constant(.none), nil) }
            if case .string = type {
                report(at: at, "'\(name)' is a string: compare it (== \"…\", in [\"…\"]) or use contains_any")
                return (.constant(.none), nil)
            }
            return (node, type)
        case let .not(inner, at):
            let (node, type) = check(inner, scope, sinceAllowed: false)
            require(type, .bool, at: at, "'not' needs a condition")
            return (.not(node), .bool)
        case let .negate(inner, at):
            let (node, type) = check(inner, scope, sinceAllowed: false)
            if let type, type != .number, type != .duration { report(at: at, "'-' needs a number or a duration, not \(type)") }
            return (.negate(node), type)
        case let .call(name, arguments, at):
            return call(name, arguments, at: at, scope, sinceAllowed: sinceAllowed)
        case let .binary(op, left, right, at):
            return binary(op, left, right, at: at, scope)
        }
    }

    private mutating func binary(_ op: BinaryOperator, _ left: Expression, _ right: Expression, at: Int, _ scope: Scope) -> (Node, ValueType?) {
        switch op {
        case .and, .or:
            let before = reads.dependencies.usesStatistics
            reads.dependencies.usesStatistics = false
            let (l, lt) = check(left, scope, sinceAllowed: false)
            let leftReadsStatistics = reads.dependencies.usesStatistics
            reads.dependencies.usesStatistics = false
            let (r, rt) = check(right, scope, sinceAllowed: false)
            let rightReadsStatistics = reads.dependencies.usesStatistics
            reads.dependencies.usesStatistics = before || leftReadsStatistics || rightReadsStatistics
            require(lt, .bool, at: left.offset, "'\(op.rawValue)' joins conditions")
            require(rt, .bool, at: right.offset, "'\(op.rawValue)' joins conditions")
            // Both are pure, so the side that reads no population statistic goes first: when it decides,
            // the result stands until the user's own inputs change, across refreshes.
            let (first, second) = leftReadsStatistics && !rightReadsStatistics ? (r, l) : (l, r)
            return (op == .and ? .and(first, second) : .or(first, second), .bool)
        case .in:
            guard case let .list(items, _) = right else {
                report(at: right.offset, "'in' needs a list of strings, e.g. [\"gold\", \"platinum\"]")
                return (.constant(.none), nil)
            }
            return membership(left, items, at: at, scope, negated: false)
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual:
            if case let .string(s, _) = right, op == .equal || op == .notEqual {
                return membership(left, [s], at: at, scope, negated: op == .notEqual)
            }
            if case let .string(s, _) = left, op == .equal || op == .notEqual {
                return membership(right, [s], at: at, scope, negated: op == .notEqual)
            }
            let (l, lt) = check(left, scope, sinceAllowed: true)
            let (r, rt) = check(right, scope, sinceAllowed: true)
            let leftSince = isSince(l), rightSince = isSince(r)
            if containsSince(l) && !leftSince || containsSince(r) && !rightSince || leftSince && containsSince(r) || rightSince && containsSince(l) {
                report(at: at, "since(…) can only be compared directly with a duration that does not depend on the time, e.g. since(last_paid) >= 30d")
            } else if case let .since(instant) = l {
                reads.dependencies.boundaries.append(BoundaryAtom(instant: instant, op: op, threshold: r))
            } else if case let .since(instant) = r {
                reads.dependencies.boundaries.append(BoundaryAtom(instant: instant, op: op.mirrored, threshold: l))
            }
            guard let lt, let rt else { return (.compare(op, l, r), .bool) }
            let comparable = (lt == rt && lt != .ranking && lt != .strings) || (lt == .number && rt == .number)
            if !comparable {
                report(at: at, "cannot compare \(lt) with \(rt)")
            } else if op != .equal, op != .notEqual, lt == .bool || { if case .tag = lt { return true }; return false }() {
                report(at: at, "'\(op.rawValue)' needs numbers, durations or instants")
            }
            return (.compare(op, l, r), .bool)
        case .plus, .minus, .times, .divided:
            let (l, lt) = check(left, scope, sinceAllowed: false)
            let (r, rt) = check(right, scope, sinceAllowed: false)
            guard let lt, let rt else { return (.constant(.none), nil) }
            let result: ValueType?
            switch (op, lt, rt) {
            case (.plus, .number, .number), (.minus, .number, .number), (.times, .number, .number), (.divided, .number, .number),
                 (.divided, .duration, .duration):
                result = .number
            case (.plus, .duration, .duration), (.minus, .duration, .duration), (.times, .number, .duration), (.times, .duration, .number),
                 (.divided, .duration, .number), (.minus, .instant, .instant):
                result = .duration
            case (.plus, .instant, .duration), (.plus, .duration, .instant), (.minus, .instant, .duration):
                result = .instant
            default:
                result = nil
                report(at: at, "cannot apply '\(op.rawValue)' to \(lt) and \(rt)")
            }
            let node: Node = switch op {
            case .plus: .add(l, r)
            case .minus: .subtract(l, r)
            case .times: .multiply(l, r)
            default: .divide(l, r)
            }
            return (node, result)
        }
    }

    /// `x == "s"`, `x != "s"`, `x in [...]` for a tag group or a string field.
    private mutating func membership(_ left: Expression, _ items: [String], at: Int, _ scope: Scope, negated: Bool) -> (Node, ValueType?) {
        let result: Node
        if case let .name(name, nameAt) = left, let g = groupNames.firstIndex(of: name), scope.key == .user {
            reads.dependencies.groups |= 1 << UInt64(g)
            if !reads.names.contains(name) { reads.names.append(name) }
            var mask: UInt64 = 0
            for item in items {
                if let t = groupTags[g].firstIndex(of: item) {
                    mask |= 1 << UInt64(t)
                } else {
                    report(at: nameAt, "tag group '\(name)' has no tag '\(item)'; its tags are: \(groupTags[g].joined(separator: ", "))")
                }
            }
            result = .tagIn(.group(g), mask: mask)
        } else if let string = stringNode(left, scope) {
            result = .stringIn(string, items)
        } else {
            return (.constant(.none), nil)
        }
        return (negated ? .not(result) : result, .bool)
    }

    private mutating func stringNode(_ e: Expression, _ scope: Scope) -> StringNode? {
        switch e {
        case let .name(name, at):
            guard let field = EventField(rawValue: name), field.type == .string else { break }
            guard scope.event, scope.items || !field.isItemField else {
                report(at: at, "'\(name)' is a field of the event: use it in an aggregate's 'where'")
                return nil
            }
            if field.isItemField { reads.usesItems = true }
            return .field(field)
        case let .call("lower", arguments, at):
            guard arguments.count == 1 else { report(at: at, "lower takes one string"); return nil }
            return stringNode(arguments[0], scope).map { .lower($0) }
        default:
            break
        }
        if case .name(let name, let at) = e, resolve(name, at: at, in: scope) == nil { return nil }
        report(at: e.offset, "expected a string field (type, query, item.sku, item.category) or a tag group here")
        return nil
    }

    private mutating func call(_ name: String, _ arguments: [Expression], at: Int, _ scope: Scope, sinceAllowed: Bool) -> (Node, ValueType?) {
        switch name {
        case "since":
            guard scope.since, scope.key == .user else {
                report(at: at, "since(…) is only for conditions on a user")
                return (.constant(.none), nil)
            }
            guard arguments.count == 1 else { report(at: at, "since takes one instant, e.g. since(last_paid)"); return (.constant(.none), nil) }
            let (node, type) = check(arguments[0], scope, sinceAllowed: false)
            require(type, .instant, at: arguments[0].offset, "since(…) takes an instant such as last_paid")
            if !sinceAllowed {
                report(at: at, "since(…) can only be compared directly with a duration, e.g. since(last_paid) >= 30d")
            }
            return (.since(node), .duration)
        case "max", "min":
            guard arguments.count >= 2 else { report(at: at, "\(name) takes two or more values"); return (.constant(.none), nil) }
            var nodes: [Node] = []
            var types: [ValueType] = []
            for argument in arguments {
                let (n, t) = check(argument, scope, sinceAllowed: false)
                nodes.append(n)
                if let t { types.append(t) }
            }
            let first = types.first
            if let first, types.contains(where: { $0 != first }) || ![.number, .duration, .instant].contains(first) {
                report(at: at, "\(name) needs values of one type: numbers, durations or instants")
            }
            return (name == "max" ? .maximum(nodes) : .minimum(nodes), types.count == arguments.count ? first : nil)
        case "contains_any":
            guard arguments.count == 2, case let .list(needles, _) = arguments[1] else {
                report(at: at, "contains_any takes a string and a list, e.g. contains_any(lower(query), [\"organic\"])")
                return (.constant(.none), nil)
            }
            guard let string = stringNode(arguments[0], scope) else { return (.constant(.none), nil) }
            return (.containsAny(string, needles.map { Array($0.utf8) }), .bool)
        case "lower":
            report(at: at, "lower(…) gives a string: compare it or use it in contains_any")
            return (.constant(.none), nil)
        default:
            report(at: at, "unknown function '\(name)'; the functions are: since, max, min, contains_any, lower")
            return (.constant(.none), nil)
        }
    }

    /// Resolves a name where it is used: an event field, an aggregate, a value (expanded in place),
    /// a statistic, a community count or a tag group.
    private mutating func resolve(_ name: String, at: Int, in scope: Scope) -> (Node, ValueType)? {
        if let field = EventField(rawValue: name) {
            guard scope.event, scope.items || !field.isItemField else {
                report(at: at, scope.event ? "'\(name)' is a field of a basket item: not available here"
                       : "'\(name)' is a field of the event: use it in an aggregate's 'where' or as its value")
                return nil
            }
            if field.isItemField { reads.usesItems = true }
            return (.field(field), field.type)
        }
        if let key = scope.key {
            let aggregates = key == .user ? program.userAggregates : program.communityAggregates
            if let i = aggregates.firstIndex(where: { $0.name == name }) {
                if !reads.names.contains(name) { reads.names.append(name) }
                if key == .user {
                    reads.dependencies.userAggregates |= i < 64 ? 1 << UInt64(i) : 0
                    if aggregates[i].window != nil, !reads.dependencies.windowed.contains(i) { reads.dependencies.windowed.append(i) }
                    return (.userAggregate(i), aggregates[i].type)
                }
                return (.communityAggregate(i), aggregates[i].type)
            }
            if let value = definition.values.first(where: { $0.name.name == name }) {
                guard !expanding.contains(name) else {
                    report(at: at, "value '\(name)' is defined in terms of itself")
                    return nil
                }
                expanding.insert(name)
                defer { expanding.remove(name) }
                let savedOrigin = origin
                defer { origin = savedOrigin }
                origin = value.expression.origin
                guard let expression = try? ExpressionParser.parse(value.expression.text) else {
                    report(at: 0, "value '\(name)' does not parse")
                    return nil
                }
                var inner = scope
                inner.since = false
                let (node, type) = check(expression, inner, sinceAllowed: false)
                if !reads.names.contains(name) { reads.names.append(name) }
                return type.map { (node, $0) }
            }
            if key == .user, scope.statistics, let i = program.statistics.firstIndex(where: { $0.name == name }) {
                reads.dependencies.usesStatistics = true
                if !reads.names.contains(name) { reads.names.append(name) }
                return (.statistic(i), .number)
            }
            if key == .community, scope.communityCounts, let i = program.communityCounts.firstIndex(where: { $0.0 == name }) {
                if !reads.names.contains(name) { reads.names.append(name) }
                return (.communityCount(i), .number)
            }
            if key == .user, let g = groupNames.firstIndex(of: name) {
                reads.dependencies.groups |= 1 << UInt64(g)
                if !reads.names.contains(name) { reads.names.append(name) }
                if definition.groups[g].isFlag { return (.tagIn(.group(g), mask: 1), .bool) }
                return (.group(g), .tag(g))
            }
        }
        let known = definedNames(in: scope)
        report(at: at, "unknown aggregate, value or tag group '\(name)'" + (known.isEmpty ? "" : "; known here: \(known.joined(separator: ", "))"))
        return nil
    }

    private func definedNames(in scope: Scope) -> [String] {
        var names: [String] = []
        if scope.event { names += EventField.allCases.filter { scope.items || !$0.isItemField }.map(\.rawValue) }
        if let key = scope.key {
            names += (key == .user ? program.userAggregates : program.communityAggregates).map(\.name)
            names += definition.values.map(\.name.name)
            if key == .user {
                if scope.statistics { names += program.statistics.map(\.name) }
                names += groupNames
            } else if scope.communityCounts {
                names += program.communityCounts.map(\.0)
            }
        }
        return names
    }

    private func isSince(_ n: Node) -> Bool {
        if case .since = n { return true }
        return false
    }

    private func containsSince(_ n: Node) -> Bool {
        switch n {
        case .since: true
        case let .not(a), let .negate(a): containsSince(a)
        case let .and(a, b), let .or(a, b), let .compare(_, a, b), let .add(a, b), let .subtract(a, b), let .multiply(a, b), let .divide(a, b):
            containsSince(a) || containsSince(b)
        case let .minimum(list), let .maximum(list): list.contains { containsSince($0) }
        default: false
        }
    }

    // MARK: Reporting

    private mutating func require(_ type: ValueType?, _ expected: ValueType, at: Int, _ message: String) {
        if let type, type != expected { report(at: at, "\(message), not \(type)") }
    }

    private mutating func report(at offset: Int, _ message: String) {
        issues.append(CompileIssue(origin: origin, offset: offset, message: message))
    }

    private mutating func report(_ origin: SourceOrigin, _ message: String) {
        issues.append(CompileIssue(origin: origin, offset: 0, message: message))
    }

    private mutating func checkUnique(_ names: [SourceName], what: String) {
        var seen = Set<String>()
        for name in names where !seen.insert(name.name).inserted {
            report(name.origin, "\(what) '\(name.name)' is defined twice")
        }
    }
}
