import Foundation
import TagStreamCore

/// Where the shards' workers meet at each daily refresh.
final class ThreadExchange: RefreshExchange, @unchecked Sendable {
    private let samples: ShardBarrier<StatisticSamples, StatisticValues>
    private let communities: ShardBarrier<CommunityContribution, [CommunityContribution]>
    /// What a shard that waits for the others does first (set before the workers start).
    var whileWaiting: (@Sendable () -> Void)?

    init(shards: Int) {
        samples = ShardBarrier(shards: shards)
        communities = ShardBarrier(shards: shards)
    }

    /// One shard computes the statistics from every shard's samples, for all.
    func settle(_ part: StatisticSamples, from shard: Int, at refresh: Int64,
                by compute: @escaping @Sendable ([StatisticSamples]) -> StatisticValues) -> StatisticValues {
        samples.share(part, from: shard, whileWaiting: whileWaiting, combine: compute)
    }

    func share(_ part: CommunityContribution, from shard: Int, at refresh: Int64) -> [CommunityContribution] {
        communities.share(part, from: shard, whileWaiting: whileWaiting) { $0 }
    }
}

/// Every shard hands in a part and waits until all have (doing `whileWaiting` first); the last to
/// arrive combines the parts, in shard order, into the result each gets.
final class ShardBarrier<Part: Sendable, Result: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var parts: [Part?]
    private var arrived = 0
    private var round = 0
    private var result: Result?

    init(shards: Int) { parts = Array(repeating: nil, count: shards) }

    func share(_ part: Part, from shard: Int, whileWaiting: (() -> Void)?, combine: ([Part]) -> Result) -> Result {
        condition.lock()
        defer { condition.unlock() }
        parts[shard] = part
        arrived += 1
        if arrived == parts.count {
            // `result` is safe to replace: the previous round could only end once every shard had
            // handed in its part of it, and each reads the result before handing in another.
            result = combine(parts.compactMap { $0 })
            parts = Array(repeating: nil, count: parts.count)
            arrived = 0
            round += 1
            condition.broadcast()
        } else {
            let current = round
            if let whileWaiting {
                condition.unlock()
                whileWaiting()
                condition.lock()
            }
            var warned = false
            while round == current {
                // Every shard meets at every refresh, so this only waits for slower shards; say so
                // when it takes long, as a stopped process or an overloaded machine makes it.
                if !condition.wait(until: Date().addingTimeInterval(60)), !warned, round == current {
                    warned = true
                    FileHandle.standardError.write(Data("replay: shard \(shard) has waited over a minute at a daily refresh for \(parts.count - arrived) other shard(s)\n".utf8))
                }
            }
        }
        guard let result else { preconditionFailure("a round ended without its result") }
        return result
    }
}
