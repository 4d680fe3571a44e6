import Foundation
import TagStreamCore

/// Where the dashboard's HTTP handlers ask the engine about users and communities. The engine
/// is not thread-safe (even its reads drop what left the windows), so handlers post their
/// questions here and the run loop answers them between turns (`serve`); a question the run
/// loop does not take within `patience` gets no answer, and the handler says "try again".
public final class ViewHub: @unchecked Sendable {
    /// How long a handler waits for the run loop.
    public let patience: Duration
    /// How old a dashboard may be when given again instead of built anew: building one walks
    /// every user, so the run loop builds at most one this often however many pages are open.
    public let reuseDashboardFor: TimeInterval

    private enum Question {
        case user(String)
        case dashboard
    }

    private enum Answer {
        case user(UserView?)
        case dashboard(DashboardPart)
    }

    private struct Pending {
        var question: Question
        var reply: CheckedContinuation<Answer?, Never>
    }

    private let lock = NSLock()
    private var pending: [Int: Pending] = [:]
    private var nextID = 0
    private var closed = false
    private var latest: (part: DashboardPart, builtAt: Date)?

    public init(patience: Duration = .seconds(2), reuseDashboardFor: TimeInterval = 1) {
        self.patience = patience
        self.reuseDashboardFor = reuseDashboardFor
    }

    /// User `id` now: `.some(nil)` for a user the engine has not seen, nil when the run loop
    /// did not answer in time (busy, restoring, or stopped).
    public func user(_ id: String) async -> UserView?? {
        guard case .user(let view) = await ask(.user(id)) else { return nil }
        return .some(view)
    }

    /// Every community now (at most `reuseDashboardFor` old); nil when the run loop did not answer in time.
    public func dashboard() async -> DashboardPart? {
        if let latest = lock.withLock({ latest }), Date().timeIntervalSince(latest.builtAt) < reuseDashboardFor { return latest.part }
        guard case .dashboard(let part) = await ask(.dashboard) else { return nil }
        return part
    }

    /// Answers the questions waiting; called by the thread that owns `processor`, between its turns.
    public func serve(_ processor: inout Processor) {
        let questions = lock.withLock {
            defer { pending.removeAll() }
            return pending.values
        }
        guard !questions.isEmpty else { return }
        var dashboard: DashboardPart?
        for question in questions {
            switch question.question {
            case .user(let id):
                question.reply.resume(returning: .user(processor.userView(id)))
            case .dashboard:
                if dashboard == nil {
                    let part = processor.dashboardPart()
                    lock.withLock { latest = (part, Date()) }
                    dashboard = part
                }
                question.reply.resume(returning: .dashboard(dashboard!))
            }
        }
    }

    /// Whether the run has ended (see `close`).
    public var isClosed: Bool { lock.withLock { closed } }

    /// Stops answering: the run has ended, and its state is no longer the engine's now.
    public func close() {
        let questions = lock.withLock {
            closed = true
            latest = nil
            defer { pending.removeAll() }
            return pending.values
        }
        for question in questions { question.reply.resume(returning: nil) }
    }

    private func ask(_ question: Question) async -> Answer? {
        await withCheckedContinuation { reply in
            let id: Int? = lock.withLock {
                guard !closed else { return nil }
                nextID += 1
                pending[nextID] = Pending(question: question, reply: reply)
                return nextID
            }
            guard let id else { return reply.resume(returning: nil) }
            Task { [weak self, patience] in
                try? await Task.sleep(for: patience)
                self?.giveUp(id)
            }
        }
    }

    private func giveUp(_ id: Int) {
        lock.withLock { pending.removeValue(forKey: id) }?.reply.resume(returning: nil)
    }
}
