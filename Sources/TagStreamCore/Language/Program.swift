/// A resolved, type-checked expression: names are slots, strings are compared as bytes or tag masks.
indirect enum Node: Sendable {
    case constant(Value)
    case userAggregate(Int)
    case communityAggregate(Int)
    case communityCount(Int)
    case statistic(Int)
    /// The current tag of a group (as `Value.tag`).
    case group(Int)
    case field(EventField)
    case since(Node)
    case not(Node)
    case and(Node, Node)
    case or(Node, Node)
    case compare(BinaryOperator, Node, Node)
    case add(Node, Node)
    case subtract(Node, Node)
    case multiply(Node, Node)
    case divide(Node, Node)
    case negate(Node)
    case minimum([Node])
    case maximum([Node])
    /// Whether the group's tag is in the mask (bit i: tag i); `noTag` covers "no tag".
    case tagIn(Node, mask: UInt64)
    /// Whether a string field equals one of the strings.
    case stringIn(StringNode, [String])
    /// Whether a string field contains one of the needles (UTF-8 bytes).
    case containsAny(StringNode, [[UInt8]])

    // Fused forms of the most common shapes, produced by `fused()`, evaluated without walking a tree.
    /// `aggregate op constant` over a user aggregate.
    case compareUserAggregate(BinaryOperator, Int, Value)
    /// `since(aggregate) op constant` over a user aggregate.
    case compareSince(BinaryOperator, Int, Value)
    /// `group in [tags]`.
    case groupIn(Int, mask: UInt64)

    /// The same expression with common shapes fused into single nodes.
    func fused() -> Node {
        switch self {
        case let .compare(op, .userAggregate(i), .constant(c)): .compareUserAggregate(op, i, c)
        case let .compare(op, .constant(c), .userAggregate(i)): .compareUserAggregate(op.mirrored, i, c)
        case let .compare(op, .since(.userAggregate(i)), .constant(c)): .compareSince(op, i, c)
        case let .compare(op, .constant(c), .since(.userAggregate(i))): .compareSince(op.mirrored, i, c)
        case let .compare(op, a, b): .compare(op, a.fused(), b.fused())
        case let .tagIn(.group(g), mask): .groupIn(g, mask: mask)
        case let .tagIn(a, mask): .tagIn(a.fused(), mask: mask)
        case let .not(a): .not(a.fused())
        case let .and(a, b): .and(a.fused(), b.fused())
        case let .or(a, b): .or(a.fused(), b.fused())
        case let .add(a, b): .add(a.fused(), b.fused())
        case let .subtract(a, b): .subtract(a.fused(), b.fused())
        case let .multiply(a, b): .multiply(a.fused(), b.fused())
        case let .divide(a, b): .divide(a.fused(), b.fused())
        case let .negate(a): .negate(a.fused())
        case let .minimum(list): .minimum(list.map { $0.fused() })
        case let .maximum(list): .maximum(list.map { $0.fused() })
        case let .since(a): .since(a.fused())
        default: self
        }
    }
}

/// An expression of type string: a field of the event, possibly lowercased.
indirect enum StringNode: Sendable {
    case field(EventField)
    case lower(StringNode)
}

/// The event and item fields that `where` filters and aggregates read.
enum EventField: String, Sendable, CaseIterable {
    case ts, amount, type, query
    case hasCoupon = "has_coupon"
    case itemSku = "item.sku"
    case itemCategory = "item.category"
    case itemQuantity = "item.qty"

    var isItemField: Bool { self == .itemSku || self == .itemCategory || self == .itemQuantity }

    var type: ValueType {
        switch self {
        case .ts: .instant
        case .amount, .itemQuantity: .number
        case .hasCoupon: .bool
        case .type, .query, .itemSku, .itemCategory: .string
        }
    }
}

/// The static type of an expression.
enum ValueType: Sendable, Equatable, CustomStringConvertible {
    case number, duration, instant, bool, string, strings
    /// The tag of group i.
    case tag(Int)
    /// A ranked list (`top`), only for output fields.
    case ranking

    var description: String {
        switch self {
        case .number: "a number"
        case .duration: "a duration"
        case .instant: "an instant"
        case .bool: "a condition"
        case .string: "a string"
        case .strings: "a list of strings"
        case .tag: "a tag"
        case .ranking: "a ranked list"
        }
    }
}

/// Where a rule is evaluated: at events (of some types), at the instants where time alone
/// changes its condition, at the daily refresh.
struct EvaluationPoints: Sendable, Hashable {
    /// Bit i: events of `EventType(rawValue: i)`.
    var eventTypes: UInt16 = 0
    var boundary = false
    var refresh = false

    func includes(_ type: EventType) -> Bool { eventTypes & (1 << UInt16(type.rawValue)) != 0 }
}

/// `since(instant) op threshold` in a condition: the instants at which it can change are derived from it.
struct BoundaryAtom: Sendable {
    var instant: Node
    /// The comparison with `since(…)` on the left.
    var op: BinaryOperator
    var threshold: Node
}

/// What a rule reads, for deciding when it must be evaluated again.
struct Dependencies: Sendable {
    /// Bit i: user aggregate i.
    var userAggregates: UInt64 = 0
    /// Bit i: group i.
    var groups: UInt64 = 0
    var boundaries: [BoundaryAtom] = []
    /// Windowed user aggregates read, whose expiries change values at known instants.
    var windowed: [Int] = []
    var usesStatistics = false

    /// Adds what `other` reads.
    mutating func formUnion(_ other: Dependencies) {
        userAggregates |= other.userAggregates
        groups |= other.groups
        boundaries += other.boundaries
        for w in other.windowed where !windowed.contains(w) { windowed.append(w) }
        usesStatistics = usesStatistics || other.usesStatistics
    }
}

struct CompiledAggregate: Sendable {
    var name: String
    var kind: AggregateKind
    var key: KeyKind
    var field: EventField?
    var rankedBy: EventField?
    var eventTypes: UInt16
    var filter: Node?
    var window: Int64?
    var iteratesItems: Bool
    var count: Int
    var type: ValueType
}

struct CompiledStatistic: Sendable {
    var name: String
    var quantile: Ratio
    var of: Node
    var population: Node?
    var minimumCount: Int
    /// What `of` and `population` read.
    var dependencies: Dependencies
}

struct CompiledGroup: Sendable {
    var name: String
    var tags: [String]
    var rules: [(tag: Int, condition: Node)]
    var points: EvaluationPoints
    var dependencies: Dependencies
    /// The named values shown as a record's evidence.
    var evidence: [(String, Node)]
}

struct CompiledAlert: Sendable {
    var name: String
    var key: KeyKind
    var points: EvaluationPoints
    var condition: Node
    var rearm: Node
    var dependencies: Dependencies
    var evidence: [(String, Node)]
}

struct CompiledCampaign: Sendable {
    enum Trigger: Sendable {
        case event(EventType)
        /// A group changing to a tag.
        case tag(group: Int, tag: Int)
    }
    var name: String
    var trigger: Trigger
    var delay: Int64?
    var condition: Node?
    var cooldown: Int64?
    var dailyCapPerCommunity: Int?
    /// Each coupon's goal: this event within this long after it.
    var outcome: (event: EventType, within: Int64)?
}

struct CompiledCommunityStats: Sendable {
    var condition: Node?
    var fields: [(String, Node)]
}

/// A pipeline compiled for the engine: aggregates are slots, expressions are node trees.
struct Program: Sendable {
    var userAggregates: [CompiledAggregate] = []
    var communityAggregates: [CompiledAggregate] = []
    var statistics: [CompiledStatistic] = []
    var communityCounts: [(String, Node)] = []
    /// What the community counts' conditions read, together.
    var communityCountDependencies = Dependencies()
    var groups: [CompiledGroup] = []
    var alerts: [CompiledAlert] = []
    var campaigns: [CompiledCampaign] = []
    var communityStats: CompiledCommunityStats?
    var holdoutPercent = 0
}
