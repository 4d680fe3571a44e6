// What the dashboard costs the run loop: the engine answers between two turns, so a dashboard
// build (one walk over the users, at most once a second while a page is open) and a user lookup
// pause the loop for as long as they take. Replays a generated data set, then times each
// question on the final state, as the run loop would answer it, and the size of its documents.
// Usage: swift run -c release dashboard-bench [USERS] [DAYS] [ROUNDS]   (default 100,000 60 20)
import Foundation
import TagStreamCore
import TagStreamRuntime
import TagStreamSimulation

func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let users = arguments.first ?? 100_000, days = arguments.dropFirst().first ?? 60, rounds = arguments.dropFirst(2).first ?? 20
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("dashboard-bench-\(getpid())")
defer { try? FileManager.default.removeItem(at: scratch) }

say("generating \(users) users × \(days) days…")
let generated = try writeEventFiles(config: SimulationConfig(users: users, days: days),
                                    layout: EventFileLayout.streams(directory: scratch.appendingPathComponent("in"), partitions: 1))
let options = ReplayOptions(pipeline: try PipelineLoader.load(path: "pipelines/community-grocery.yaml"),
                            inputs: generated.files.map(\.path), outputDirectory: scratch.appendingPathComponent("out").path)
let job = try ReplayJob(options: options)
_ = try job.run(progress: ProgressLine(enabled: false))

/// The median of `rounds` timings of `body`, in milliseconds.
func median(_ body: () -> Void) -> Double {
    let times = (0..<rounds).map { _ in
        let start = ContinuousClock.now
        body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15
    }
    return times.sorted()[times.count / 2]
}

var part = job.dashboardPart()
let build = median { part = job.dashboardPart() }
var overviewBytes = 0, communityBytes = 0
let encode = median {
    overviewBytes = DashboardJSON.overview(part).count
    communityBytes = part.communities.keys.map { DashboardJSON.community($0, in: part)!.count }.max() ?? 0
}
// Users the pages list: they exist, and their aggregates are the ones a lookup reads.
let ids = Array(part.communities.values.flatMap { $0.sleeping.map(\.user) + $0.vipsAtRisk.map(\.user) }.prefix(100))
var found = 0
let lookup = median { found = ids.filter { job.userView($0) != nil }.count } / Double(max(1, ids.count))
// What a task of a split run publishes after each checkpoint, and what a page costs to read it.
let fingerprint = options.pipeline.fingerprint
var published: [UInt8] = []
let publish = median { published = part.encoded(pipelineFingerprint: fingerprint) }
let read = median { _ = try? DashboardPart(encoded: published, pipelineFingerprint: fingerprint) }
say("\(users) users, \(part.communities.count) communities:")
say(String(format: "  dashboard build (every community): %.1f ms (median of %d)", build, rounds))
say(String(format: "  JSON of the overview and every community page: %.1f ms; largest page %d bytes, overview %d bytes", encode, communityBytes, overviewBytes))
say(String(format: "  user lookup: %.1f µs (%d of %d ids found)", lookup * 1_000, found, ids.count))
say(String(format: "  published part (split runs): %d bytes, %.0f per community; encoded in %.1f ms, decoded in %.1f ms",
           published.count, Double(published.count) / Double(max(1, part.communities.count)), publish, read))
