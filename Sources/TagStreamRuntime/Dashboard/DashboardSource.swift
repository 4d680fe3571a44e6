import TagStreamCore

/// Where a dashboard resource is answered.
public enum DashboardLocation: Equatable, Sendable {
    case here
    /// By the instance serving the dashboard at this base URL (it holds the owning task).
    case elsewhere(String)
    /// By no one now: the owning task is moving between instances, or its address is unknown.
    case unavailable
}

/// What the dashboard's routes ask: one engine's `ViewHub`, or the tasks of a run split by
/// partition (`SplitDashboard`), where each instance answers for the users and communities of
/// its tasks and sends requests about the others to their instances.
public protocol DashboardSource: Sendable {
    /// Where `resource` is answered.
    func locate(_ resource: DashboardResource) async -> DashboardLocation
    /// User `id` now: `.some(nil)` for a user not seen, nil when no answer came in time.
    func user(_ id: String) async -> UserView??
    /// Every community now; nil when no answer came in time.
    func dashboard() async -> DashboardPart?
    /// Whether the run has ended: event streams end.
    var isClosed: Bool { get }
}

extension ViewHub: DashboardSource {
    /// One engine holds every user and community.
    public func locate(_ resource: DashboardResource) async -> DashboardLocation { .here }
}
