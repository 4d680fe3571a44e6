/// How a kind of user shops: whether and how often they order, how often they just look,
/// how big their baskets are, how much they like coupons and how long they stay.
enum Persona: Int, CaseIterable, Sendable {
    case browser, weeklyFamily, occasional, bigSpender, couponHunter, trial

    struct Profile: Sendable {
        /// Share of users with this persona.
        var share: Double
        var buys: Bool
        /// The user's usual days between orders is drawn from this range once.
        var orderGapDays: ClosedRange<Int>
        /// Chance of a look-around session on a day without an order, drawn once per user.
        var visitChance: ClosedRange<Double>
        var basketSize: ClosedRange<Int>
        /// Chance that an order uses a coupon (when one applies to the basket).
        var couponChance: Double
        /// Chance that a basket item comes from the pricier half of its category.
        var premiumChance: Double
        /// Mean days of activity before going quiet (a constant daily hazard).
        var meanActiveDays: Double
        /// Chance of coming back 60–200 days after going quiet.
        var comebackChance: Double
        /// Category mix of baskets and views (baby items come from the family trait instead).
        var categoryWeights: [Double]
    }

    //                                       fruit veg meat sea dairy baby snack drink grain house frozen bakery
    private static let everydayMix: [Double] = [18, 18, 12, 6, 10, 0, 9, 8, 5, 6, 4, 4]
    private static let premiumMix: [Double] = [20, 10, 18, 16, 10, 0, 6, 6, 4, 3, 4, 3]
    private static let snackerMix: [Double] = [14, 12, 8, 4, 10, 0, 18, 14, 4, 6, 6, 4]

    var profile: Profile {
        switch self {
        case .browser:
            Profile(share: 0.12, buys: false, orderGapDays: 1...1, visitChance: 0.10...0.30,
                    basketSize: 1...3, couponChance: 0, premiumChance: 0.2,
                    meanActiveDays: 120, comebackChance: 0.3, categoryWeights: Self.everydayMix)
        case .weeklyFamily:
            Profile(share: 0.22, buys: true, orderGapDays: 5...9, visitChance: 0.10...0.30,
                    basketSize: 4...9, couponChance: 0.12, premiumChance: 0.15,
                    meanActiveDays: 420, comebackChance: 0.35, categoryWeights: Self.everydayMix)
        case .occasional:
            Profile(share: 0.28, buys: true, orderGapDays: 14...42, visitChance: 0.04...0.14,
                    basketSize: 2...5, couponChance: 0.15, premiumChance: 0.15,
                    meanActiveDays: 260, comebackChance: 0.3, categoryWeights: Self.snackerMix)
        case .bigSpender:
            Profile(share: 0.06, buys: true, orderGapDays: 4...10, visitChance: 0.20...0.40,
                    basketSize: 6...14, couponChance: 0.05, premiumChance: 0.6,
                    meanActiveDays: 360, comebackChance: 0.35, categoryWeights: Self.premiumMix)
        case .couponHunter:
            Profile(share: 0.14, buys: true, orderGapDays: 7...16, visitChance: 0.15...0.35,
                    basketSize: 2...6, couponChance: 0.85, premiumChance: 0.05,
                    meanActiveDays: 200, comebackChance: 0.3, categoryWeights: Self.snackerMix)
        case .trial:
            Profile(share: 0.18, buys: true, orderGapDays: 5...14, visitChance: 0.08...0.20,
                    basketSize: 1...4, couponChance: 0.3, premiumChance: 0.1,
                    meanActiveDays: 1000, comebackChance: 0.12, categoryWeights: Self.everydayMix)
        }
    }
}

/// When the people of a community drift away: the leader quits, the community has no leader
/// for a few weeks, and most members go quiet.
struct CommunityDecline: Sendable {
    var community: Int
    var day: Int
    var successorDay: Int
}

/// Who the users are, fixed before the first day: join day, community, persona, traits and
/// habits. Users are numbered in join order, so `u00001` is among the first.
struct Population: Sendable {
    let userIDs: [String]
    let joinDay: [Int32]
    let community: [Int32]
    /// The user who invited this one, or -1.
    let referrer: [Int32]
    let persona: [Persona]
    let hasKids: [Bool]
    let seeksQuality: [Bool]
    /// Usual days between orders.
    let orderGap: [Int32]
    let visitChance: [Double]
    /// 0 morning, 1 lunch, 2 evening, 3 any time (Asia/Shanghai).
    let preferredPeak: [UInt8]
    /// Orders a trial user places before dropping off.
    let trialOrders: [Int32]
    let communityIDs: [String]
    /// The first leader of each community: a member who joined on day 0.
    let founders: [Int32]
    /// Members of each community in join order.
    let members: [[Int32]]
    let declines: [CommunityDecline]

    static let personaTable = WeightedTable(weights: Persona.allCases.map { $0.profile.share })

    init(config: SimulationConfig, random: inout RandomSource) {
        let userCount = config.users
        let communityCount = config.communities
        let days = config.days

        // 35 % are there on the first day, the rest join evenly; founders (one per community)
        // are the first users and are there from day 0.
        var joins = (0..<userCount).map { index -> Int32 in
            if index < communityCount || days == 1 || random.chance(0.35) { return 0 }
            return Int32(random.int(in: 1...(days - 1)))
        }
        joins[communityCount...].sort()  // the first `communityCount` are already 0
        joinDay = joins

        let userWidth = max(5, String(userCount).count)
        userIDs = (0..<userCount).map { "u" + zeroPadded($0 + 1, width: userWidth) }
        let communityWidth = max(3, String(communityCount).count)
        communityIDs = (0..<communityCount).map { "c" + zeroPadded($0 + 1, width: communityWidth) }

        // Zipf-like community sizes, with the big ones scattered over the ids.
        var sizeRank = Array(0..<communityCount)
        random.shuffle(&sizeRank)
        let sizeTable = WeightedTable.zipf(count: communityCount, offset: 2)
        var founderOrder = Array(0..<communityCount)
        random.shuffle(&founderOrder)
        var founders = [Int32](repeating: 0, count: communityCount)
        var communityOf = [Int32](repeating: 0, count: userCount)
        var members = [[Int32]](repeating: [], count: communityCount)
        var referrer = [Int32](repeating: -1, count: userCount)
        // Members who joined before the current user's day, per community: only they can invite.
        var earlierDay = [Int32](repeating: -1, count: communityCount)
        var earlierCount = [Int](repeating: 0, count: communityCount)
        for user in 0..<userCount {
            let c: Int
            if user < communityCount {
                c = founderOrder[user]
                founders[c] = Int32(user)
            } else {
                c = sizeRank[sizeTable.sample(&random)]
            }
            communityOf[user] = Int32(c)
            let day = joins[user]
            if day > earlierDay[c] {
                earlierDay[c] = day
                earlierCount[c] = members[c].count
            }
            if day > 0, earlierCount[c] > 0, random.chance(0.3) {
                referrer[user] = members[c][random.below(earlierCount[c])]
            }
            members[c].append(Int32(user))
        }
        community = communityOf
        self.founders = founders
        self.members = members
        self.referrer = referrer

        var persona: [Persona] = []
        var hasKids: [Bool] = []
        var seeksQuality: [Bool] = []
        var orderGap: [Int32] = []
        var visitChance: [Double] = []
        var preferredPeak: [UInt8] = []
        var trialOrders: [Int32] = []
        persona.reserveCapacity(userCount)
        for user in 0..<userCount {
            // Leaders run the group and shop every week themselves.
            let p = user < communityCount ? Persona.weeklyFamily : Persona(rawValue: Self.personaTable.sample(&random))!
            let profile = p.profile
            persona.append(p)
            hasKids.append(profile.buys && random.chance(0.18))
            seeksQuality.append(random.chance(0.15))
            orderGap.append(Int32(random.int(in: profile.orderGapDays)))
            visitChance.append(random.double(in: profile.visitChance))
            preferredPeak.append(UInt8(random.below(4)))
            trialOrders.append(p == .trial ? Int32(random.int(in: 1...3)) : 0)
        }
        self.persona = persona
        self.hasKids = hasKids
        self.seeksQuality = seeksQuality
        self.orderGap = orderGap
        self.visitChance = visitChance
        self.preferredPeak = preferredPeak
        self.trialOrders = trialOrders

        // About one community in seven declines somewhere in the middle of a long enough run.
        var declines: [CommunityDecline] = []
        if days >= 90 {
            var candidates = Array(0..<communityCount)
            random.shuffle(&candidates)
            for c in candidates.prefix(communityCount * 15 / 100) {
                let day = random.int(in: (days / 4)...(days * 3 / 4))
                declines.append(CommunityDecline(community: c, day: day, successorDay: day + random.int(in: 7...42)))
            }
            declines.sort { ($0.day, $0.community) < ($1.day, $1.community) }
        }
        self.declines = declines
    }
}
