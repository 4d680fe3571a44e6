import DequeModule
import HeapModule

extension Pipeline {
    /// Identifies the pipeline's settings, so a snapshot is never restored into a different pipeline.
    public var fingerprint: UInt64 { FNV1a64.hash(String(reflecting: definition) + String(reflecting: time)) }
}

extension Processor {
    /// The whole state between two records: counts, sequencer (watermarks, dedupe, buffer) and engine.
    /// Taken when `engine.output` has been drained.
    public func snapshot() -> [UInt8] {
        var w = SnapshotWriter()
        write(to: &w)
        return w.bytes
    }

    /// Appends the snapshot to a writer.
    public func write(to w: inout SnapshotWriter) {
        precondition(engine.output.isEmpty, "drain output records before taking a snapshot")
        w.write(optional: until)
        w.write(firstApplied)
        w.write(lastApplied)
        for n in [counts.accepted, counts.deadLetter, counts.duplicate, counts.late, counts.ignored, counts.blank, counts.notApplied] {
            w.write(n)
        }
        for dictionary in [counts.deadLetterReasons, counts.ignoredTypes] {
            w.write(dictionary.sorted { $0.key < $1.key }) { w, e in w.write(e.key); w.write(e.value) }
        }
        sequencer.write(to: &w)
        engine.write(to: &w)
        writeCanary(to: &w)
    }

    /// Replaces this processor's state with a snapshot taken with the same pipeline and partitions.
    public mutating func restore(_ body: [UInt8]) throws {
        var r = SnapshotReader(body)
        try restore(from: &r)
    }

    /// Replaces this processor's state with the rest of what a reader holds.
    public mutating func restore(from r: inout SnapshotReader) throws {
        guard try r.readOptionalInt64() == until else { throw SnapshotError("snapshot was taken with a different --until") }
        firstApplied = try r.readInt64()
        lastApplied = try r.readInt64()
        var c = OutcomeCounts()
        c.accepted = try r.readInt(); c.deadLetter = try r.readInt(); c.duplicate = try r.readInt()
        c.late = try r.readInt(); c.ignored = try r.readInt(); c.blank = try r.readInt(); c.notApplied = try r.readInt()
        for keyPath in [\OutcomeCounts.deadLetterReasons, \OutcomeCounts.ignoredTypes] {
            for (k, v) in try r.readArray({ (try $0.readString(), try $0.readInt()) }) { c[keyPath: keyPath][k] = v }
        }
        counts = c
        try sequencer.read(from: &r)
        try engine.read(from: &r)
        try readCanary(from: &r)
        guard r.isAtEnd else { throw SnapshotError("snapshot has unexpected trailing data") }
        canaryMoves = moveUsersToTheirArms()
    }

    /// The canary's share, pipeline and engine, apart so that a restore can pass over an engine
    /// that holds no users.
    private func writeCanary(to w: inout SnapshotWriter) {
        w.write(canary != nil)
        guard let canary else { return }
        precondition(canary.engine.output.isEmpty, "drain output records before taking a snapshot")
        w.write(canary.split.percent)
        w.write(canary.engine.pipeline.name)
        w.write(canary.engine.pipeline.fingerprint)
        w.write(canary.engine.userCount)
        var section = SnapshotWriter()
        canary.engine.write(to: &section)
        w.write(raw: section.bytes)
    }

    /// Restores the canary engine when this run has the same canary pipeline. A checkpoint's canary
    /// that holds users and is not this run's is an error: its users' state would be lost.
    private mutating func readCanary(from r: inout SnapshotReader) throws {
        guard try r.readBool() else { return }
        let percent = try r.readInt(), name = try r.readString(), fingerprint = try r.readUInt64(), users = try r.readInt()
        let section = try r.readRaw()
        if let canary, canary.engine.pipeline.fingerprint == fingerprint {
            var reader = SnapshotReader(section)
            try self.canary!.engine.read(from: &reader)
            guard reader.isAtEnd else { throw SnapshotError("snapshot has unexpected data after the canary's state") }
        } else if users > 0 {
            let back = "restart with --canary and the file of '\(name)' at --canary-percent 0 first, which moves its users back with their aggregates"
            throw SnapshotError(canary.map { "the checkpoint holds \(users) users of the canary pipeline '\(name)' at \(percent) %, not of this run's canary '\($0.engine.pipeline.name)' (or a different version of it): \(back), then start the new canary" }
                ?? "the checkpoint holds \(users) users of the canary pipeline '\(name)' at \(percent) %: \(back), then restart without --canary")
        }
    }
}

extension Sequencer {
    func write(to w: inout SnapshotWriter) {
        w.write(partitions) { w, p in w.write(p.maxAccepted); w.write(p.isActive) }
        w.write(maxAccepted)
        w.write(watermark)
        let ids = acceptedIDs.occupied
        w.write(acceptedIDs.size)
        w.write(words: ids.lazy.map { $0.key.fingerprint })
        w.write(column: ids.lazy.map { $0.time })
        w.write(bufferedEvents) { w, event in event.write(to: &w) }
    }

    mutating func read(from r: inout SnapshotReader) throws {
        let restored = try r.readArray { r in Partition(maxAccepted: try r.readInt64(), isActive: try r.readBool()) }
        guard restored.count == partitions.count else {
            throw SnapshotError("snapshot has \(restored.count) input partitions, this run has \(partitions.count)")
        }
        partitions = restored
        maxAccepted = try r.readInt64()
        watermark = try r.readInt64()
        let size = try r.readInt(), fingerprints = try r.readWords(), times = try r.readColumn(Int64.self)
        guard fingerprints.count == times.count else { throw SnapshotError("snapshot has a malformed dedupe table") }
        acceptedIDs = try AcceptedIDs(size: size, entries: times.indices.map { i in
            AcceptedIDs.Slot(key: AcceptedIDs.Key(fingerprint: fingerprints[i]), time: times[i])
        })
        restoreBuffer(try r.readArray { try Event(from: &$0) })
    }
}

extension Event {
    func write(to w: inout SnapshotWriter) {
        w.write(ts); w.write(eventID); w.write(Int(type.rawValue)); w.write(user); w.write(community)
        w.write(amount); w.write(hasCoupon)
        w.write(query != nil)
        if let query { w.write(query) }
        w.write(items) { w, item in w.write(item.sku); w.write(item.category); w.write(item.quantity) }
    }

    init(from r: inout SnapshotReader) throws {
        let ts = try r.readInt64(), id = try r.readString()
        guard let type = EventType(rawValue: UInt8(clamping: try r.readInt())) else { throw SnapshotError("snapshot has an unknown event type") }
        self.init(ts: ts, eventID: id, type: type, user: try r.readInt32(), community: try r.readInt32(),
                  amount: try r.readMoney(), hasCoupon: try r.readBool(), query: nil, items: [])
        if try r.readBool() { query = try r.readString() }
        items = try r.readArray { r in OrderItem(sku: try r.readInt32(), category: try r.readInt32(), quantity: try r.readMoney()) }
    }
}

extension Engine {
    func write(to w: inout SnapshotWriter) {
        w.write(shard.index)
        w.write(shard.count)
        for interner in [symbols.users, symbols.communities, symbols.skus, symbols.categories] {
            let (arena, lengths) = interner.utf8
            w.write(raw: arena)
            w.write(column: lengths)
        }
        w.write(userSeen.count)
        w.write(column: userSeen)
        w.write(column: userCommunity)
        for column in userAggregates { column.write(to: &w) }
        w.write(column: tags)
        w.write(column: due)
        w.write(column: armed)
        w.write(column: lastTrigger)
        w.write(communitySlots)
        for column in communityAggregates { column.write(to: &w) }
        w.write(column: communityArmed)
        w.write(column: communitySeen)
        w.write(column: communitiesSinceRefresh)
        w.write(outgoingOccurrences) { w, o in o.write(to: &w) }
        w.write(optional: waitingRefresh)
        let pending = timers.unordered + delayedTriggers.joined()
        w.write(column: pending.lazy.map { $0.instant })
        w.write(column: pending.lazy.map { Int32($0.code) })
        w.write(column: pending.lazy.map { $0.user })
        w.write(column: pending.lazy.map { $0.payload })
        w.write(nextRefresh)
        w.write(clock)
        w.write(statistics) { w, v in w.write(v) }
        w.write(column: sortedUsers)
        w.write(column: usersSinceRefresh)
        w.write(capDay)
        w.write(capCounts.sorted { ($0.key.campaign, $0.key.community) < ($1.key.campaign, $1.key.community) }) { w, e in
            w.write(e.key.campaign); w.write(e.key.community); w.write(e.value)
        }
        w.write(communityHistory) { w, history in history.write(to: &w) }
        w.write(pendingOutcomes) { w, queue in w.write(queue) { w, o in o.write(to: &w) } }
    }

    mutating func read(from r: inout SnapshotReader) throws {
        let (index, count) = (try r.readInt(), try r.readInt())
        guard index == shard.index, count == shard.count else {
            throw SnapshotError("snapshot holds shard \(index) of \(count), this engine is shard \(shard.index) of \(shard.count)")
        }
        func interner(_ r: inout SnapshotReader) throws -> Interner {
            try Interner(arena: try r.readRaw(), lengths: try r.readColumn())
        }
        symbols.users = try interner(&r)
        symbols.communities = try interner(&r)
        symbols.skus = try interner(&r)
        symbols.categories = try interner(&r)
        let users = try r.readInt()
        func sized<T>(_ values: [T], _ width: Int, _ what: String) throws -> [T] {
            guard values.count == users * width else { throw SnapshotError("snapshot has a malformed \(what) table") }
            return values
        }
        userSeen = try sized(try r.readFlags(), 1, "user")
        userCommunity = try sized(try r.readColumn(), 1, "user")
        for i in userAggregates.indices { try userAggregates[i].read(from: &r, keys: users) }
        tags = try sized(try r.readColumn(), layout.groups, "tag")
        due = try sized(try r.readColumn(), layout.boundaryRules.count, "timer")
        validUntil = Array(repeating: .min, count: users * layout.groups)
        sampleCache = Array(repeating: .none, count: users * layout.sampledStatistics.count)
        sampleValidUntil = Array(repeating: .min, count: users * layout.sampledStatistics.count)
        countsHeld = Array(repeating: 0, count: users)
        countsValidUntil = Array(repeating: .min, count: users)
        armed = try sized(try r.readFlags(), layout.alerts, "alert")
        lastTrigger = try sized(try r.readColumn(), layout.campaigns, "campaign")
        communitySlots = try r.readInt()
        for i in communityAggregates.indices { try communityAggregates[i].read(from: &r, keys: communitySlots) }
        communityArmed = try r.readFlags()
        communitySeen = try r.readFlags()
        communitiesSinceRefresh = try r.readColumn()
        guard communityArmed.count == communitySlots * layout.alerts, communitySeen.count == communitySlots,
              communitiesSinceRefresh.allSatisfy({ $0 >= 0 && Int($0) < communitySlots }) else {
            throw SnapshotError("snapshot has a malformed community table")
        }
        outgoingOccurrences = try r.readArray { try CommunityOccurrence(from: &$0) }
        waitingRefresh = try r.readOptionalInt64()
        let instants = try r.readColumn(Int64.self), codes = try r.readColumn(Int32.self)
        let timerUsers = try r.readColumn(Int32.self), payloads = try r.readColumn(Int64.self)
        guard codes.count == instants.count, timerUsers.count == instants.count, payloads.count == instants.count else {
            throw SnapshotError("snapshot has a malformed timer table")
        }
        let pending = instants.indices.map { i in
            TimerEntry(instant: instants[i], code: UInt16(clamping: codes[i]), user: timerUsers[i], payload: payloads[i])
        }
        guard pending.allSatisfy({ t in
            let code = Int(t.code)
            return code < layout.rules + layout.campaigns && (code >= layout.rules || layout.boundarySlot[code] >= 0)
                && Int(t.user) < users && t.user >= 0
        }) else {
            throw SnapshotError("snapshot has an unknown timer")
        }
        // A delayed campaign's triggers go back to its list, in order; the other timers to the heap.
        func delayedCampaign(_ t: TimerEntry) -> Int? {
            let c = Int(t.code) - layout.rules
            return c >= 0 && program.campaigns[c].delay != nil ? c : nil
        }
        timers = Heap(pending.filter { delayedCampaign($0) == nil })
        delayedTriggers = program.campaigns.indices.map { c in Deque(pending.filter { delayedCampaign($0) == c }.sorted()) }
        nextRefresh = try r.readInt64()
        clock = try r.readInt64()
        let restored = try r.readArray { try $0.readValue() }
        guard restored.count == statistics.count else { throw SnapshotError("snapshot has a different number of statistics") }
        statistics = restored
        sortedUsers = try r.readColumn()
        usersSinceRefresh = try r.readColumn()
        capDay = try r.readInt64()
        capCounts = [:]
        for (campaign, community, count) in try r.readArray({ (try $0.readInt(), try $0.readInt32(), try $0.readInt()) }) {
            capCounts[CapKey(campaign: campaign, community: community)] = count
        }
        let (width, fields) = (TagCounter(self).width, figureNames.count)
        communityHistory = try r.readArray { try CommunityHistory(from: &$0, width: width, fields: fields) }
        guard communityHistory.count == communitySlots else { throw SnapshotError("snapshot has a malformed community history") }
        pendingOutcomes = try r.readArray { r in Deque(try r.readArray { try PendingOutcome(from: &$0) }) }
        guard pendingOutcomes.count == layout.campaigns,
              pendingOutcomes.indices.allSatisfy({ c in pendingOutcomes[c].isEmpty || program.campaigns[c].outcome != nil }),
              pendingOutcomes.joined().allSatisfy({ $0.user >= 0 && Int($0.user) < users && Int($0.community) < communitySlots }) else {
            throw SnapshotError("snapshot has a malformed table of coupon outcomes")
        }
        findNextOutcomeClose()
        output = []
    }
}

extension PendingOutcome {
    func write(to w: inout SnapshotWriter) {
        w.write(user); w.write(community); w.write(holdout); w.write(couponAt); w.write(couponID)
        w.write(previousAt); w.write(convertedAt); w.write(amount)
    }

    init(from r: inout SnapshotReader) throws {
        self.init(user: try r.readInt32(), community: try r.readInt32(), holdout: try r.readBool(), couponAt: try r.readInt64(),
                  couponID: try r.readUInt64(), previousAt: try r.readInt64(), convertedAt: try r.readInt64(), amount: try r.readMoney())
    }
}

extension CommunityOccurrence {
    func write(to w: inout SnapshotWriter) {
        w.write(ts); w.write(eventID); w.write(Int(type.rawValue)); w.write(community)
        w.write(amount); w.write(hasCoupon)
        w.write(query != nil)
        if let query { w.write(query) }
        w.write(items) { w, item in
            for name in [item.sku, item.category] {
                w.write(name != nil)
                if let name { w.write(name) }
            }
            w.write(item.quantity)
        }
    }

    init(from r: inout SnapshotReader) throws {
        ts = try r.readInt64()
        eventID = try r.readString()
        guard let type = EventType(rawValue: UInt8(clamping: try r.readInt())) else { throw SnapshotError("snapshot has an unknown event type") }
        self.type = type
        community = try r.readString()
        amount = try r.readMoney()
        hasCoupon = try r.readBool()
        query = try r.readBool() ? try r.readString() : nil
        items = try r.readArray { r in
            let sku = try r.readBool() ? try r.readString() : nil
            let category = try r.readBool() ? try r.readString() : nil
            return Item(sku: sku, category: category, quantity: try r.readMoney())
        }
    }
}

extension CommunityHistory {
    func write(to w: inout SnapshotWriter) {
        w.write(column: countedAt)
        w.write(column: users)
        w.write(column: tagCounts)
        w.write(column: figuresAt)
        w.write(figures) { w, value in w.write(value.figure) }
        w.write(latest != nil)
        if let latest { w.write(latest.fields) { w, field in w.write(field.0); w.write(field.1) } }
    }

    init(from r: inout SnapshotReader, width: Int, fields: Int) throws {
        countedAt = Deque(try r.readColumn(Int64.self))
        users = Deque(try r.readColumn(Int32.self))
        tagCounts = Deque(try r.readColumn(Int32.self))
        figuresAt = Deque(try r.readColumn(Int64.self))
        figures = Deque(try r.readArray { r in
            guard let figure = ScalarFigure(try r.readFigure()) else { throw SnapshotError("snapshot has a ranking in a community's trend") }
            return figure
        })
        latest = try r.readBool() ? CommunityFigures(fields: try r.readArray { (try $0.readString(), try $0.readFigure()) }) : nil
        guard users.count == countedAt.count, tagCounts.count == countedAt.count * width, figures.count == figuresAt.count * fields else {
            throw SnapshotError("snapshot has a malformed community history")
        }
    }
}

extension AggregateColumn {
    func write(to w: inout SnapshotWriter) {
        w.write(column: scalar)
        w.write(column: time)
        if usesEntries {
            // Lengths, then the occurrences of every key back to back, a column per field.
            var lengths: [Int] = [], all: [WindowEntry] = []
            lengths.reserveCapacity(entries.keys)
            for k in 0..<entries.keys {
                lengths.append(entries.count(k))
                entries.forEach(k) { all.append($0) }
            }
            w.write(column: lengths)
            w.write(column: all.lazy.map { $0.ts })
            w.write(column: all.lazy.map { $0.value })
            w.write(column: all.lazy.map { $0.subject })
        }
        if usesTallies {
            w.write(tallies) { w, tally in
                w.write(tally.sorted { $0.key < $1.key }) { w, e in w.write(e.key); w.write(e.value.total); w.write(e.value.occurrences) }
            }
        }
    }

    mutating func read(from r: inout SnapshotReader, keys: Int) throws {
        scalar = try r.readColumn()
        time = try r.readColumn()
        if usesEntries {
            let lengths = try r.readColumn(Int.self)
            let ts = try r.readColumn(Int64.self), values = try r.readColumn(Int64.self), subjects = try r.readColumn(Int64.self)
            guard values.count == ts.count, subjects.count == ts.count, lengths.allSatisfy({ $0 >= 0 && $0 <= ts.count }),
                  lengths.reduce(0, +) == ts.count else {
                throw SnapshotError("snapshot has a malformed aggregate")
            }
            entries = WindowQueues(keepsValues: entries.keepsValues, keepsSubjects: entries.keepsSubjects,
                                   lengths: lengths, ts: ts, values: values, subjects: subjects)
        }
        if usesTallies {
            tallies = try r.readArray { r in
                var tally: [Int64: Tally] = [:]
                for (k, total, n) in try r.readArray({ (try $0.readInt64(), try $0.readInt64(), try $0.readInt64()) }) {
                    tally[k] = Tally(total: total, occurrences: n)
                }
                return tally
            }
        }
        guard scalar.count == keys, time.count == (usesTime ? keys : 0), !usesEntries || entries.keys == keys, !usesTallies || tallies.count == keys else {
            throw SnapshotError("snapshot has a malformed aggregate")
        }
    }
}

extension SnapshotWriter {
    mutating func write(_ value: Value) {
        write(Int(value.kind.rawValue)); write(value.numerator); write(value.denominator)
    }
}

extension SnapshotWriter {
    mutating func write(_ figure: FigureValue) {
        switch figure {
        case .integer(let n): write(0); write(n)
        case .money(let m): write(1); write(m)
        case let .ratio(n, d): write(2); write(n); write(d)
        case let .ranking(subjectKey, totalKey, entries):
            write(3); write(subjectKey); write(totalKey)
            write(entries) { w, e in w.write(e.0); w.write(e.1) }
        case .absent: write(4)
        }
    }
}

extension SnapshotReader {
    mutating func readFigure() throws -> FigureValue {
        switch try readInt() {
        case 0: return .integer(try readInt64())
        case 1: return .money(try readMoney())
        case 2: return .ratio(try readInt64(), try readInt64())
        case 3:
            let subjectKey = try readString(), totalKey = try readString()
            return .ranking(subjectKey: subjectKey, totalKey: totalKey, try readArray { (try $0.readString(), try $0.readMoney()) })
        case 4: return .absent
        default: throw SnapshotError("snapshot has an unknown figure")
        }
    }

    mutating func readValue() throws -> Value {
        guard let kind = Value.Kind(rawValue: UInt8(clamping: try readInt())) else { throw SnapshotError("snapshot has an unknown value") }
        return Value(kind: kind, numerator: try readInt64(), denominator: try readInt64())
    }
}
