import ArgumentParser
import Foundation
import Kafka
import Logging
import TagStreamCore
import TagStreamRuntime
import TagStreamSimulation

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Live demo: an embedded 3-broker Kafka cluster, synthetic traffic in accelerated time, and the engine on it.")

    @Option(help: "Wall-clock seconds per simulated day.")
    var secondsPerDay: Double = 3

    @Option(help: "Stop after this many seconds (default: run until Ctrl-C).")
    var duration: Double?

    @Option(help: "Users in the synthetic community platform.")
    var users = 3_000

    @Option(help: pipelineOptionHelp)
    var pipeline: String?

    @Option(help: "Partitions of every topic; each keeps its newest \(partitionRetention).")
    var partitions = 16

    @Option(help: "Serve /metrics (Prometheus), /health and the leaders' dashboard on this port; the demo signs its own links and prints them.")
    var httpPort: Int?

    func validate() throws {
        guard secondsPerDay > 0 else { throw ValidationError("--seconds-per-day must be positive.") }
        guard users > 0 else { throw ValidationError("--users must be positive.") }
        try validatePartitions(partitions, option: "--partitions")
        if let httpPort, !(1...65_535).contains(httpPort) { throw ValidationError("--http-port must be from 1 to 65535.") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let compiled = try loadPipeline(pipeline)
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        let topics = compiled.topics
        for topic in topics.all {
            try cluster.createTopic(topic, partitions: partitions, replicationFactor: 3)
        }
        let view = DemoView()
        print("bootstrap: \(cluster.bootstrapServers)")
        print("watch with: kcat -b \(cluster.bootstrapServers) -C -t \(topics.tags) -o end")
        print(retentionLine(inputPartitions: partitions, more: "more --partitions"))

        let job = try LiveJob(options: LiveOptions(pipeline: compiled, brokers: cluster.bootstrapServers, group: "tagstream-demo"))
        job.onRecord = { kind, bytes in view.record(kind, String(decoding: bytes, as: UTF8.self)) }
        let dashboard = httpPort.map { port in Self.dashboard(port: port, view: view, source: job.serveDashboard()) }
        let traffic = try TrafficPublisher(brokers: cluster.bootstrapServers, topics: topics,
                                           config: SimulationConfig(users: users, days: 36_500), secondsPerDay: secondsPerDay)
        let (services, _) = liveServices(job: job, httpPort: httpPort, dashboard: dashboard, logger: Logger(label: "tagstream.demo")) { counts, tally in
            view.update(counts: counts, tally: tally, published: traffic.published, day: traffic.day)
        }
        let failure = ErrorBox()
        Thread.detachNewThread {
            do {
                try traffic.run()
            } catch {
                failure.set(error)
                Task { await services.triggerGracefulShutdown() }
            }
        }
        if let duration {
            Task {
                try await Task.sleep(for: .seconds(duration))
                await services.triggerGracefulShutdown()
            }
        }
        let render = DispatchSource.makeTimerSource(queue: .global())
        render.schedule(deadline: .now() + 1, repeating: isatty(STDOUT_FILENO) == 1 ? 0.5 : 5)
        render.setEventHandler { view.draw() }
        render.resume()
        defer {
            render.cancel()
            // The publisher flushes its last events while the cluster still serves it.
            traffic.stopAndWait()
            withExtendedLifetime(cluster) {}
        }
        try await services.run()
        if let error = failure.value { throw error }
        view.draw(final: true)
    }
}

extension Demo {
    /// The dashboard with a secret made for this run, and its links printed for the operator and
    /// for the leader of the first community (valid for a day; the secret dies with the demo).
    static func dashboard(port: Int, view: DemoView, source: any DashboardSource) -> DashboardRoutes {
        let signer = LinkSigner(secret: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let expires = Date().addingTimeInterval(86_400)
        let base = "http://127.0.0.1:\(port)"
        let links = ["dashboard: " + base + signer.sign(path: DashboardScope.operator.pagePath, expires: expires),
                     "leader link: " + base + signer.sign(path: DashboardScope.leader(community: "c001").pagePath, expires: expires)]
        for line in links { print(line) }
        view.links = links
        return DashboardRoutes(source: source, access: AccessPolicy(signer: signer, operatorToken: nil))
    }
}

/// Publishes simulated days to the input topics, spreading each day over `secondsPerDay`.
final class TrafficPublisher: @unchecked Sendable {
    private let producer: KafkaProducer
    private let topics: Topics
    private var simulator: EventSimulator
    private let secondsPerDay: Double
    private let stopped = NSLock()
    private var isStopped = false
    private let counters = NSLock()
    private var publishedCount = 0
    private var dayIndex = 0

    init(brokers: String, topics: Topics, config: SimulationConfig, secondsPerDay: Double) throws {
        producer = try KafkaProducer(configuration: .producer(brokers: brokers))
        self.topics = topics
        simulator = try EventSimulator(config: config)
        self.secondsPerDay = secondsPerDay
    }

    var published: Int { counters.withLock { publishedCount } }
    var day: Int { counters.withLock { dayIndex } }

    private let finished = DispatchSemaphore(value: 0)

    /// Stops publishing and waits until `run` has returned, its producer flushed.
    func stopAndWait() {
        stopped.withLock { isStopped = true }
        finished.wait()
    }

    func run() throws {
        defer { finished.signal() }
        while !stopped.withLock({ isStopped }), let events = simulator.nextDay() {
            let dayStart = Date()
            let midnight = events.first.map { $0.ts - $0.ts % EventTime.day } ?? 0
            for event in events {
                let due = Double(event.ts - midnight) / Double(EventTime.day) * secondsPerDay
                let wait = due - Date().timeIntervalSince(dayStart)
                if wait > 0.01 { Thread.sleep(forTimeInterval: wait) }
                if stopped.withLock({ isStopped }) { break }
                try producer.send(topic: event.stream == .orders ? topics.orders : topics.clickstream,
                                  key: Array(event.userID.utf8), value: Array(event.json.utf8))
                producer.poll()
                counters.withLock { publishedCount += 1 }
            }
            counters.withLock { dayIndex += 1 }
        }
        try producer.flush()
    }
}

/// The demo's live view: counters and the latest records; a redrawn screen on a terminal,
/// otherwise a status line every few seconds.
final class DemoView: @unchecked Sendable {
    private let lock = NSLock()
    private var counts = OutcomeCounts()
    private var tally = OutputTally()
    private var published = 0
    private var day = 0
    private var recent: [OutputRecord.Kind: [String]] = [:]
    private let started = Date()
    private var lastAccepted = 0, lastDraw = Date()
    private let isTerminal = isatty(STDOUT_FILENO) == 1
    /// The dashboard's links, shown at the top of the screen; set before the first draw.
    var links: [String] = []

    func update(counts: OutcomeCounts, tally: OutputTally, published: Int, day: Int) {
        lock.withLock {
            self.counts = counts
            self.tally = tally
            self.published = published
            self.day = day
        }
    }

    func record(_ kind: OutputRecord.Kind, _ json: String) {
        guard kind != .communityStats, let line = Self.describe(json) else { return }
        lock.withLock {
            recent[kind, default: []].append(line)
            if recent[kind]!.count > 5 { recent[kind]!.removeFirst() }
        }
    }

    /// One line for a person: when, who, what changed.
    static func describe(_ json: String) -> String? {
        guard let r = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return nil }
        let when = (r["ts"] as? Int).map { EventTime.format(Int64($0)) } ?? "?"
        let who = (r["user_id"] as? String) ?? (r["community_id"] as? String) ?? "?"
        switch r["kind"] as? String {
        case "tag":
            return "\(when)  \(who)  \(r["group"] ?? ""): \(r["previous"] as? String ?? "–") → \(r["tag"] as? String ?? "–")"
        case "alert":
            return "\(when)  \(who)  \(r["alert"] ?? "")"
        case "coupon":
            return "\(when)  \(who)  \(r["campaign"] ?? "")" + ((r["holdout"] as? Bool) == true ? " (holdout: not sent)" : "")
        case "coupon_outcome":
            let converted = (r["converted"] as? Bool) == true ? "converted, paid \(r["amount"] ?? 0)" : "not converted"
            return "\(when)  \(who)  \(r["campaign"] ?? "")" + ((r["holdout"] as? Bool) == true ? " (held out)" : "") + ": \(converted)"
        default:
            return nil
        }
    }

    func draw(final: Bool = false) {
        lock.withLock {
            let now = Date()
            let rate = Double(counts.total - lastAccepted) / max(0.001, now.timeIntervalSince(lastDraw))
            lastAccepted = counts.total
            lastDraw = now
            let outputs = tally.byKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            let status = String(format: "day %d · in %d (%.0f/s, lag %d) · accepted %d, dead letters %d, late %d · out: %@",
                                day, counts.total, rate, max(0, published - counts.total), counts.accepted, counts.deadLetter,
                                counts.late, outputs.isEmpty ? "none yet" : outputs)
            guard isTerminal, !final else {
                print(final ? "final: \(status)" : status)
                return
            }
            var screen = "\u{1B}[H\u{1B}[2J TagStream demo · \(Int(now.timeIntervalSince(started))) s · Ctrl-C stops\n"
                + links.map { " \($0)\n" }.joined() + "\n \(status)\n"
            for kind in [OutputRecord.Kind.tag, .alert, .coupon, .couponOutcome] {
                screen += "\n latest \(kind.name) records:\n"
                for line in recent[kind] ?? [] { screen += "   \(line.prefix(150))\n" }
            }
            print(screen, terminator: "")
        }
    }
}

/// The first error of a background thread.
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: Error?
    func set(_ e: Error) { lock.withLock { if error == nil { error = e } } }
    var value: Error? { lock.withLock { error } }
}
