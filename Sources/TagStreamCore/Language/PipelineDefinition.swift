/// Where a piece of a pipeline file starts: its line and column, and whether it was quoted
/// (so offsets inside an expression map back to the right column).
public struct SourceOrigin: Sendable, Hashable {
    public var line: Int
    public var column: Int
    public var quoted: Bool

    public init(line: Int, column: Int, quoted: Bool = false) {
        self.line = line
        self.column = column
        self.quoted = quoted
    }
}

/// An expression's text with its place in the file.
public struct ExpressionSource: Sendable, Hashable {
    public var text: String
    public var origin: SourceOrigin

    public init(_ text: String, at origin: SourceOrigin) {
        self.text = text
        self.origin = origin
    }
}

/// A name with its place in the file.
public struct SourceName: Sendable, Hashable {
    public var name: String
    public var origin: SourceOrigin

    public init(_ name: String, at origin: SourceOrigin) {
        self.name = name
        self.origin = origin
    }
}

/// Whose state an aggregate or rule is about.
public enum KeyKind: String, Sendable, Hashable {
    case user, community
}

/// What an aggregate computes over the events it sees.
public enum AggregateKind: String, Sendable, Hashable, CaseIterable {
    case count, sum, min, max, first, last, distinct, top
    case meanGap = "mean_gap"
}

/// One aggregate as declared: `spend_90d: {sum: amount, of: order_paid, window: 90d}`.
public struct AggregateDefinition: Sendable, Hashable {
    public var name: SourceName
    public var kind: AggregateKind
    /// The field aggregated (`ts`, `amount`, `item.qty`, `item.sku`, …); nil for `count`.
    public var field: SourceName?
    /// The event types it sees; empty: all.
    public var eventTypes: [SourceName] = []
    public var filter: ExpressionSource?
    /// The window length in milliseconds; nil: the key's lifetime.
    public var window: Int64?
    public var key: KeyKind = .user
    /// `mean_gap`: over the last this many occurrences. `top`: how many entries.
    public var count: Int = 0
    /// `top`: the field that ranks entries (summed per value of `field`).
    public var rankedBy: SourceName?

    public init(name: SourceName, kind: AggregateKind) {
        self.name = name
        self.kind = kind
    }
}

/// A named expression (`values`, `community_counts`, output fields).
public struct NamedExpression: Sendable, Hashable {
    public var name: SourceName
    public var expression: ExpressionSource

    public init(name: SourceName, expression: ExpressionSource) {
        self.name = name
        self.expression = expression
    }
}

/// A population statistic computed at each daily refresh: a nearest-rank percentile.
public struct StatisticDefinition: Sendable, Hashable {
    public var name: SourceName
    /// The quantile as a fraction (p95 is 95/100).
    public var quantile: Ratio
    public var of: ExpressionSource
    public var population: ExpressionSource?
    /// Fewer users than this in the population: no value.
    public var minimumCount: Int = 1

    public init(name: SourceName, quantile: Ratio, of: ExpressionSource) {
        self.name = name
        self.quantile = quantile
        self.of = of
    }
}

/// A tag group: ordered rules, the first whose condition holds gives the tag. A flag is a group of one tag.
public struct TagGroupDefinition: Sendable, Hashable {
    public struct Rule: Sendable, Hashable {
        public var tag: SourceName
        public var condition: ExpressionSource

        public init(tag: SourceName, condition: ExpressionSource) {
            self.tag = tag
            self.condition = condition
        }
    }

    public var name: SourceName
    public var rules: [Rule]
    /// `event`, an event type, `boundary`, `refresh`.
    public var evaluateAt: [SourceName]
    public var isFlag: Bool

    public init(name: SourceName, rules: [Rule], evaluateAt: [SourceName], isFlag: Bool) {
        self.name = name
        self.rules = rules
        self.evaluateAt = evaluateAt
        self.isFlag = isFlag
    }
}

/// An alert: fires when its condition holds while armed; re-armed when `rearm` holds (default: the condition does not).
public struct AlertDefinition: Sendable, Hashable {
    public var name: SourceName
    public var key: KeyKind
    public var evaluateAt: [SourceName]
    public var condition: ExpressionSource
    public var rearm: ExpressionSource?

    public init(name: SourceName, key: KeyKind, evaluateAt: [SourceName], condition: ExpressionSource) {
        self.name = name
        self.key = key
        self.evaluateAt = evaluateAt
        self.condition = condition
    }
}

/// A coupon campaign: a trigger (an event type, or `group -> tag`), an optional delay and condition,
/// a cooldown, an optional daily cap per community, and the goal whose outcome each coupon follows.
public struct CampaignDefinition: Sendable, Hashable {
    public var name: SourceName
    public var trigger: SourceName
    public var delay: Int64?
    public var condition: ExpressionSource?
    public var cooldown: Int64?
    public var dailyCapPerCommunity: Int?
    public var outcome: OutcomeDefinition?

    public init(name: SourceName, trigger: SourceName) {
        self.name = name
        self.trigger = trigger
    }
}

/// A campaign's goal: whether the user did `event` within `within` after a coupon (sent or held
/// out), which each coupon's `coupon_outcome` record says when that window closes.
public struct OutcomeDefinition: Sendable, Hashable {
    /// The default goal: a paid order within 7 days.
    public static let defaultEvent = "order_paid"
    public static let defaultWithin: Int64 = 7 * 86_400_000

    public var event: SourceName
    public var within: Int64

    public init(event: SourceName, within: Int64 = defaultWithin) {
        self.event = event
        self.within = within
    }
}

/// The `community_stats` record of each daily refresh: when it is emitted and its fields.
public struct CommunityStatsDefinition: Sendable, Hashable {
    public var condition: ExpressionSource?
    public var fields: [NamedExpression]

    public init(condition: ExpressionSource?, fields: [NamedExpression]) {
        self.condition = condition
        self.fields = fields
    }
}

/// A pipeline file as written, before its names and types are checked (see `Pipeline.compile`).
public struct PipelineDefinition: Sendable, Hashable {
    public var name: String
    public var time = TimeSettings()
    public var topics = Topics()
    public var aggregates: [AggregateDefinition] = []
    public var values: [NamedExpression] = []
    public var statistics: [StatisticDefinition] = []
    public var communityCounts: [NamedExpression] = []
    public var groups: [TagGroupDefinition] = []
    public var alerts: [AlertDefinition] = []
    /// Share of users (FNV-1a-64 of `campaign:user_id` mod 100) held out of every campaign.
    public var holdoutPercent = 0
    public var campaigns: [CampaignDefinition] = []
    public var communityStats: CommunityStatsDefinition?

    public init(name: String) { self.name = name }
}
