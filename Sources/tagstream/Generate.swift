import ArgumentParser
import Foundation
import TagStreamCore
import TagStreamRuntime
import TagStreamSimulation

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write realistic synthetic clickstream and order events (JSONL), deterministic for a seed.")

    @Option(help: "Users over the whole period.")
    var users = 10_000

    @Option(help: "Communities (default: users / 300, at least 1).")
    var communities: Int?

    @Option(help: "Days of traffic.")
    var days = 240

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: "First day, a UTC midnight (epoch ms or RFC 3339).")
    var start: Instant?

    @Option(help: "Output directory; gets clickstream.jsonl and orders.jsonl.")
    var out: String

    func run() throws {
        let config = SimulationConfig(
            users: users, communities: communities, days: days, seed: seed,
            start: start?.milliseconds ?? SimulationConfig.defaultStart)
        do {
            try config.validate()
        } catch {
            throw ValidationError(error.message)
        }
        let progress = ProgressLine()
        let started = Date()
        let stats = try writeEventFiles(config: config, to: URL(fileURLWithPath: out)) { day, total in
            progress.update("generate: day \(day) of \(total)")
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(started)
        print(stats.description)
        print(String(format: "Wrote %@/clickstream.jsonl and %@/orders.jsonl in %.1f s", out, out, seconds))
    }
}
