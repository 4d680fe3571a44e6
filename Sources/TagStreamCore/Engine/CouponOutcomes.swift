import DequeModule

/// A coupon, sent or held out, whose campaign follows an outcome and whose window
/// `(couponAt, couponAt + within]` is open: what the user has done towards the goal so far.
struct PendingOutcome: Sendable, Equatable {
    var user: Int32
    var community: Int32
    var holdout: Bool
    var couponAt: Int64
    var couponID: UInt64
    /// The user's coupon of the campaign before this one (`.min`: none), so that an event finds
    /// every open window of its user from the last coupon back, without an index per user.
    var previousAt: Int64
    /// The first goal event in the window; `.max`: none yet.
    var convertedAt: Int64 = .max
    /// The goal events' amounts in the window.
    var amount = Money.zero
}

extension Engine {
    /// Starts following the outcome of the coupon just emitted for campaign `c`, when the campaign
    /// declares one; `previous` is the user's coupon of the campaign before it.
    mutating func followOutcome(of coupon: OutputRecord, campaign c: Int, holdout: Bool, previous: Int64) {
        guard layout.outcomeWindows[c] > 0 else { return }
        // Coupons come in time order: only a first coupon in its queue can close before the others.
        if pendingOutcomes[c].isEmpty { nextOutcomeClose = min(nextOutcomeClose, coupon.ts + layout.outcomeWindows[c]) }
        let user = symbols.users[coupon.user], community = coupon.community >= 0 ? symbols.communities[coupon.community] : nil
        pendingOutcomes[c].append(PendingOutcome(
            user: coupon.user, community: coupon.community, holdout: holdout, couponAt: coupon.ts,
            couponID: RecordEncoder.hash(of: coupon, user: user, community: community), previousAt: previous))
    }

    /// Counts `event` towards the open windows of its user's coupons whose goal it is. Called
    /// before the event triggers anything: a coupon's window opens after its own instant.
    mutating func noteOutcomeEvent(_ event: Event) {
        for c in SetBits(layout.outcomesByType[Int(event.type.rawValue)]) {
            let within = layout.outcomeWindows[c]
            var at = lastTrigger[Int(event.user) * layout.campaigns + c]
            // Windows that closed before this event have had their records.
            while at != .min, at + within >= event.ts, let i = pendingIndex(campaign: c, user: event.user, at: at) {
                if at < event.ts {
                    if pendingOutcomes[c][i].convertedAt == .max { pendingOutcomes[c][i].convertedAt = event.ts }
                    pendingOutcomes[c][i].amount += event.amount
                }
                at = pendingOutcomes[c][i].previousAt
            }
        }
    }

    /// Sets when the next window closes, from the queues' first coupons.
    mutating func findNextOutcomeClose() {
        nextOutcomeClose = .max
        for c in pendingOutcomes.indices {
            if let first = pendingOutcomes[c].first { nextOutcomeClose = min(nextOutcomeClose, first.couponAt + layout.outcomeWindows[c]) }
        }
    }

    /// Emits a `coupon_outcome` record for each window closing at `instant`, by user, then campaign,
    /// as the records of timers are ordered (SPEC §5); they follow the other timers' records.
    mutating func closeOutcomes(at instant: Int64) {
        guard nextOutcomeClose == instant else { return }
        var closing: [(campaign: Int, outcome: PendingOutcome)] = []
        for c in pendingOutcomes.indices {
            let within = layout.outcomeWindows[c]
            while let first = pendingOutcomes[c].first, first.couponAt + within == instant {
                closing.append((c, pendingOutcomes[c].removeFirst()))
            }
        }
        findNextOutcomeClose()
        if closing.count > 1 {
            let names = symbols.users
            closing.sort { a, b in a.outcome.user != b.outcome.user ? names.precedes(a.outcome.user, b.outcome.user) : a.campaign < b.campaign }
        }
        for (c, outcome) in closing {
            let result = CouponOutcome(campaign: program.campaigns[c].name, couponID: outcome.couponID, holdout: outcome.holdout,
                                       convertedAt: outcome.convertedAt == .max ? nil : outcome.convertedAt, amount: outcome.amount)
            emit(OutputRecord(ts: instant, user: outcome.user, community: outcome.community, cause: .timer, body: .couponOutcome(result), evidence: []))
        }
    }

    /// Where the user's coupon of campaign `c` at `at` waits: coupons are appended in time order.
    private func pendingIndex(campaign c: Int, user: Int32, at: Int64) -> Int? {
        let queue = pendingOutcomes[c]
        var low = 0, high = queue.count
        while low < high {
            let middle = (low + high) / 2
            if queue[middle].couponAt < at { low = middle + 1 } else { high = middle }
        }
        while low < queue.count, queue[low].couponAt == at {
            if queue[low].user == user { return low }
            low += 1
        }
        return nil
    }
}
