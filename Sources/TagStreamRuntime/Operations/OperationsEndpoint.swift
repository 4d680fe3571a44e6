import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// The HTTP endpoint of a live run (`--http-port`), a service of its `ServiceGroup`:
/// `GET /metrics` in Prometheus text format, `GET /health` (200 `ok: consuming`, or 503 with
/// the reason the run is degraded) and, when given, the dashboard's routes.
public struct OperationsEndpoint: Service {
    private let application: Application<RouterResponder<BasicRequestContext>>

    /// Serves on `host:port`; `onListening` gets the bound port once the server accepts connections.
    public init(host: String = "0.0.0.0", port: Int, registry: PrometheusCollectorRegistry, health: HealthState,
                dashboard: DashboardRoutes? = nil, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        let router = Router()
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("health") { _, _ in
            let report = health.report
            return Response(status: report.healthy ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: report.text + "\n")))
        }
        dashboard?.register(on: router)
        application = Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "tagstream"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    public func run() async throws {
        try await application.run()
    }

    /// A metrics factory for `registry` whose latency histogram has buckets from 1 ms to 1 minute.
    public static func metricsFactory(_ registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[LiveMonitor.Name.latency] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(50),
            .milliseconds(100), .milliseconds(200), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
            .seconds(30), .seconds(60),
        ]
        return factory
    }
}
