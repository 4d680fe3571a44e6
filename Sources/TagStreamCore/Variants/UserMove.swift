import DequeModule
import HeapModule

/// A user on the way from one engine to another, when a canary's share of users changes on a
/// restart. Aggregates belong to the user and move whole; the tags, alert states, cooldowns and
/// open coupons move to whatever of the same name the other pipeline has. Everything is spelled by
/// name, since each engine interns its own.
struct MovedUser: Sendable {
    var name: String
    var community: String?
    /// One per user aggregate, in the pipelines' shared order.
    var aggregates: [MovedAggregate]
    /// Group → tag.
    var tags: [String: String]
    /// The user alerts fired and not yet re-armed.
    var disarmedAlerts: [String]
    /// Campaign → the user's last coupon of it.
    var lastTriggers: [String: Int64]
    /// Campaign → the coupons whose outcome window is open, and the window's goal.
    var openOutcomes: [String: (goal: CampaignGoal, outcomes: [MovedOutcome])]
    /// Campaign → the delayed triggers waiting, and the delay.
    var delayedTriggers: [String: (delay: Int64, instants: [(fire: Int64, started: Int64)])]
}

/// A campaign's outcome goal, which must be the same on both sides for an open coupon to move.
struct CampaignGoal: Sendable, Equatable {
    var event: EventType
    var within: Int64
}

struct MovedOutcome: Sendable {
    var outcome: PendingOutcome
    var community: String?
}

/// One user's slot of an aggregate, with the subjects of `distinct` and `top` spelled by name.
struct MovedAggregate: Sendable {
    var scalar: Int64
    var time: Int64
    var entries: [WindowEntry]
    var tallies: [Int64: Tally]
    var subjectNames: [Int64: String]
}

/// How many open coupons and delayed triggers a move could not carry over, since the other
/// pipeline has no campaign of that name with the same goal or delay.
public struct MoveReport: Sendable, Equatable {
    public var users = 0
    public var droppedOutcomes = 0
    public var droppedTriggers = 0
}

extension AggregateColumn {
    /// Which names the subjects of this aggregate are (`distinct` and `top` of an item's sku or category).
    private var subjectTable: WritableKeyPath<SymbolTable, Interner>? {
        guard usesTallies else { return nil }
        switch field {
        case .itemSku: return \.skus
        case .itemCategory: return \.categories
        default: return nil
        }
    }

    /// Key `k`'s slot, which is left empty.
    mutating func take(_ k: Int, symbols: SymbolTable) -> MovedAggregate {
        var moved = MovedAggregate(scalar: scalar[k], time: usesTime ? time[k] : .min, entries: [],
                                   tallies: usesTallies ? tallies[k] : [:], subjectNames: [:])
        if usesEntries {
            while entries.count(k) > 0 { moved.entries.append(entries.removeFirst(k)) }
        }
        if let table = subjectTable {
            for subject in moved.tallies.keys { moved.subjectNames[subject] = symbols[keyPath: table][Int32(subject)] }
        }
        scalar[k] = 0
        if usesTime { time[k] = .min }
        if usesTallies { tallies[k] = [:] }
        return moved
    }

    /// Fills key `k`'s slot (an empty one) with a moved slot, its subjects interned in `symbols`.
    mutating func put(_ moved: MovedAggregate, _ k: Int, symbols: inout SymbolTable) {
        var subjects: [Int64: Int64] = [:]
        if let table = subjectTable {
            for (old, name) in moved.subjectNames { subjects[old] = Int64(symbols[keyPath: table].intern(name)) }
        }
        scalar[k] = moved.scalar
        if usesTime { time[k] = moved.time }
        for var entry in moved.entries {
            entry.subject = subjects[entry.subject] ?? entry.subject
            entries.append(k, entry)
        }
        if usesTallies {
            tallies[k] = Dictionary(uniqueKeysWithValues: moved.tallies.map { (subjects[$0.key] ?? $0.key, $0.value) })
        }
    }
}

extension Engine {
    /// Takes out every user `isMoving` names, with what belongs to them, and forgets them here.
    /// Community aggregates and figures stay: what a community's users did belongs to it.
    mutating func takeUsers(where isMoving: (String) -> Bool) -> [MovedUser] {
        var moved: [MovedUser] = []
        /// Each moved user's place in `moved`, by id here.
        var position: [Int32: Int] = [:]
        for u in userSeen.indices where userSeen[u] && isMoving(symbols.users[Int32(u)]) {
            position[Int32(u)] = moved.count
            moved.append(take(user: u))
        }
        guard !moved.isEmpty else { return [] }
        let movedIDs = Set(position.keys)
        sortedUsers.removeAll { movedIDs.contains($0) }
        usersSinceRefresh.removeAll { movedIDs.contains($0) }
        timers = Heap(timers.unordered.filter { !movedIDs.contains($0.user) })
        for c in program.campaigns.indices {
            let campaign = program.campaigns[c]
            if let delay = campaign.delay {
                for entry in delayedTriggers[c] where movedIDs.contains(entry.user) {
                    moved[position[entry.user]!].delayedTriggers[campaign.name, default: (delay, [])].instants.append((entry.instant, entry.payload))
                }
                delayedTriggers[c].removeAll { movedIDs.contains($0.user) }
            }
            if let outcome = campaign.outcome {
                for pending in pendingOutcomes[c] where movedIDs.contains(pending.user) {
                    let community = pending.community >= 0 ? symbols.communities[pending.community] : nil
                    moved[position[pending.user]!].openOutcomes[campaign.name, default: (CampaignGoal(event: outcome.event, within: outcome.within), [])]
                        .outcomes.append(MovedOutcome(outcome: pending, community: community))
                }
                pendingOutcomes[c].removeAll { movedIDs.contains($0.user) }
            }
        }
        findNextOutcomeClose()
        return moved
    }

    private mutating func take(user u: Int) -> MovedUser {
        let community = userCommunity[u]
        var moved = MovedUser(
            name: symbols.users[Int32(u)], community: community >= 0 ? symbols.communities[community] : nil,
            aggregates: [], tags: [:], disarmedAlerts: [], lastTriggers: [:], openOutcomes: [:], delayedTriggers: [:])
        for i in userAggregates.indices { moved.aggregates.append(userAggregates[i].take(u, symbols: symbols)) }
        for (g, group) in program.groups.enumerated() where tags[u * layout.groups + g] >= 0 {
            moved.tags[group.name] = group.tags[Int(tags[u * layout.groups + g])]
        }
        for (a, alert) in program.alerts.enumerated() where alert.key == .user && !armed[u * layout.alerts + a] {
            moved.disarmedAlerts.append(alert.name)
        }
        for (c, campaign) in program.campaigns.enumerated() where lastTrigger[u * layout.campaigns + c] != .min {
            moved.lastTriggers[campaign.name] = lastTrigger[u * layout.campaigns + c]
        }
        userSeen[u] = false
        userCommunity[u] = -1
        tags.replaceSubrange(u * layout.groups..<(u + 1) * layout.groups, with: repeatElement(-1, count: layout.groups))
        let boundaries = layout.boundaryRules.count
        due.replaceSubrange(u * boundaries..<(u + 1) * boundaries, with: repeatElement(.max, count: boundaries))
        armed.replaceSubrange(u * layout.alerts..<(u + 1) * layout.alerts, with: repeatElement(true, count: layout.alerts))
        lastTrigger.replaceSubrange(u * layout.campaigns..<(u + 1) * layout.campaigns, with: repeatElement(.min, count: layout.campaigns))
        forgetCaches(of: u)
        return moved
    }

    /// Drops what was worked out from the user's aggregates before they changed.
    private mutating func forgetCaches(of u: Int) {
        validUntil.replaceSubrange(u * layout.groups..<(u + 1) * layout.groups, with: repeatElement(.min, count: layout.groups))
        let n = layout.sampledStatistics.count
        sampleValidUntil.replaceSubrange(u * n..<(u + 1) * n, with: repeatElement(.min, count: n))
        countsValidUntil[u] = .min
    }

    /// Takes in users moved from the other pipeline's engine, then evaluates each one's tags and
    /// boundary alerts under this pipeline's rules at the engine's clock: records follow where
    /// these rules see the user otherwise, and the timers of time-driven rules are set.
    mutating func put(_ users: [MovedUser]) -> MoveReport {
        guard !users.isEmpty else { return MoveReport() }
        var report = MoveReport(users: users.count)
        var ids: [Int32] = []
        for user in users {
            let u = symbols.users.intern(user.name)
            ids.append(u)
            ensureUser(Int(u))
            if !userSeen[Int(u)] {
                userSeen[Int(u)] = true
                usersSinceRefresh.append(u)
            }
            if let community = user.community {
                let c = symbols.communities.intern(community)
                userCommunity[Int(u)] = c
                see(community: c)
            }
            for i in userAggregates.indices { userAggregates[i].put(user.aggregates[i], Int(u), symbols: &symbols) }
            forgetCaches(of: Int(u))
            for (g, group) in program.groups.enumerated() {
                if let tag = user.tags[group.name], let t = group.tags.firstIndex(of: tag) { tags[Int(u) * layout.groups + g] = Int8(t) }
            }
            for (a, alert) in program.alerts.enumerated() where alert.key == .user && user.disarmedAlerts.contains(alert.name) {
                armed[Int(u) * layout.alerts + a] = false
            }
            for (c, campaign) in program.campaigns.enumerated() {
                if let at = user.lastTriggers[campaign.name] { lastTrigger[Int(u) * layout.campaigns + c] = at }
            }
            report.droppedOutcomes += putOpenOutcomes(user.openOutcomes, user: u)
            report.droppedTriggers += putDelayedTriggers(user.delayedTriggers, user: u)
        }
        for c in pendingOutcomes.indices { pendingOutcomes[c] = Deque(pendingOutcomes[c].sorted { $0.couponAt < $1.couponAt }) }
        for c in delayedTriggers.indices { delayedTriggers[c] = Deque(delayedTriggers[c].sorted()) }
        findNextOutcomeClose()
        for u in ids {
            enter(u, at: clock)
            for g in 0..<layout.groups { evaluateGroup(g, cause: .timer) }
            for a in SetBits(layout.boundaryAlerts) where program.alerts[a].key == .user { scheduleBoundary(layout.groups + a) }
        }
        return report
    }

    /// Appends a moved user's open coupons to the queues of the campaigns of the same name and
    /// goal; returns how many found none.
    private mutating func putOpenOutcomes(_ open: [String: (goal: CampaignGoal, outcomes: [MovedOutcome])], user u: Int32) -> Int {
        var dropped = 0
        for (name, (goal, outcomes)) in open {
            guard let c = program.campaigns.firstIndex(where: { $0.name == name }),
                  let outcome = program.campaigns[c].outcome, CampaignGoal(event: outcome.event, within: outcome.within) == goal else {
                dropped += outcomes.count
                continue
            }
            for moved in outcomes {
                var pending = moved.outcome
                pending.user = u
                pending.community = moved.community.map { symbols.communities.intern($0) } ?? -1
                if pending.community >= 0 { ensureCommunity(Int(pending.community)) }
                pendingOutcomes[c].append(pending)
            }
        }
        return dropped
    }

    /// Appends a moved user's delayed triggers to the campaigns of the same name and delay;
    /// returns how many found none.
    private mutating func putDelayedTriggers(_ waiting: [String: (delay: Int64, instants: [(fire: Int64, started: Int64)])], user u: Int32) -> Int {
        var dropped = 0
        for (name, (delay, instants)) in waiting {
            guard let c = program.campaigns.firstIndex(where: { $0.name == name }), program.campaigns[c].delay == delay else {
                dropped += instants.count
                continue
            }
            for (fire, started) in instants {
                delayedTriggers[c].append(TimerEntry(instant: fire, code: UInt16(layout.rules + c), user: u, payload: started))
            }
        }
        return dropped
    }
}
