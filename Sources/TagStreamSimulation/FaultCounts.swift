/// What a generation with a ``FaultMix`` wrote, counted as a replay of the files with the
/// engine's default lateness reports it, plus the formatting it changed.
public struct FaultCounts: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Lines written, blank ones included.
    public internal(set) var lines = 0
    /// Malformed lines, by the dead-letter reason code the engine gives them.
    public internal(set) var deadLetters: [String: Int] = [:]
    /// Empty or whitespace-only lines (a replay skips them without counting).
    public internal(set) var blankLines = 0
    /// Re-sent lines whose first copy was accepted.
    public internal(set) var duplicates = 0
    /// Lines arriving behind their file's watermark: held back, pushed there by disorder beyond
    /// the lateness, or re-sent copies of such lines.
    public internal(set) var late = 0
    /// Of `late`, the events `lateRate` held back.
    public internal(set) var heldBack = 0
    /// Well-formed events of unknown types (a replay ignores them).
    public internal(set) var unknownTypes = 0
    /// Lines that arrived after a line of their file with a later `ts`.
    public internal(set) var outOfOrder = 0
    /// Lines whose `ts` is an RFC 3339 string.
    public internal(set) var rfc3339Timestamps = 0
    /// Lines rewritten with JSON escapes.
    public internal(set) var escapedLines = 0
    /// Lines rewritten with shuffled keys, extra fields and whitespace.
    public internal(set) var noisyLines = 0

    public init() {}

    /// All dead-lettered lines.
    public var deadLetterTotal: Int { deadLetters.values.reduce(0, +) }

    /// Three lines for a person: what a replay will count, then the formatting.
    public var description: String {
        let reasons = deadLetters.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return """
            dead letters \(deadLetterTotal)\(reasons.isEmpty ? "" : ": " + reasons)
            duplicates \(duplicates), late \(late) (held back \(heldBack)), unknown types \(unknownTypes), blank lines \(blankLines)
            \(lines) lines: out of order \(outOfOrder), RFC 3339 ts \(rfc3339Timestamps), escaped \(escapedLines), noisy \(noisyLines)
            """
    }
}
