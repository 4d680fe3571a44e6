/// The canary of a live run (`run --canary next.yaml --canary-percent 5`): a second engine, under
/// the canary's pipeline, for the users whom `split` puts in the variant's arm. Both engines see
/// one order of events, from one sequencer; each applies its own users' events and both advance
/// together, so each arm's records are those of a run of its pipeline on its users.
public struct Canary: Sendable {
    public let split: UserSplit
    public var engine: Engine
    /// Per user as the control engine interns them: the canary engine's id, -1 for a user of the
    /// control arm, -2 not asked yet.
    private var users: [Int32] = []
    private var communities: [Int32] = []

    /// `shard`: the users of the run this canary's processor holds, as its main engine does.
    public init(pipeline: Pipeline, split: UserSplit, shard: ShardRole) {
        self.split = split
        engine = Engine(pipeline: pipeline, shard: shard)
    }

    /// The event in the canary's names when its user is in the canary, else nil.
    mutating func translate(_ event: Event, from symbols: borrowing SymbolTable) -> Event? {
        let u = Int(event.user)
        if u >= users.count { users.append(contentsOf: repeatElement(-2, count: u + 1 - users.count)) }
        if users[u] == -2 {
            let name = symbols.users[event.user]
            users[u] = split.isVariant(name) ? engine.symbols.users.intern(name) : -1
        }
        guard users[u] >= 0 else { return nil }
        var translated = event
        translated.user = users[u]
        if event.community >= 0 {
            let c = Int(event.community)
            if c >= communities.count { communities.append(contentsOf: repeatElement(-1, count: c + 1 - communities.count)) }
            if communities[c] < 0 { communities[c] = engine.symbols.communities.intern(symbols.communities[event.community]) }
            translated.community = communities[c]
        }
        for i in translated.items.indices {
            let item = event.items[i]
            if item.sku >= 0 { translated.items[i].sku = engine.symbols.skus.intern(symbols.skus[item.sku]) }
            if item.category >= 0 { translated.items[i].category = engine.symbols.categories.intern(symbols.categories[item.category]) }
        }
        return translated
    }

    /// Forgets the ids worked out so far (users have moved, and ids with them).
    mutating func forgetTranslations() {
        users = []
        communities = []
    }
}

/// Who moved between the pipelines when a run restored a checkpoint with another canary share.
public struct CanaryMoves: Sendable, Equatable {
    public var toCanary = MoveReport()
    public var toControl = MoveReport()
}

extension Processor {
    /// Puts every user in the engine of their arm under the canary's share (after a restore whose
    /// checkpoint had another share, or none): their aggregates move with them. An engine that has
    /// applied no event yet (new to the run, or with no users so far) takes the other's time and
    /// refreshes first.
    mutating func moveUsersToTheirArms() -> CanaryMoves {
        guard let split = canary?.split else { return CanaryMoves() }
        if !canary!.engine.refreshesScheduled {
            canary!.engine.followTime(of: engine)
        } else if !engine.refreshesScheduled {
            engine.followTime(of: canary!.engine)
        }
        let toCanary = engine.takeUsers { split.isVariant($0) }
        let toControl = canary!.engine.takeUsers { !split.isVariant($0) }
        canary!.forgetTranslations()
        return CanaryMoves(toCanary: canary!.engine.put(toCanary), toControl: engine.put(toControl))
    }
}

extension Processor {
    /// What the dashboard shows of a user, from the engine of their arm.
    public mutating func userView(_ name: String) -> UserView? {
        if canary?.split.isVariant(name) == true { return canary!.engine.userView(name) }
        return engine.userView(name)
    }

    /// Every community for the dashboard: with a canary whose tags are counted alike, the users,
    /// tag counts and lists of both pipelines' users; the figures are the main pipeline's.
    public mutating func dashboardPart() -> DashboardPart {
        let main = engine.dashboardPart()
        guard let other = canary?.engine.dashboardPart(), other.countedGroups == main.countedGroups else { return main }
        return DashboardPart.merge([main, other])
    }
}

extension Engine {
    /// Takes the time and the refreshes of another engine of the run, having applied no event yet.
    mutating func followTime(of other: Engine) {
        clock = max(clock, other.clock)
        nextRefresh = other.nextRefresh
    }
}
