import Foundation
import Redis
import TagStreamCore

/// The live profile store: every user's current tags (one field per tag group, plus
/// `community_id` and `updated_at`) in the hash `<prefix>:user:<user_id>`, and every community's
/// latest stats in `<prefix>:community:<community_id>`, for online lookup by marketing systems.
/// Changes are collected from the output records and written after each checkpoint, so the
/// store never shows a state that the committed output does not. Not thread-safe: one owner.
final class ProfileStore {
    let prefix: String
    private var changes: [String: [(field: String, value: String?)]] = [:]
    private var order: [String] = []

    init(prefix: String) { self.prefix = prefix }

    /// Notes what an output record changes.
    func add(_ record: OutputRecord, symbols: SymbolTable) {
        let community = record.community >= 0 ? symbols.communities[record.community] : nil
        let updated = EventTime.format(record.ts)
        switch record.body {
        case let .tag(group, tag, _):
            change("\(prefix):user:\(symbols.users[record.user])",
                   [(group, tag), ("community_id", community), ("updated_at", updated)])
        case .communityStats(let figures):
            guard let community else { return }
            let value = JSONWriter()
            change("\(prefix):community:\(community)", figures.fields.map { name, figure in
                if case .absent = figure { return (name, nil) }
                value.reset()
                value.figure(figure)
                return (name, String(decoding: value.bytes, as: UTF8.self))
            } + [("updated_at", updated)])
        case .alert, .coupon, .couponOutcome:
            break
        }
    }

    private func change(_ key: String, _ fields: [(field: String, value: String?)]) {
        if changes[key] == nil { order.append(key) }
        changes[key, default: []] += fields
    }

    /// Writes the changes noted so far in pipelined batches: HSET for values, HDEL for removed tags.
    func flush(to client: RedisClient, batch: Int = 1_000) throws {
        var commands: [[any RedisArgument]] = []
        for key in order {
            var latest: [String: String?] = [:]
            var fields: [String] = []
            for (field, value) in changes[key]! {
                if latest.updateValue(value, forKey: field) == nil { fields.append(field) }
            }
            let set = fields.compactMap { f in latest[f]!.map { [f, $0] } }.flatMap { $0 }
            let removed = fields.filter { latest[$0]! == nil }
            if !set.isEmpty { commands.append(["HSET", key] + set.map { $0 as any RedisArgument }) }
            if !removed.isEmpty { commands.append(["HDEL", key] + removed.map { $0 as any RedisArgument }) }
            if commands.count >= batch { try send(&commands, client) }
        }
        try send(&commands, client)
        changes.removeAll(keepingCapacity: true)
        order.removeAll(keepingCapacity: true)
    }

    private func send(_ commands: inout [[any RedisArgument]], _ client: RedisClient) throws {
        guard !commands.isEmpty else { return }
        for case .error(let message) in try client.pipeline(commands) { throw RedisError.server(message) }
        commands.removeAll(keepingCapacity: true)
    }
}
