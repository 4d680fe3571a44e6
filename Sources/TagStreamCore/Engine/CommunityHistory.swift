import DequeModule

/// One daily refresh of one community, as one engine saw it: how many of the engine's users
/// whose community it was carried each tag of the groups that are not flags, and, in the engine
/// that owns the community, the figures it emitted. The dashboard's trends and movements read
/// these, so that every point of a trend is what a `community_stats` record said.
public struct CommunityDay: Sendable, Equatable {
    /// The refresh instant.
    public var at: Int64
    /// This engine's users of the community.
    public var users: Int32
    /// Users per tag of the counted groups, group after group (`CountedGroup`).
    public var tagCounts: [Int32]
    /// The figures of the community's `community_stats` record at this refresh, if this engine
    /// owns the community and emitted one.
    public var figures: CommunityFigures?

    /// Adds another engine's day of the same community and refresh: their users are disjoint,
    /// and only the owner has figures.
    public mutating func add(_ other: CommunityDay) {
        users += other.users
        for i in tagCounts.indices { tagCounts[i] += other.tagCounts[i] }
        figures = figures ?? other.figures
    }
}

/// A group whose users are counted per tag, and its tags: `tagCounts` holds one count per tag,
/// group after group.
public struct CountedGroup: Sendable, Equatable {
    public var name: String
    public var tags: [String]
}

/// Counts users per tag of the counted groups (those that are not flags), laid out as
/// `CommunityDay.tagCounts`: one count per tag, group after group.
struct TagCounter {
    let groups: [Int]
    let offsets: [Int]
    let width: Int

    init(_ engine: borrowing Engine) {
        groups = engine.program.groups.indices.filter { !engine.pipeline.definition.groups[$0].isFlag }
        var offsets: [Int] = [], width = 0
        for g in groups {
            offsets.append(width)
            width += engine.program.groups[g].tags.count
        }
        (self.offsets, self.width) = (offsets, width)
    }

    var zero: [Int32] { Array(repeating: 0, count: width) }

    /// Adds user `u`'s tags to `counts`.
    func add(user u: Int, of engine: borrowing Engine, to counts: inout [Int32]) {
        for (j, g) in groups.enumerated() {
            let tag = Int(engine.tags[u * engine.layout.groups + g])
            if tag >= 0 { counts[offsets[j] + tag] += 1 }
        }
    }
}

extension Engine {
    /// How long the history reaches back: the dashboard's 30 days of movement and trend, and the
    /// refresh 30 days before the latest.
    public static let historySpan = 31 * EventTime.day

    /// The groups counted in `CommunityDay.tagCounts`, in pipeline order.
    public var countedGroups: [CountedGroup] {
        TagCounter(self).groups.map { CountedGroup(name: program.groups[$0].name, tags: program.groups[$0].tags) }
    }

    /// The refreshes of community slot `c` within `historySpan` of the latest, oldest first.
    func history(ofCommunity c: Int) -> Deque<CommunityDay> {
        c < communityHistory.count ? communityHistory[c] : []
    }

    /// Counts this engine's users of every community by tag at refresh `m`, and forgets the
    /// refreshes that left the span.
    mutating func recordCommunityDays(at m: Int64) {
        let counter = TagCounter(self)
        var days: [CommunityDay?] = Array(repeating: nil, count: communitySlots)
        for u in userSeen.indices where userSeen[u] && userCommunity[u] >= 0 {
            let c = Int(userCommunity[u])
            if days[c] == nil { days[c] = CommunityDay(at: m, users: 0, tagCounts: counter.zero) }
            days[c]!.users += 1
            counter.add(user: u, of: self, to: &days[c]!.tagCounts)
        }
        for c in 0..<communitySlots {
            while let first = communityHistory[c].first, first.at <= m - Self.historySpan { communityHistory[c].removeFirst() }
            if let day = days[c] { communityHistory[c].append(day) }
        }
    }

    /// Keeps the figures emitted for community slot `c` at refresh `m` with that refresh's counts
    /// (an owner whose shard holds none of the community's users has a day of figures only).
    mutating func recordFigures(_ figures: CommunityFigures, community c: Int, at m: Int64) {
        if communityHistory[c].last?.at != m {
            communityHistory[c].append(CommunityDay(at: m, users: 0, tagCounts: TagCounter(self).zero))
        }
        communityHistory[c][communityHistory[c].count - 1].figures = figures
    }
}
