import Foundation
import TagStreamCore

/// The result of a replay: input counts by outcome, outputs, final state and speed.
/// Written as `summary.json` and printed for a person.
public struct ReplaySummary: Codable, Sendable {
    public var inputFiles: [String]
    public var accepted: Int
    public var deadLetter: Int
    public var duplicate: Int
    public var late: Int
    public var ignored: Int
    public var blankLines: Int
    public var notAppliedAfterUntil: Int
    public var deadLetterReasons: [String: Int]
    public var ignoredTypes: [String: Int]
    public var outputs: OutputTally
    public var finalState: StateDistribution
    public var firstEventTime: String?
    public var lastEventTime: String?
    public var wallSeconds: Double
    public var eventsPerSecond: Double
    /// The arms of an A/B test (`replay --variant`); nil for a plain replay.
    public var variants: [VariantArm]?

    /// One arm of an A/B test: its pipeline, its share of users and how many it held.
    public struct VariantArm: Codable, Sendable, Equatable {
        public var name: String
        public var percent: Int
        public var users: Int
    }

    public init(inputFiles: [String], counts: OutcomeCounts, outputs: OutputTally, finalState: StateDistribution,
                eventTimes: (first: Int64, last: Int64)?, wallSeconds: Double) {
        self.inputFiles = inputFiles
        accepted = counts.accepted
        deadLetter = counts.deadLetter
        duplicate = counts.duplicate
        late = counts.late
        ignored = counts.ignored
        blankLines = counts.blank
        notAppliedAfterUntil = counts.notApplied
        deadLetterReasons = counts.deadLetterReasons
        ignoredTypes = counts.ignoredTypes
        self.outputs = outputs
        self.finalState = finalState
        firstEventTime = eventTimes.map { EventTime.format($0.first) }
        lastEventTime = eventTimes.map { EventTime.format($0.last) }
        self.wallSeconds = (wallSeconds * 1000).rounded() / 1000
        let records = counts.total
        eventsPerSecond = wallSeconds > 0 ? (Double(records) / wallSeconds).rounded() : 0
    }

    /// The summary of the arms of an A/B test together: they replayed the same files, each for
    /// its own users.
    public init(arms: [(summary: ReplaySummary, percent: Int, name: String)], wallSeconds: Double) {
        var counts = OutcomeCounts(), outputs = OutputTally(), state = StateDistribution()
        for arm in arms.map(\.summary) {
            counts.add(arm.counts)
            outputs.add(arm.outputs)
            state.add(arm.finalState)
        }
        let instants = arms.flatMap { [$0.summary.firstEventTime, $0.summary.lastEventTime] }.compactMap { $0.flatMap { EventTime.parseRFC3339(Array($0.utf8)) } }
        self.init(inputFiles: arms.first?.summary.inputFiles ?? [], counts: counts, outputs: outputs, finalState: state,
                  eventTimes: instants.min().map { ($0, instants.max()!) }, wallSeconds: wallSeconds)
        variants = arms.map { VariantArm(name: $0.name, percent: $0.percent, users: $0.summary.finalState.users) }
    }

    /// The input counts again.
    private var counts: OutcomeCounts {
        var counts = OutcomeCounts()
        (counts.accepted, counts.deadLetter, counts.duplicate, counts.late, counts.ignored) = (accepted, deadLetter, duplicate, late, ignored)
        (counts.blank, counts.notApplied) = (blankLines, notAppliedAfterUntil)
        (counts.deadLetterReasons, counts.ignoredTypes) = (deadLetterReasons, ignoredTypes)
        return counts
    }

    /// The summary as pretty JSON with sorted keys.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// A few lines for a person.
    public var text: String {
        func list(_ counts: [String: Int]) -> String {
            counts.isEmpty ? "none" : counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        let total = accepted + deadLetter + duplicate + late + ignored
        var lines = [
            "Input: \(total) records from \(inputFiles.count) file(s)" + (blankLines > 0 ? " (+\(blankLines) blank lines skipped)" : ""),
            "  accepted \(accepted), dead letters \(deadLetter), duplicates \(duplicate), late \(late), ignored \(ignored)",
        ]
        if deadLetter > 0 { lines.append("  dead letters by reason: \(list(deadLetterReasons))") }
        if notAppliedAfterUntil > 0 { lines.append("  \(notAppliedAfterUntil) accepted events after --until were not applied") }
        if let firstEventTime, let lastEventTime { lines.append("  event time \(firstEventTime) … \(lastEventTime)") }
        lines.append("Output: \(list(outputs.byKind))")
        for (group, tags) in outputs.tagsSet.sorted(by: { $0.key < $1.key }) { lines.append("  \(group): \(list(tags))") }
        if !outputs.alerts.isEmpty { lines.append("  alerts: \(list(outputs.alerts))") }
        if !outputs.coupons.isEmpty { lines.append("  coupons: \(list(outputs.coupons)) (holdout: \(list(outputs.holdouts)))") }
        lines.append("Final state: \(finalState.users) users in \(finalState.communities) communities")
        for (group, tags) in finalState.groups.sorted(by: { $0.key < $1.key }) { lines.append("  \(group): \(list(tags))") }
        lines.append(String(format: "Speed: %.2f s wall, %.0f records/s", wallSeconds, eventsPerSecond))
        return lines.joined(separator: "\n")
    }
}
