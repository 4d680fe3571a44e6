/// Lines waiting for their arrival time, written in arrival order, each judged as a replay
/// of the files will judge it: one watermark per file (its largest accepted `ts` minus the
/// lateness), a re-sent line a duplicate only when its first copy was accepted.
struct ArrivalQueue {
    private var waiting: [ScheduledLine] = []
    /// Whether `waiting` is in arrival order already (as clean traffic is), so needs no sort.
    private var inArrivalOrder = true
    private var nextSequence = 0
    /// Per file: the largest `ts` accepted, and the largest `ts` of any event written.
    private var maxAccepted: [Int64]
    private var maxWritten: [Int64]
    /// Sequences of late lines that have a copy still to come.
    private var lateOriginals: Set<Int> = []
    private(set) var counts = FaultCounts()

    /// How often a held-back line looks again whether it is behind its file's watermark.
    private static let holdRetry: Int64 = 600_000

    init(files: Int) {
        maxAccepted = Array(repeating: .min, count: files)
        maxWritten = Array(repeating: .min, count: files)
    }

    /// Schedules a line and returns its sequence number.
    @discardableResult
    mutating func schedule(
        arrival: Int64, destination: Int, ts: Int64, role: ScheduledLine.Role,
        styling: ScheduledLine.Styling = [], bytes: ScheduledLine.Bytes
    ) -> Int {
        let sequence = nextSequence
        nextSequence += 1
        if let last = waiting.last, arrival < last.arrival { inArrivalOrder = false }
        waiting.append(ScheduledLine(arrival: arrival, sequence: sequence, destination: destination, ts: ts,
                                     role: role, styling: styling, bytes: bytes))
        return sequence
    }

    /// Writes every line arriving before `until`, in arrival order. A held-back line that is
    /// not yet behind its watermark waits for the next release, unless this is the last one
    /// (`until == .max`).
    mutating func release(before until: Int64, to files: inout [JSONLinesFile]) throws(SimulationError) {
        if !inArrivalOrder {
            waiting.sort { ($0.arrival, $0.sequence) < ($1.arrival, $1.sequence) }
        }
        // Taken out of `self` while counting, so each line is read in place, not copied.
        var lines: [ScheduledLine] = []
        swap(&lines, &waiting)
        var held: [ScheduledLine] = []
        var due = 0
        while due < lines.count, lines[due].arrival < until {
            defer { due += 1 }
            if case .heldBack = lines[due].role, until != .max, !isBehindWatermark(lines[due]) {
                var line = lines[due]
                line.arrival += ((until - line.arrival) / Self.holdRetry + 1) * Self.holdRetry
                held.append(line)
                continue
            }
            count(lines[due])
            try files[lines[due].destination].append(lines[due].bytes)
        }
        lines.removeSubrange(..<due)  // keeps the capacity: the next day needs as many
        inArrivalOrder = held.isEmpty
        lines += held
        swap(&lines, &waiting)
    }

    private func isBehindWatermark(_ line: ScheduledLine) -> Bool {
        let max = maxAccepted[line.destination]
        return max != .min && line.ts < max - FaultMix.lateness
    }

    private mutating func count(_ line: ScheduledLine) {
        counts.lines += 1
        switch line.role {
        case .event, .heldBack:
            if isBehindWatermark(line) {
                counts.late += 1
                if case .heldBack = line.role { counts.heldBack += 1 }
                if case .event(resent: true) = line.role { lateOriginals.insert(line.sequence) }
            } else {
                maxAccepted[line.destination] = max(maxAccepted[line.destination], line.ts)
            }
        case .resent(let original):
            // Its first copy arrived earlier in the same file: accepted, this one is a duplicate;
            // late, this one (no earlier in event time, no less behind) is late too.
            if lateOriginals.remove(original) != nil { counts.late += 1 } else { counts.duplicates += 1 }
        case .unknownType:
            counts.unknownTypes += 1
        case .bad(let kind):
            if let reason = BadLines.catalogue[kind].reason {
                counts.deadLetters[reason, default: 0] += 1
            } else {
                counts.blankLines += 1
            }
        }
        if line.isWellFormedEvent {
            if line.ts < maxWritten[line.destination] { counts.outOfOrder += 1 }
            maxWritten[line.destination] = max(maxWritten[line.destination], line.ts)
        }
        if line.styling.contains(.rfc3339) { counts.rfc3339Timestamps += 1 }
        if line.styling.contains(.escaped) { counts.escapedLines += 1 }
        if line.styling.contains(.noisy) { counts.noisyLines += 1 }
    }
}
