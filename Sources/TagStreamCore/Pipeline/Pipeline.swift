/// A compiled pipeline: the definition of a pipeline file, checked and turned into the program the engine runs.
public struct Pipeline: Sendable {
    public let definition: PipelineDefinition
    let program: Program

    public var name: String { definition.name }
    /// Event-time settings; `--lateness` may override the file's.
    public var time: TimeSettings
    public var topics: Topics { definition.topics }

    /// Checks and compiles a definition; returns every mistake found.
    public static func compile(_ definition: PipelineDefinition) -> Result<Pipeline, CompileErrors> {
        var compiler = PipelineCompiler(definition)
        let program = compiler.compile()
        guard compiler.issues.isEmpty else { return .failure(CompileErrors(issues: compiler.issues)) }
        return .success(Pipeline(definition: definition, program: program, time: definition.time))
    }

    /// The names of all tag groups (flags included), in evaluation order.
    public var groupNames: [String] { program.groups.map(\.name) }
    /// The tag groups that are not flags.
    public var multiTagGroups: [String] { zip(definition.groups, program.groups).filter { !$0.0.isFlag }.map(\.1.name) }
    public var flagCount: Int { definition.groups.filter(\.isFlag).count }
    public var aggregateCount: Int { program.userAggregates.count + program.communityAggregates.count }
}

/// The mistakes that kept a definition from compiling.
public struct CompileErrors: Error, Sendable {
    public var issues: [CompileIssue]
}

/// Event-time settings (SPEC §3).
public struct TimeSettings: Sendable, Hashable {
    public init() {}

    /// Allowed out-of-orderness per partition. Default: 5 minutes.
    public var lateness = TimeSpan(milliseconds: 5 * EventTime.minute)
    /// How long an accepted `event_id` is remembered. Default: 7 days.
    public var dedupeHorizon = TimeSpan(milliseconds: 7 * EventTime.day)
}

/// Kafka topic names and the output file of each record kind.
public struct Topics: Sendable, Hashable {
    public init() {}

    public var clickstream = "events.clickstream"
    public var orders = "events.orders"
    public var tags = "tags"
    public var alerts = "alerts"
    public var coupons = "coupons"
    public var communityStats = "community.stats"
    /// The outcomes of coupons (SPEC §6), apart from the records of SPEC §2.
    public var couponOutcomes = "coupon.outcomes"
    public var deadLetters = "events.dlq"
    public var late = "events.late"

    /// Every topic: the two inputs, then the outputs.
    public var all: [String] { [clickstream, orders, tags, alerts, coupons, communityStats, couponOutcomes, deadLetters, late] }
}
