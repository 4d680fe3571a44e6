/// A deterministic, day-by-day simulation of a community group-buy grocery app that yields
/// SPEC §1 input events; the same configuration always yields the same events.
///
/// Each call to ``nextDay()`` simulates one UTC day and returns its events in `ts` order.
/// Memory stays flat: per-user state lives in arrays indexed by user, and only refunds due
/// on later days are carried over.
public struct EventSimulator: Sendable {
    /// The configuration the simulator was built with.
    public let config: SimulationConfig
    /// Totals over the days simulated so far.
    public private(set) var stats = SimulationStats()
    /// Index of the day the next ``nextDay()`` call simulates (0-based).
    public private(set) var nextDayIndex = 0

    private let population: Population
    private let catalogue: Catalogue
    private let queries = SearchQueries()
    private let quotedUsers: QuotedStrings
    private let quotedCommunities: QuotedStrings
    private let quotedSkus: QuotedStrings
    private let quotedCategories: QuotedStrings
    private let quotedQueries: QuotedStrings
    private let quotedCoupons: QuotedStrings
    private let categoryTables: [WeightedTable]
    private var random: RandomSource

    // Per-user state, indexed by user.
    private var status: [UserStatus]
    private var nextOrderDay: [Int32]
    private var orderLimit: [Int32]
    private var ordersPlaced: [Int32]
    private var forcedQuietDay: [Int32]
    private var quietVisitsUntil: [Int32]
    private var returnDay: [Int32]
    /// The day of each user's last paid order (`never`: none yet).
    private var lastOrderDay: [Int32]
    private var joinedUsers = 0

    // Per-community state.
    private var leader: [Int32]
    private var nextDecline = 0
    private var pendingSuccessions: [(day: Int, community: Int)] = []

    // Counters behind the ids.
    private var eventNumber = 0
    private var sessionNumber = 0
    private var orderNumber = 0

    // The day being built, reused from day to day.
    private var records: [EventRecord] = []
    private var orders: [OrderRecord] = []
    private var orderLines: [OrderLine] = []
    private var refunds: [RefundRecord] = []
    private var basket: [OrderLine] = []
    private var pendingRefunds: [Int: [RefundRecord]] = [:]
    private var writer = EventLineWriter()

    private static let never = Int32.max
    private static let day = SimulationConfig.dayMilliseconds
    private static let hour: Int64 = 3_600_000
    private static let shanghaiOffset: Int64 = 8 * hour

    /// Validates `config` and lays out the population and catalogue for the whole run.
    public init(config: SimulationConfig) throws(SimulationError) {
        try config.validate()
        self.config = config
        var catalogueRandom = RandomSource(seed: config.seed, stream: 1)
        var populationRandom = RandomSource(seed: config.seed, stream: 2)
        catalogue = Catalogue(random: &catalogueRandom)
        population = Population(config: config, random: &populationRandom)
        quotedUsers = QuotedStrings(population.userIDs)
        quotedCommunities = QuotedStrings(population.communityIDs)
        quotedSkus = QuotedStrings(catalogue.skuIDs)
        quotedCategories = QuotedStrings(ProductCategory.allCases.map(\.name))
        quotedQueries = QuotedStrings(queries.all)
        quotedCoupons = QuotedStrings(Coupon.all.map(\.id))
        categoryTables = Persona.allCases.map { WeightedTable(weights: $0.profile.categoryWeights) }

        let users = config.users
        status = Array(repeating: .active, count: users)
        orderLimit = population.trialOrders.map { $0 > 0 ? $0 : Int32.max }
        ordersPlaced = Array(repeating: 0, count: users)
        forcedQuietDay = Array(repeating: Self.never, count: users)
        quietVisitsUntil = Array(repeating: 0, count: users)
        returnDay = Array(repeating: Self.never, count: users)
        lastOrderDay = Array(repeating: Self.never, count: users)
        // A quarter of newcomers order on the day they join; the rest settle into their rhythm.
        var behaviour = RandomSource(seed: config.seed, stream: 3)
        var firstOrderDay = [Int32](repeating: 0, count: users)
        for user in 0..<users {
            let gap = Int(population.orderGap[user])
            firstOrderDay[user] = population.joinDay[user] + Int32(behaviour.chance(0.25) ? 0 : behaviour.int(in: 1...gap))
        }
        nextOrderDay = firstOrderDay
        random = behaviour
        leader = population.founders
        stats.communities = config.communities
    }

    /// Epoch milliseconds of the UTC midnight that starts the next day to simulate.
    public var nextDayStart: Int64 {
        config.start + Int64(nextDayIndex) * Self.day
    }

    /// Whether every day of the run has been simulated.
    public var isFinished: Bool {
        nextDayIndex >= config.days
    }

    /// Simulates the next day and returns its events in `ts` order, or `nil` after the last day.
    public mutating func nextDay() -> [SimulatedEvent]? {
        guard !isFinished else { return nil }
        let day = nextDayIndex
        simulate(day: day)
        let events = serializeDay()
        nextDayIndex += 1
        stats.days = nextDayIndex
        return events
    }

    // MARK: - One day

    private mutating func simulate(day: Int) {
        records.removeAll(keepingCapacity: true)
        orders.removeAll(keepingCapacity: true)
        orderLines.removeAll(keepingCapacity: true)
        refunds.removeAll(keepingCapacity: true)

        while joinedUsers < config.users, population.joinDay[joinedUsers] <= day {
            joinedUsers += 1
        }
        stats.usersJoined = joinedUsers
        updateCommunities(day: day)

        for user in 0..<joinedUsers where status[user] != .gone {
            simulate(user: user, day: day)
        }

        if let due = pendingRefunds.removeValue(forKey: day) {
            for refund in due {
                records.append(EventRecord(ts: refund.ts, sequence: Int32(records.count), kind: .orderRefunded,
                                           user: refund.user, session: -1, item: Int32(refunds.count)))
                refunds.append(refund)
            }
        }
        records.sort { ($0.ts, $0.sequence) < ($1.ts, $1.sequence) }
    }

    /// Leaders quit declining communities (most members then drift away) and successors take over.
    private mutating func updateCommunities(day: Int) {
        let declines = population.declines
        while nextDecline < declines.count, declines[nextDecline].day <= day {
            let decline = declines[nextDecline]
            nextDecline += 1
            let c = decline.community
            let former = Int(leader[c])
            if former >= 0 { status[former] = .gone }
            leader[c] = -1
            for member in population.members[c] {
                let user = Int(member)
                guard population.joinDay[user] <= day else { break }
                if user != former, status[user] == .active, random.chance(0.8) {
                    forcedQuietDay[user] = min(forcedQuietDay[user], Int32(day + random.int(in: 0...21)))
                }
            }
            pendingSuccessions.append((decline.successorDay, c))
        }
        var index = 0
        while index < pendingSuccessions.count {
            let succession = pendingSuccessions[index]
            guard succession.day <= day else {
                index += 1
                continue
            }
            pendingSuccessions.remove(at: index)
            let joined = population.members[succession.community].prefix { population.joinDay[Int($0)] <= day }
            let candidates = joined.filter { status[Int($0)] != .gone }
            if !candidates.isEmpty {
                leader[succession.community] = candidates[candidates.startIndex + random.below(candidates.count)]
            }
        }
    }

    private mutating func simulate(user: Int, day: Int) {
        let profile = population.persona[user].profile
        let today = Int32(day)
        let isJoinDay = population.joinDay[user] == today

        if status[user] == .quiet {
            if today >= returnDay[user] {
                comeBack(user: user, day: day)
            } else if today < quietVisitsUntil[user] {
                if random.chance(0.12) { quietSession(user: user, day: day) }
                return
            } else {
                if returnDay[user] == Self.never { status[user] = .gone }
                return
            }
        }

        if !isJoinDay, today >= forcedQuietDay[user] || random.chance(1 / profile.meanActiveDays) {
            goQuiet(user: user, day: day, comebackChance: profile.comebackChance)
            return
        }
        if profile.buys, today >= nextOrderDay[user], ordersPlaced[user] < orderLimit[user] {
            shoppingSession(user: user, day: day)
        } else if isJoinDay || random.chance(population.visitChance[user]) {
            browseSession(user: user, day: day)
        }
    }

    private mutating func goQuiet(user: Int, day: Int, comebackChance: Double) {
        status[user] = .quiet
        forcedQuietDay[user] = Self.never
        // For a month or two they still open the app now and then without buying.
        quietVisitsUntil[user] = Int32(day + random.int(in: 30...60))
        returnDay[user] = random.chance(comebackChance) ? Int32(day + random.int(in: 60...200)) : Self.never
        // The wake-up coupon the pipeline sends once they sleep brings some of them back.
        if lastOrderDay[user] != Self.never, case let sleeping = lastOrderDay[user] + CouponResponse.sleepingAfterDays, sleeping > day,
           !CouponResponse.isHeldOut("wake_up", user: population.userIDs[user]), random.chance(CouponResponse.wakeUpChance) {
            returnDay[user] = min(returnDay[user], sleeping + Int32(random.int(in: 0...4)))
        }
    }

    private mutating func comeBack(user: Int, day: Int) {
        status[user] = .active
        returnDay[user] = Self.never
        nextOrderDay[user] = Int32(day + random.int(in: 0...2))
        if population.persona[user] == .trial {
            orderLimit[user] = ordersPlaced[user] + Int32(random.int(in: 1...3))
        }
    }

    // MARK: - Sessions

    private mutating func shoppingSession(user: Int, day: Int) {
        let profile = population.persona[user].profile
        var session = startSession(user: user, day: day)
        emit(.appOpen, &session, user: user)
        searches(&session, user: user)

        basket.removeAll(keepingCapacity: true)
        var wanted = random.int(in: profile.basketSize)
        var babyItems = 0
        if population.hasKids[user], random.chance(0.6) {
            babyItems = random.int(in: 1...2)
            wanted += babyItems
        }
        var attempts = 0
        while basket.count < wanted, attempts < wanted * 3 {
            attempts += 1
            let sku = basket.count < babyItems
                ? catalogue.sku(in: .baby, premium: random.chance(profile.premiumChance), random: &random)
                : pickSku(user: user, profile: profile)
            if basket.contains(where: { $0.sku == sku }) { continue }
            if random.chance(0.3) {
                emit(.view, &session, user: user, item: pickSku(user: user, profile: profile))
            }
            emit(.view, &session, user: user, item: sku)
            if random.chance(0.45) { emit(.click, &session, user: user, item: sku) }
            emit(.addToCart, &session, user: user, item: sku)
            basket.append(OrderLine(sku: Int32(sku), quantity: Int32(quantity())))
        }
        if basket.count >= 2, random.chance(0.1) {
            let removed = basket.remove(at: random.below(basket.count))
            emit(.removeFromCart, &session, user: user, item: Int(removed.sku))
        }
        if random.chance(0.05) {
            emit(.share, &session, user: user, item: Int(basket[random.below(basket.count)].sku))
        }
        if random.chance(0.08) {
            // Abandoned cart: they come back for it in a day or two.
            nextOrderDay[user] = Int32(day + random.int(in: 1...2))
            return
        }

        let subtotal = basket.reduce(0) { $0 + Int($1.quantity) * catalogue.skuPriceCents[Int($1.sku)] }
        let firstOrder = ordersPlaced[user] == 0
        var coupon: Int8 = OrderRecord.noCoupon
        var discount = 0
        if random.chance(profile.couponChance), let best = Coupon.best(forSubtotal: subtotal, firstOrder: firstOrder) {
            coupon = Int8(best)
            discount = Coupon.all[best].offCents
            let claimsNow = population.persona[user] == .couponHunter || random.chance(0.5)
            if claimsNow { emit(.couponClaim, &session, user: user, item: best) }
        } else {
            if subtotal >= 3_000, random.chance(0.08) { discount = random.int(in: 1...3) * 100 }  // platform promotion
            if random.chance(0.3) { coupon = OrderRecord.nullCoupon }
        }

        orderNumber += 1
        let order = OrderRecord(
            number: orderNumber, firstLine: Int32(orderLines.count), lineCount: Int32(basket.count),
            discountCents: discount, amountCents: subtotal - discount, coupon: coupon
        )
        orderLines.append(contentsOf: basket)
        orders.append(order)
        emit(.orderPaid, &session, user: user, item: orders.count - 1)

        if firstOrder { stats.buyers += 1 }
        ordersPlaced[user] += 1
        var gap = Int((Double(population.orderGap[user]) * random.double(in: 0.6...1.4)).rounded())
        if random.chance(0.04) { gap += random.int(in: 10...30) }  // a holiday away
        nextOrderDay[user] = Int32(day + max(1, gap))
        lastOrderDay[user] = Int32(day)
        if firstOrder, !CouponResponse.isHeldOut("second_order", user: population.userIDs[user]),
           random.chance(CouponResponse.secondOrderChance) {
            nextOrderDay[user] = min(nextOrderDay[user], Int32(day + random.int(in: 2...6)))
        }
        if ordersPlaced[user] >= orderLimit[user] {
            forcedQuietDay[user] = Int32(day + random.int(in: 3...20))  // the trial is over
        }

        if random.chance(0.03) {
            let refundTs = session.ts + Int64(random.int(in: 1...5)) * Self.day + Int64(random.below(Int(6 * Self.hour)))
            let refundDay = Int((refundTs - config.start) / Self.day)
            if refundDay < config.days {
                let refundCents: Int
                if random.chance(0.5) {
                    refundCents = order.amountCents
                } else {
                    let line = basket[random.below(basket.count)]
                    refundCents = min(order.amountCents, Int(line.quantity) * catalogue.skuPriceCents[Int(line.sku)])
                }
                pendingRefunds[refundDay, default: []].append(
                    RefundRecord(ts: refundTs, user: Int32(user), orderNumber: order.number, amountCents: refundCents)
                )
            }
        }
    }

    private mutating func browseSession(user: Int, day: Int) {
        let persona = population.persona[user]
        let profile = persona.profile
        var session = startSession(user: user, day: day)
        emit(.appOpen, &session, user: user)
        searches(&session, user: user)
        basket.removeAll(keepingCapacity: true)
        for _ in 0..<random.int(in: 1...4) {
            let sku = random.chance(0.01) || (population.hasKids[user] && random.chance(0.1))
                ? catalogue.sku(in: .baby, premium: false, random: &random)
                : pickSku(user: user, profile: profile)
            emit(.view, &session, user: user, item: sku)
            if random.chance(0.35) { emit(.click, &session, user: user, item: sku) }
            basket.append(OrderLine(sku: Int32(sku), quantity: 1))
        }
        if random.chance(0.22) {
            // Filled a cart and walked away from it.
            let added = random.int(in: 1...basket.count)
            for line in basket.prefix(added) { emit(.addToCart, &session, user: user, item: Int(line.sku)) }
            if added >= 2, random.chance(0.15) { emit(.removeFromCart, &session, user: user, item: Int(basket[0].sku)) }
        }
        if random.chance(0.03) { emit(.share, &session, user: user, item: Int(basket[0].sku)) }
        if random.chance(persona == .couponHunter ? 0.2 : 0.03) {
            emit(.couponClaim, &session, user: user, item: random.below(Coupon.all.count - 1) + 1)
        }
    }

    private mutating func quietSession(user: Int, day: Int) {
        let profile = population.persona[user].profile
        var session = startSession(user: user, day: day)
        emit(.appOpen, &session, user: user)
        for _ in 0..<random.int(in: 0...2) {
            emit(.view, &session, user: user, item: pickSku(user: user, profile: profile))
        }
    }

    private mutating func searches(_ session: inout Session, user: Int) {
        let seeker = population.seeksQuality[user]
        guard random.chance(seeker ? 0.7 : 0.3) else { return }
        for _ in 0..<(random.chance(0.3) ? 2 : 1) {
            let range = random.chance(seeker ? 0.6 : 0.03) ? queries.quality : queries.everyday
            emit(.search, &session, user: user, item: range.lowerBound + random.below(range.count))
        }
    }

    private mutating func pickSku(user: Int, profile: Persona.Profile) -> Int {
        let category = ProductCategory(rawValue: categoryTables[population.persona[user].rawValue].sample(&random))!
        let premium = random.chance(profile.premiumChance + (population.seeksQuality[user] ? 0.25 : 0))
        return catalogue.sku(in: category, premium: premium, random: &random)
    }

    private mutating func quantity() -> Int {
        let u = random.below(100)
        return u < 70 ? 1 : u < 92 ? 2 : 3
    }

    /// A session starts at one of the Asia/Shanghai peaks (morning, lunch, evening) or any
    /// time, and stays inside the UTC day so a day's events are a closed batch.
    private mutating func startSession(user: Int, day: Int) -> Session {
        let peak = random.chance(0.7) ? Int(population.preferredPeak[user]) : random.below(4)
        let localHours: Double
        switch peak {
        case 0: localHours = random.triangular(center: 7.75, halfWidth: 1.5)
        case 1: localHours = random.triangular(center: 12.25, halfWidth: 1.0)
        case 2: localHours = random.triangular(center: 20.0, halfWidth: 2.0)
        default: localHours = random.double(in: 9.0...23.0)
        }
        var offset = Int64(localHours * Double(Self.hour)) - Self.shanghaiOffset
        offset = ((offset % Self.day) + Self.day) % Self.day
        offset = min(offset, Self.day - 45 * 60_000)
        let dayStart = config.start + Int64(day) * Self.day
        sessionNumber += 1
        return Session(number: sessionNumber, ts: dayStart + offset, lastTs: dayStart + Self.day - 1)
    }

    private mutating func emit(_ kind: EventKind, _ session: inout Session, user: Int, item: Int = -1) {
        if session.started {
            session.ts = min(session.ts + Int64(random.int(in: 2_000...60_000)), session.lastTs)
        }
        session.started = true
        records.append(EventRecord(ts: session.ts, sequence: Int32(records.count), kind: kind,
                                   user: Int32(user), session: session.number, item: Int32(item)))
    }

    // MARK: - JSON

    private mutating func serializeDay() -> [SimulatedEvent] {
        var counts = [Int](repeating: 0, count: EventKind.allCases.count)
        var events: [SimulatedEvent] = []
        events.reserveCapacity(records.count)
        for record in records {
            counts[record.kind.rawValue] += 1
            events.append(SimulatedEvent(
                ts: record.ts,
                userID: population.userIDs[Int(record.user)],
                stream: record.kind.stream,
                json: line(for: record)
            ))
        }
        stats.add(dayCounts: counts)
        return events
    }

    private mutating func line(for record: EventRecord) -> String {
        let user = Int(record.user)
        let community = Int(population.community[user])
        eventNumber += 1
        writer.reset()
        writer.raw("{\"event_id\":")
        writer.numberedID("e", eventNumber)
        writer.raw(record.kind.typeField)
        writer.raw(",\"user_id\":")
        writer.quoted(quotedUsers, user)
        writer.raw(",\"ts\":")
        writer.integer(record.ts)
        if record.session >= 0 {
            writer.raw(",\"session_id\":")
            writer.numberedID("s", record.session)
        }
        writer.raw(",\"community_id\":")
        writer.quoted(quotedCommunities, community)
        let communityLeader = Int(leader[community])
        if communityLeader >= 0 {
            writer.raw(",\"leader_id\":")
            writer.quoted(quotedUsers, communityLeader)
        }
        let item = Int(record.item)
        switch record.kind {
        case .appOpen:
            let referrer = Int(population.referrer[user])
            if referrer >= 0 {
                writer.raw(",\"referrer_id\":")
                writer.quoted(quotedUsers, referrer)
            }
        case .search:
            writer.raw(",\"query\":")
            writer.quoted(quotedQueries, item)
        case .view, .click, .addToCart, .removeFromCart:
            writeSku(item)
            writer.raw(",\"price\":")
            writer.money(cents: catalogue.skuPriceCents[item])
        case .share:
            writeSku(item)
        case .couponClaim:
            writer.raw(",\"coupon_id\":")
            writer.quoted(quotedCoupons, item)
        case .orderPaid:
            writeOrder(orders[item])
        case .orderRefunded:
            let refund = refunds[item]
            writer.raw(",\"order_id\":")
            writer.numberedID("o", refund.orderNumber)
            writer.raw(",\"amount\":")
            writer.money(cents: refund.amountCents)
        }
        writer.raw("}")
        return writer.makeString()
    }

    private mutating func writeSku(_ sku: Int) {
        writer.raw(",\"sku\":")
        writer.quoted(quotedSkus, sku)
        writer.raw(",\"category\":")
        writer.quoted(quotedCategories, catalogue.skuCategory[sku].rawValue)
    }

    private mutating func writeOrder(_ order: OrderRecord) {
        writer.raw(",\"order_id\":")
        writer.numberedID("o", order.number)
        writer.raw(",\"amount\":")
        writer.money(cents: order.amountCents)
        writer.raw(",\"discount\":")
        writer.money(cents: order.discountCents)
        if order.coupon >= 0 {
            writer.raw(",\"coupon_id\":")
            writer.quoted(quotedCoupons, Int(order.coupon))
        } else if order.coupon == OrderRecord.nullCoupon {
            writer.raw(",\"coupon_id\":null")
        }
        writer.raw(",\"items\":[")
        let first = Int(order.firstLine)
        for index in first..<(first + Int(order.lineCount)) {
            let line = orderLines[index]
            let sku = Int(line.sku)
            writer.raw(index == first ? "{" : ",{")
            writer.raw("\"sku\":")
            writer.quoted(quotedSkus, sku)
            writer.raw(",\"category\":")
            writer.quoted(quotedCategories, catalogue.skuCategory[sku].rawValue)
            writer.raw(",\"qty\":")
            writer.integer(Int64(line.quantity))
            writer.raw(",\"price\":")
            writer.money(cents: catalogue.skuPriceCents[sku])
            writer.raw("}")
        }
        writer.raw("]")
    }
}

// MARK: - Internal records

private enum UserStatus: UInt8, Sendable {
    /// Shopping and browsing at their own rhythm.
    case active
    /// Stopped ordering; may still open the app, may come back.
    case quiet
    /// Churned for good.
    case gone
}

private struct Session {
    var number: Int
    var ts: Int64
    var lastTs: Int64
    var started = false
}

/// One event of the day being built, before it is turned into JSON in `ts` order.
private struct EventRecord {
    var ts: Int64
    /// Creation order, to break `ts` ties deterministically.
    var sequence: Int32
    var kind: EventKind
    var user: Int32
    var session: Int
    /// A sku, query, coupon, day-order or day-refund index, depending on `kind`.
    var item: Int32
}

private struct OrderLine {
    var sku: Int32
    var quantity: Int32
}

private struct OrderRecord {
    static let noCoupon: Int8 = -1
    static let nullCoupon: Int8 = -2

    var number: Int
    var firstLine: Int32
    var lineCount: Int32
    var discountCents: Int
    var amountCents: Int
    /// An index into `Coupon.all`, `noCoupon` (field absent) or `nullCoupon` (`"coupon_id":null`).
    var coupon: Int8
}

private struct RefundRecord {
    var ts: Int64
    var user: Int32
    var orderNumber: Int
    var amountCents: Int
}
