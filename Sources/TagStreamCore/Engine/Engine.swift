import DequeModule
import HeapModule

/// The deterministic state machine of a pipeline: applies ordered events, fires timers and the
/// daily refresh, and appends output records. It does no I/O and reads no clock.
public struct Engine: Sendable {
    public let pipeline: Pipeline
    /// Which users and communities this engine holds (see `ShardRole`).
    public let shard: ShardRole
    let program: Program
    /// Interned strings, shared with the decoder that feeds this engine.
    public var symbols = SymbolTable()
    /// Records produced since the caller last drained them, in SPEC §5 order.
    public var output: [OutputRecord] = []

    // Per user, indexed by the interned user id (`users × n` arrays are row-major).
    var userSeen: [Bool] = []
    var userCommunity: [Int32] = []
    var userAggregates: [AggregateColumn]
    /// users × groups: the current tag index, -1 for none.
    var tags: [Int8] = []
    /// users × boundary rules: the next instant at which time alone may change the rule; `.max`: none.
    var due: [Int64] = []
    /// users × groups: until when the group's last result stands unless what it reads changes
    /// (its next boundary); `.min`: evaluate again. Not part of snapshots: `.min` is always safe.
    var validUntil: [Int64] = []
    /// users × sampled statistics (`Layout.sampledStatistics`): the user's sample at the last
    /// refresh (none: outside the population), and until when it stands unless what it reads
    /// changes; `.min`: evaluate again. Not part of snapshots: `.min` is always safe.
    var sampleCache: [Value] = []
    var sampleValidUntil: [Int64] = []
    /// Per user: which community counts' conditions held at the last refresh (bit i: count i),
    /// and until when that stands unless what they read changes; `.min`: evaluate again. Not part
    /// of snapshots.
    var countsHeld: [UInt64] = []
    var countsValidUntil: [Int64] = []
    /// users × alerts.
    var armed: [Bool] = []
    /// users × campaigns: the last trigger, `.min`: never.
    var lastTrigger: [Int64] = []

    // Per community, indexed by the interned community id.
    var communityAggregates: [AggregateColumn]
    /// communities × alerts.
    var communityArmed: [Bool] = []
    var communitySlots = 0
    /// Per community: whether an applied event named it. Only those get figures and alerts, so that
    /// they do not depend on how far ahead records were read.
    var communitySeen: [Bool] = []
    /// Per community: the refreshes of the last `historySpan` (see `CommunityDay`).
    var communityHistory: [CommunityHistory] = []
    /// Sharded: the communities first named since the last refresh, and the occurrences for
    /// community aggregates, which go to the communities' owners at the next refresh.
    var communitiesSinceRefresh: [Int32] = []
    var outgoingOccurrences: [CommunityOccurrence] = []
    /// Sharded: the refresh that `advance` stopped before, until the shards have met (see `DailyRefresh`).
    public internal(set) var waitingRefresh: Int64?

    var timers = Heap<TimerEntry>()
    /// Delayed campaign triggers, per campaign. All triggers of a campaign wait the same delay
    /// after events that come in time order, so each list stays in order as it is appended to and
    /// needs no heap (in the reference pipeline they are most timers: one per `add_to_cart`).
    var delayedTriggers: [Deque<TimerEntry>]
    /// Per campaign with an outcome: its coupons whose windows are open, in time order, and when
    /// the first of them closes (`.max`: none), kept so that every event need not look.
    var pendingOutcomes: [Deque<PendingOutcome>]
    var nextOutcomeClose: Int64 = .max
    /// The next daily refresh; `.max` until the first event is applied.
    var nextRefresh: Int64 = .max
    /// The last instant whose timers and refresh have fired.
    public internal(set) var clock: Int64 = .min
    /// The population statistics of the last refresh.
    var statistics: [Value]
    /// The users seen, in user_id order, for a refresh that must walk them so; those seen since
    /// the last such refresh wait in `usersSinceRefresh` to be merged in.
    var sortedUsers: [Int32] = []
    var usersSinceRefresh: [Int32] = []
    /// Coupon triggers per campaign and community on `capDay` (UTC day number), for daily caps.
    var capDay: Int64 = .min
    var capCounts: [CapKey: Int] = [:]

    /// What expressions are evaluated for: the instant, the user and the community (see `ExpressionInput`).
    var frame = Frame()
    /// Community counts of the refresh in progress: counts × communities.
    var communityCounts: [[Int64]] = []

    let layout: Layout
    let expressions: EngineExpressions

    struct CapKey: Hashable, Sendable {
        var campaign: Int
        var community: Int32
    }

    struct Frame: Sendable {
        var t: Int64 = 0
        var user: Int32 = -1
        var community: Int32 = -1
        /// Whether an evaluation read a population statistic (which every refresh changes).
        var readStatistics = false
    }

    /// Index lists computed once from the program, so the hot path only walks what applies.
    struct Layout: Sendable {
        var groups: Int
        var rules: Int
        var alerts: Int
        var campaigns: Int
        /// Whether the pipeline emits community figures or alerts (else community state is not kept
        /// for a refresh).
        var hasCommunityOutputs: Bool
        /// Per event type, as masks (reading a list per event retained and released it): the user
        /// and the community aggregates it feeds, the user alerts evaluated at it and the campaigns
        /// it triggers.
        var userAggregatesByType: [UInt64]
        var communityAggregatesByType: [UInt64]
        var alertsByType: [UInt64]
        var campaignsByType: [UInt64]
        /// Per campaign: how long its triggers wait, if they do.
        var campaignDelays: [Int64?]
        /// Per event type: the campaigns whose outcome it is, as a mask; per campaign, its outcome
        /// window (0: none), read on the hot path without copying the program's campaigns.
        var outcomesByType: [UInt64]
        var outcomeWindows: [Int64]
        /// The windowed user and community aggregates, as masks.
        var windowedUserAggregates: UInt64
        var windowedCommunityAggregates: UInt64
        /// Per event type: the groups evaluated at it, as a mask.
        var groupsByType: [UInt64]
        /// Per group: the campaigns triggered by its tags.
        var campaignsByGroup: [[Int]]
        var boundaryRules: [Int]
        /// The groups and the alerts evaluated at boundaries, as masks.
        var boundaryGroups: UInt64
        var boundaryAlerts: UInt64
        /// Per rule: its index among `boundaryRules` (its column of `due`), or -1.
        var boundarySlot: [Int]
        /// Per group and per alert: the user aggregates it reads, as a mask.
        var groupReads: [UInt64]
        var alertReads: [UInt64]
        /// Per group: the groups that read it, as a mask.
        var dependents: [UInt64]
        /// Per statistic: the statistic whose samples it shares (same `of` and `where`).
        var sampleSource: [Int]
        /// The statistics whose samples are taken (each its own source), and per one whether its
        /// samples are kept between refreshes (not when it reads a tag, which changes apart from
        /// what `sampleReads` tells).
        var sampledStatistics: [Int]
        var keepsSamples: [Bool]
        /// The user aggregates the kept samples read, as a mask.
        var sampleReads: UInt64
        /// Whether which community counts a user meets is kept between refreshes (not when they
        /// read a statistic, which every refresh changes), and the user aggregates and the groups
        /// their conditions read, as masks.
        var keepsCounts: Bool
        var countReads: UInt64
        var countGroupReads: UInt64
        /// The community counts' conditions, taken together, as a rule for `nextBoundary` only:
        /// the index past the rules and the statistics (which, like it, are no timer codes).
        var countsRule: Int
        /// Per rule, past the rules per statistic, and last for the community counts: its boundary
        /// atoms of the shape `since(aggregate) op constant`, as plain values in `sinceAtoms`
        /// (evaluating their trees cost retains and calls per evaluation); whether it has atoms of
        /// other shapes; and the windowed aggregates it reads, as a mask.
        var sinceAtomRanges: [Range<Int>]
        var sinceAtoms: [SinceAtom]
        var hasOtherAtoms: [Bool]
        var windowedReads: [UInt64]

        init(_ p: Program, _ definition: PipelineDefinition) {
            groups = p.groups.count
            alerts = p.alerts.count
            rules = groups + alerts
            campaigns = p.campaigns.count
            hasCommunityOutputs = p.communityStats != nil || p.alerts.contains { $0.key == .community }
            let types = EventType.allCases
            func mask(_ m: UInt16, _ t: EventType) -> Bool { m & (1 << UInt16(t.rawValue)) != 0 }
            func bits(_ indices: [Int]) -> UInt64 {
                precondition(indices.allSatisfy { $0 < 64 }, "a mask of more than 64 (the compiler rejects such pipelines)")
                return indices.reduce(0) { $0 | 1 << UInt64($1) }
            }
            userAggregatesByType = types.map { t in bits(p.userAggregates.indices.filter { mask(p.userAggregates[$0].eventTypes, t) }) }
            communityAggregatesByType = types.map { t in bits(p.communityAggregates.indices.filter { mask(p.communityAggregates[$0].eventTypes, t) }) }
            windowedUserAggregates = bits(p.userAggregates.indices.filter { p.userAggregates[$0].window != nil })
            windowedCommunityAggregates = bits(p.communityAggregates.indices.filter { p.communityAggregates[$0].window != nil })
            groupsByType = types.map { t in bits(p.groups.indices.filter { p.groups[$0].points.includes(t) }) }
            alertsByType = types.map { t in bits(p.alerts.indices.filter { p.alerts[$0].key == .user && p.alerts[$0].points.includes(t) }) }
            campaignsByType = types.map { t in
                bits(p.campaigns.indices.filter { if case .event(let e) = p.campaigns[$0].trigger { e == t } else { false } })
            }
            campaignDelays = p.campaigns.map(\.delay)
            outcomesByType = types.map { t in bits(p.campaigns.indices.filter { p.campaigns[$0].outcome?.event == t }) }
            outcomeWindows = p.campaigns.map { $0.outcome?.within ?? 0 }
            campaignsByGroup = p.groups.indices.map { g in
                p.campaigns.indices.filter { if case .tag(let group, _) = p.campaigns[$0].trigger { group == g } else { false } }
            }
            groupReads = p.groups.map(\.dependencies.userAggregates)
            alertReads = p.alerts.map(\.dependencies.userAggregates)
            var slots = Array(repeating: -1, count: rules)
            dependents = p.groups.indices.map { g in
                p.groups.indices.reduce(0 as UInt64) { mask, h in p.groups[h].dependencies.groups & (1 << UInt64(g)) != 0 ? mask | 1 << UInt64(h) : mask }
            }
            let statistics = definition.statistics
            sampleSource = statistics.indices.map { i in
                statistics.firstIndex { $0.of.text == statistics[i].of.text && $0.population?.text == statistics[i].population?.text } ?? i
            }
            let sources = sampleSource
            let sampled = statistics.indices.filter { sources[$0] == $0 }
            let keeps = sampled.map { p.statistics[$0].dependencies.groups == 0 }
            sampledStatistics = sampled
            keepsSamples = keeps
            sampleReads = sampled.indices.reduce(0) { mask, j in keeps[j] ? mask | p.statistics[sampled[j]].dependencies.userAggregates : mask }
            let counts = p.communityCountDependencies
            keepsCounts = !counts.usesStatistics
            countReads = counts.userAggregates
            countGroupReads = counts.groups
            countsRule = rules + p.statistics.count
            let groupCount = groups
            boundaryRules = (0..<rules).filter { r in
                r < groupCount ? p.groups[r].points.boundary : p.alerts[r - groupCount].points.boundary
            }
            for (slot, r) in boundaryRules.enumerated() { slots[r] = slot }
            boundaryGroups = bits(boundaryRules.filter { $0 < groupCount })
            boundaryAlerts = bits(boundaryRules.filter { $0 >= groupCount }.map { $0 - groupCount })
            boundarySlot = slots
            let dependencies = p.groups.map(\.dependencies) + p.alerts.map(\.dependencies) + p.statistics.map(\.dependencies) + [counts]
            var atoms: [SinceAtom] = []
            sinceAtomRanges = dependencies.map { d in
                let start = atoms.count
                atoms += d.boundaries.compactMap(SinceAtom.init)
                return start..<atoms.count
            }
            sinceAtoms = atoms
            hasOtherAtoms = dependencies.map { $0.boundaries.contains { SinceAtom($0) == nil } }
            windowedReads = dependencies.map { $0.windowed.reduce(0) { $0 | 1 << UInt64($1) } }
        }
    }

    public init(pipeline: Pipeline, shard: ShardRole = .single) {
        self.pipeline = pipeline
        self.shard = shard
        program = pipeline.program
        layout = Layout(program, pipeline.definition)
        expressions = EngineExpressions(program)
        userAggregates = program.userAggregates.map(AggregateColumn.init)
        communityAggregates = program.communityAggregates.map(AggregateColumn.init)
        statistics = Array(repeating: .none, count: program.statistics.count)
        delayedTriggers = Array(repeating: Deque(), count: program.campaigns.count)
        pendingOutcomes = Array(repeating: Deque(), count: program.campaigns.count)
    }

    // MARK: Time

    /// Fires every timer and daily refresh due at or before `instant`, in order. A sharded engine
    /// stops before a refresh, at `waitingRefresh`, once it has fired the timers due then.
    public mutating func advance(through instant: Int64) {
        while waitingRefresh == nil {
            let nextTimer = delayedTriggers.reduce(min(timers.min?.instant ?? .max, nextOutcomeClose)) { min($0, $1.first?.instant ?? .max) }
            let next = min(nextTimer, nextRefresh)
            guard next <= instant else { break }
            if nextTimer == next { fireTimers(at: next) }
            if nextRefresh == next {
                if shard.isSharded {
                    waitingRefresh = next
                    return
                }
                refresh(at: next)
                nextRefresh += EventTime.day
            }
            clock = next
        }
        if waitingRefresh == nil { clock = max(clock, instant) }
    }

    private mutating func fireTimers(at instant: Int64) {
        var due: [TimerEntry] = []
        while let top = timers.min, top.instant == instant { due.append(timers.removeMin()) }
        for c in delayedTriggers.indices {
            while let first = delayedTriggers[c].first, first.instant == instant { due.append(delayedTriggers[c].removeFirst()) }
        }
        if due.count > 1 {  // mostly one: then neither the sort nor the copy of the names it reads
            let names = symbols.users
            due.sort { a, b in
                if a.user != b.user { return names.precedes(a.user, b.user) }
                return a < b
            }
        }
        var previous: TimerEntry?
        for entry in due where entry != previous {
            previous = entry
            let u = entry.user
            let code = Int(entry.code)
            if code < layout.rules {
                guard self.due[Int(u) * layout.boundaryRules.count + layout.boundarySlot[code]] == instant else { continue }
                enter(u, at: instant)
                if code < layout.groups {
                    evaluateGroup(code, cause: .timer)
                } else {
                    evaluateAlert(code - layout.groups, key: Int(u), cause: .timer)
                    scheduleBoundary(code)
                }
            } else {
                enter(u, at: instant)
                tryCampaign(code - layout.rules, cause: .timer)
            }
        }
        closeOutcomes(at: instant)
    }

    // MARK: Events

    /// Sets the first daily refresh, the first UTC midnight at or after the run's first applied
    /// event, unless it is set already (a shard learns it from the run).
    public mutating func scheduleRefreshes(from firstApplied: Int64) {
        if nextRefresh == .max { nextRefresh = EventTime.midnight(atOrAfter: firstApplied) }
    }

    /// Whether the daily refreshes are scheduled (from the first applied event, or from the run's).
    public var refreshesScheduled: Bool { nextRefresh != .max }

    /// Applies one event. Events must come in `(ts, event_id)` order; a sharded engine must have
    /// been advanced past every refresh before the event.
    public mutating func apply(_ event: Event) {
        advance(through: event.ts - 1)
        precondition(waitingRefresh == nil, "a sharded engine applies an event past a refresh the shards have not met at")
        scheduleRefreshes(from: event.ts)
        let u = event.user
        ensureUser(Int(u))
        if !userSeen[Int(u)] {
            userSeen[Int(u)] = true
            usersSinceRefresh.append(u)
        }
        if event.community >= 0 {
            userCommunity[Int(u)] = event.community
            see(community: event.community)
        }
        let type = Int(event.type.rawValue)
        if layout.outcomesByType[type] != 0 { noteOutcomeEvent(event) }
        var touched: UInt64 = 0
        for i in SetBits(layout.userAggregatesByType[type])
        where userAggregates[i].record(event, key: Int(u), symbols: symbols) {
            touched |= 1 << UInt64(i)
        }
        if event.community >= 0, layout.communityAggregatesByType[type] != 0 {
            if !shard.isSharded {
                recordForCommunity(event)
            } else if layout.hasCommunityOutputs {
                outgoingOccurrences.append(CommunityOccurrence(event, symbols: symbols))
            }
        }
        enter(u, at: event.ts)
        let cause = RecordCause.event(event.eventID)
        var evaluated: UInt64 = 0
        for g in SetBits(layout.groupsByType[type]) {
            // Unchanged inputs before the next boundary give the same tag: skip.
            if layout.groupReads[g] & touched == 0, event.ts < validUntil[Int(u) * layout.groups + g] { continue }
            evaluateGroup(g, cause: cause)
            evaluated |= 1 << UInt64(g)
        }
        let alerts = layout.alertsByType[type]
        for a in SetBits(alerts) { evaluateAlert(a, key: Int(u), cause: cause) }
        for c in SetBits(layout.campaignsByType[type]) {
            if let delay = layout.campaignDelays[c] {
                delayedTriggers[c].append(TimerEntry(instant: event.ts + delay, code: UInt16(layout.rules + c), user: u, payload: event.ts))
            } else {
                tryCampaign(c, cause: cause)
            }
        }
        guard touched != 0 || alerts != 0 else { return }
        if touched & layout.sampleReads != 0 {
            let n = layout.sampledStatistics.count
            for j in 0..<n { sampleValidUntil[Int(u) * n + j] = .min }
        }
        if touched & layout.countReads != 0 { countsValidUntil[Int(u)] = .min }
        for g in 0..<layout.groups where evaluated & (1 << UInt64(g)) == 0 && layout.groupReads[g] & touched != 0 {
            validUntil[Int(u) * layout.groups + g] = .min
            if layout.boundaryGroups & (1 << UInt64(g)) != 0 { scheduleBoundary(g) }
        }
        for a in SetBits(layout.boundaryAlerts) where alerts & (1 << UInt64(a)) != 0 || layout.alertReads[a] & touched != 0 {
            scheduleBoundary(layout.groups + a)
        }
    }

    /// Makes `u` at `t` the subject of evaluation.
    mutating func enter(_ u: Int32, at t: Int64) {
        frame = Frame(t: t, user: u, community: userCommunity[Int(u)])
    }

    /// Extends the per-user columns to hold user `index`. They hold just the users seen, no
    /// room filled ahead: what is reserved and not yet written takes no memory, so the memory per
    /// user does not depend on where the columns happen to grow.
    mutating func ensureUser(_ index: Int) {
        guard index >= userSeen.count else { return }
        let n = index + 1
        userSeen.extend(to: n, with: false)
        userCommunity.extend(to: n, with: -1)
        for i in userAggregates.indices { userAggregates[i].grow(to: n) }
        tags.extend(to: n * layout.groups, with: -1)
        due.extend(to: n * layout.boundaryRules.count, with: .max)
        validUntil.extend(to: n * layout.groups, with: .min)
        sampleCache.extend(to: n * layout.sampledStatistics.count, with: .none)
        sampleValidUntil.extend(to: n * layout.sampledStatistics.count, with: .min)
        countsHeld.extend(to: n, with: 0)
        countsValidUntil.extend(to: n, with: .min)
        armed.extend(to: n * layout.alerts, with: true)
        lastTrigger.extend(to: n * layout.campaigns, with: .min)
    }

    mutating func ensureCommunity(_ index: Int) {
        guard index >= communitySlots else { return }
        let n = index + 1
        for i in communityAggregates.indices { communityAggregates[i].grow(to: n) }
        communityArmed.extend(to: n * layout.alerts, with: true)
        communitySeen.extend(to: n, with: false)
        communityHistory.extend(to: n, with: CommunityHistory())
        communitySlots = n
    }

    /// Notes that an applied event named community `c`.
    mutating func see(community c: Int32) {
        ensureCommunity(Int(c))
        guard !communitySeen[Int(c)] else { return }
        communitySeen[Int(c)] = true
        if shard.isSharded, layout.hasCommunityOutputs { communitiesSinceRefresh.append(c) }
    }

    /// Records an event's occurrence in the aggregates of its community.
    mutating func recordForCommunity(_ event: Event) {
        for i in SetBits(layout.communityAggregatesByType[Int(event.type.rawValue)]) {
            _ = communityAggregates[i].record(event, key: Int(event.community), symbols: symbols)
        }
    }

    // MARK: Rules

    /// Evaluates group `g` for the current user: emits a record when its tag changes, starts the
    /// campaigns that tag triggers, and notes when time alone may change it next.
    mutating func evaluateGroup(_ g: Int, cause: RecordCause) {
        let u = Int(frame.user)
        var tag = -1
        frame.readStatistics = false
        for k in expressions.groupRules[g] where evaluate(expressions.rules[k].condition).isTrue {
            tag = expressions.rules[k].tag
            break
        }
        let slot = u * layout.groups + g
        // A result that did not read a statistic (short-circuited past it) stands until its inputs
        // change or time alone changes it; one that did, until the next refresh at most. The next
        // boundary is only needed for the first, or for a boundary timer.
        let readStatistics = frame.readStatistics, hasTimer = layout.boundaryGroups & (1 << UInt64(g)) != 0
        if readStatistics && !hasTimer {
            validUntil[slot] = .min
        } else {
            let next = nextBoundary(rule: g)
            validUntil[slot] = readStatistics ? .min : next
            if hasTimer { setDue(g, next) }
        }
        let previous = Int(tags[slot])
        guard tag != previous else { return }
        tags[slot] = Int8(tag)
        for dependent in SetBits(layout.dependents[g]) { validUntil[u * layout.groups + dependent] = .min }
        if layout.countGroupReads & (1 << UInt64(g)) != 0 { countsValidUntil[u] = .min }
        let group = program.groups[g]
        emit(OutputRecord(
            ts: frame.t, user: frame.user, community: frame.community, cause: cause,
            body: .tag(group: group.name, tag: tag >= 0 ? group.tags[tag] : nil, previous: previous >= 0 ? group.tags[previous] : nil),
            evidence: evidence(group.evidence)))
        for c in layout.campaignsByGroup[g] {
            if case .tag(_, let wanted) = program.campaigns[c].trigger, wanted == tag { tryCampaign(c, cause: cause) }
        }
    }

    /// Fires an armed alert whose condition holds; re-arms a fired one once its re-arm condition holds.
    mutating func evaluateAlert(_ a: Int, key: Int, cause: RecordCause) {
        let alert = program.alerts[a]
        let slot = key * layout.alerts + a
        var isArmed = alert.key == .user ? armed[slot] : communityArmed[slot]
        if !isArmed, evaluate(expressions.alertRearms[a]).isTrue { isArmed = true }
        if isArmed, evaluate(expressions.alertConditions[a]).isTrue {
            isArmed = false
            emit(OutputRecord(
                ts: frame.t, user: alert.key == .user ? frame.user : -1, community: frame.community, cause: cause,
                body: .alert(name: alert.name), evidence: evidence(alert.evidence)))
        }
        if alert.key == .user { armed[slot] = isArmed } else { communityArmed[slot] = isArmed }
    }

    /// Recomputes when time alone may next change rule `r` for the current user, and sets a timer for it.
    mutating func scheduleBoundary(_ r: Int) {
        setDue(r, nextBoundary(rule: r))
    }

    /// The first instant after now at which time alone may change rule `r` for the current user: a
    /// `since(x) op d` crossing `x + d`, or the oldest occurrence of a windowed aggregate leaving it.
    mutating func nextBoundary(rule r: Int) -> Int64 {
        let t = frame.t
        var next = Int64.max
        for k in layout.sinceAtomRanges[r] {
            let atom = layout.sinceAtoms[k]
            let x = userAggregates[atom.aggregate].value(Int(frame.user), at: t)
            guard x.kind == .instant else { continue }
            next = atom.op.nextChange(since: x.numerator, ceiling: atom.ceiling, floor: atom.floor, now: t, before: next)
        }
        if layout.hasOtherAtoms[r] {
            for atom in dependencies(ofRule: r).boundaries where SinceAtom(atom) == nil {
                let x = atom.instant.evaluate(&self), d = atom.threshold.evaluate(&self)
                guard x.kind == .instant, d.kind == .duration else { continue }
                next = atom.op.nextChange(since: x.numerator, ceiling: d.ceiling, floor: d.floor, now: t, before: next)
            }
        }
        for w in SetBits(layout.windowedReads[r]) {
            next = min(next, userAggregates[w].nextExpiry(Int(frame.user), after: t))
        }
        return next
    }

    /// What rule `r` reads: a group's, an alert's, or past the rules a statistic's, and last the
    /// community counts'.
    private func dependencies(ofRule r: Int) -> Dependencies {
        if r < layout.groups { return program.groups[r].dependencies }
        if r < layout.rules { return program.alerts[r - layout.groups].dependencies }
        if r < layout.countsRule { return program.statistics[r - layout.rules].dependencies }
        return program.communityCountDependencies
    }

    private mutating func setDue(_ r: Int, _ next: Int64) {
        let slot = Int(frame.user) * layout.boundaryRules.count + layout.boundarySlot[r]
        guard next != due[slot] else { return }
        due[slot] = next
        if next != .max { timers.insert(TimerEntry(instant: next, code: UInt16(r), user: frame.user, payload: 0)) }
    }

    /// Emits a coupon trigger when the campaign's condition holds, its cooldown has passed and its daily cap
    /// for the user's community is not reached. Holdout triggers are emitted and count for caps and cooldowns.
    private mutating func tryCampaign(_ c: Int, cause: RecordCause) {
        let u = frame.user, t = frame.t
        let slot = Int(u) * layout.campaigns + c
        // The cooldown first: it costs one read, and it stops most delayed triggers.
        if let cooldown = program.campaigns[c].cooldown, lastTrigger[slot] != .min, t - lastTrigger[slot] < cooldown { return }
        if let condition = expressions.campaignConditions[c], !evaluate(condition).isTrue { return }
        let community = frame.community
        if let cap = program.campaigns[c].dailyCapPerCommunity, community >= 0 {
            let day = EventTime.floorDiv(t, EventTime.day)
            if day != capDay {
                capDay = day
                capCounts.removeAll()
            }
            let key = CapKey(campaign: c, community: community)
            guard capCounts[key, default: 0] < cap else { return }
            capCounts[key, default: 0] += 1
        }
        let previous = lastTrigger[slot]
        lastTrigger[slot] = t
        let holdout = isHeldOut(u, campaign: c)
        let coupon = OutputRecord(ts: t, user: u, community: community, cause: cause,
                                  body: .coupon(campaign: program.campaigns[c].name, holdout: holdout), evidence: [])
        emit(coupon)
        followOutcome(of: coupon, campaign: c, holdout: holdout, previous: previous)
    }

    /// Whether user `u` is in campaign `c`'s holdout group: a hash of both names, so that the
    /// same users are held out in every run.
    func isHeldOut(_ u: Int32, campaign c: Int) -> Bool {
        FNV1a64.hash("\(program.campaigns[c].name):\(symbols.users[u])") % 100 < UInt64(program.holdoutPercent)
    }

    // MARK: Records

    mutating func emit(_ record: OutputRecord) { output.append(record) }

    mutating func evidence(_ values: [(String, Node)]) -> [(String, EvidenceValue)] {
        values.map { name, node in
            if case .group(let g) = node {
                let tag = tags[Int(frame.user) * layout.groups + g]
                return (name, tag >= 0 ? .text(program.groups[g].tags[Int(tag)]) : .absent)
            }
            return (name, EvidenceValue(node.evaluate(&self)))
        }
    }
}

extension Engine: ExpressionInput {
    mutating func leaf(_ node: Node) -> Value {
        if case .since(let instant) = node {
            let x = instant.evaluate(&self)
            return since(x)
        }
        return Step(leaf: node).map { read($0) } ?? .none
    }

    func text(_ field: EventField) -> String? { nil }
}

/// A boundary atom `since(aggregate) op d` with a constant duration `d`, as plain values.
struct SinceAtom: Sendable {
    var aggregate: Int
    var op: BinaryOperator
    /// ⌈d⌉ and ⌊d⌋ in milliseconds.
    var ceiling: Int64
    var floor: Int64

    init?(_ atom: BoundaryAtom) {
        guard case .userAggregate(let i) = atom.instant, case .constant(let d) = atom.threshold, d.kind == .duration else { return nil }
        (aggregate, op, ceiling, floor) = (i, atom.op, d.ceiling, d.floor)
    }
}

extension BinaryOperator {
    /// `before`, or the instant after `now` at which `since(x) op d` may change if earlier: `x + ⌈d⌉`
    /// for `>=` and `<`, `x + ⌊d⌋ + 1` for `>` and `<=`, both for the others.
    func nextChange(since x: Int64, ceiling: Int64, floor: Int64, now t: Int64, before next: Int64) -> Int64 {
        let atOrAfter = x &+ ceiling, after = x &+ floor &+ 1
        var next = next
        if self != .greater, self != .lessOrEqual, atOrAfter > t, atOrAfter < next { next = atOrAfter }
        if self != .greaterOrEqual, self != .less, after > t, after < next { next = after }
        return next
    }
}

/// The indices of the bits set in a mask, lowest first.
struct SetBits: Sequence, IteratorProtocol {
    var mask: UInt64

    init(_ mask: UInt64) { self.mask = mask }

    mutating func next() -> Int? {
        guard mask != 0 else { return nil }
        defer { mask &= mask - 1 }
        return mask.trailingZeroBitCount
    }
}

/// A pending instant of one user: a rule to evaluate where time alone may change it, or a delayed campaign.
struct TimerEntry: Comparable, Sendable {
    var instant: Int64
    /// A rule (groups, then alerts) or, past the rules, a campaign.
    var code: UInt16
    var user: Int32
    /// For a delayed campaign: the instant of the event that started it.
    var payload: Int64

    static func < (a: Self, b: Self) -> Bool {
        (a.instant, a.code, a.user, a.payload) < (b.instant, b.code, b.user, b.payload)
    }
}

extension EvidenceValue {
    init(_ v: Value) {
        switch v.kind {
        case .none, .tag: self = .absent
        case .bool: self = .text(v.isTrue ? "true" : "false")
        case .instant: self = .instant(v.numerator)
        case .duration: self = .integer(v.ceiling)
        case .ratio: self = .ratio(v.numerator, v.denominator)
        case .number:
            if v.denominator == 1 {
                self = .integer(v.numerator)
            } else if Money.scale % v.denominator == 0,
                      case let (units, overflow) = v.numerator.multipliedReportingOverflow(by: Money.scale / v.denominator), !overflow {
                self = .money(Money(units: units))
            } else {
                self = .ratio(v.numerator, v.denominator)
            }
        }
    }
}

extension FigureValue {
    init(_ v: Value) {
        switch EvidenceValue(v) {
        case .integer(let n): self = .integer(n)
        case .money(let m): self = .money(m)
        case let .ratio(n, d): self = .ratio(n, d)
        case .instant(let t): self = .integer(t)
        default: self = .absent
        }
    }
}

/// How many users carry each tag of every group that is not a flag, for summaries.
public struct StateDistribution: Sendable, Codable, Equatable {
    public var users = 0
    public var communities = 0
    /// Group name → tag (or "none") → users.
    public var groups: [String: [String: Int]] = [:]

    public init() {}

    /// Adds the distribution of other users (another task's).
    public mutating func add(_ other: StateDistribution) {
        users += other.users
        communities += other.communities
        groups.merge(other.groups) { $0.merging($1, uniquingKeysWith: +) }
    }
}

extension Engine {
    /// How many users this engine holds.
    public var userCount: Int { userSeen.reduce(0) { $1 ? $0 + 1 : $0 } }

    /// The current tag of every user seen, per group that is not a flag.
    public func distribution() -> StateDistribution {
        var d = StateDistribution()
        var communitiesSeen = Set<Int32>()
        let shown = program.groups.indices.filter { !pipeline.definition.groups[$0].isFlag }
        for u in userSeen.indices where userSeen[u] {
            d.users += 1
            if userCommunity[u] >= 0 { communitiesSeen.insert(userCommunity[u]) }
            for g in shown {
                let tag = tags[u * layout.groups + g]
                d.groups[program.groups[g].name, default: [:]][tag >= 0 ? program.groups[g].tags[Int(tag)] : "none", default: 0] += 1
            }
        }
        d.communities = communitiesSeen.count
        return d
    }
}

