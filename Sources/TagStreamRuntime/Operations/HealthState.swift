import Foundation

/// Whether a live run is healthy, as `/health` reports it: each component (the run loop, the
/// producer, a checkpoint store, …) reports its own trouble, and the run is healthy when none has
/// any. Thread-safe: components report from their own threads and the HTTP server reads.
public final class HealthState: @unchecked Sendable {
    private let lock = NSLock()
    /// The reason each degraded component gave, in the order they were reported.
    private var reasons: [(component: String, reason: String)] = []

    public init() {}

    /// Marks `component` degraded for `reason` (e.g. "checkpoint store unavailable"), replacing
    /// what it reported before.
    public func setDegraded(reason: String, component: String) {
        lock.withLock {
            if let i = reasons.firstIndex(where: { $0.component == component }) {
                reasons[i].reason = reason
            } else {
                reasons.append((component, reason))
            }
        }
    }

    /// Marks `component` healthy again.
    public func clear(component: String) {
        lock.withLock { reasons.removeAll { $0.component == component } }
    }

    /// The reason `component` is degraded, or nil when it is not.
    public func reason(of component: String) -> String? {
        lock.withLock { reasons.first { $0.component == component }?.reason }
    }

    /// Nil when healthy, else every degraded component's reason, joined by "; ".
    public var degradedReason: String? {
        lock.withLock { reasons.isEmpty ? nil : reasons.map(\.reason).joined(separator: "; ") }
    }

    /// The `/health` body: `ok: consuming`, or `degraded: ` and the reasons.
    public var report: (healthy: Bool, text: String) {
        guard let reason = degradedReason else { return (true, "ok: consuming") }
        return (false, "degraded: \(reason)")
    }
}
