/// A line waiting to be written: when it arrives, which file it goes to, and what it is.
struct ScheduledLine {
    /// What the line is to a replay.
    enum Role {
        /// A simulated event; `resent` if a copy of it follows.
        case event(resent: Bool)
        /// A simulated event held back until it is behind its file's watermark.
        case heldBack
        /// The second copy of the event scheduled as `original`.
        case resent(original: Int)
        /// A well-formed event of a type the engine does not know.
        case unknownType
        /// A malformed or blank line of ``BadLines/catalogue`` entry `kind`.
        case bad(kind: Int)
    }

    /// How the line's bytes differ from the simulator's.
    struct Styling: OptionSet {
        let rawValue: UInt8
        static let rfc3339 = Styling(rawValue: 1)
        static let escaped = Styling(rawValue: 2)
        static let noisy = Styling(rawValue: 4)
    }

    /// The bytes of a line: the simulator's text as it is, or rewritten bytes (which may be
    /// deliberately invalid UTF-8).
    enum Bytes {
        case text(String)
        case raw([UInt8])
    }

    var arrival: Int64
    /// Scheduling order: breaks ties of `arrival`, and names a line to its copy.
    var sequence: Int
    /// Index of the file, in ``EventFileLayout/files``.
    var destination: Int
    var ts: Int64
    var role: Role
    var styling: Styling
    var bytes: Bytes

    /// Whether the line is an event the engine decodes (so it counts towards disorder).
    var isWellFormedEvent: Bool {
        switch role {
        case .event, .heldBack, .resent, .unknownType: true
        case .bad: false
        }
    }
}
