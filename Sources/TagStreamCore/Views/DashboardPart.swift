/// What one engine knows of every community for the leaders' dashboard, from its own users and,
/// for the communities it owns, their figures and alerts. Parts of the engines that share a run's
/// users (its shards) merge into the part one engine holding every user gives.
public struct DashboardPart: Sendable, Equatable {
    /// Longest list of customers a community shows per panel.
    public static let listLimit = 50
    /// How recent a first paid order makes a new customer.
    public static let newCustomerSpan = 30 * EventTime.day

    /// The engine's clock (after a merge: the earliest part's).
    public var asOf: Int64
    /// How `tagCounts` are laid out.
    public var countedGroups: [CountedGroup]
    public var communities: [String: CommunityPart]

    /// One part from several engines' parts of the same run.
    public static func merge(_ parts: [DashboardPart]) -> DashboardPart {
        var merged = DashboardPart(asOf: parts.map(\.asOf).min() ?? .min, countedGroups: parts.first?.countedGroups ?? [], communities: [:])
        for part in parts {
            merged.communities.merge(part.communities) { a, b in
                var sum = a
                sum.add(b)
                return sum
            }
        }
        return merged
    }
}

/// One community, from one engine's point of view (see `DashboardPart`).
public struct CommunityPart: Sendable, Equatable {
    /// The engine's users whose community it is now, and how many carry each counted tag.
    public var users: Int32 = 0
    public var tagCounts: [Int32]
    /// The refreshes of the last 31 days, oldest first (see `CommunityDay`).
    public var history: [CommunityDay] = []
    /// Users whose first paid order is at most `newCustomerSpan` old.
    public var newCustomers: Int32 = 0
    /// VIPs with an open churn alert, longest silent first.
    public var vipsAtRisk: [Customer] = []
    /// Sleeping and churned customers, most recently paid first.
    public var sleeping: [Customer] = []
    /// Of all the sleeping and churned customers (not only those listed): how many were sent a
    /// wake-up coupon since their last paid order, and how many were held out of it.
    public var wakeCouponsSent: Int32 = 0
    public var wakeCouponsHeldOut: Int32 = 0
    /// Community alerts that fired and have not re-armed (known to the owner only).
    public var openAlerts: [String] = []

    /// A customer on one of the panels.
    public struct Customer: Sendable, Equatable {
        public var user: String
        /// The tier for a VIP, the lifecycle stage for a sleeping customer.
        public var tag: String?
        public var lastPaid: Int64?
        /// The mean gap between their last paid orders, in milliseconds (rounded up).
        public var usualGap: Int64?
        /// The last wake-up coupon since their last paid order.
        public var wakeCoupon: UserView.Coupon?
    }

    /// Adds another engine's part of the same community: their users are disjoint.
    mutating func add(_ other: CommunityPart) {
        users += other.users
        for i in tagCounts.indices { tagCounts[i] += other.tagCounts[i] }
        var days = Dictionary(uniqueKeysWithValues: history.map { ($0.at, $0) })
        for day in other.history { days[day.at, default: CommunityDay(at: day.at, users: 0, tagCounts: day.tagCounts.map { _ in 0 })].add(day) }
        history = days.values.sorted { $0.at < $1.at }
        newCustomers += other.newCustomers
        vipsAtRisk = Self.longestSilentFirst(vipsAtRisk + other.vipsAtRisk)
        sleeping = Self.mostRecentFirst(sleeping + other.sleeping)
        wakeCouponsSent += other.wakeCouponsSent
        wakeCouponsHeldOut += other.wakeCouponsHeldOut
        openAlerts = (openAlerts + other.openAlerts).sorted()
    }

    static func longestSilentFirst(_ customers: [Customer]) -> [Customer] {
        Array(customers.sorted { ($0.lastPaid ?? .min, $0.user) < ($1.lastPaid ?? .min, $1.user) }.prefix(DashboardPart.listLimit))
    }

    static func mostRecentFirst(_ customers: [Customer]) -> [Customer] {
        Array(customers.sorted { a, b in
            a.lastPaid != b.lastPaid ? (a.lastPaid ?? .min) > (b.lastPaid ?? .min) : a.user.utf8.lexicographicallyPrecedes(b.user.utf8)
        }.prefix(DashboardPart.listLimit))
    }
}

extension Engine {
    /// Every community this engine has users of, history of, or owns, now. Reads aggregates at the
    /// engine's clock, as `userView` does.
    public mutating func dashboardPart(_ names: DashboardBindings.Names = .init()) -> DashboardPart {
        let b = DashboardBindings(names, program: program)
        let counter = TagCounter(self)
        let t = clock
        let names = figureNames
        var parts = communityHistory.map { CommunityPart(tagCounts: counter.zero, history: $0.days(width: counter.width, fieldNames: names)) }
        for u in userSeen.indices where userSeen[u] && userCommunity[u] >= 0 {
            let c = Int(userCommunity[u])
            parts[c].users += 1
            counter.add(user: u, of: self, to: &parts[c].tagCounts)
            let lastPaid = b.lastPaid.flatMap { instant(userAggregates[$0].value(u, at: t)) }
            if let first = b.firstPaid.flatMap({ instant(userAggregates[$0].value(u, at: t)) }), first > t - DashboardPart.newCustomerSpan {
                parts[c].newCustomers += 1
            }
            if let a = b.vipAlert, !armed[u * layout.alerts + a] {
                let tier = b.tier.flatMap { tagName(user: u, group: $0) }
                let gap = b.paidGap.map { userAggregates[$0].value(u, at: t) }.flatMap { $0.kind == .duration ? $0.ceiling : nil }
                parts[c].vipsAtRisk.append(.init(user: symbols.users[Int32(u)], tag: tier, lastPaid: lastPaid, usualGap: gap))
            }
            if let g = b.lifecycle, b.sleepingStages.contains(tags[u * layout.groups + g]) {
                var coupon: UserView.Coupon?
                if let w = b.wakeCampaign, case let at = lastTrigger[u * layout.campaigns + w], at != .min, at >= lastPaid ?? .min {
                    coupon = UserView.Coupon(campaign: program.campaigns[w].name, at: at, holdout: isHeldOut(Int32(u), campaign: w))
                    if coupon!.holdout { parts[c].wakeCouponsHeldOut += 1 } else { parts[c].wakeCouponsSent += 1 }
                }
                parts[c].sleeping.append(.init(user: symbols.users[Int32(u)], tag: tagName(user: u, group: g), lastPaid: lastPaid, wakeCoupon: coupon))
            }
        }
        let communityAlerts = program.alerts.indices.filter { program.alerts[$0].key == .community }
        var communities: [String: CommunityPart] = [:]
        for c in parts.indices {
            parts[c].vipsAtRisk = CommunityPart.longestSilentFirst(parts[c].vipsAtRisk)
            parts[c].sleeping = CommunityPart.mostRecentFirst(parts[c].sleeping)
            parts[c].openAlerts = communityAlerts.filter { !communityArmed[c * layout.alerts + $0] }.map { program.alerts[$0].name }.sorted()
            let name = symbols.communities[Int32(c)]
            let owned = communitySeen[c] && (!shard.isSharded || shard.owns(community: name))
            guard parts[c].users > 0 || !parts[c].history.isEmpty || owned else { continue }
            communities[name] = parts[c]
        }
        return DashboardPart(asOf: t, countedGroups: countedGroups, communities: communities)
    }

    private func tagName(user u: Int, group g: Int) -> String? {
        let tag = tags[u * layout.groups + g]
        return tag >= 0 ? program.groups[g].tags[Int(tag)] : nil
    }

    private func instant(_ v: Value) -> Int64? { v.kind == .instant ? v.numerator : nil }
}
