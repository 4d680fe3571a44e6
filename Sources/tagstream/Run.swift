import ArgumentParser
import Foundation
import Kafka
import Logging
import Redis
import TagStreamCore
import TagStreamRuntime

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a pipeline on Kafka: consume the input topics, produce tags, alerts, coupons and stats.")

    @Option(help: "Kafka brokers, HOST:PORT[,…].")
    var brokers: String

    @Option(help: pipelineOptionHelp)
    var pipeline: String?

    @Option(help: "Consumer group (default: tagstream-<pipeline name>).")
    var group: String?

    @Option(name: .customShort("X"), help: "A librdkafka property key=value, as kcat takes it (repeatable).")
    var properties: [String] = []

    @Option(help: "Static group membership (group.instance.id), unique per instance: a restarted instance gets its partitions back at once instead of after the session timeout.")
    var instanceId: String?

    @Flag(help: "Stop once every assigned partition is at its end, finishing like replay (a backfill).")
    var stopAtEnd = false

    @Option(help: "Seconds without records after which a partition stops holding the watermark back.")
    var idleTimeout: Double = 30

    @Option(help: "Checkpoint to this Redis server (redis://[user:password@]host:port/db): restarts lose and duplicate nothing.")
    var redis: String?

    @Option(help: "Time between checkpoints (e.g. 10s).")
    var checkpointInterval = TimeSpan(milliseconds: 10_000)

    @Option(help: "When Redis holds no checkpoint but the group has committed offsets: fail, or reset (empty state from the committed offsets).")
    var onMissingCheckpoint = MissingCheckpointPolicy.fail

    @Option(help: "Key prefix of the profile store in Redis (user and community hashes).")
    var profilePrefix = "tagstream"

    @Option(help: "While Redis is unavailable, go on this long after the last checkpoint, then pause consumption.")
    var checkpointMaxDelay = TimeSpan(milliseconds: 30_000)

    @Option(help: "How long the lease on the group's checkpoints outlives its holder's last renewal (at least 6s): a standby takes over that long after the holder stops, and a record waits for delivery at most half of it before the run stops.")
    var lease = TimeSpan(milliseconds: 10_000)

    @Option(help: "Serve /metrics (Prometheus) and /health on this port.")
    var httpPort: Int?

    @Option(help: "Serve the leaders' dashboard API on --http-port, opened by links signed with the secret in this file (at least 32 bytes; see leader-link).")
    var secretFile: String?

    @Option(help: "With --secret-file: operators may also send 'Authorization: Bearer <token>' with the token in this file (at least 32 bytes).")
    var operatorTokenFile: String?

    @Option(help: "With --secret-file and --split-by-partition: the base URL at which the other instances send clients to this one's dashboard (default: http://<host name>:<http-port>).")
    var advertiseUrl: String?

    @Flag(help: "Split the run by input partition: every instance of the group runs the tasks of the partitions it is assigned, and they meet at each daily refresh through Kafka (needs --redis and co-partitioned input topics keyed by user_id).")
    var splitByPartition = false

    @Option(help: "A canary: run this pipeline file for a share of the users (--canary-percent), the same users in every run with that share. Its records carry \"variant\": its name, the others' the main pipeline's. It must define the same aggregates and time settings, and write to the same topics.")
    var canary: String?

    @Option(help: "With --canary: the canary's share of users, 0 to 100 (default: 5). A restart with another share moves users between the pipelines with their aggregates.")
    var canaryPercent: Int?

    func validate() throws {
        for property in properties where !property.contains("=") {
            throw ValidationError("-X takes key=value, got '\(property)'.")
        }
        guard checkpointInterval.milliseconds > 0 else { throw ValidationError("--checkpoint-interval must be positive.") }
        guard lease.milliseconds >= 6_000 else { throw ValidationError("--lease must be at least 6s (librdkafka checks for records to time out once a second).") }
        if splitByPartition, redis == nil { throw ValidationError("--split-by-partition needs --redis: each task's state moves with its partitions.") }
        if let httpPort, !(1...65_535).contains(httpPort) { throw ValidationError("--http-port must be from 1 to 65535.") }
        if secretFile != nil, httpPort == nil { throw ValidationError("--secret-file serves the dashboard on --http-port: give both.") }
        if operatorTokenFile != nil, secretFile == nil { throw ValidationError("--operator-token-file needs --secret-file.") }
        if advertiseUrl != nil, secretFile == nil || !splitByPartition { throw ValidationError("--advertise-url tells the other instances of a run split by partition where this one serves the dashboard: give --secret-file and --split-by-partition too.") }
        if canaryPercent != nil, canary == nil { throw ValidationError("--canary-percent is the share of --canary: give both.") }
        if let canaryPercent, !(0...100).contains(canaryPercent) { throw ValidationError("--canary-percent must be from 0 to 100, got \(canaryPercent).") }
        if let advertiseUrl, URL(string: advertiseUrl)?.host == nil { throw ValidationError("--advertise-url takes a URL such as http://host:8080, got '\(advertiseUrl)'.") }
    }

    static let defaultCanaryPercent = 5

    func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var options = LiveOptions(pipeline: try loadPipeline(pipeline), brokers: brokers, group: group)
        options.stopAtEnd = stopAtEnd
        options.idleTimeout = idleTimeout
        if let canary { options.canary = (try loadPipeline(canary), UserSplit(percent: canaryPercent ?? Self.defaultCanaryPercent)) }
        if let redis {
            var checkpoints = LiveCheckpointOptions(redis: try RedisURL(redis))
            checkpoints.interval = TimeInterval(checkpointInterval.milliseconds) / 1000
            checkpoints.onMissing = onMissingCheckpoint
            checkpoints.profilePrefix = profilePrefix
            checkpoints.maxDelay = TimeInterval(checkpointMaxDelay.milliseconds) / 1000
            checkpoints.leaseTTL = TimeInterval(lease.milliseconds) / 1000
            if splitByPartition, secretFile != nil, let httpPort {
                checkpoints.advertisedURL = advertiseUrl ?? "http://\(ProcessInfo.processInfo.hostName):\(httpPort)"
            }
            options.checkpoints = checkpoints
        }
        for property in properties {
            let parts = property.split(separator: "=", maxSplits: 1).map(String.init)
            options.properties[parts[0]] = parts[1]
        }
        options.instanceID = instanceId
        let job: any LiveRun
        do {
            job = splitByPartition ? try SplitLiveRun(options: options) : try LiveJob(options: options)
        } catch let error as KafkaError {
            throw ValidationError(error.message)
        } catch let error as LiveJobError {
            throw ValidationError(error.description)
        }
        // The status closure runs on the run loop's thread only, and `finish` after it has stopped.
        nonisolated(unsafe) let progress = ProgressLine()
        let dashboard: DashboardRoutes?
        do {
            dashboard = try secretFile.map { file in
                let access = AccessPolicy(signer: try LinkSigner.readSecret(file: file), operatorToken: try operatorTokenFile.map { try SecretFile.read($0) })
                return DashboardRoutes(source: job.serveDashboard(), access: access)
            }
        } catch let error as SecretFileError {
            throw ValidationError(error.description)
        }
        let (services, service) = liveServices(job: job, httpPort: httpPort, dashboard: dashboard, logger: Logger(label: "tagstream.run")) { counts, tally in
            progress.update("run: \(counts.total) records in (accepted \(counts.accepted)), out: "
                            + tally.byKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        do {
            try await services.run()
        } catch {
            progress.finish()
            FileHandle.standardError.write(Data("error: \((error as? KafkaError)?.message ?? "\(error)")\n".utf8))
            throw ExitCode(2)
        }
        progress.finish()
        guard let counts = service.counts else { throw ExitCode(2) }
        print("Input: \(counts.total) records: accepted \(counts.accepted), dead letters \(counts.deadLetter), "
              + "duplicates \(counts.duplicate), late \(counts.late), ignored \(counts.ignored)")
        func list(_ counts: [String: Int]) -> String {
            counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        print("Output: " + list(job.tally.byKind))
        let state = job.finalState
        print("Final state: \(state.users) users; " + state.groups.sorted { $0.key < $1.key }.map { "\($0.key): \(list($0.value))" }.joined(separator: "; "))
    }
}

extension MissingCheckpointPolicy: ExpressibleByArgument {}
