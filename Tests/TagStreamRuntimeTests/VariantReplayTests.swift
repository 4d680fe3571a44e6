import Foundation
import Testing
@testable import TagStreamRuntime

/// `replay --variant`: an A/B test of two pipelines on the same events, as a person runs it. Each
/// arm gives exactly what a plain replay of its pipeline gives on the events of that arm's users,
/// picked here by the documented hash, and the merged records carry their arm's pipeline name.
@Suite struct VariantReplayTests {
    /// FNV-1a-64, written out again so that the split is checked independently of the engine's.
    static func fnv1a64(_ text: String) -> UInt64 {
        text.utf8.reduce(0xcbf2_9ce4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01b3 }
    }

    @Test func eachArmEqualsAPlainReplayOfItsPipelineOnItsUsers() throws {
        let input = try Fixtures.temporaryDirectory("variant-in")
        let files = try Fixtures.generateEvents(["--users", "1200", "--days", "80", "--seed", "17", "--partitions", "2",
                                                 "--dup-rate", "0.01", "--disorder-ms", "600000", "--late-rate", "0.005"], into: input)
        let reference = try String(contentsOfFile: Fixtures.referencePipeline, encoding: .utf8)
        let variantYAML = reference.replacingOccurrences(of: "pipeline: community-grocery", with: "pipeline: grocery-21d")
            .replacingOccurrences(of: "at_risk: since(last_paid) >= 30d", with: "at_risk: since(last_paid) >= 21d")
        #expect(variantYAML.contains("21d") && variantYAML.contains("pipeline: grocery-21d"))
        let variant = try Fixtures.temporaryDirectory("variant-pipeline").appendingPathComponent("grocery-21d.yaml")
        try Data(variantYAML.utf8).write(to: variant)

        let out = try Fixtures.temporaryDirectory("variant-out")
        let run = try Fixtures.run(Fixtures.tagstreamBinary, ["replay", "--variant", variant.path, "--split", "30", "--out", out.path] + files)
        #expect(run.status == 0, "\(run.stderr)")

        // The events of each arm's users, partition by partition; lines without a user go to the control.
        var armFiles: [Bool: [String]] = [:]
        for isVariant in [false, true] {
            let directory = try Fixtures.temporaryDirectory(isVariant ? "variant-arm-b" : "variant-arm-a")
            armFiles[isVariant] = try files.map { file in
                let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                let kept = lines.filter { line in
                    let user = (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["user_id"] as? String
                    return (user.map { Self.fnv1a64("variant:\($0)") % 100 < 30 } ?? false) == isVariant
                }
                let path = directory.appendingPathComponent(URL(fileURLWithPath: file).lastPathComponent).path
                try Data(kept.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
                return path
            }
        }
        let arms = [(name: "community-grocery", pipeline: Fixtures.referencePipeline, isVariant: false), (name: "grocery-21d", pipeline: variant.path, isVariant: true)]
        var merged: [String: [String: [Substring]]] = [:]  // file → arm → lines without the variant field
        for file in ReplayOutput.recordFiles {
            for line in try String(contentsOf: out.appendingPathComponent(file), encoding: .utf8).split(separator: "\n") {
                let name = try #require(line.range(of: #","variant":"[^"]*"\}$"#, options: .regularExpression), "\(file): no variant in \(line)")
                merged[file, default: [:]][String(line[name].dropFirst(12).dropLast(2)), default: []].append(line[..<name.lowerBound] + "}")
            }
            let instants = try String(contentsOf: out.appendingPathComponent(file), encoding: .utf8).split(separator: "\n").map { VariantReplay.timestamp(of: $0.utf8) }
            #expect(instants == instants.sorted(), "\(file) is in time order")
        }
        for arm in arms {
            let plain = try Fixtures.temporaryDirectory("variant-plain-\(arm.name)")
            let result = try Fixtures.run(Fixtures.tagstreamBinary, ["replay", "--pipeline", arm.pipeline, "--workers", "1", "--out", plain.path] + armFiles[arm.isVariant]!)
            #expect(result.status == 0, "\(result.stderr)")
            let own = out.appendingPathComponent("variants/\(arm.name)")
            for file in ReplayOutput.recordFiles + [ReplayOutput.lateFile] {
                let expected = try String(contentsOf: plain.appendingPathComponent(file), encoding: .utf8)
                #expect(try String(contentsOf: own.appendingPathComponent(file), encoding: .utf8) == expected, "\(arm.name) \(file)")
                if file != ReplayOutput.lateFile {
                    #expect((merged[file]?[arm.name] ?? []).map { $0 + "\n" }.joined() == expected, "\(arm.name): the merged \(file)")
                }
            }
            #expect(try String(contentsOf: plain.appendingPathComponent("tags.jsonl"), encoding: .utf8).count > 10_000, "too few records to prove much")
        }
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as? [String: Any])
        let split = try #require(summary["variants"] as? [[String: Any]])
        #expect(split.map { $0["name"] as? String } == arms.map(\.name) && split.map { $0["percent"] as? Int } == [70, 30])
    }

    @Test func aVariantWithTheControlsNameIsRefused() throws {
        let files = try Fixtures.generateEvents(["--users", "50", "--days", "5"], into: try Fixtures.temporaryDirectory("variant-same-in"))
        let result = try Fixtures.run(Fixtures.tagstreamBinary, ["replay", "--variant", Fixtures.referencePipeline,
                                                                 "--out", try Fixtures.temporaryDirectory("variant-same-out").path] + files)
        #expect(result.status != 0 && result.stderr.contains("give it a name of its own"), "\(result.stderr)")
    }
}
