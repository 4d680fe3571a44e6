extension StateDistribution {
    /// The distribution over the engines of a sharded run, which hold disjoint users.
    public init(merging engines: [Engine]) {
        var communities = Set<String>()
        for engine in engines {
            let part = engine.distribution()
            users += part.users
            for (group, tags) in part.groups {
                groups[group, default: [:]].merge(tags, uniquingKeysWith: +)
            }
            for u in engine.userSeen.indices where engine.userSeen[u] && engine.userCommunity[u] >= 0 {
                communities.insert(engine.symbols.communities[engine.userCommunity[u]])
            }
        }
        self.communities = communities.count
    }
}

extension OutputRecord {
    /// Where the record stands among the records of its instant (SPEC §5): events' records by
    /// event_id, then timers' by user, then the refresh's users' and communities' by id. Shards'
    /// records merge by `ts`, then this.
    public func order(symbols: SymbolTable) -> (phase: UInt8, key: String) {
        switch cause {
        case .event(let id): (0, id)
        case .timer: (1, symbols.users[user])
        case .refresh: user >= 0 ? (2, symbols.users[user]) : (3, symbols.communities[community])
        }
    }
}
