extension Pipeline {
    /// Why `canary` cannot run beside this pipeline in one live run, if it cannot. The two share
    /// the input, its order and the output topics, and a user moving between them on a restart
    /// keeps their aggregates: so the time settings, the topics and the aggregates (names and
    /// definitions, in order) must be the same. Values, statistics, tags, alerts, campaigns and
    /// community figures are the rules, which may differ.
    public func canaryObstacle(_ canary: Pipeline) -> String? {
        let pair = "the canary pipeline '\(canary.name)' cannot run beside '\(name)'"
        guard canary.name != name else {
            return "\(pair): it has the same name, and every record carries its pipeline's name as its variant; give the canary a name of its own"
        }
        guard canary.time == time else {
            return "\(pair): its time settings differ (lateness \(canary.time.lateness) against \(time.lateness), dedupe_horizon \(canary.time.dedupeHorizon) against \(time.dedupeHorizon)), and both pipelines share one order of events"
        }
        guard canary.topics == topics else {
            let differing = zip(canary.topics.all, topics.all).first { $0 != $1 }.map { "'\($0)' against '\($1)'" } ?? ""
            return "\(pair): its topics differ (\(differing)); both read the same input and write to the same output topics, each record marked with its variant"
        }
        let mine = definition.aggregates.map(AggregateSignature.init), theirs = canary.definition.aggregates.map(AggregateSignature.init)
        for (a, b) in zip(mine, theirs) where a != b {
            return a.name == b.name
                ? "\(pair): its aggregate '\(a.name)' is defined differently (\(b) against \(a)); a user moving between the pipelines keeps their aggregates, so both must define them alike"
                : "\(pair): it has aggregate '\(b.name)' where '\(name)' has '\(a.name)'; both must define the same aggregates in the same order, since a user moving between them keeps their aggregates"
        }
        if mine.count != theirs.count {
            let extra = mine.count > theirs.count ? (mine[theirs.count].name, name) : (theirs[mine.count].name, canary.name)
            return "\(pair): only '\(extra.1)' has aggregate '\(extra.0)'; both must define the same aggregates, since a user moving between them keeps their aggregates"
        }
        return nil
    }
}

/// What an aggregate computes, without where its definition stands in its file.
private struct AggregateSignature: Equatable, CustomStringConvertible {
    let name: String
    let description: String

    init(_ a: AggregateDefinition) {
        name = a.name.name
        var parts = ["\(a.kind.rawValue): \(a.field?.name ?? "events")", "of: [\(a.eventTypes.map(\.name).joined(separator: ", "))]"]
        if let filter = a.filter { parts.append("where: \(filter.text)") }
        if let window = a.window { parts.append("window: \(TimeSpan(milliseconds: window))") }
        if a.key != .user { parts.append("key: \(a.key)") }
        if a.count != 0 { parts.append("count: \(a.count)") }
        if let rankedBy = a.rankedBy { parts.append("by: \(rankedBy.name)") }
        description = "{" + parts.joined(separator: ", ") + "}"
    }
}
