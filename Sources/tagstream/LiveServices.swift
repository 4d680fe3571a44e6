import Logging
import Prometheus
import ServiceLifecycle
import TagStreamCore
import TagStreamRuntime

/// The services of a live run (`run`, `demo`): the run loop and, with `httpPort`, the endpoint
/// serving `/metrics`, `/health` and, with `dashboard` (from `job.serveDashboard()`), the dashboard.
/// SIGTERM and SIGINT shut the group down gracefully, run loop first (it drains); the run loop
/// finishing on its own (`--stop-at-end`) shuts down the rest.
func liveServices(job: any LiveRun, httpPort: Int?, dashboard: DashboardRoutes? = nil, logger: Logger,
                  status: @escaping @Sendable (OutcomeCounts, OutputTally) -> Void) -> (group: ServiceGroup, run: LiveJobService) {
    let run = LiveJobService(job: job, status: status)
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
    if let httpPort {
        let registry = PrometheusCollectorRegistry()
        let monitor = LiveMonitor(factory: OperationsEndpoint.metricsFactory(registry))
        job.monitor = monitor
        services.append(.init(service: OperationsEndpoint(port: httpPort, registry: registry, health: monitor.health, dashboard: dashboard, logger: logger),
                              serviceName: "http"))
    }
    // Graceful shutdown goes through the services in reverse order: the run loop drains first.
    services.append(.init(service: run, successTerminationBehavior: .gracefullyShutdownGroup, serviceName: "run loop"))
    let group = ServiceGroup(configuration: ServiceGroupConfiguration(
        services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    return (group, run)
}
