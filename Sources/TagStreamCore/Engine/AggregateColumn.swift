/// One occurrence inside an aggregate's window: its time, its value, and what it is about (a sku, a category).
struct WindowEntry: Sendable, Equatable {
    var ts: Int64
    var value: Int64
    var subject: Int64
}

/// Per value of a `distinct` or `top` aggregate: the summed rank and how many occurrences carry it.
struct Tally: Sendable, Equatable {
    var total: Int64
    var occurrences: Int64

    mutating func add(_ value: Int64, occurrences n: Int64 = 1) {
        total &+= value
        occurrences += n
    }
}

/// The state of one aggregate for every key, stored column-wise and indexed by the key's dense id.
/// Windows are exact: an occurrence at `ts` counts at `t` while `t − window < ts`.
struct AggregateColumn: Sendable {
    let kind: AggregateKind
    let window: Int64?
    /// `mean_gap`: occurrences kept.
    let keep: Int
    /// Denominator of the field's value (money in millionths, times in milliseconds).
    let scale: Int64
    let isInstant: Bool
    /// What an event gives the aggregate: the field, what ranks a `top`, whether each basket item
    /// is an occurrence, and which occurrences count (nil: all).
    let field: EventField?
    let rankedBy: EventField?
    let iteratesItems: Bool
    let filter: Node?

    /// Count, sum, min, max, first or last value per key.
    var scalar: [Int64] = []
    /// When `scalar` was set (.min: never), for first, last, min and max; empty for the other kinds.
    var time: [Int64] = []
    /// The occurrences inside each key's window (or the last few, for `mean_gap`), when `usesEntries`.
    var entries: WindowQueues
    var tallies: [[Int64: Tally]] = []

    init(_ a: CompiledAggregate) {
        kind = a.kind
        window = a.window
        keep = a.count
        isInstant = a.field == .ts
        field = a.field
        rankedBy = a.rankedBy
        iteratesItems = a.iteratesItems
        filter = a.filter
        scale = a.field == .amount || a.field == .itemQuantity ? Money.scale : 1
        entries = WindowQueues(keepsValues: a.kind != .count && a.kind != .meanGap, keepsSubjects: a.kind == .distinct || a.kind == .top)
    }

    var usesEntries: Bool {
        switch kind {
        case .meanGap: true
        case .last: false
        default: window != nil
        }
    }

    var usesTallies: Bool { kind == .distinct || kind == .top }

    var usesTime: Bool { kind == .min || kind == .max || kind == .first || kind == .last }

    var count: Int { scalar.count }

    mutating func grow(to n: Int) {
        guard n > scalar.count else { return }
        scalar.extend(to: n, with: 0)
        if usesTime { time.extend(to: n, with: .min) }
        if usesEntries { entries.grow(to: n) }
        if usesTallies { tallies.extend(to: n, with: [:]) }
    }

    /// Records one occurrence for key `k` at `ts`.
    mutating func add(_ k: Int, ts: Int64, value: Int64, subject: Int64) {
        switch kind {
        case .count:
            if window != nil { entries.append(k, WindowEntry(ts: ts, value: 1, subject: 0)) } else { scalar[k] += 1 }
        case .sum:
            if window != nil { entries.append(k, WindowEntry(ts: ts, value: value, subject: 0)) }
            scalar[k] &+= value
        case .min, .max:
            if window != nil {
                // A monotonic queue: the front is the extreme of the window.
                while let last = entries.last(k), kind == .min ? last.value >= value : last.value <= value { entries.removeLast(k) }
                entries.append(k, WindowEntry(ts: ts, value: value, subject: 0))
            } else if time[k] == .min || (kind == .min ? value < scalar[k] : value > scalar[k]) {
                scalar[k] = value
                time[k] = ts
            }
        case .first:
            if window != nil {
                entries.append(k, WindowEntry(ts: ts, value: value, subject: 0))
            } else if time[k] == .min {
                scalar[k] = value
                time[k] = ts
            }
        case .last:
            scalar[k] = value
            time[k] = ts
        case .distinct, .top:
            if window != nil { entries.append(k, WindowEntry(ts: ts, value: value, subject: subject)) }
            tallies[k][subject, default: Tally(total: 0, occurrences: 0)].add(value)
        case .meanGap:
            entries.append(k, WindowEntry(ts: ts, value: value, subject: 0))
            if entries.count(k) > keep { entries.removeFirst(k) }
        }
    }

    /// Feeds one event (each basket item, for item aggregates) to key `k`; returns whether it changed.
    /// The aggregate's own settings say what to take, so the engine hands over no copy of its spec.
    mutating func record(_ event: Event, key k: Int, symbols: borrowing SymbolTable) -> Bool {
        guard iteratesItems else {
            if let filter {
                var fields = Self.input(event, item: nil, symbols: symbols)
                guard filter.evaluate(&fields).isTrue else { return false }
            }
            let value: Int64 = switch field {
            case .ts: event.ts
            case .amount: event.amount.units
            default: 1
            }
            add(k, ts: event.ts, value: value, subject: 0)
            return true
        }
        var changed = false
        for item in event.items {
            if let filter {
                var fields = Self.input(event, item: item, symbols: symbols)
                guard filter.evaluate(&fields).isTrue else { continue }
            }
            var subject: Int64 = 0
            var value: Int64 = 1
            switch field {
            case .itemSku: subject = Int64(item.sku)
            case .itemCategory: subject = Int64(item.category)
            case .itemQuantity: value = item.quantity.units
            case .amount: value = event.amount.units
            case .ts: value = event.ts
            default: break
            }
            if subject < 0 { continue }
            if rankedBy == .itemQuantity { value = item.quantity.units } else if rankedBy == .amount { value = event.amount.units }
            add(k, ts: event.ts, value: value, subject: subject)
            changed = true
        }
        return changed
    }

    private static func input(_ event: Event, item: OrderItem?, symbols: borrowing SymbolTable) -> EventInput {
        EventInput(
            type: event.type, ts: event.ts, amount: event.amount, hasCoupon: event.hasCoupon, query: event.query, item: item,
            skuName: item.flatMap { $0.sku >= 0 ? symbols.skus[$0.sku] : nil },
            categoryName: item.flatMap { $0.category >= 0 ? symbols.categories[$0.category] : nil })
    }

    /// Drops what left the window at `t` for key `k`. Reads do it themselves, so a key's reads
    /// must not go back in time (the engine's clock only moves forward); the daily refresh does it
    /// for every key, so that the windows of keys nobody reads do not keep what left them.
    @inline(__always)
    mutating func evict(_ k: Int, at t: Int64) {
        guard let window, k < entries.keys, entries.oldest(k) <= t &- window else { return }
        evictExpired(k, limit: t &- window)
    }

    private mutating func evictExpired(_ k: Int, limit: Int64) {
        while entries.oldest(k) <= limit {
            let first = entries.removeFirst(k)
            switch kind {
            case .sum:
                scalar[k] &-= first.value
            case .distinct, .top:
                let i = tallies[k].index(forKey: first.subject)!
                if tallies[k].values[i].occurrences == 1 {
                    tallies[k].remove(at: i)
                } else {
                    tallies[k].values[i].add(-first.value, occurrences: -1)
                }
            default:
                break
            }
        }
    }

    /// The aggregate's value for key `k` at `t`, once what left the window by `t` is dropped (the
    /// engine's time only moves forward, so no later read needs it).
    mutating func value(_ k: Int, at t: Int64) -> Value {
        guard k >= 0, k < scalar.count else { return kind == .count || kind == .sum || kind == .distinct ? .number(0) : .none }
        evict(k, at: t)
        switch kind {
        case .count:
            return .number(window != nil ? Int64(entries.count(k)) : scalar[k])
        case .sum:
            return .number(scalar[k], scale)
        case .distinct:
            return .number(Int64(tallies[k].count))
        case .min, .max, .first:
            if window != nil {
                guard let front = entries.first(k) else { return .none }
                return typed(front.value)
            }
            return time[k] == .min ? .none : typed(scalar[k])
        case .last:
            guard time[k] != .min, window.map({ time[k] > t &- $0 }) ?? true else { return .none }
            return typed(scalar[k])
        case .meanGap:
            let n = entries.count(k)
            guard n >= 2, let first = entries.first(k), let last = entries.last(k) else { return .none }
            return Value.reduced(.duration, last.ts - first.ts, Int64(n - 1))
        case .top:
            return .none
        }
    }

    private func typed(_ raw: Int64) -> Value {
        isInstant ? .instant(raw) : .number(raw, scale)
    }

    /// The first instant after `t` at which key `k`'s value changes by time alone (an occurrence
    /// leaving the window); `.max` if none. Like `value`, it drops what left the window by `t`.
    mutating func nextExpiry(_ k: Int, after t: Int64) -> Int64 {
        guard let window, k < scalar.count else { return .max }
        if kind == .last { return time[k] == .min || time[k] &+ window <= t ? .max : time[k] &+ window }
        evict(k, at: t)
        let oldest = entries.oldest(k)
        return oldest == .max ? .max : oldest &+ window
    }

    /// The `count` subjects with the largest totals at `t`, ties by `precedes` (the subject's name
    /// order), once what left the window by `t` is dropped.
    mutating func ranking(_ k: Int, at t: Int64, count: Int, precedes: (Int64, Int64) -> Bool) -> [(subject: Int64, total: Int64)] {
        guard count > 0, k >= 0, k < tallies.count else { return [] }
        evict(k, at: t)
        func before(_ a: (subject: Int64, total: Int64), _ b: (subject: Int64, total: Int64)) -> Bool {
            a.total != b.total ? a.total > b.total : precedes(a.subject, b.subject)
        }
        var top: [(subject: Int64, total: Int64)] = []
        for (subject, tally) in tallies[k] {
            let candidate = (subject: subject, total: tally.total)
            guard top.count < count || before(candidate, top[top.count - 1]) else { continue }
            let at = top.firstIndex { before(candidate, $0) } ?? top.count
            top.insert(candidate, at: at)
            if top.count > count { top.removeLast() }
        }
        return top
    }
}
