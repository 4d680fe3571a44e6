import Foundation

/// How long a live run has had no partitions from its group, and what that calls for. Waiting is
/// normal while the group rebalances, or while a member killed just before holds the partitions
/// until its session times out: an unbounded run waits as long as it takes and says so once, a
/// bounded one (`--stop-at-end`) gives up after its limit.
struct AssignmentWait {
    enum Action: Equatable {
        case none
        /// Say once that the run is still waiting, after this many seconds.
        case warn(seconds: Int)
        /// Stop waiting: the limit has passed.
        case giveUp(seconds: Int)
    }

    /// After this long an unbounded run says that it is still waiting.
    static let warnAfter: TimeInterval = 30
    /// The bounded run's limit; nil: wait as long as it takes.
    let limit: TimeInterval?
    /// Since when no partition is assigned; nil while some are.
    private(set) var since: Date?
    private var warned = false

    init(limit: TimeInterval?, since start: Date) {
        self.limit = limit
        since = start
    }

    mutating func assigned() {
        since = nil
        warned = false
    }

    mutating func revokedAll(at now: Date) {
        if since == nil { since = now }
    }

    mutating func check(at now: Date) -> Action {
        guard let since else { return .none }
        let waited = now.timeIntervalSince(since)
        if let limit, waited > limit { return .giveUp(seconds: Int(waited)) }
        guard !warned, waited > Self.warnAfter else { return .none }
        warned = true
        return .warn(seconds: Int(waited))
    }
}
