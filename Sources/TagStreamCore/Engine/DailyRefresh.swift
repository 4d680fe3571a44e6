/// The daily refresh (SPEC §4): population statistics, then every user's refreshed rules, then
/// the community figures and alerts. One engine runs it at once; sharded engines run it in three
/// steps and meet between them, exchanging what crosses shards (see `ShardRole`).
extension Engine {
    /// The refresh of an engine that holds every user.
    mutating func refresh(at m: Int64) {
        statistics = Self.statistics(of: [takeSamples(at: m)], program: program, layout: layout).values
        refreshUsers(at: m)
        recordCommunityDays(at: m)
        guard layout.hasCommunityOutputs else { return }
        countCommunities(at: m)
        emitCommunities(at: m)
    }

    /// Fires every timer and daily refresh due at or before `instant`, as `advance(through:)`
    /// does, and at each refresh meets the other shards through `exchange`.
    public mutating func advance(through instant: Int64, exchange: any RefreshExchange) throws {
        advance(through: instant)
        // Called for every event: the copies below (retains of every array they hold) only at a refresh.
        guard waitingRefresh != nil else { return }
        let (program, layout) = (self.program, self.layout)
        while let m = waitingRefresh {
            statistics = try exchange.settle(takeSamples(at: m), from: shard.index, at: m) {
                Self.statistics(of: $0, program: program, layout: layout)
            }.values
            let contributions = try exchange.share(refreshOwnUsers(at: m), from: shard.index, at: m)
            refreshOwnedCommunities(at: m, contributions)
            advance(through: instant)
        }
    }

    // MARK: Sharded steps

    /// Refreshes this shard's users with the settled statistics; returns what the owners of its
    /// users' communities need.
    private mutating func refreshOwnUsers(at m: Int64) -> CommunityContribution {
        refreshUsers(at: m)
        recordCommunityDays(at: m)
        var contribution = CommunityContribution()
        guard layout.hasCommunityOutputs else { return contribution }
        countCommunities(at: m)
        let names = symbols.communities
        contribution.communities = communitiesSinceRefresh.map { names[$0] }
        for c in 0..<communitySlots {
            let column = communityCounts.map { $0[c] }
            if column.contains(where: { $0 != 0 }) { contribution.counts[names[Int32(c)]] = column }
        }
        contribution.occurrences = outgoingOccurrences
        communitiesSinceRefresh.removeAll()
        outgoingOccurrences.removeAll()
        return contribution
    }

    /// With every shard's contribution, emits the figures and alerts of the communities this shard
    /// owns, and ends the refresh.
    private mutating func refreshOwnedCommunities(at m: Int64, _ contributions: [CommunityContribution]) {
        if layout.hasCommunityOutputs {
            takeOwnedShare(of: contributions)
            emitCommunities(at: m)
        }
        waitingRefresh = nil
        nextRefresh += EventTime.day
        clock = m
    }

    /// Takes the owned communities' share of every contribution: names, occurrences (recorded in
    /// the SPEC's event order, as one engine records them) and counts.
    private mutating func takeOwnedShare(of contributions: [CommunityContribution]) {
        for name in contributions.lazy.flatMap(\.communities) where shard.owns(community: name) {
            let c = symbols.communities.intern(name)
            ensureCommunity(Int(c))
            communitySeen[Int(c)] = true
        }
        // Sorted as positions, not copies: a copy retained each occurrence's strings and items.
        var mine: [(shard: Int, index: Int)] = []
        for (k, contribution) in contributions.enumerated() {
            for (i, occurrence) in contribution.occurrences.enumerated() where shard.owns(community: occurrence.community) {
                mine.append((k, i))
            }
        }
        mine.sort { contributions[$0.shard].occurrences[$0.index].precedes(contributions[$1.shard].occurrences[$1.index]) }
        for (k, i) in mine { recordForCommunity(contributions[k].occurrences[i].event(interningIn: &symbols)) }
        let owned = contributions.map { $0.counts.filter { shard.owns(community: $0.key) } }
        let columns = owned.flatMap { $0.map { (symbols.communities.intern($0.key), $0.value) } }
        ensureCommunity(symbols.communities.count - 1)
        communityCounts = Array(repeating: Array(repeating: 0, count: communitySlots), count: program.communityCounts.count)
        for (c, column) in columns {
            for i in column.indices { communityCounts[i][Int(c)] += column[i] }
        }
    }

    // MARK: Statistics

    /// Evicts the users' windows and takes the samples of the population statistics at `m`.
    private mutating func takeSamples(at m: Int64) -> StatisticSamples {
        // Eviction and sampling do not depend on the order of users: they walk the columns in
        // index order, which the memory system streams, instead of name order.
        for i in SetBits(layout.windowedUserAggregates) {
            for u in userSeen.indices { userAggregates[i].evict(u, at: m) }
        }
        var samples = [[Value]](repeating: [], count: program.statistics.count)
        let sampled = layout.sampledStatistics
        guard !sampled.isEmpty else { return StatisticSamples(values: samples) }
        for i in sampled { samples[i].reserveCapacity(userSeen.count) }
        for u in userSeen.indices where userSeen[u] {
            for (j, i) in sampled.enumerated() {
                let slot = u * sampled.count + j
                if m >= sampleValidUntil[slot] {
                    sampleCache[slot] = sample(i, user: u, at: m)
                    sampleValidUntil[slot] = layout.keepsSamples[j] ? nextBoundary(rule: layout.rules + i) : .min
                }
                if !sampleCache[slot].isNone { samples[i].append(sampleCache[slot]) }
            }
        }
        return StatisticSamples(values: samples)
    }

    /// Nearest-rank percentiles (index ⌈q·n⌉ − 1 of the sorted values) over every shard's samples.
    /// `Value.precedes` is a strict total order, so the shards' order does not matter.
    static func statistics(of shards: [StatisticSamples], program: Program, layout: Layout) -> StatisticValues {
        var values = [Value](repeating: .none, count: program.statistics.count)
        guard !program.statistics.isEmpty else { return StatisticValues(values: values) }
        var samples = shards.count == 1 ? shards[0].values : shards[0].values.indices.map { i in shards.flatMap { $0.values[i] } }
        for (i, statistic) in program.statistics.enumerated() {
            let source = layout.sampleSource[i], n = samples[source].count
            guard n >= statistic.minimumCount, n > 0 else { continue }
            let rank = Int(max(1, statistic.quantile.ceilTimes(Int64(n)))) - 1
            samples[source].select(rank, by: Value.precedes)
            values[i] = samples[source][rank]
        }
        return StatisticValues(values: values)
    }

    /// Statistic `i`'s sample of user `u` at `m`: none outside its population.
    private mutating func sample(_ i: Int, user u: Int, at m: Int64) -> Value {
        frame = Frame(t: m, user: Int32(u), community: userCommunity[u])
        if let population = expressions.statisticPopulations[i], !evaluate(population).isTrue { return .none }
        return evaluate(expressions.statisticValues[i])
    }

    // MARK: Users

    /// Evaluates the refreshed groups and alerts of every user this engine holds.
    private mutating func refreshUsers(at m: Int64) {
        let refreshGroups = program.groups.indices.filter { program.groups[$0].points.refresh }
        let refreshAlerts = program.alerts.indices.filter { program.alerts[$0].key == .user && program.alerts[$0].points.refresh }
        // One user's rules read and change only that user's state, unless a tag they change starts
        // a campaign (whose daily caps count across users): then users go in user_id order.
        // Otherwise they go in index order, which the memory system streams, and their records
        // are put in user_id order afterwards, and the users seen since are not merged into
        // `sortedUsers` until a walk in user_id order needs them.
        if refreshGroups.contains(where: { !layout.campaignsByGroup[$0].isEmpty }) {
            mergeNewUsers()
            for u in sortedUsers { refreshUser(u, at: m, groups: refreshGroups, alerts: refreshAlerts) }
        } else {
            let firstRecord = output.count
            for u in userSeen.indices where userSeen[u] {
                refreshUser(Int32(u), at: m, groups: refreshGroups, alerts: refreshAlerts)
            }
            orderRecordsByUser(from: firstRecord)
        }
    }

    private mutating func refreshUser(_ u: Int32, at m: Int64, groups: [Int], alerts: [Int]) {
        frame = Frame(t: m, user: u, community: userCommunity[Int(u)])
        for g in groups {
            if m < validUntil[Int(u) * layout.groups + g] { continue }
            evaluateGroup(g, cause: .refresh)
        }
        for a in alerts { evaluateAlert(a, key: Int(u), cause: .refresh) }
    }

    /// Sorts the records from `first` on by user_id, each user's in the order they were emitted.
    private mutating func orderRecordsByUser(from first: Int) {
        guard output.count - first > 1 else { return }
        let names = symbols.users
        let records = Array(output[first...])
        let order = records.indices.sorted { a, b in
            records[a].user != records[b].user ? names.precedes(records[a].user, records[b].user) : a < b
        }
        output.replaceSubrange(first..., with: order.map { records[$0] })
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

    // MARK: Communities

    /// How many of this engine's users meet each community count, per community of theirs.
    private mutating func countCommunities(at m: Int64) {
        communityCounts = Array(repeating: Array(repeating: 0, count: communitySlots), count: program.communityCounts.count)
        guard !expressions.communityCountConditions.isEmpty else { return }
        for u in userSeen.indices where userSeen[u] && userCommunity[u] >= 0 {
            if m >= countsValidUntil[u] {
                countsHeld[u] = conditionsHeld(user: u, at: m)
                countsValidUntil[u] = layout.keepsCounts ? nextBoundary(rule: layout.countsRule) : .min
            }
            let c = Int(userCommunity[u])
            for i in SetBits(countsHeld[u]) { communityCounts[i][c] += 1 }
        }
    }

    /// Emits the figures and alerts of every community seen that this engine owns, by community_id.
    private mutating func emitCommunities(at m: Int64) {
        let names = symbols.communities
        let order = (0..<communitySlots)
            .filter { communitySeen[$0] && (!shard.isSharded || shard.owns(community: names[Int32($0)])) }
            .sorted { names.precedes(Int32($0), Int32($1)) }
        let communityAlerts = program.alerts.indices.filter { program.alerts[$0].key == .community }
        for c in order {
            for i in SetBits(layout.windowedCommunityAggregates) { communityAggregates[i].evict(c, at: m) }
            frame = Frame(t: m, user: -1, community: Int32(c))
            if let stats = program.communityStats, expressions.communityStatsCondition.map({ evaluate($0).isTrue }) ?? true {
                let figures = figures(stats, community: c)
                recordFigures(figures, community: c, at: m)
                emit(OutputRecord(ts: m, user: -1, community: Int32(c), cause: .refresh, body: .communityStats(figures), evidence: []))
            }
            for a in communityAlerts { evaluateAlert(a, key: c, cause: .refresh) }
        }
    }

    /// Which community counts' conditions user `u` meets at `m` (bit i: count i).
    private mutating func conditionsHeld(user u: Int, at m: Int64) -> UInt64 {
        frame = Frame(t: m, user: Int32(u), community: userCommunity[u])
        var held: UInt64 = 0
        for (i, condition) in expressions.communityCountConditions.enumerated() where evaluate(condition).isTrue {
            held |= 1 << UInt64(i)
        }
        return held
    }

    private mutating func figures(_ stats: CompiledCommunityStats, community c: Int) -> CommunityFigures {
        CommunityFigures(fields: stats.fields.map { name, node in
            if case .communityAggregate(let i) = node, program.communityAggregates[i].kind == .top {
                let spec = program.communityAggregates[i]
                let interner = spec.field == .itemCategory ? symbols.categories : symbols.skus
                let top = communityAggregates[i].ranking(c, at: frame.t, count: spec.count) { interner.precedes(Int32($0), Int32($1)) }
                let scale = spec.rankedBy == .itemQuantity || spec.rankedBy == .amount ? Money.scale : 1
                return (name, .ranking(
                    subjectKey: spec.field.map { Self.shortName($0) } ?? "value",
                    totalKey: spec.rankedBy.map { Self.shortName($0) } ?? "total",
                    top.map { (interner[Int32($0.subject)], Money(units: $0.total * (Money.scale / scale))) }))
            }
            return (name, FigureValue(node.evaluate(&self)))
        })
    }

    private static func shortName(_ field: EventField) -> String {
        String(field.rawValue.split(separator: ".").last ?? "")
    }

}
