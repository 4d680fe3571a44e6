/// A compiled pipeline: every rule and number the engine runs with (SPEC §4 is one instance of it).
public struct Pipeline: Sendable {
    public var name: String
    public var time = TimeSettings()
    public var topics = Topics()
    public var lifecycle = LifecycleRule()
    public var tier = TierRule()
    public var flags = FlagRules()
    public var vipChurn: VipChurnRule? = VipChurnRule()
    public var communityAlert: CommunityAlertRule? = CommunityAlertRule()
    public var coupons = CouponRules()
    public var communityStats: CommunityStatsRule? = CommunityStatsRule()

    public init(name: String) { self.name = name }

    /// The names of all tag groups, in evaluation order.
    public var groupNames: [String] {
        ["lifecycle", "tier"] + flags.all.map(\.name)
    }
}

/// Event-time settings (SPEC §3).
public struct TimeSettings: Sendable {
    /// Allowed out-of-orderness per partition. Default: 5 minutes.
    public var lateness = TimeSpan(milliseconds: 5 * EventTime.minute)
    /// How long an accepted `event_id` is remembered. Default: 7 days.
    public var dedupeHorizon = TimeSpan(milliseconds: 7 * EventTime.day)
}

/// Kafka topic names and the output file of each record kind.
public struct Topics: Sendable {
    public init() {}

    public var clickstream = "events.clickstream"
    public var orders = "events.orders"
    public var tags = "tags"
    public var alerts = "alerts"
    public var coupons = "coupons"
    public var communityStats = "community.stats"
    public var deadLetters = "events.dlq"
    public var late = "events.late"

    /// Every topic: the two inputs, then the outputs.
    public var all: [String] { [clickstream, orders, tags, alerts, coupons, communityStats, deadLetters, late] }
}

/// The lifecycle ladder: the first matching state wins, from `prospect` down to `active`.
public struct LifecycleRule: Sendable {
    public var newWithin = TimeSpan(milliseconds: 30 * EventTime.day)
    public var atRiskAfter = TimeSpan(milliseconds: 30 * EventTime.day)
    public var sleepingAfter = TimeSpan(milliseconds: 90 * EventTime.day)
    public var churnedAfter = TimeSpan(milliseconds: 180 * EventTime.day)

    public enum State: Int8, CaseIterable, Sendable {
        case prospect, churned, sleeping, atRisk, new, active
        public var name: String {
            switch self {
            case .prospect: "prospect"
            case .churned: "churned"
            case .sleeping: "sleeping"
            case .atRisk: "at_risk"
            case .new: "new"
            case .active: "active"
            }
        }
    }
}

/// RFM tiers: ordered levels, each with an optional spend percentile and a recency bound.
public struct TierRule: Sendable {
    public struct Level: Sendable {
        public var name: String
        /// Spend must reach this nearest-rank percentile of the population; nil: no spend bound.
        public var spendPercentile: Ratio?
        /// Time since the last paid order must be below this.
        public var recency: TimeSpan

        public init(name: String, spendPercentile: Ratio?, recency: TimeSpan) {
            self.name = name
            self.spendPercentile = spendPercentile
            self.recency = recency
        }
    }
    /// The window of `spend` and `orders` per user. Default: 90 days.
    public var spendWindow = TimeSpan(milliseconds: 90 * EventTime.day)
    /// Percentiles need at least this many users with orders and positive spend. Default: 20.
    public var minimumPopulation = 20
    public var levels: [Level] = [
        Level(name: "platinum", spendPercentile: Ratio(95, 100), recency: TimeSpan(milliseconds: 30 * EventTime.day)),
        Level(name: "gold", spendPercentile: Ratio(75, 100), recency: TimeSpan(milliseconds: 60 * EventTime.day)),
        Level(name: "silver", spendPercentile: nil, recency: TimeSpan(milliseconds: 90 * EventTime.day)),
    ]

    /// The distinct percentiles the daily refresh computes.
    public var percentiles: [Ratio] {
        var seen: [Ratio] = []
        for level in levels { if let p = level.spendPercentile, !seen.contains(p) { seen.append(p) } }
        return seen
    }
}

/// A flag: a tag group of one tag, set while its condition holds.
public struct FlagRule: Sendable {
    public enum Condition: Sendable {
        /// At least `minimumOrders` paid orders in the spend window, and the coupon share reaches `couponShare`.
        case couponShare(minimumOrders: Int, couponShare: Ratio)
        /// A paid order with an item of one of `categories` within `window`.
        case boughtCategory(categories: [String], window: TimeSpan)
        /// At least `count` searches within `window` whose query contains a keyword (case-insensitive).
        case searchedKeywords(keywords: [String], count: Int, window: TimeSpan)
        /// Another flag is set and the tier is one of `tiers`.
        case flagAndTier(flag: String, tiers: [String])
    }
    public var name: String
    public var condition: Condition

    public init(name: String, condition: Condition) {
        self.name = name
        self.condition = condition
    }
}

/// The flags of the pipeline, evaluated in order.
public struct FlagRules: Sendable {
    public var all: [FlagRule] = [
        FlagRule(name: "price_sensitive", condition: .couponShare(minimumOrders: 3, couponShare: Ratio(6, 10))),
        FlagRule(name: "family_with_kids", condition: .boughtCategory(categories: ["baby"], window: TimeSpan(milliseconds: 180 * EventTime.day))),
        FlagRule(name: "quality_seeker", condition: .searchedKeywords(
            keywords: ["organic", "imported", "有机", "进口"], count: 2, window: TimeSpan(milliseconds: 30 * EventTime.day))),
        FlagRule(name: "high_value_family", condition: .flagAndTier(flag: "family_with_kids", tiers: ["platinum", "gold"])),
    ]
}

/// `vip_churn_risk`: a silence longer than the user's own rhythm, for valuable users.
public struct VipChurnRule: Sendable {
    public init() {}

    public var name = "vip_churn_risk"
    public var minimumOrders = 3
    /// The mean gap is taken over the last this many paid orders. Default: 5.
    public var lastOrders = 5
    public var minimumDelay = TimeSpan(milliseconds: 14 * EventTime.day)
    public var gapMultiplier = Ratio(2, 1)
    public var tiers = ["platinum", "gold"]
}

/// `community_sleeping_ratio_high`: the share of sleeping or churned customers crosses a threshold.
public struct CommunityAlertRule: Sendable {
    public init() {}

    public var name = "community_sleeping_ratio_high"
    public var minimumCustomers = 20
    public var ratio = Ratio(30, 100)
}

/// The coupon campaigns and their shared holdout share.
public struct CouponRules: Sendable {
    /// Share of users (FNV-1a-64 of `campaign:user_id` mod 100) held out. Default: 10.
    public var holdoutPercent = 10
    public var secondOrder: SecondOrder? = SecondOrder()
    public var wakeUp: WakeUp? = WakeUp()
    public var cartRescue: CartRescue? = CartRescue()

    /// A trigger at a user's first paid order.
    public struct SecondOrder: Sendable {
        public init() {}

        public var name = "second_order"
        /// At most this many triggers per community per UTC day; nil: no cap.
        public var dailyCapPerCommunity: Int?
    }
    /// A trigger when a user becomes sleeping.
    public struct WakeUp: Sendable {
        public init() {}

        public var name = "wake_up"
        public var cooldown = TimeSpan(milliseconds: 60 * EventTime.day)
        public var dailyCapPerCommunity: Int?
    }
    /// A trigger `delay` after an `add_to_cart` that no order followed.
    public struct CartRescue: Sendable {
        public init() {}

        public var name = "cart_rescue"
        public var delay = TimeSpan(milliseconds: 2 * EventTime.hour)
        public var cooldown = TimeSpan(milliseconds: EventTime.day)
        public var dailyCapPerCommunity: Int?
    }
}

/// Per-community figures emitted at every daily refresh.
public struct CommunityStatsRule: Sendable {
    public init() {}

    public var activeWindow = TimeSpan(milliseconds: 30 * EventTime.day)
    public var gmvWindow = TimeSpan(milliseconds: 30 * EventTime.day)
    public var ordersWindow = TimeSpan(milliseconds: 7 * EventTime.day)
    public var topSkusWindow = TimeSpan(milliseconds: 7 * EventTime.day)
    public var topSkus = 5
}
