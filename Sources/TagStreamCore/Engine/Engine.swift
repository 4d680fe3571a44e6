import HeapModule

/// The deterministic state machine of a pipeline: applies ordered events, fires timers and the
/// daily refresh, and appends output records. It does no I/O and reads no clock.
public struct Engine: Sendable {
    public let pipeline: Pipeline
    let rules: CompiledRules
    /// Interned strings, shared with the decoder that feeds this engine.
    public var symbols = SymbolTable()
    /// Records produced since the caller last drained them, in SPEC §5 order.
    public var output: [OutputRecord] = []

    var users: [UserState] = []
    var communities: [CommunityState] = []
    var timers = Heap<TimerEntry>()
    /// The next daily refresh; `.max` until the first event is applied.
    var nextRefresh: Int64 = .max
    /// The last instant whose timers and refresh have fired.
    public internal(set) var clock: Int64 = .min
    /// The spend thresholds of the last refresh, one per percentile; nil: population too small.
    var thresholds: [Money?]
    var sortedUsers: [Int32] = []
    var usersSinceRefresh: [Int32] = []
    /// For each category id: the bit mask of `boughtCategory` flags it matches.
    var categoryMasks: [UInt64] = []
    /// Coupon triggers per campaign and community on `capDay` (UTC day number), for daily caps.
    var capDay: Int64 = .min
    var capCounts: [CapKey: Int] = [:]

    struct CapKey: Hashable, Sendable {
        var campaign: String
        var community: Int32
    }

    public init(pipeline: Pipeline) {
        self.pipeline = pipeline
        rules = CompiledRules(pipeline)
        thresholds = Array(repeating: nil, count: rules.percentiles.count)
    }

    // MARK: Time

    /// Fires every timer and daily refresh due at or before `instant`, in order.
    public mutating func advance(through instant: Int64) {
        while true {
            let nextTimer = timers.min?.instant ?? .max
            let next = min(nextTimer, nextRefresh)
            guard next <= instant else { break }
            if nextTimer == next { fireTimers(at: next) }
            if nextRefresh == next {
                refresh(at: next)
                nextRefresh += EventTime.day
            }
            clock = next
        }
        clock = max(clock, instant)
    }

    private mutating func fireTimers(at instant: Int64) {
        var due: [TimerEntry] = []
        while let top = timers.min, top.instant == instant { due.append(timers.removeMin()) }
        let names = symbols.users
        due.sort { a, b in
            if a.user != b.user { return names.precedes(a.user, b.user) }
            return a < b
        }
        var previous: TimerEntry?
        for entry in due where entry != previous {
            previous = entry
            switch entry.kind {
            case .lifecycle:
                guard users[Int(entry.user)].lifecycleDue == instant else { continue }
                evaluateLifecycle(entry.user, at: instant, cause: .timer)
            case .vipCheck:
                guard users[Int(entry.user)].vipDue == instant else { continue }
                users[Int(entry.user)].vipDue = .max
                checkVip(entry.user, at: instant)
            case .cartRescue:
                checkCartRescue(entry.user, addedAt: entry.payload, at: instant)
            }
        }
    }

    // MARK: Events

    /// Applies one event. Events must come in `(ts, event_id)` order.
    public mutating func apply(_ event: Event) {
        advance(through: event.ts - 1)
        if nextRefresh == .max { nextRefresh = EventTime.midnight(atOrAfter: event.ts) }
        let u = event.user
        let index = Int(u)
        if index >= users.count {
            users.append(contentsOf: repeatElement(UserState(), count: index + 1 - users.count))
        }
        if !users[index].seen {
            users[index].seen = true
            users[index].flagTimes = Array(repeating: .min, count: rules.flagSlots)
            usersSinceRefresh.append(u)
        }
        if event.community >= 0 { users[index].community = event.community }
        let cause = RecordCause.event(event.eventID)
        var firstOrder = false
        switch event.type {
        case .orderPaid:
            firstOrder = !users[index].hasPaid
            recordPaidOrder(event)
        case .orderRefunded:
            users[index].addToWindow(WindowedOrder(ts: event.ts, amount: Money.zero - event.amount, isPaid: false, usedCoupon: false))
            if event.community >= 0, pipeline.communityStats != nil {
                communities[ensureCommunity(event.community)].addOrder(ts: event.ts, amount: Money.zero - event.amount)
            }
        case .search:
            if let query = event.query { recordSearch(u, query: query, at: event.ts) }
        case .addToCart:
            if let rescue = pipeline.coupons.cartRescue {
                timers.insert(TimerEntry(instant: event.ts + rescue.delay.milliseconds, kind: .cartRescue, user: u, payload: event.ts))
            }
        default:
            break
        }
        evaluateLifecycle(u, at: event.ts, cause: cause)
        if event.type.isOrder { evaluateTier(u, at: event.ts, cause: cause) }
        evaluateFlags(u, at: event.ts, cause: cause)
        if firstOrder, let campaign = pipeline.coupons.secondOrder {
            emitCoupon(campaign.name, cap: campaign.dailyCapPerCommunity, user: u, at: event.ts, cause: cause)
        }
        if event.type == .orderPaid { scheduleVipCheck(u) }
    }

    private mutating func recordPaidOrder(_ event: Event) {
        let index = Int(event.user)
        if !users[index].hasPaid { users[index].firstPaid = event.ts }
        users[index].paidCount += 1
        users[index].lastPaid = event.ts
        if let vip = pipeline.vipChurn {
            users[index].recentPaid.append(event.ts)
            if users[index].recentPaid.count > vip.lastOrders { users[index].recentPaid.removeFirst() }
        }
        users[index].addToWindow(WindowedOrder(ts: event.ts, amount: event.amount, isPaid: true, usedCoupon: event.hasCoupon))
        for item in event.items where item.category >= 0 {
            let mask = categoryMask(item.category)
            guard mask != 0 else { continue }
            for (f, flag) in rules.flags.enumerated() where mask & (1 << UInt64(f)) != 0 {
                if case let .boughtCategory(_, _, slot) = flag { users[index].flagTimes[slot] = event.ts }
            }
        }
        guard event.community >= 0, pipeline.communityStats != nil else { return }
        let c = ensureCommunity(event.community)
        communities[c].addOrder(ts: event.ts, amount: event.amount)
        communities[c].paidOrders.append(event.ts)
        for item in event.items where item.sku >= 0 {
            communities[c].addItem(ts: event.ts, sku: item.sku, quantity: item.quantity)
        }
    }

    private mutating func recordSearch(_ u: Int32, query: String, at ts: Int64) {
        let lowered = Array(query.lowercased().utf8)
        for flag in rules.flags {
            guard case let .searchedKeywords(keywords, count, _, slot) = flag,
                  CompiledRules.contains(lowered, anyOf: keywords) else { continue }
            let index = Int(u)
            for k in slot..<(slot + count - 1) { users[index].flagTimes[k] = users[index].flagTimes[k + 1] }
            users[index].flagTimes[slot + count - 1] = ts
        }
    }

    private mutating func categoryMask(_ category: Int32) -> UInt64 {
        while categoryMasks.count <= Int(category) {
            let name = symbols.categories[Int32(categoryMasks.count)]
            var mask: UInt64 = 0
            for (f, flag) in rules.flags.enumerated() {
                if case let .boughtCategory(categories, _, _) = flag, categories.contains(name) { mask |= 1 << UInt64(f) }
            }
            categoryMasks.append(mask)
        }
        return categoryMasks[Int(category)]
    }

    private mutating func ensureCommunity(_ id: Int32) -> Int {
        if Int(id) >= communities.count {
            communities.append(contentsOf: repeatElement(CommunityState(), count: Int(id) + 1 - communities.count))
        }
        return Int(id)
    }

    // MARK: Rules

    private mutating func evaluateLifecycle(_ u: Int32, at t: Int64, cause: RecordCause) {
        let index = Int(u)
        let rule = pipeline.lifecycle
        let state = rule.state(of: users[index], at: t)
        let previous = users[index].lifecycle
        if state != previous {
            users[index].lifecycle = state
            emitTag("lifecycle", state.name, previous: previous?.name, user: u, at: t, cause: cause, evidence: [
                ("orders", .integer(Int64(users[index].paidCount))),
                ("first_paid", users[index].hasPaid ? .instant(users[index].firstPaid) : .absent),
                ("last_paid", users[index].hasPaid ? .instant(users[index].lastPaid) : .absent),
            ])
            if state == .sleeping, let wakeUp = pipeline.coupons.wakeUp {
                if users[index].lastWakeUp.map({ t - $0 >= wakeUp.cooldown.milliseconds }) ?? true,
                   emitCoupon(wakeUp.name, cap: wakeUp.dailyCapPerCommunity, user: u, at: t, cause: cause) {
                    users[index].lastWakeUp = t
                }
            }
        }
        let due = rule.nextBoundary(of: users[index], after: t)
        if due != users[index].lifecycleDue {
            users[index].lifecycleDue = due
            if due != .max { timers.insert(TimerEntry(instant: due, kind: .lifecycle, user: u, payload: 0)) }
        }
    }

    private func tierLevel(of user: borrowing UserState, at t: Int64) -> Int8 {
        guard user.hasPaid else { return -1 }
        for (i, level) in pipeline.tier.levels.enumerated() {
            guard t - user.lastPaid < level.recency.milliseconds else { continue }
            if let p = rules.levelPercentile[i] {
                guard let threshold = thresholds[p], user.windowSpend >= threshold else { continue }
            } else if level.spendPercentile != nil {
                continue
            }
            return Int8(i)
        }
        return -1
    }

    private func tierName(_ level: Int8) -> String? {
        level >= 0 ? pipeline.tier.levels[Int(level)].name : nil
    }

    private mutating func evaluateTier(_ u: Int32, at t: Int64, cause: RecordCause) {
        let index = Int(u)
        users[index].evictWindow(at: t, length: pipeline.tier.spendWindow.milliseconds)
        let level = tierLevel(of: users[index], at: t)
        let previous = users[index].tier
        guard level != previous else { return }
        users[index].tier = level
        emitTag("tier", tierName(level), previous: tierName(previous), user: u, at: t, cause: cause, evidence: [
            ("spend", .money(users[index].windowSpend)),
            ("last_paid", users[index].hasPaid ? .instant(users[index].lastPaid) : .absent),
        ])
    }

    private mutating func evaluateFlags(_ u: Int32, at t: Int64, cause: RecordCause) {
        let index = Int(u)
        users[index].evictWindow(at: t, length: pipeline.tier.spendWindow.milliseconds)
        for (f, flag) in rules.flags.enumerated() {
            let on = flagHolds(flag, for: users[index], at: t)
            let bit: UInt64 = 1 << UInt64(f)
            let was = users[index].flags & bit != 0
            guard on != was else { continue }
            users[index].flags ^= bit
            let name = rules.flagNames[f]
            emitTag(name, on ? name : nil, previous: was ? name : nil, user: u, at: t, cause: cause,
                    evidence: flagEvidence(flag, for: users[index]))
        }
    }

    private func flagHolds(_ flag: CompiledRules.Flag, for user: borrowing UserState, at t: Int64) -> Bool {
        switch flag {
        case let .couponShare(minimumOrders, share):
            return user.windowPaid >= minimumOrders && share.isMet(part: Int64(user.windowCoupons), whole: Int64(user.windowPaid))
        case let .boughtCategory(_, window, slot), let .searchedKeywords(_, _, window, slot):
            return user.flagTimes[slot] > t - window
        case let .flagAndTier(other, tiers):
            return user.flags & (1 << UInt64(other)) != 0 && user.tier >= 0 && tiers & (1 << UInt64(user.tier)) != 0
        }
    }

    private func flagEvidence(_ flag: CompiledRules.Flag, for user: borrowing UserState) -> [(String, EvidenceValue)] {
        func instant(_ t: Int64) -> EvidenceValue { t == .min ? .absent : .instant(t) }
        switch flag {
        case .couponShare:
            return [("orders", .integer(Int64(user.windowPaid))), ("coupon_orders", .integer(Int64(user.windowCoupons)))]
        case let .boughtCategory(_, _, slot):
            return [("last_order", instant(user.flagTimes[slot]))]
        case let .searchedKeywords(_, _, _, slot):
            return [("oldest_counted_search", instant(user.flagTimes[slot]))]
        case .flagAndTier:
            return [("tier", tierName(user.tier).map { .text($0) } ?? .absent)]
        }
    }

    private mutating func scheduleVipCheck(_ u: Int32) {
        guard let vip = pipeline.vipChurn else { return }
        let user = users[Int(u)]
        guard user.paidCount >= vip.minimumOrders, let first = user.recentPaid.first, user.recentPaid.count >= 2 else { return }
        // ⌈multiplier × mean gap⌉ over the last k paid timestamps, computed exactly.
        let gaps = Int64(user.recentPaid.count - 1)
        let scaledGap = Ratio(vip.gapMultiplier.numerator, vip.gapMultiplier.denominator * gaps).ceilTimes(user.lastPaid - first)
        let due = user.lastPaid + max(vip.minimumDelay.milliseconds, scaledGap)
        users[Int(u)].vipDue = due
        timers.insert(TimerEntry(instant: due, kind: .vipCheck, user: u, payload: 0))
    }

    private mutating func checkVip(_ u: Int32, at t: Int64) {
        guard let vip = pipeline.vipChurn else { return }
        let user = users[Int(u)]
        guard user.tier >= 0, rules.vipTiers & (1 << UInt64(user.tier)) != 0 else { return }
        emit(OutputRecord(ts: t, user: u, community: user.community, cause: .timer, body: .alert(name: vip.name), evidence: [
            ("tier", tierName(user.tier).map { .text($0) } ?? .absent),
            ("last_paid", .instant(user.lastPaid)),
            ("orders", .integer(Int64(user.paidCount))),
        ]))
    }

    private mutating func checkCartRescue(_ u: Int32, addedAt added: Int64, at t: Int64) {
        guard let rescue = pipeline.coupons.cartRescue else { return }
        let user = users[Int(u)]
        if user.hasPaid, user.lastPaid >= added { return }
        if let last = user.lastCartRescue, last > t - rescue.cooldown.milliseconds { return }
        if emitCoupon(rescue.name, cap: rescue.dailyCapPerCommunity, user: u, at: t, cause: .timer) {
            users[Int(u)].lastCartRescue = t
        }
    }

    // MARK: Daily refresh

    private mutating func refresh(at m: Int64) {
        mergeNewUsers()
        let window = pipeline.tier.spendWindow.milliseconds
        var spends: [Money] = []
        for u in sortedUsers {
            users[Int(u)].evictWindow(at: m, length: window)
            if users[Int(u)].windowPaid >= 1, users[Int(u)].windowSpend > .zero { spends.append(users[Int(u)].windowSpend) }
        }
        spends.sort()
        for (i, q) in rules.percentiles.enumerated() {
            thresholds[i] = spends.count >= pipeline.tier.minimumPopulation && !spends.isEmpty
                ? spends[Int(max(1, q.ceilTimes(Int64(spends.count)))) - 1] : nil
        }
        for u in sortedUsers where !isDormant(users[Int(u)], at: m) {
            evaluateTier(u, at: m, cause: .refresh)
            evaluateFlags(u, at: m, cause: .refresh)
        }
        refreshCommunities(at: m)
    }

    /// Whether no tier and no flag can hold for the user at `t`, nor does: the refresh may skip them.
    private func isDormant(_ user: borrowing UserState, at t: Int64) -> Bool {
        guard user.tier < 0, user.flags == 0, user.window.isEmpty else { return false }
        if user.hasPaid, t - user.lastPaid < rules.longestRecency { return false }
        for (slot, window) in rules.timedFlagSlots where user.flagTimes[slot] > t - window { return false }
        return true
    }

    private mutating func mergeNewUsers() {
        guard !usersSinceRefresh.isEmpty else { return }
        let names = symbols.users
        func before(_ a: Int32, _ b: Int32) -> Bool { names.precedes(a, b) }
        usersSinceRefresh.sort(by: before)
        var merged: [Int32] = []
        merged.reserveCapacity(sortedUsers.count + usersSinceRefresh.count)
        var i = 0, j = 0
        while i < sortedUsers.count || j < usersSinceRefresh.count {
            if j == usersSinceRefresh.count || (i < sortedUsers.count && before(sortedUsers[i], usersSinceRefresh[j])) {
                merged.append(sortedUsers[i]); i += 1
            } else {
                merged.append(usersSinceRefresh[j]); j += 1
            }
        }
        sortedUsers = merged
        usersSinceRefresh.removeAll()
    }

    private mutating func refreshCommunities(at m: Int64) {
        guard let rule = pipeline.communityStats else { return }
        var customers = [Int](repeating: 0, count: communities.count)
        var active = customers, sleeping = customers
        for u in sortedUsers {
            guard users[Int(u)].hasPaid, users[Int(u)].community >= 0 else { continue }
            let c = Int(users[Int(u)].community)
            if c >= customers.count {
                let grow = c + 1 - customers.count
                customers += repeatElement(0, count: grow)
                active += repeatElement(0, count: grow)
                sleeping += repeatElement(0, count: grow)
            }
            customers[c] += 1
            if users[Int(u)].lastPaid > m - rule.activeWindow.milliseconds { active[c] += 1 }
            if users[Int(u)].lifecycle == .sleeping || users[Int(u)].lifecycle == .churned { sleeping[c] += 1 }
        }
        if customers.count > communities.count {
            communities.append(contentsOf: repeatElement(CommunityState(), count: customers.count - communities.count))
        }
        let names = symbols.communities
        let order = (0..<communities.count).sorted { names.precedes(Int32($0), Int32($1)) }
        for c in order {
            communities[c].evict(at: m, rule: rule)
            let count = c < customers.count ? customers[c] : 0
            if count >= 1 {
                let state = communities[c]
                let top = topSkus(state.skuTotals, count: rule.topSkus)
                let figures = CommunityFigures(
                    customers: count, active: active[c], gmv: state.gmvSum, orders: state.paidOrders.count,
                    sleeping: sleeping[c], topSkus: top)
                emit(OutputRecord(ts: m, user: -1, community: Int32(c), cause: .refresh, body: .communityStats(figures), evidence: []))
            }
            guard let alert = pipeline.communityAlert else { continue }
            guard count >= alert.minimumCustomers else {
                communities[c].ratioWasHigh = nil
                continue
            }
            let high = alert.ratio.isMet(part: Int64(sleeping[c]), whole: Int64(count))
            if high, communities[c].ratioWasHigh != true {
                emit(OutputRecord(ts: m, user: -1, community: Int32(c), cause: .refresh, body: .alert(name: alert.name), evidence: [
                    ("customers", .integer(Int64(count))), ("sleeping_or_churned", .integer(Int64(sleeping[c]))),
                    ("ratio", .ratio(Int64(sleeping[c]), Int64(count))),
                ]))
            }
            communities[c].ratioWasHigh = high
        }
    }

    /// The `count` skus with the largest quantity, ties by sku ascending, without sorting them all.
    private func topSkus(_ totals: [Int32: (quantity: Money, entries: Int)], count: Int) -> [(sku: Int32, quantity: Money)] {
        guard count > 0 else { return [] }
        let names = symbols.skus
        func before(_ a: (sku: Int32, quantity: Money), _ b: (sku: Int32, quantity: Money)) -> Bool {
            a.quantity != b.quantity ? a.quantity > b.quantity : names.precedes(a.sku, b.sku)
        }
        var top: [(sku: Int32, quantity: Money)] = []
        for (sku, total) in totals {
            let candidate = (sku: sku, quantity: total.quantity)
            guard top.count < count || before(candidate, top[top.count - 1]) else { continue }
            let at = top.firstIndex { before(candidate, $0) } ?? top.count
            top.insert(candidate, at: at)
            if top.count > count { top.removeLast() }
        }
        return top
    }

    // MARK: Records

    private mutating func emit(_ record: OutputRecord) { output.append(record) }

    private mutating func emitTag(
        _ group: String, _ tag: String?, previous: String?, user u: Int32, at t: Int64, cause: RecordCause,
        evidence: [(String, EvidenceValue)]
    ) {
        emit(OutputRecord(ts: t, user: u, community: users[Int(u)].community, cause: cause,
                          body: .tag(group: group, tag: tag, previous: previous), evidence: evidence))
    }

    /// Emits a coupon trigger unless the campaign's daily cap for the user's community is reached;
    /// returns whether it did. Holdout triggers are emitted and count, for caps and cooldowns alike.
    @discardableResult
    private mutating func emitCoupon(_ campaign: String, cap: Int?, user u: Int32, at t: Int64, cause: RecordCause) -> Bool {
        let community = users[Int(u)].community
        if let cap, community >= 0 {
            let day = EventTime.floorDiv(t, EventTime.day)
            if day != capDay {
                capDay = day
                capCounts.removeAll()
            }
            let key = CapKey(campaign: campaign, community: community)
            guard capCounts[key, default: 0] < cap else { return false }
            capCounts[key, default: 0] += 1
        }
        let holdout = FNV1a64.hash("\(campaign):\(symbols.users[u])") % 100 < UInt64(pipeline.coupons.holdoutPercent)
        emit(OutputRecord(ts: t, user: u, community: users[Int(u)].community, cause: cause,
                          body: .coupon(campaign: campaign, holdout: holdout), evidence: []))
        return true
    }
}

/// How many users are in each lifecycle state and tier, for summaries.
public struct StateDistribution: Sendable, Codable, Equatable {
    public var users = 0
    public var communities = 0
    public var lifecycle: [String: Int] = [:]
    public var tier: [String: Int] = [:]
}

extension Engine {
    /// The current lifecycle and tier of every user seen.
    public func distribution() -> StateDistribution {
        var d = StateDistribution()
        var communitiesSeen = Set<Int32>()
        for user in users where user.seen {
            d.users += 1
            if user.community >= 0 { communitiesSeen.insert(user.community) }
            if let state = user.lifecycle { d.lifecycle[state.name, default: 0] += 1 }
            d.tier[user.tier >= 0 ? pipeline.tier.levels[Int(user.tier)].name : "none", default: 0] += 1
        }
        d.communities = communitiesSeen.count
        return d
    }
}
