import DequeModule

/// A paid or refunded order inside a user's spend window.
struct WindowedOrder: Sendable {
    var ts: Int64
    /// Positive for `order_paid`, negative for `order_refunded`.
    var amount: Money
    var isPaid: Bool
    var usedCoupon: Bool
}

/// Everything the engine keeps per user.
struct UserState: Sendable {
    var seen = false
    var community: Int32 = -1
    var paidCount = 0
    var firstPaid: Int64 = 0
    var lastPaid: Int64 = 0
    /// The last paid timestamps (oldest first), for the mean gap of `vip_churn_risk`.
    var recentPaid: [Int64] = []
    var window = Deque<WindowedOrder>()
    var windowSpend = Money.zero
    var windowPaid = 0
    var windowCoupons = 0
    var lifecycle: LifecycleRule.State?
    /// Index into the tier levels; -1 for none.
    var tier: Int8 = -1
    /// Bit i: flag i is set.
    var flags: UInt64 = 0
    /// Per-flag memory (last matching order, recent matching searches), laid out by `FlagLayout`.
    var flagTimes: [Int64] = []
    var lastWakeUp: Int64?
    var lastCartRescue: Int64?
    var lifecycleDue: Int64 = .max
    var vipDue: Int64 = .max

    var hasPaid: Bool { paidCount > 0 }

    /// Drops window entries at or before `t − length`.
    mutating func evictWindow(at t: Int64, length: Int64) {
        while let first = window.first, first.ts <= t - length {
            window.removeFirst()
            windowSpend -= first.amount
            if first.isPaid {
                windowPaid -= 1
                if first.usedCoupon { windowCoupons -= 1 }
            }
        }
    }

    mutating func addToWindow(_ order: WindowedOrder) {
        window.append(order)
        windowSpend += order.amount
        if order.isPaid {
            windowPaid += 1
            if order.usedCoupon { windowCoupons += 1 }
        }
    }
}

/// Everything the engine keeps per community.
struct CommunityState: Sendable {
    var gmv = Deque<(ts: Int64, amount: Money)>()
    var gmvSum = Money.zero
    var paidOrders = Deque<Int64>()
    var items = Deque<(ts: Int64, sku: Int32, quantity: Money)>()
    var skuTotals: [Int32: (quantity: Money, entries: Int)] = [:]
    /// Whether the sleeping ratio was at or above the threshold at the previous refresh; nil: not evaluated.
    var ratioWasHigh: Bool?

    mutating func evict(at t: Int64, rule: CommunityStatsRule) {
        while let first = gmv.first, first.ts <= t - rule.gmvWindow.milliseconds {
            gmv.removeFirst()
            gmvSum -= first.amount
        }
        while let first = paidOrders.first, first <= t - rule.ordersWindow.milliseconds { paidOrders.removeFirst() }
        while let first = items.first, first.ts <= t - rule.topSkusWindow.milliseconds {
            items.removeFirst()
            let total = skuTotals[first.sku]!
            skuTotals[first.sku] = total.entries == 1 ? nil : (total.quantity - first.quantity, total.entries - 1)
        }
    }

    mutating func addOrder(ts: Int64, amount: Money) {
        gmv.append((ts, amount))
        gmvSum += amount
    }

    mutating func addItem(ts: Int64, sku: Int32, quantity: Money) {
        items.append((ts, sku, quantity))
        let total = skuTotals[sku] ?? (.zero, 0)
        skuTotals[sku] = (total.quantity + quantity, total.entries + 1)
    }
}

/// A pending instant of one user: a lifecycle boundary, a vip check, or a cart rescue.
struct TimerEntry: Comparable, Sendable {
    enum Kind: UInt8, Sendable { case lifecycle, vipCheck, cartRescue }
    var instant: Int64
    var kind: Kind
    var user: Int32
    /// For cart rescue: the `add_to_cart` instant.
    var payload: Int64

    static func < (a: Self, b: Self) -> Bool {
        (a.instant, a.kind.rawValue, a.user, a.payload) < (b.instant, b.kind.rawValue, b.user, b.payload)
    }
}

extension LifecycleRule {
    /// The user's lifecycle state at `t`: the first of the ladder that matches.
    func state(of user: borrowing UserState, at t: Int64) -> State {
        guard user.hasPaid else { return .prospect }
        let silence = t - user.lastPaid
        if silence >= churnedAfter.milliseconds { return .churned }
        if silence >= sleepingAfter.milliseconds { return .sleeping }
        if silence >= atRiskAfter.milliseconds { return .atRisk }
        if t - user.firstPaid < newWithin.milliseconds { return .new }
        return .active
    }

    /// The next instant after `t` at which time alone can change the user's state; `.max` if none.
    func nextBoundary(of user: borrowing UserState, after t: Int64) -> Int64 {
        guard user.hasPaid else { return .max }
        var next = Int64.max
        for candidate in [user.firstPaid + newWithin.milliseconds, user.lastPaid + atRiskAfter.milliseconds,
                          user.lastPaid + sleepingAfter.milliseconds, user.lastPaid + churnedAfter.milliseconds]
        where candidate > t && candidate < next {
            next = candidate
        }
        return next
    }
}
