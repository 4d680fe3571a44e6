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
    /// owns the community and emitted one: whole for the latest, the scalar fields for the others.
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

/// One community's refreshes within `Engine.historySpan`, oldest first, as flat columns: every
/// community keeps a month of them, so a day costs only its numbers, not arrays of its own, and
/// only the latest figures keep their rankings (the trend shows the scalar ones).
struct CommunityHistory: Sendable {
    /// Per refresh that counted users of the community: when, how many, and per counted tag.
    var countedAt: Deque<Int64> = []
    var users: Deque<Int32> = []
    var tagCounts: Deque<Int32> = []
    /// Per refresh that emitted figures for it: when, and the value of each scalar field.
    var figuresAt: Deque<Int64> = []
    var figures: Deque<ScalarFigure> = []
    /// The latest figures emitted, rankings included.
    var latest: CommunityFigures?

    /// Refreshes a history holds at most (one a day, within `Engine.historySpan`).
    static let days = Int(Engine.historySpan / EventTime.day)

    /// Appends a refresh's counts; the columns hold a month exactly (grown by doubling, they
    /// would hold up to twice as much, in every community).
    mutating func appendCounts(at m: Int64, users count: Int32, tagCounts counts: [Int32]) {
        if countedAt.isEmpty {
            countedAt.reserveCapacity(Self.days)
            users.reserveCapacity(Self.days)
            tagCounts.reserveCapacity(Self.days * counts.count)
        }
        countedAt.append(m)
        users.append(count)
        tagCounts.append(contentsOf: counts)
    }

    /// Appends a refresh's figures (see `appendCounts`).
    mutating func appendFigures(at m: Int64, _ emitted: CommunityFigures) {
        if figuresAt.isEmpty {
            figuresAt.reserveCapacity(Self.days)
            figures.reserveCapacity(Self.days * emitted.fields.count)
        }
        figuresAt.append(m)
        figures.append(contentsOf: emitted.fields.compactMap { ScalarFigure($0.1) })
        latest = emitted
    }

    /// Forgets what is at or before `limit`.
    mutating func drop(atOrBefore limit: Int64, width: Int, fields: Int) {
        while let first = countedAt.first, first <= limit {
            countedAt.removeFirst()
            users.removeFirst()
            tagCounts.removeFirst(width)
        }
        while let first = figuresAt.first, first <= limit {
            figuresAt.removeFirst()
            figures.removeFirst(fields)
        }
        if figuresAt.isEmpty { latest = nil }
    }

    /// The refreshes as days, oldest first; the latest figures are whole, the others scalar only
    /// (`fieldNames`: the scalar fields').
    func days(width: Int, fieldNames: [String]) -> [CommunityDay] {
        var days: [Int64: CommunityDay] = [:]
        for (i, at) in countedAt.enumerated() {
            days[at] = CommunityDay(at: at, users: users[i], tagCounts: Array(tagCounts[(i * width)..<((i + 1) * width)]))
        }
        for (i, at) in figuresAt.enumerated() {
            let values = figures[(i * fieldNames.count)..<((i + 1) * fieldNames.count)]
            let scalars = CommunityFigures(fields: zip(fieldNames, values).map { ($0, $1.figure) })
            days[at, default: CommunityDay(at: at, users: 0, tagCounts: Array(repeating: 0, count: width))].figures =
                i == figuresAt.count - 1 ? latest : scalars
        }
        return days.values.sorted { $0.at < $1.at }
    }
}

/// A scalar `community_stats` value as the history keeps it, in 16 bytes (a `FigureValue`, which
/// may hold a ranking, takes 48); nil for a ranking, which the history keeps for the latest day only.
struct ScalarFigure: Sendable, Equatable {
    /// The integer, the money's units, or a ratio's numerator.
    private let value: Int64
    /// A ratio's denominator when positive; else what `value` is (see `Form`).
    private let form: Int64

    private enum Form: Int64 {
        case integer = 0, money = -1, absent = -2, ratioOverZero = -3
    }

    init?(_ figure: FigureValue) {
        switch figure {
        case .integer(let n): (value, form) = (n, Form.integer.rawValue)
        case .money(let m): (value, form) = (m.units, Form.money.rawValue)
        case let .ratio(n, d) where d > 0: (value, form) = (n, d)
        case let .ratio(n, d) where d < 0: (value, form) = (-n, -d)
        case .ratio(let n, _): (value, form) = (n, Form.ratioOverZero.rawValue)
        case .absent: (value, form) = (0, Form.absent.rawValue)
        case .ranking: return nil
        }
    }

    var figure: FigureValue {
        switch Form(rawValue: form) {
        case .integer: .integer(value)
        case .money: .money(Money(units: value))
        case .absent: .absent
        case .ratioOverZero: .ratio(value, 0)
        case nil: .ratio(value, form)
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

    /// The names of the scalar `community_stats` fields (not rankings), in the record's order.
    var figureNames: [String] {
        (program.communityStats?.fields ?? []).filter { _, node in
            if case .communityAggregate(let i) = node { program.communityAggregates[i].kind != .top } else { true }
        }.map(\.0)
    }

    /// Counts this engine's users of every community by tag at refresh `m`, and forgets the
    /// refreshes that left the span.
    mutating func recordCommunityDays(at m: Int64) {
        let counter = TagCounter(self), fields = figureNames.count
        var users = Array(repeating: Int32(0), count: communitySlots)
        var counts = Array(repeating: counter.zero, count: communitySlots)
        for u in userSeen.indices where userSeen[u] && userCommunity[u] >= 0 {
            let c = Int(userCommunity[u])
            users[c] += 1
            counter.add(user: u, of: self, to: &counts[c])
        }
        for c in 0..<communitySlots {
            communityHistory[c].drop(atOrBefore: m - Self.historySpan, width: counter.width, fields: fields)
            if users[c] > 0 { communityHistory[c].appendCounts(at: m, users: users[c], tagCounts: counts[c]) }
        }
    }

    /// Keeps the figures emitted for community slot `c` at refresh `m`.
    mutating func recordFigures(_ figures: CommunityFigures, community c: Int, at m: Int64) {
        communityHistory[c].appendFigures(at: m, figures)
    }
}
