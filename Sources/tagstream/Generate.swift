import ArgumentParser
import Foundation
import TagStreamCore
import TagStreamRuntime
import TagStreamSimulation

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write realistic synthetic clickstream and order events (JSONL), deterministic for a seed.",
        discussion: """
            Users of a community group-buy grocery app join over the period, browse, search, fill \
            carts and pay at the rhythm of their persona, go quiet and come back. The same arguments \
            always give byte-identical files.

            The fault options mix in the messy input a stream processor meets, for tests and \
            backtests; all are off by default, and a rate is a share of the simulated events. Lines \
            are then written in arrival order, and a replay reads each file as one partition (one \
            watermark). With any of them the command prints what it mixed in, counted as a replay \
            with the reference pipeline (5-minute lateness) will count it: dead letters by reason, \
            duplicates, late lines, unknown types and blank lines; then lines out of order, RFC 3339 \
            timestamps, escaped and noisy lines.
            """)

    @Option(help: "Users over the whole period.")
    var users = 10_000

    @Option(help: "Communities (default: users / 300, at least 1).")
    var communities: Int?

    @Option(help: "Days of traffic.")
    var days = 240

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: "First day: a date (2026-01-01), or a UTC midnight as epoch ms or RFC 3339.")
    var start: FirstDay?

    @Option(help: ArgumentHelp(
        "Output directory: clickstream.jsonl and orders.jsonl, each in time order.",
        discussion: "With --partitions N > 1: clickstream-<p>.jsonl and orders-<p>.jsonl for p = 0 … N-1.",
        valueName: "dir"))
    var out: String?

    @Option(help: ArgumentHelp("One file with every event in arrival order, instead of --out.", valueName: "file"))
    var merged: String?

    @Option(help: ArgumentHelp(
        "With --out: files per stream.",
        discussion: "A user's events go to partition CRC32(user_id) mod N, where librdkafka's default partitioner puts their key.",
        valueName: "n"))
    var partitions = 1

    @Option(help: ArgumentHelp(
        "How ts is written.",
        discussion: "ms: epoch milliseconds. rfc3339: Z, z and ±hh:mm offsets, T or t, 0 to 9 fraction digits. mixed: either, per line.",
        valueName: "format"))
    var tsFormat: TimestampFormat = .ms

    @Option(help: ArgumentHelp(
        "Lines arrive up to this many milliseconds after their ts (at most a day).",
        discussion: "Up to 300000 (the 5-minute lateness) no line is late; beyond it some arrive behind their file's watermark.",
        valueName: "ms"))
    var disorderMs: Int64 = 0

    @Option(help: ArgumentHelp("Events re-sent, same bytes and event_id, 1 s to 6 h later.", valueName: "rate"))
    var dupRate = 0.0

    @Option(help: ArgumentHelp(
        "Malformed lines, as a share of the events.",
        discussion: "Every dead-letter reason of the engine in turn: invalid JSON and UTF-8, not an object, missing, empty and wrong-typed fields, bad ts, negative and too large amounts; and blank lines.",
        valueName: "rate"))
    var badRate = 0.0

    @Option(help: ArgumentHelp(
        "Events held back until they are behind their file's watermark.",
        discussion: "They arrive 10 minutes to 3 days after their ts, beyond the 5-minute lateness.",
        valueName: "rate"))
    var lateRate = 0.0

    @Option(help: ArgumentHelp("Extra well-formed events of unknown types (page_scroll, push_open, …).", valueName: "rate"))
    var unknownTypeRate = 0.0

    @Option(help: ArgumentHelp(
        "Lines written with JSON escapes.",
        discussion: "\\uXXXX for non-ASCII text (Chinese queries) and for some ASCII letters, in keys too; \\/ for slashes.",
        valueName: "rate"))
    var escapeRate = 0.0

    @Option(help: ArgumentHelp("Lines with shuffled keys, extra unknown fields and whitespace.", valueName: "rate"))
    var noiseRate = 0.0

    var config: SimulationConfig {
        SimulationConfig(users: users, communities: communities, days: days, seed: seed,
                         start: start?.milliseconds ?? SimulationConfig.defaultStart)
    }

    var faults: FaultMix {
        FaultMix(timestampFormat: tsFormat, disorderMilliseconds: disorderMs, duplicateRate: dupRate, badRate: badRate,
                 lateRate: lateRate, unknownTypeRate: unknownTypeRate, escapeRate: escapeRate, noiseRate: noiseRate)
    }

    var layout: EventFileLayout {
        if let merged { return .merged(file: URL(fileURLWithPath: merged)) }
        return .streams(directory: URL(fileURLWithPath: out ?? "."), partitions: partitions)
    }

    func validate() throws {
        guard (out == nil) != (merged == nil) else { throw ValidationError("Give one of --out DIR or --merged FILE.") }
        if merged != nil, partitions != 1 { throw ValidationError("--partitions applies to --out, not to --merged.") }
        do {
            try config.validate()
            try faults.validate()
            try layout.validate()
        } catch {
            throw ValidationError(error.message)
        }
    }

    func run() throws {
        let progress = ProgressLine()
        let started = Date()
        let written = try writeEventFiles(config: config, faults: faults, layout: layout) { day, total in
            progress.update("generate: day \(day) of \(total)")
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(started)
        print(written.stats.description)
        if faults != .none {
            print("Faults, as a replay with the reference pipeline will count them:")
            print(written.faults.description.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        }
        let names = written.files.map(\.lastPathComponent)
        let listed = names.count <= 4 ? names.joined(separator: ", ") : "\(names[0]) … \(names[names.count - 1])"
        let folder = written.files[0].deletingLastPathComponent().path
        print(String(format: "Wrote %d file(s) in %@ (%@) in %.1f s", names.count, folder, listed, seconds))
    }
}

extension TimestampFormat: ExpressibleByArgument {}

/// The first day of generated traffic: a date, or a UTC midnight as epoch ms or RFC 3339.
struct FirstDay: ExpressibleByArgument {
    let milliseconds: Int64

    init?(argument: String) {
        if let midnight = EventTime.parseRFC3339(Array((argument + "T00:00:00Z").utf8)) {
            milliseconds = midnight
        } else if let instant = Instant(argument: argument) {
            milliseconds = instant.milliseconds
        } else {
            return nil
        }
    }

    static var defaultValueDescription: String { "YYYY-MM-DD, epoch ms or RFC 3339" }
}
