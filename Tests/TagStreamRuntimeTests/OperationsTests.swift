import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Kafka
import Logging
import Prometheus
import ServiceLifecycle
import TestServers
import Testing
import TagStreamCore
@testable import TagStreamRuntime

/// `/metrics` and `/health` of a live run: the built binary on the embedded cluster, and the
/// endpoint on its own.
@Suite(.serialized) struct OperationsTests {
    static let day0 = LiveOperationTests.day0

    @Test func healthStateJoinsTheReasonsOfDegradedComponents() {
        let health = HealthState()
        #expect(health.report.healthy && health.report.text == "ok: consuming")
        health.setDegraded(reason: "no partitions assigned", component: "assignment")
        health.setDegraded(reason: "checkpoint store unavailable", component: "checkpoints")
        health.setDegraded(reason: "checkpoint store unavailable (3 retries)", component: "checkpoints")
        #expect(!health.report.healthy)
        #expect(health.report.text == "degraded: no partitions assigned; checkpoint store unavailable (3 retries)")
        health.clear(component: "assignment")
        #expect(health.report.text == "degraded: checkpoint store unavailable (3 retries)")
        health.clear(component: "checkpoints")
        #expect(health.report.healthy)
    }

    /// The tasks of a split instance share its health and registry: one task's recovery does not
    /// clear another's trouble, each has gauges of its own, and a task that ends takes its own away.
    @Test func tasksOfOneInstanceReportHealthAndGaugesOfTheirOwn() {
        let registry = PrometheusCollectorRegistry()
        let health = HealthState()
        let tasks = (0..<2).map { LiveMonitor(health: health, factory: OperationsEndpoint.metricsFactory(registry), task: $0) }
        for task in tasks { task.holdsPartitions(true) }
        tasks[0].checkpointed(saved: false, seconds: 0, bytes: 0, degradedReason: "checkpoint store unavailable")
        tasks[1].checkpointed(saved: true, seconds: 0.1, bytes: 2_048, degradedReason: nil)
        #expect(health.report.text == "degraded: task 0: checkpoint store unavailable")
        let metrics = String(decoding: registry.emitToBuffer(), as: UTF8.self)
        #expect(PrometheusText.value(in: metrics, LiveMonitor.Name.checkpointBytes, labels: #"{task="1"}"#) == 2_048, "\(metrics)")
        #expect(PrometheusText.value(in: metrics, LiveMonitor.Name.checkpointBytes, labels: #"{task="0"}"#) == 0, "\(metrics)")
        tasks[0].taskEnded()
        #expect(health.report.healthy, "\(health.report.text)")
        let after = String(decoding: registry.emitToBuffer(), as: UTF8.self)
        #expect(!after.contains(#"task="0""#) && after.contains(#"task="1""#), "\(after)")
    }

    @Test func endpointServesHealthOfAnyComponentAndTheRegistry() async throws {
        let registry = PrometheusCollectorRegistry()
        let health = HealthState()
        OperationsEndpoint.metricsFactory(registry).makeCounter(label: "tagstream_test_total", dimensions: [("kind", "probe")]).increment(by: 3)
        let port = try LoopbackPort.free()
        let endpoint = OperationsEndpoint(host: "127.0.0.1", port: port, registry: registry, health: health, logger: Logger(label: "test"))
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [endpoint], logger: Logger(label: "test")))
        let server = Task { try await group.run() }
        defer { server.cancel() }

        let ok = try await HTTP.waitForResponse(port: port, path: "/health") { $0.status == 200 }
        #expect(ok.body == "ok: consuming\n")
        health.setDegraded(reason: "checkpoint store unavailable", component: "checkpoints")
        let degraded = try await HTTP.get(port: port, path: "/health")
        #expect(degraded.status == 503 && degraded.body == "degraded: checkpoint store unavailable\n")
        health.clear(component: "checkpoints")
        #expect(try await HTTP.get(port: port, path: "/health").status == 200)
        let metrics = try await HTTP.get(port: port, path: "/metrics")
        #expect(PrometheusText.value(in: metrics.body, "tagstream_test_total", labels: #"{kind="probe"}"#) == 3)
        await group.triggerGracefulShutdown()
        try await server.value
    }

    @Test func metricsCountTheOutcomesOfWhatWasProduced() async throws {
        let pipeline = try PipelineLoader.load(path: Fixtures.referencePipeline)
        let topics = pipeline.topics
        let cluster = try LiveOperationTests.cluster(partitions: 2, topics: topics)
        let producer = try KafkaProducer(configuration: .producer(brokers: cluster.bootstrapServers))
        func send(_ value: String, partition: Int32) throws {
            try producer.send(topic: topics.clickstream, key: nil, value: Array(value.utf8), partition: partition)
        }
        // 40 accepted: 20 users, two events each, on two partitions.
        for i in 0..<20 {
            for p in Int32(0)...1 {
                let user = "u\(Int(p) * 10 + i % 10)"
                try send(String(decoding: LiveOperationTests.event("c\(p)-\(i)", user: user, at: Self.day0 + Int64(i) * EventTime.hour), as: UTF8.self),
                         partition: p)
            }
        }
        // 2 duplicates, 3 dead letters, 1 ignored (unknown type), 1 late (hours behind its partition).
        try send(String(decoding: LiveOperationTests.event("c0-3", user: "u3", at: Self.day0 + 3 * EventTime.hour), as: UTF8.self), partition: 1)
        try send(String(decoding: LiveOperationTests.event("c1-4", user: "u14", at: Self.day0 + 4 * EventTime.hour), as: UTF8.self), partition: 0)
        try send("not json", partition: 0)
        try send(#"{"event_id":"b2""#, partition: 1)
        try send(#"{"type":"app_open","user_id":"u1","ts":\#(Self.day0)}"#, partition: 0)
        try send(#"{"event_id":"x1","type":"teleport","user_id":"u1","ts":\#(Self.day0 + EventTime.hour)}"#, partition: 1)
        try send(String(decoding: LiveOperationTests.event("late-1", user: "u5", at: Self.day0), as: UTF8.self), partition: 0)
        try producer.flush()

        let port = try LoopbackPort.free()
        let process = try Fixtures.launch(["run", "--brokers", cluster.bootstrapServers, "--pipeline", Fixtures.referencePipeline,
                                           "--group", "metrics", "--http-port", String(port), "--idle-timeout", "1",
                                           "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"])
        defer { if process.isRunning { process.terminate() } }
        let metrics = try await HTTP.waitForResponse(port: port, path: "/metrics", timeout: 60) { response in
            ["accepted", "dead_letter", "duplicate", "late", "ignored"].compactMap {
                PrometheusText.value(in: response.body, "tagstream_events_in_total", labels: #"{outcome="\#($0)"}"#)
            }.reduce(0, +) >= 47
        }.body
        func eventsIn(_ outcome: String) -> Double? {
            PrometheusText.value(in: metrics, "tagstream_events_in_total", labels: #"{outcome="\#(outcome)"}"#)
        }
        #expect(eventsIn("accepted") == 40)
        #expect(eventsIn("duplicate") == 2)
        #expect(eventsIn("dead_letter") == 3)
        #expect(eventsIn("ignored") == 1)
        #expect(eventsIn("late") == 1)

        // Records out equal what the tags topic holds; each was caused by an event, so each has a latency.
        let tags = try #require(PrometheusText.value(in: metrics, "tagstream_records_out_total", labels: #"{kind="tag"}"#))
        #expect(tags > 0)
        let probe = try KafkaConsumer(configuration: .consumer(brokers: cluster.bootstrapServers, group: "probe"))
        func onTopic() throws -> Double {
            Double(try (0...1).map { try probe.endOffset(of: TopicPartition(topic: topics.tags, partition: Int32($0))) }.reduce(0, +))
        }
        let delivered = Date().addingTimeInterval(10)
        while try onTopic() < tags, Date() < delivered { try await Task.sleep(for: .milliseconds(100)) }
        #expect(try onTopic() == tags, "the idempotent producer wrote each record handed to it once")
        #expect(PrometheusText.value(in: metrics, "tagstream_end_to_end_latency_seconds_count") == tags)
        let latencySum = try #require(PrometheusText.value(in: metrics, "tagstream_end_to_end_latency_seconds_sum"))
        #expect(latencySum >= 0 && latencySum < tags * 60)

        // Every input partition has its lag, and all were read to the end; the event-time lag is
        // sampled once the empty orders partitions are idle (a second after their assignment).
        let settled = try await HTTP.waitForResponse(port: port, path: "/metrics") { response in
            [topics.clickstream, topics.orders].allSatisfy { topic in
                (0...1).allSatisfy {
                    PrometheusText.value(in: response.body, "tagstream_consumer_lag_records", labels: #"{topic="\#(topic)",partition="\#($0)"}"#) == 0
                }
            } && (PrometheusText.value(in: response.body, "tagstream_event_time_lag_seconds") ?? 0) > 0
        }.body
        #expect(PrometheusText.value(in: settled, "tagstream_assigned_partitions") == 4)
        #expect(PrometheusText.value(in: settled, "tagstream_producer_queue_records") != nil)
        let eventTimeLag = try #require(PrometheusText.value(in: settled, "tagstream_event_time_lag_seconds"))
        #expect(eventTimeLag > 0, "the events are from 2026-01-01, before the wall clock")

        let health = try await HTTP.get(port: port, path: "/health")
        #expect(health.status == 200 && health.body == "ok: consuming\n")
        kill(process.processIdentifier, SIGTERM)
        try await Self.waitForExit(process)
        #expect(process.terminationStatus == 0)
    }

    @Test func healthIsDegradedWhileNoPartitionsAreAssigned() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)  // no topics at all
        let port = try LoopbackPort.free()
        let process = try Fixtures.launch(["run", "--brokers", cluster.bootstrapServers, "--pipeline", Fixtures.referencePipeline,
                                           "--group", "unassigned", "--http-port", String(port)])
        defer { if process.isRunning { process.terminate() } }
        let health = try await HTTP.waitForResponse(port: port, path: "/health") { _ in true }
        #expect(health.status == 503 && health.body == "degraded: no partitions assigned\n")
        kill(process.processIdentifier, SIGTERM)
        try await Self.waitForExit(process)
        #expect(process.terminationStatus == 0)
    }

    @Test func healthIsDegradedWhileEveryBrokerIsDown() async throws {
        let topics = Topics()
        let cluster = try LiveOperationTests.cluster(partitions: 1, topics: topics)
        let port = try LoopbackPort.free()
        let process = try Fixtures.launch(["run", "--brokers", cluster.bootstrapServers, "--pipeline", Fixtures.referencePipeline,
                                           "--group", "outage", "--http-port", String(port),
                                           "-X", "reconnect.backoff.max.ms=500"])
        defer { if process.isRunning { process.terminate() } }
        _ = try await HTTP.waitForResponse(port: port, path: "/health", timeout: 30) { $0.status == 200 }
        for broker in Int32(1)...3 { try cluster.setBroker(broker, up: false) }
        let down = try await HTTP.waitForResponse(port: port, path: "/health", timeout: 30) { $0.status == 503 }
        #expect(down.body.hasPrefix("degraded: ") && down.body.contains("broker unreachable"), "\(down.body)")
        for broker in Int32(1)...3 { try cluster.setBroker(broker, up: true) }
        let back = try await HTTP.waitForResponse(port: port, path: "/health", timeout: 30) { $0.status == 200 }
        #expect(back.body == "ok: consuming\n")
        kill(process.processIdentifier, SIGTERM)
        try await Self.waitForExit(process)
        #expect(process.terminationStatus == 0)
    }

    static func waitForExit(_ process: Process, timeout: TimeInterval = 15) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!process.isRunning, "exits within \(Int(timeout)) s of SIGTERM")
        process.waitUntilExit()
    }
}

/// Reading Prometheus text format.
enum PrometheusText {
    /// The value of the sample `name` + `labels` (written as the exposition writes them), or nil.
    static func value(in text: String, _ name: String, labels: String = "") -> Double? {
        let prefix = name + labels + " "
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }
}

/// A minimal HTTP client for the tests.
enum HTTP {
    struct Response: Sendable {
        var status: Int
        var body: String
        var headers: [String: String] = [:]
    }

    static func get(port: Int, path: String, headers: [String: String] = [:], followRedirects: Bool = true) async throws -> Response {
        try await get(url: "http://127.0.0.1:\(port)\(path)", headers: headers, followRedirects: followRedirects)
    }

    static func get(url address: String, headers: [String: String] = [:], followRedirects: Bool = true) async throws -> Response {
        guard let url = URL(string: address) else { throw TestFailure("not a URL: \(address)") }
        var request = URLRequest(url: url)
        request.timeoutInterval = 5
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await (followRedirects ? URLSession.shared : withoutRedirects).data(for: request)
        let http = response as? HTTPURLResponse
        var fields: [String: String] = [:]
        for case let (name as String, value as String) in http?.allHeaderFields ?? [:] { fields[name.lowercased()] = value }
        return Response(status: http?.statusCode ?? 0, body: String(decoding: data, as: UTF8.self), headers: fields)
    }

    /// A session that hands redirects back instead of following them.
    private static let withoutRedirects = URLSession(configuration: .ephemeral, delegate: RedirectRefusal(), delegateQueue: nil)

    private final class RedirectRefusal: NSObject, URLSessionTaskDelegate, Sendable {
        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
            completionHandler(nil)
        }
    }

    /// Asks until the server answers with a response that `accept`s (connection errors are retried).
    static func waitForResponse(port: Int, path: String, timeout: TimeInterval = 30,
                                _ accept: (Response) -> Bool) async throws -> Response {
        let deadline = Date().addingTimeInterval(timeout)
        var last: Response?
        while Date() < deadline {
            if let response = try? await get(port: port, path: path) {
                last = response
                if accept(response) { return response }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestFailure("no accepted answer from \(path) within \(Int(timeout)) s; last: \(String(describing: last))")
    }
}
