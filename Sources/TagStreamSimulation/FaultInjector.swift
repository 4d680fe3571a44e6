/// Turns each simulated day into the lines of a ``FaultMix``: rewritten timestamps and
/// formatting, arrival times with disorder, re-sent, held-back and unknown-type events, and
/// malformed lines, scheduled on an ``ArrivalQueue``.
///
/// Formatting and faults draw from random streams of their own, so for one seed the events
/// are the same whatever the mix, and the same arguments give the same bytes.
struct FaultInjector {
    let faults: FaultMix
    let layout: EventFileLayout
    private(set) var queue: ArrivalQueue
    private var formatting: RandomSource
    private var chance: RandomSource
    private let timestamps: TimestampText
    private var badLines = 0
    private var unknownEvents = 0

    private static let unknownTypes = ["page_scroll", "push_open", "video_play", "live_room_enter", "address_edit"]
    private static let second: Int64 = 1_000
    private static let minute: Int64 = 60_000
    private static let hour: Int64 = 3_600_000

    init(faults: FaultMix, layout: EventFileLayout, seed: UInt64) {
        self.faults = faults
        self.layout = layout
        queue = ArrivalQueue(files: layout.files.count)
        // Streams 1 to 3 are the simulator's.
        formatting = RandomSource(seed: seed, stream: 4)
        chance = RandomSource(seed: seed, stream: 5)
        timestamps = TimestampText(format: faults.timestampFormat)
    }

    /// Schedules one day's events (in `ts` order) and the bad lines among them.
    mutating func add(day events: [SimulatedEvent]) {
        for event in events { add(event) }
        if faults.badRate > 0 { addBadLines(among: events) }
    }

    private mutating func add(_ event: SimulatedEvent) {
        let destination = layout.destination(of: event.stream, userID: event.userID)
        let (bytes, styling) = faults.restylesLines ? restyled(event) : (.text(event.json), [])
        var arrival = event.ts
        if faults.disorderMilliseconds > 0 {
            arrival += Int64(chance.below(Int(faults.disorderMilliseconds) + 1))
        }
        var role = ScheduledLine.Role.event(resent: false)
        if faults.drawsPerEventFaults {
            let draw = chance.unit()
            if draw < faults.duplicateRate {
                role = .event(resent: true)
            } else if draw < faults.duplicateRate + faults.lateRate {
                role = .heldBack
                arrival = event.ts + skewedDelay(from: 10 * Self.minute, to: 72 * Self.hour)
            } else if draw < faults.duplicateRate + faults.lateRate + faults.unknownTypeRate {
                addUnknownType(after: event, destination: destination)
            }
        }
        let sequence = queue.schedule(arrival: arrival, destination: destination, ts: event.ts, role: role,
                                      styling: styling, bytes: bytes)
        if case .event(resent: true) = role {
            // A producer retry: the same bytes, seconds to hours later.
            queue.schedule(arrival: arrival + skewedDelay(from: Self.second, to: 6 * Self.hour), destination: destination,
                           ts: event.ts, role: .resent(original: sequence), styling: styling, bytes: bytes)
        }
    }

    /// The event's line with its `ts` in the chosen format, then escaped or made noisy at their rates.
    private mutating func restyled(_ event: SimulatedEvent) -> (ScheduledLine.Bytes, ScheduledLine.Styling) {
        var bytes = Array(event.json.utf8)
        var styling: ScheduledLine.Styling = []
        if faults.timestampFormat != .ms {
            let rewritten = timestamps.rewrite(bytes, ts: event.ts, random: &formatting)
            bytes = rewritten.line
            if rewritten.isRFC3339 { styling.insert(.rfc3339) }
        }
        if faults.escapeRate > 0 || faults.noiseRate > 0 {
            let draw = formatting.unit()
            if draw < faults.escapeRate {
                bytes = EscapedLine.rewrite(bytes, random: &formatting)
                styling.insert(.escaped)
            } else if draw < faults.escapeRate + faults.noiseRate {
                bytes = NoisyLine.rewrite(bytes, random: &formatting)
                styling.insert(.noisy)
            }
        }
        return (.raw(bytes), styling)
    }

    /// A well-formed event of a type the engine does not know, a few seconds after `event`.
    private mutating func addUnknownType(after event: SimulatedEvent, destination: Int) {
        unknownEvents += 1
        let ts = event.ts + Self.second + Int64(chance.below(5_000))
        var writer = EventLineWriter()
        writer.raw("{\"event_id\":")
        writer.numberedID("x", unknownEvents)
        writer.raw(",\"type\":")
        writer.string(Self.unknownTypes[chance.below(Self.unknownTypes.count)])
        writer.raw(",\"user_id\":")
        writer.string(event.userID)
        writer.raw(",\"ts\":")
        var bytes = writer.bytes
        let isRFC3339 = timestamps.append(ts, to: &bytes, random: &formatting)
        bytes.append(UInt8(ascii: "}"))
        queue.schedule(arrival: ts, destination: destination, ts: ts, role: .unknownType,
                       styling: isRFC3339 ? .rfc3339 : [], bytes: .raw(bytes))
    }

    /// About `badRate` × the day's events malformed lines, each beside a random event of the
    /// day (same file, user and time), the kinds of ``BadLines/catalogue`` in turn.
    private mutating func addBadLines(among events: [SimulatedEvent]) {
        let expected = Double(events.count) * faults.badRate
        var count = Int(expected)
        if chance.chance(expected - Double(count)) { count += 1 }
        guard !events.isEmpty else { return }
        for _ in 0..<count {
            let near = events[chance.below(events.count)]
            let kind = badLines % BadLines.catalogue.count
            badLines += 1
            let context = BadLines.Context(eventID: "bad-\(badLines)", userID: near.userID, ts: near.ts,
                                           variant: chance.below(1_000_000))
            queue.schedule(arrival: near.ts, destination: layout.destination(of: near.stream, userID: near.userID),
                           ts: near.ts, role: .bad(kind: kind), bytes: .raw(BadLines.catalogue[kind].make(context)))
        }
    }

    /// A delay in `[low, high]`, mostly near `low`: the sixth power of a uniform draw puts
    /// half of them in the first 1.6 % of the range and their mean at a seventh of it.
    private mutating func skewedDelay(from low: Int64, to high: Int64) -> Int64 {
        let u = chance.unit()
        let u3 = u * u * u
        return low + Int64(Double(high - low) * u3 * u3)
    }

    /// Writes every line arriving before `until` (`.max`: all that remain).
    mutating func release(before until: Int64, to files: inout [JSONLinesFile]) throws(SimulationError) {
        try queue.release(before: until, to: &files)
    }
}
