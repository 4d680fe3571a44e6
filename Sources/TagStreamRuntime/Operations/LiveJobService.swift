import Foundation
import ServiceLifecycle
import TagStreamCore

/// A live run as a service of a `ServiceGroup`: the blocking run loop gets a thread of its own, and
/// graceful shutdown (SIGTERM, SIGINT) or cancellation asks it to drain (`LiveJob.stop()`).
public final class LiveJobService: Service, @unchecked Sendable {
    public let job: any LiveRun
    private let status: @Sendable (OutcomeCounts, OutputTally) -> Void
    private let lock = NSLock()
    private var finalCounts: OutcomeCounts?

    /// `status` is called about once a second from the run loop's thread.
    public init(job: any LiveRun, status: @escaping @Sendable (OutcomeCounts, OutputTally) -> Void = { _, _ in }) {
        self.job = job
        self.status = status
    }

    /// The input counts once the run has drained; nil before.
    public var counts: OutcomeCounts? { lock.withLock { finalCounts } }

    public func run() async throws {
        let job = self.job, status = self.status
        let health = job.monitor?.health
        defer { health?.setDegraded(reason: "stopped", component: "run loop") }
        let counts = try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<OutcomeCounts, any Error>) in
                    let thread = Thread {
                        continuation.resume(with: Result { try job.run(status: status) })
                    }
                    thread.name = "tagstream-run-loop"
                    thread.start()
                }
            } onGracefulShutdown: {
                health?.setDegraded(reason: "draining", component: "run loop")
                job.stop()
            }
        } onCancel: {
            job.stop()
        }
        job.monitor?.count(counts)
        lock.withLock { finalCounts = counts }
    }
}
