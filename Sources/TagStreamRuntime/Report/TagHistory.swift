/// Every tag change of a replay by group, in time order: what each user's tag was at any instant.
struct TagHistory {
    struct Change {
        let ts: Int64
        let user: String
        let tag: String?
    }

    /// By group; records of one instant keep their file order, which is the order they happened in.
    private(set) var changes: [String: [Change]] = [:]
    /// The earliest and latest `ts` of any tag record.
    private(set) var span: ClosedRange<Int64>?

    /// Reads `tags.jsonl`.
    static func read(_ directory: ReplayDirectory, progress: ReportProgress) throws -> TagHistory {
        var history = TagHistory()
        try RecordFileReader.forEach(TagRecord.self, in: directory.path(of: ReplayDirectory.tagFile),
                                     progress: { progress.lines($0, of: "tags") }) { record, _ in
            history.changes[record.group, default: []].append(Change(ts: record.ts, user: record.userID, tag: record.tag))
            history.span = history.span.map { min($0.lowerBound, record.ts)...max($0.upperBound, record.ts) } ?? record.ts...record.ts
        }
        for group in history.changes.keys {
            // A stable sort: the engine writes in time order, and this keeps one instant's order.
            history.changes[group] = history.changes[group]!.enumerated()
                .sorted { ($0.element.ts, $0.offset) < ($1.element.ts, $1.offset) }.map(\.element)
        }
        return history
    }

    /// For each of `instants` (ascending), every user's tag of `group` just before it, from the
    /// records with `ts` < the instant; users without a tag then are left out.
    func states(of group: String, before instants: [Int64]) -> [[String: String]] {
        var result: [[String: String]] = []
        var current: [String: String] = [:]
        sweep(group, before: instants, apply: { current[$0.user] = $0.tag }, capture: { result.append(current) })
        return result
    }

    /// For each of `instants` (ascending), how many users held each tag of `group` just before it.
    func counts(of group: String, before instants: [Int64]) -> [[String: Int]] {
        var result: [[String: Int]] = []
        var current: [String: String] = [:]
        var counts: [String: Int] = [:]
        sweep(group, before: instants, apply: { change in
            if let old = current[change.user] { counts[old]! -= 1 }
            if let new = change.tag { counts[new, default: 0] += 1 }
            current[change.user] = change.tag
        }, capture: { result.append(counts.filter { $0.value > 0 }) })
        return result
    }

    private func sweep(_ group: String, before instants: [Int64], apply: (Change) -> Void, capture: () -> Void) {
        let list = changes[group] ?? []
        var next = 0
        for instant in instants {
            while next < list.count, list[next].ts < instant {
                apply(list[next])
                next += 1
            }
            capture()
        }
    }
}
