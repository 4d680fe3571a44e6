/// How `ts` is written in generated lines.
public enum TimestampFormat: String, Sendable, Hashable, CaseIterable, Codable {
    /// Integer epoch milliseconds, as the simulator writes them.
    case ms
    /// RFC 3339 strings: `Z`, `z` or `±hh:mm` offsets, no fraction or 3, 6 or 9 fraction digits.
    case rfc3339
    /// Either, chosen per line.
    case mixed
}

/// The messy input a stream processor meets, mixed into generated files: disorder, re-sent,
/// malformed, late and unknown records, and formatting that changes the bytes but not the
/// event. Every share is of the simulated events; the default mixes in nothing.
public struct FaultMix: Sendable, Hashable, Codable {
    /// How `ts` is written. Default: `.ms`.
    public var timestampFormat: TimestampFormat
    /// Each line arrives up to this many milliseconds after its `ts`; beyond `lateness` some
    /// arrive behind their file's watermark. Default: 0.
    public var disorderMilliseconds: Int64
    /// Share of events sent twice (same bytes, the same `event_id`), 1 s to 6 h apart. Default: 0.
    public var duplicateRate: Double
    /// Malformed lines added, as a share of the events: every dead-letter reason in turn, and
    /// some blank lines. Default: 0.
    public var badRate: Double
    /// Share of events held back until they are behind their file's watermark (10 min to 3 days
    /// after their `ts`). Default: 0.
    public var lateRate: Double
    /// Share of events followed by a well-formed event of a type the engine does not know. Default: 0.
    public var unknownTypeRate: Double
    /// Share of lines written with JSON escapes: `\uXXXX` for non-ASCII text and some ASCII
    /// letters (in keys too), `\/` for slashes. Default: 0.
    public var escapeRate: Double
    /// Share of lines with shuffled keys, extra unknown fields and whitespace between tokens. Default: 0.
    public var noiseRate: Double

    /// The engine's default allowed out-of-orderness (SPEC §3), against which lateness is judged.
    public static let lateness: Int64 = 300_000
    /// The largest accepted `disorderMilliseconds` (a day): re-sent events then always stay
    /// within the engine's 7-day dedupe horizon.
    public static let maximumDisorder: Int64 = SimulationConfig.dayMilliseconds
    /// No faults: the simulator's lines, unchanged, in `ts` order.
    public static let none = FaultMix()

    public init(
        timestampFormat: TimestampFormat = .ms,
        disorderMilliseconds: Int64 = 0,
        duplicateRate: Double = 0,
        badRate: Double = 0,
        lateRate: Double = 0,
        unknownTypeRate: Double = 0,
        escapeRate: Double = 0,
        noiseRate: Double = 0
    ) {
        self.timestampFormat = timestampFormat
        self.disorderMilliseconds = disorderMilliseconds
        self.duplicateRate = duplicateRate
        self.badRate = badRate
        self.lateRate = lateRate
        self.unknownTypeRate = unknownTypeRate
        self.escapeRate = escapeRate
        self.noiseRate = noiseRate
    }

    /// Whether lines are rewritten (timestamps, escapes or noise) rather than copied.
    var restylesLines: Bool {
        timestampFormat != .ms || escapeRate > 0 || noiseRate > 0
    }

    /// Whether each event draws whether it is re-sent, held back or followed by an unknown type.
    var drawsPerEventFaults: Bool {
        duplicateRate > 0 || lateRate > 0 || unknownTypeRate > 0
    }

    /// Throws a ``SimulationError`` with code `.invalidConfiguration` naming the first bad setting.
    public func validate() throws(SimulationError) {
        let rates: [(String, Double)] = [
            ("dup-rate", duplicateRate), ("bad-rate", badRate), ("late-rate", lateRate),
            ("unknown-type-rate", unknownTypeRate), ("escape-rate", escapeRate), ("noise-rate", noiseRate),
        ]
        for (name, rate) in rates where !(0...1).contains(rate) {
            throw .invalidConfiguration("\(name) must be between 0 and 1 (got \(rate))")
        }
        if duplicateRate + lateRate + unknownTypeRate > 1 {
            throw .invalidConfiguration(
                "dup-rate, late-rate and unknown-type-rate share each event's one draw, so they must add up to at most 1")
        }
        if escapeRate + noiseRate > 1 {
            throw .invalidConfiguration("escape-rate and noise-rate share each line's one draw, so they must add up to at most 1")
        }
        if !(0...Self.maximumDisorder).contains(disorderMilliseconds) {
            throw .invalidConfiguration(
                "disorder-ms must be between 0 and \(Self.maximumDisorder) (a day) (got \(disorderMilliseconds))")
        }
    }
}
