// What a canary costs: (1) processor throughput on the same events without a canary and with one
// at 5 % and at 50 %, alternated; (2) a restore that raises the share from 5 % to 30 %: the time to
// restore the snapshot and move the users whose arm changed, with their aggregates.
// Usage: swift run -c release canary-bench [USERS] [DAYS]   (default 100,000 users, 60 days)
import Foundation
import TagStreamCore
import TagStreamRuntime
import TagStreamSimulation

func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let users = arguments.first ?? 100_000, days = arguments.dropFirst().first ?? 60
let pipeline = try PipelineLoader.load(path: "pipelines/community-grocery.yaml")
let canary = try PipelineLoader.parse(yaml: try String(contentsOfFile: "pipelines/community-grocery.yaml", encoding: .utf8)
    .replacingOccurrences(of: "pipeline: community-grocery", with: "pipeline: grocery-21d")
    .replacingOccurrences(of: "at_risk: since(last_paid) >= 30d", with: "at_risk: since(last_paid) >= 21d"), file: "next.yaml")

var simulator = try EventSimulator(config: SimulationConfig(users: users, days: days))
var lines: [[UInt8]] = []
while let day = simulator.nextDay() { lines += day.map { Array($0.json.utf8) } }
say("\(lines.count) events of \(users) users over \(days) days")

/// Feeds every line to a processor and drains its records; returns it and the seconds taken.
@MainActor func run(canaryPercent: Int?) throws -> (Processor, Double) {
    var processor = Processor(pipeline: pipeline, partitions: 1, canary: canaryPercent.map { (canary, UserSplit(percent: $0)) })
    let start = Date()
    for line in lines {
        _ = try line.withUnsafeBufferPointer { try processor.process($0, partition: 0) }
        if processor.engine.output.count > 10_000 { processor.drainOutput { _, _, _ in } }
    }
    try processor.finish()
    processor.drainOutput { _, _, _ in }
    return (processor, Date().timeIntervalSince(start))
}

var best: [String: Double] = [:]
var atFive: Processor?
for round in 0..<3 {
    for percent in [nil, 5, 50] as [Int?] {
        let (processor, seconds) = try run(canaryPercent: percent)
        let name = percent.map { "canary at \($0) %" } ?? "no canary"
        best[name] = max(best[name] ?? 0, Double(lines.count) / seconds)
        say(String(format: "round %d, %@: %.2f s, %.0f events/s", round + 1, name, seconds, Double(lines.count) / seconds))
        if percent == 5 { atFive = processor }
    }
}
for name in ["canary at 5 %", "canary at 50 %"] {
    say(String(format: "%@ / no canary (best of three each): %.2f", name, best[name]! / best["no canary"]!))
}

let snapshot = atFive!.snapshot()
var raised = Processor(pipeline: pipeline, partitions: 1, canary: (canary, UserSplit(percent: 30)))
let start = Date()
try raised.restore(snapshot)
let seconds = Date().timeIntervalSince(start)
var unmoved = Processor(pipeline: pipeline, partitions: 1, canary: (canary, UserSplit(percent: 5)))
let plainStart = Date()
try unmoved.restore(snapshot)
let plainSeconds = Date().timeIntervalSince(plainStart)
say(String(format: "restore at 30 %% of a 5 %% snapshot (%.1f MB): %.2f s, of which moving %d users to the canary %.2f s",
           Double(snapshot.count) / 1_048_576, seconds, raised.canaryMoves.toCanary.users, seconds - plainSeconds))
