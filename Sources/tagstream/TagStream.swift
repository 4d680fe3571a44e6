import ArgumentParser
import Foundation
import Redis
import TagStreamCore
import TagStreamRuntime

@main
struct TagStream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tagstream",
        abstract: "Streaming real-time tagging for community group-buying platforms.",
        subcommands: [Replay.self, Run.self, Demo.self, Generate.self, Validate.self, Cluster.self, Checkpoints.self, LeaderLink.self, Report.self, Compare.self])

    static func main() async {
        lineBufferStandardOutput()
        keepLargeAllocationsMapped()
        await main(nil)
    }
}

/// An instant given on the command line: epoch milliseconds or RFC 3339.
struct Instant: ExpressibleByArgument {
    let milliseconds: Int64
    init?(argument: String) {
        if let ms = Int64(argument) {
            milliseconds = ms
        } else if let ms = EventTime.parseRFC3339(Array(argument.utf8)) {
            milliseconds = ms
        } else {
            return nil
        }
    }
    static var defaultValueDescription: String { "epoch ms or RFC 3339" }
}

extension TimeSpan: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

/// Help for the `--pipeline` options that default to the built-in pipeline.
let pipelineOptionHelp = ArgumentHelp(
    "The pipeline file (default: the reference pipeline built into tagstream from \(BuiltInPipeline.file)).")

/// Loads a pipeline file, or the built-in pipeline when `path` is nil, turning its mistakes into a
/// clean exit with `file:line:column` lines.
func loadPipeline(_ path: String?) throws -> Pipeline {
    do {
        return try path.map { try PipelineLoader.load(path: $0) } ?? BuiltInPipeline.load()
    } catch let error as PipelineError {
        FileHandle.standardError.write(Data((error.description + "\n").utf8))
        throw ExitCode(1)
    }
}

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay event files through a pipeline (a backtest); each file is one partition.")

    @Option(help: pipelineOptionHelp)
    var pipeline: String?

    @Option(help: "The output directory.")
    var out: String

    @Option(help: "Apply events and fire timers up to this instant (epoch ms or RFC 3339).")
    var until: Instant?

    @Option(help: "Allowed out-of-orderness per partition, overriding the pipeline (e.g. 5m).")
    var lateness: TimeSpan?

    @Option(help: "Keep checkpoints here; a rerun with the same arguments resumes from the latest one.")
    var checkpointDir: String?

    @Option(help: "Keep checkpoints in this Redis server (redis://[user:password@]host:port/db) instead.")
    var redis: String?

    @Option(help: "Input records between checkpoints.")
    var checkpointEvery = 1_000_000

    @Option(help: "Threads that share the users (default: the machine's cores; 1 with checkpoints or a pipeline with daily caps). The results do not depend on it.")
    var workers: Int?

    @Option(help: "An A/B test: this pipeline runs for the --split share of users, --pipeline for the rest; records carry \"variant\": <pipeline name>, and each arm's own replay goes to OUT/variants/<name>/.")
    var variant: String?

    @Option(help: "With --variant: the variant's share of users, in percent (FNV-1a-64 of \"variant:<user_id>\" mod 100 below it).")
    var split: Int?

    @Argument(help: "Event files (JSONL, plain or gzip), each one partition.")
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("Give at least one event file.") }
        if let split, !(0...100).contains(split) { throw ValidationError("--split is a percentage from 0 to 100.") }
        if split != nil, variant == nil { throw ValidationError("--split divides users between --pipeline and --variant: give --variant too.") }
        if variant != nil, workers != nil { throw ValidationError("--variant runs each arm on a thread of its own: leave out --workers.") }
        if variant != nil, checkpointDir != nil || redis != nil { throw ValidationError("--variant takes no checkpoints: leave out --checkpoint-dir and --redis.") }
        guard (workers ?? 1) >= 1 else { throw ValidationError("--workers must be at least 1.") }
        guard checkpointEvery > 0 else { throw ValidationError("--checkpoint-every must be a positive number of records.") }
        guard checkpointDir == nil || redis == nil else { throw ValidationError("Give --checkpoint-dir or --redis, not both.") }
    }

    func run() throws {
        var compiled = try loadPipeline(pipeline)
        if let lateness { compiled.time.lateness = lateness }
        let checkpoints: CheckpointLocation? = try redis.map { .redis(try RedisURL($0)) } ?? checkpointDir.map { .directory($0) }
        let options = ReplayOptions(
            pipeline: compiled, inputs: files, outputDirectory: out, until: until?.milliseconds,
            checkpoints: checkpoints, checkpointEvery: checkpointEvery)
        let shards = workers ?? (checkpoints == nil && ShardRole.obstacle(in: compiled) == nil ? ProcessInfo.processInfo.activeProcessorCount : 1)
        let summary: ReplaySummary
        if let variant {
            let test: VariantReplay
            do {
                test = try VariantReplay(control: options, variant: try loadPipeline(variant), split: UserSplit(percent: split ?? 50))
            } catch let error as VariantError {
                throw ValidationError(error.description)
            }
            summary = try test.run()
            for arm in summary.variants ?? [] { print("Variant \(arm.name): \(arm.percent) % of users, \(arm.users) held; its own replay in \(test.directory(of: arm.name))/") }
        } else if shards > 1 {
            let job: ShardedReplayJob
            do {
                job = try ShardedReplayJob(options: options, workers: shards)
            } catch let error as ShardedReplayError {
                throw ValidationError(error.description)
            } catch let error as FileError {
                throw ValidationError(error.description)
            }
            summary = try job.run()
        } else {
            let job: ReplayJob
            do {
                job = try ReplayJob(options: options)
            } catch let error as FileError {
                throw ValidationError(error.description)
            } catch let error as SnapshotError {
                throw ValidationError("cannot resume from \(checkpoints?.description ?? ""): \(error.message)")
            } catch let error as RedisError {
                throw ValidationError(error.description)
            }
            if job.resumed { FileHandle.standardError.write(Data("resuming from the checkpoint in \(checkpoints?.description ?? "")\n".utf8)) }
            summary = try job.run()
        }
        print(summary.text)
        print("Results in \(out)/ (summary.json, \(ReplayOutput.allFiles.joined(separator: ", ")))")
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a pipeline file; prints file:line:column: message for each mistake.")

    @Argument(help: "The pipeline file.")
    var file: String

    func run() throws {
        let pipeline = try loadPipeline(file)
        print("\(file): pipeline '\(pipeline.name)' is valid: \(pipeline.aggregateCount) aggregates, "
              + "\(pipeline.multiTagGroups.count) tag groups (\(pipeline.multiTagGroups.joined(separator: ", "))), \(pipeline.flagCount) flags")
    }
}
