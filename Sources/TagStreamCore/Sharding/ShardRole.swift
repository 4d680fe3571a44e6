/// Which part of a run's state an engine holds. Users are split among `count` shards; each shard's
/// engine sees only its users' events. What crosses shards meets at each daily refresh: the
/// samples of the population statistics, and the community figures, which the owner of each
/// community merges and emits.
public struct ShardRole: Sendable, Equatable {
    public let index: Int
    public let count: Int

    /// The whole state in one engine.
    public static let single = ShardRole(index: 0, count: 1)

    public init(index: Int, count: Int) {
        precondition(count >= 1 && index >= 0 && index < count, "shard \(index) of \(count)")
        self.index = index
        self.count = count
    }

    public var isSharded: Bool { count > 1 }

    /// The shard that owns a key (a user or a community), spelled by its UTF-8 bytes.
    public static func shard(of key: UnsafeBufferPointer<UInt8>, count: Int) -> Int {
        var hash = FNV1a64()
        hash.add(bytes: key)
        return Int(hash.value % UInt64(count))
    }

    public static func shard(of key: String, count: Int) -> Int {
        key.withUTF8Bytes { shard(of: $0, count: count) }
    }

    /// Whether this shard emits the figures and alerts of a community.
    public func owns(community name: String) -> Bool {
        Self.shard(of: name, count: count) == index
    }
}

/// One shard's samples of the population statistics at a refresh, per sampled statistic.
public struct StatisticSamples: Sendable {
    var values: [[Value]]
}

/// The population statistics of a refresh, in the pipeline's order (none: too few samples).
public struct StatisticValues: Sendable {
    var values: [Value]
}

/// What one event gives the aggregates of its community, with every name spelled out, so that the
/// community's owner can record it in an engine of its own.
public struct CommunityOccurrence: Sendable {
    public struct Item: Sendable {
        var sku: String?
        var category: String?
        var quantity: Money
    }

    var ts: Int64
    var eventID: String
    var type: EventType
    var community: String
    var amount: Money
    var hasCoupon: Bool
    var query: String?
    var items: [Item]

    init(_ event: Event, symbols: SymbolTable) {
        ts = event.ts
        eventID = event.eventID
        type = event.type
        community = symbols.communities[event.community]
        amount = event.amount
        hasCoupon = event.hasCoupon
        query = event.query
        items = event.items.map { item in
            Item(sku: item.sku >= 0 ? symbols.skus[item.sku] : nil,
                 category: item.category >= 0 ? symbols.categories[item.category] : nil,
                 quantity: item.quantity)
        }
    }

    /// The event, with its names interned in `symbols` (its user unknown: -1).
    func event(interningIn symbols: inout SymbolTable) -> Event {
        Event(ts: ts, eventID: eventID, type: type, user: -1, community: symbols.communities.intern(community),
              amount: amount, hasCoupon: hasCoupon, query: query,
              items: items.map { item in
                  OrderItem(sku: item.sku.map { symbols.skus.intern($0) } ?? -1,
                            category: item.category.map { symbols.categories.intern($0) } ?? -1,
                            quantity: item.quantity)
              })
    }

    /// The SPEC's `(ts, event_id)` order.
    func precedes(_ other: CommunityOccurrence) -> Bool {
        if ts != other.ts { return ts < other.ts }
        return eventID.utf8.lexicographicallyPrecedes(other.eventID.utf8)
    }
}

/// What one shard knows of the communities at a refresh: those its applied events named since the
/// last refresh, how many of its users meet each community count, and the occurrences its events
/// gave community aggregates.
public struct CommunityContribution: Sendable {
    var communities: [String] = []
    /// Community → one number per community count (only communities with a count above zero).
    var counts: [String: [Int64]] = [:]
    var occurrences: [CommunityOccurrence] = []
}

/// How the shards of a run meet at a daily refresh. Implementations block until every shard has
/// handed its part of that refresh in.
public protocol RefreshExchange {
    /// Gives the statistics `compute` makes of every shard's samples, in shard order.
    func settle(_ samples: StatisticSamples, from shard: Int, at refresh: Int64,
                by compute: @escaping @Sendable ([StatisticSamples]) -> StatisticValues) throws -> StatisticValues
    /// Gives every shard's contribution, in shard order.
    func share(_ contribution: CommunityContribution, from shard: Int, at refresh: Int64) throws -> [CommunityContribution]
}

/// How the tasks of a live run, one per input partition, agree on what one engine knows from every
/// partition: besides the refreshes, the run's first applied event (which fixes the first refresh)
/// and, in a bounded run, its end. Implementations block until every task has handed its part in.
public protocol TaskAgreement: RefreshExchange, AnyObject, Sendable {
    /// The least of every task's first applied `ts` (nil from a task with none); nil: no task has one.
    func agreeOnFirst(_ first: Int64?, from task: Int) throws -> Int64?
    /// The largest of every task's end, once every task has given it; until then, a refresh that
    /// another task waits at, which this task must meet first.
    func awaitEnd(_ end: Int64, from task: Int) throws -> AgreedEnd
    /// What the other tasks wait for this task at now, if anything (without waiting).
    func awaited(by task: Int) throws -> AwaitedStep?
    /// Where the tasks' canary engines meet at each refresh (`run --canary`): steps of their own,
    /// which each task takes right after its main engine's at the same refresh.
    var canaryExchange: any RefreshExchange { get }
}

/// What `TaskAgreement.awaitEnd` found.
public enum AgreedEnd: Sendable, Equatable {
    case end(Int64)
    case refresh(Int64)
}

/// What other tasks wait at.
public enum AwaitedStep: Sendable, Equatable {
    /// The agreement on the run's first applied event.
    case first
    /// The refresh at this midnight.
    case refresh(Int64)
}

extension ShardRole {
    /// Why a pipeline cannot be split into shards, if it cannot.
    public static func obstacle(in pipeline: Pipeline) -> String? {
        guard let capped = pipeline.definition.campaigns.first(where: { $0.dailyCapPerCommunity != nil }) else { return nil }
        return "campaign '\(capped.name.name)' has daily_cap_per_community, which counts triggers across users in the order they happen; such a pipeline runs in one shard (--workers 1)"
    }
}
