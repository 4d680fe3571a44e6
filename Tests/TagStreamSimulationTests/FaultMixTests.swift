import Foundation
import Testing
@testable import TagStreamCore
@testable import TagStreamSimulation

/// Faults mixed into generated files: deterministic, counted as the engine's replay counts
/// them, and formatting that changes bytes but not events.
@Suite struct FaultMixTests {
    static let config = SimulationConfig(users: 250, days: 45, seed: 3)

    /// Every kind of fault at once, disorder within the lateness.
    static let everything = FaultMix(
        timestampFormat: .mixed, disorderMilliseconds: 120_000, duplicateRate: 0.01, badRate: 0.01, lateRate: 0.005,
        unknownTypeRate: 0.005, escapeRate: 0.05, noiseRate: 0.05)

    @Test func sameArgumentsGiveByteIdenticalFilesAndAnotherSeedOthers() throws {
        let first = FaultFiles.directory("same-a"), second = FaultFiles.directory("same-b"), other = FaultFiles.directory("other")
        defer { [first, second, other].forEach { try? FileManager.default.removeItem(at: $0) } }
        let a = try writeEventFiles(config: Self.config, faults: Self.everything, layout: .streams(directory: first, partitions: 3))
        let b = try writeEventFiles(config: Self.config, faults: Self.everything, layout: .streams(directory: second, partitions: 3))
        var reseeded = Self.config
        reseeded.seed = 4
        let c = try writeEventFiles(config: reseeded, faults: Self.everything, layout: .streams(directory: other, partitions: 3))
        #expect(a.faults == b.faults)
        #expect(a.files.count == 6)
        for (x, y) in zip(a.files, b.files) {
            #expect(try Data(contentsOf: x) == Data(contentsOf: y), "\(x.lastPathComponent) differs")
        }
        #expect(try a.files.map { try Data(contentsOf: $0) } != c.files.map { try Data(contentsOf: $0) })
    }

    @Test(arguments: [
        ("every fault, disorder within the lateness", everything, 2),
        ("disorder beyond the lateness", FaultMix(disorderMilliseconds: 900_000, duplicateRate: 0.02, badRate: 0.005), 4),
        ("one merged file, RFC 3339", FaultMix(timestampFormat: .rfc3339, disorderMilliseconds: 300_000, duplicateRate: 0.01,
                                                 badRate: 0.02, lateRate: 0.01, unknownTypeRate: 0.01), 0),
    ])
    func replayReportsExactlyTheFaultsTheGeneratorCounted(_ name: String, faults: FaultMix, partitions: Int) throws {
        let directory = FaultFiles.directory("counted")
        defer { try? FileManager.default.removeItem(at: directory) }
        let layout: EventFileLayout = partitions == 0
            ? .merged(file: directory.appendingPathComponent("events.jsonl"))
            : .streams(directory: directory, partitions: partitions)
        let written = try writeEventFiles(config: Self.config, faults: faults, layout: layout)
        let counts = written.faults
        let summary = try FaultFiles.replay(written.files)

        #expect(summary.deadLetterReasons == counts.deadLetters)
        #expect(summary.duplicate == counts.duplicates)
        #expect(summary.late == counts.late)
        #expect(summary.ignored == counts.unknownTypes)
        #expect(summary.blankLines == counts.blankLines)
        #expect(summary.accepted + summary.deadLetter + summary.duplicate + summary.late + summary.ignored + summary.blankLines == counts.lines)
        #expect(try written.files.map { try FaultFiles.lines(of: $0).count }.reduce(0, +) == counts.lines)
        #expect(counts.deadLetterTotal > 0 && counts.duplicates > 0 && counts.late > 0 && counts.outOfOrder > 0)
        if faults.lateRate > 0 { #expect(counts.heldBack > 0) }
        if faults.unknownTypeRate > 0 { #expect(counts.unknownTypes > 0) }
        if faults.disorderMilliseconds <= FaultMix.lateness {
            #expect(counts.late == counts.heldBack, "disorder within the lateness makes nothing late")
        } else {
            #expect(counts.late > counts.heldBack, "disorder beyond the lateness makes lines late")
        }
    }

    @Test func everyDeadLetterReasonOfTheDecoderIsProduced() throws {
        let directory = FaultFiles.directory("reasons")
        defer { try? FileManager.default.removeItem(at: directory) }
        let written = try writeEventFiles(config: Self.config, faults: FaultMix(badRate: 0.01),
                                          layout: .streams(directory: directory, partitions: 1))
        let expected = FaultFiles.decoderReasonCodes
        #expect(expected.count >= 30)
        #expect(Set(written.faults.deadLetters.keys) == expected)
        #expect(Set(try FaultFiles.replay(written.files).deadLetterReasons.keys) == expected)
        #expect(written.faults.blankLines > 0)
        #expect(Set(BadLines.catalogue.compactMap(\.reason)) == expected, "the catalogue names only reasons the decoder has")
    }

    @Test func formattingChangesTheBytesButNotTheEvents() throws {
        let directory = FaultFiles.directory("formatting")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("events.jsonl")
        let faults = FaultMix(timestampFormat: .mixed, escapeRate: 0.3, noiseRate: 0.3)
        let written = try writeEventFiles(config: Self.config, faults: faults, layout: .merged(file: file))
        let lines = try FaultFiles.lines(of: file)
        let clean = try jsonLines(Self.config)
        #expect(lines.count == clean.count, "restyling alone adds and drops no line and keeps their order")

        var rfc3339 = 0, escaped = 0, noisy = 0, mismatches: [String] = []
        let extraKeys: Set<String> = ["app_version", "device", "ab_bucket", "trace_id", "experiments", "geo", "network", "is_test"]
        for (line, original) in zip(lines, clean) {
            let text = String(decoding: line, as: UTF8.self)
            guard var object = try JSONSerialization.jsonObject(with: line) as? [String: Any],
                  let expected = try JSONSerialization.jsonObject(with: Data(original.utf8)) as? [String: Any]
            else { throw TestFailure("not a JSON object: \(text)") }
            if let ts = object["ts"] as? String {
                rfc3339 += 1
                object["ts"] = EventTime.parseRFC3339(Array(ts.utf8)).map { NSNumber(value: $0) }
            }
            if text.contains("\\u") { escaped += 1 }
            if !extraKeys.isDisjoint(with: object.keys) { noisy += 1 }
            for key in extraKeys { object[key] = nil }
            if !NSDictionary(dictionary: object).isEqual(to: expected), mismatches.count < 3 { mismatches.append("\(text)\n  vs \(original)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        #expect(rfc3339 == written.faults.rfc3339Timestamps && rfc3339 > lines.count / 3 && rfc3339 < lines.count * 2 / 3)
        #expect(escaped == written.faults.escapedLines && escaped > lines.count / 5)
        #expect(noisy == written.faults.noisyLines && noisy > lines.count / 5)
        #expect(lines.contains { String(decoding: $0, as: UTF8.self).contains(#""query":"\u6709\u673a"#) }, "Chinese queries are escaped")
    }

    @Test(arguments: [
        FaultMix(duplicateRate: -0.1), FaultMix(badRate: 1.5), FaultMix(duplicateRate: 0.5, lateRate: 0.6),
        FaultMix(escapeRate: 0.7, noiseRate: 0.7), FaultMix(disorderMilliseconds: -1),
        FaultMix(disorderMilliseconds: FaultMix.maximumDisorder + 1),
    ])
    func settingsOutOfRangeAreRefusedBeforeAnythingIsWritten(_ faults: FaultMix) {
        let directory = FaultFiles.directory("refused")
        #expect(throws: SimulationError.self) {
            try writeEventFiles(config: Self.config, faults: faults, layout: .streams(directory: directory, partitions: 1))
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
