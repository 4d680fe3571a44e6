/// The conditions and values the engine evaluates per user and per community, flattened (see
/// `FlatCode`). Evidence, community figures and boundary thresholds, evaluated far less often,
/// stay trees.
struct EngineExpressions: Sendable {
    let code: FlatCode
    /// The steps of `code`, read through a plain pointer that `code` keeps valid.
    nonisolated(unsafe) let steps: UnsafeMutableBufferPointer<Step>
    /// Every group's rules in order (each with its tag and where its condition starts), and per
    /// group the range of its own.
    let rules: [(tag: Int, condition: Int32)]
    let groupRules: [Range<Int>]
    // Where each expression's steps start.
    let alertConditions: [Int32]
    let alertRearms: [Int32]
    let campaignConditions: [Int32?]
    let statisticPopulations: [Int32?]
    let statisticValues: [Int32]
    let communityCountConditions: [Int32]
    let communityStatsCondition: Int32?

    init(_ p: Program) {
        var builder = FlatCode.Builder()
        var rules: [(tag: Int, condition: Int32)] = []
        groupRules = p.groups.map { group in
            let start = rules.count
            rules += group.rules.map { (tag: $0.tag, condition: builder.add($0.condition)) }
            return start..<rules.count
        }
        self.rules = rules
        alertConditions = p.alerts.map { builder.add($0.condition) }
        alertRearms = p.alerts.map { builder.add($0.rearm) }
        campaignConditions = p.campaigns.map { $0.condition.map { builder.add($0) } }
        statisticPopulations = p.statistics.map { $0.population.map { builder.add($0) } }
        statisticValues = p.statistics.map { builder.add($0.of) }
        communityCountConditions = p.communityCounts.map { builder.add($0.1) }
        communityStatsCondition = p.communityStats?.condition.map { builder.add($0) }
        code = FlatCode(builder)
        steps = code.steps
    }
}

extension Engine {
    /// Evaluates the flattened expression starting at step `start` for the current frame, as
    /// `Node.evaluate` evaluates its tree.
    mutating func evaluate(_ start: Int32) -> Value {
        var pc = Int(start)
        return evaluate(at: &pc)
    }

    /// Evaluates the expression whose steps start at `pc`, leaving `pc` just past them.
    private mutating func evaluate(at pc: inout Int) -> Value {
        let step = expressions.steps[pc]
        pc += 1
        switch step {
        case .constant(let v):
            return v
        case .userAggregate, .communityAggregate, .communityCount, .statistic, .group:
            return read(step)
        case let .compareUserAggregate(op, _, c), let .compareSince(op, _, c):
            return .bool(op.holds(Value.compare(read(step), c)))
        case let .groupIn(_, mask):
            return read(step).isTag(in: mask)
        case .since:
            // Evaluated first: as the argument of `since`, a method of `self`, it had Swift copy the whole engine.
            let x = evaluate(at: &pc)
            return since(x)
        case .not:
            return .bool(!evaluate(at: &pc).isTrue)
        case .and(let skip):
            if evaluate(at: &pc).isTrue { return .bool(evaluate(at: &pc).isTrue) }
            pc += Int(skip)
            return .false
        case .or(let skip):
            if !evaluate(at: &pc).isTrue { return .bool(evaluate(at: &pc).isTrue) }
            pc += Int(skip)
            return .true
        case .compare(let op):
            let a = evaluate(at: &pc), b = evaluate(at: &pc)
            return .bool(op.holds(Value.compare(a, b)))
        case .add:
            let a = evaluate(at: &pc), b = evaluate(at: &pc)
            return Value.add(a, b, negate: false)
        case .subtract:
            let a = evaluate(at: &pc), b = evaluate(at: &pc)
            return Value.add(a, b, negate: true)
        case .multiply:
            let a = evaluate(at: &pc), b = evaluate(at: &pc)
            return Value.multiply(a, b)
        case .divide:
            let a = evaluate(at: &pc), b = evaluate(at: &pc)
            return Value.divide(a, b)
        case .negate:
            return evaluate(at: &pc).negated
        case .tagIn(let mask):
            return evaluate(at: &pc).isTag(in: mask)
        case .tree(let k):
            return expressions.code.trees[Int(k)].evaluate(&self)
        }
    }

    /// What a leaf step reads for the current frame (for a fused comparison: its left operand).
    mutating func read(_ step: Step) -> Value {
        switch step {
        case .userAggregate(let i), .compareUserAggregate(_, let i, _):
            return userAggregates[Int(i)].value(Int(frame.user), at: frame.t)
        case .compareSince(_, let i, _):
            let x = userAggregates[Int(i)].value(Int(frame.user), at: frame.t)
            return since(x)
        case .group(let g), .groupIn(let g, _):
            return .tag(Int(tags[Int(frame.user) * layout.groups + Int(g)]))
        case .communityAggregate(let i):
            return communityAggregates[Int(i)].value(Int(frame.community), at: frame.t)
        case .communityCount(let i):
            let c = Int(frame.community)
            return c >= 0 && c < communityCounts[Int(i)].count ? .number(communityCounts[Int(i)][c]) : .number(0)
        case .statistic(let i):
            frame.readStatistics = true
            return statistics[Int(i)]
        case .constant(let v):
            return v
        default:
            return .none
        }
    }

    /// The duration from instant `x` to the frame's instant; none for anything else.
    func since(_ x: Value) -> Value {
        x.kind == .instant ? .duration(frame.t &- x.numerator) : .none
    }
}
