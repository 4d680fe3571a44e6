import DequeModule
import HeapModule

extension Pipeline {
    /// Identifies the pipeline's settings, so a snapshot is never restored into a different pipeline.
    public var fingerprint: UInt64 { FNV1a64.hash(String(reflecting: self)) }
}

extension Processor {
    /// The whole state between two records: counts, sequencer (watermarks, dedupe, buffer) and engine.
    /// Taken when `engine.output` has been drained.
    public func snapshot() -> [UInt8] {
        precondition(engine.output.isEmpty, "drain output records before taking a snapshot")
        var w = SnapshotWriter()
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
        return w.bytes
    }

    /// Replaces this processor's state with a snapshot taken with the same pipeline and partitions.
    public mutating func restore(_ body: [UInt8]) throws {
        var r = SnapshotReader(body)
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
        guard r.isAtEnd else { throw SnapshotError("snapshot has unexpected trailing data") }
    }
}

extension Sequencer {
    func write(to w: inout SnapshotWriter) {
        w.write(partitions) { w, p in w.write(p.maxAccepted); w.write(p.isActive) }
        w.write(maxAccepted)
        w.write(watermark)
        w.write(pruneAt)
        w.write(acceptedIDs.entries) { w, e in w.write(e.0.a); w.write(e.0.b); w.write(e.1) }
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
        pruneAt = try r.readInt64()
        let entries = try r.readArray { r in (AcceptedIDs.Key(a: try r.readUInt64(), b: try r.readUInt64()), try r.readInt64()) }
        acceptedIDs = AcceptedIDs(capacity: max(1 << 16, entries.count))
        for (key, time) in entries { acceptedIDs.set(key, time: time) }
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
        for interner in [symbols.users, symbols.communities, symbols.skus, symbols.categories] {
            w.write(interner.names) { w, name in w.write(name) }
        }
        w.write(users) { w, u in u.write(to: &w) }
        w.write(communities) { w, c in c.write(to: &w) }
        w.write(timers.unordered) { w, t in
            w.write(t.instant); w.write(Int(t.kind.rawValue)); w.write(t.user); w.write(t.payload)
        }
        w.write(nextRefresh)
        w.write(clock)
        w.write(thresholds) { w, t in w.write(optional: t?.units) }
        w.write(sortedUsers) { w, u in w.write(u) }
        w.write(usersSinceRefresh) { w, u in w.write(u) }
        w.write(capDay)
        w.write(capCounts.sorted { ($0.key.campaign, $0.key.community) < ($1.key.campaign, $1.key.community) }) { w, e in
            w.write(e.key.campaign); w.write(e.key.community); w.write(e.value)
        }
    }

    mutating func read(from r: inout SnapshotReader) throws {
        func interner(_ r: inout SnapshotReader) throws -> Interner {
            var i = Interner()
            for name in try r.readArray({ try $0.readString() }) { _ = i.intern(name) }
            return i
        }
        symbols.users = try interner(&r)
        symbols.communities = try interner(&r)
        symbols.skus = try interner(&r)
        symbols.categories = try interner(&r)
        users = try r.readArray { try UserState(from: &$0) }
        communities = try r.readArray { try CommunityState(from: &$0) }
        timers = Heap(try r.readArray { r in
            let instant = try r.readInt64()
            guard let kind = TimerEntry.Kind(rawValue: UInt8(clamping: try r.readInt())) else { throw SnapshotError("snapshot has an unknown timer") }
            return TimerEntry(instant: instant, kind: kind, user: try r.readInt32(), payload: try r.readInt64())
        })
        nextRefresh = try r.readInt64()
        clock = try r.readInt64()
        let restored = try r.readArray { try $0.readOptionalInt64().map { Money(units: $0) } }
        guard restored.count == thresholds.count else { throw SnapshotError("snapshot has a different number of percentiles") }
        thresholds = restored
        sortedUsers = try r.readArray { try $0.readInt32() }
        usersSinceRefresh = try r.readArray { try $0.readInt32() }
        capDay = try r.readInt64()
        capCounts = [:]
        for (campaign, community, count) in try r.readArray({ (try $0.readString(), try $0.readInt32(), try $0.readInt()) }) {
            capCounts[CapKey(campaign: campaign, community: community)] = count
        }
        categoryMasks = []
        output = []
    }
}

extension UserState {
    func write(to w: inout SnapshotWriter) {
        w.write(seen); w.write(community); w.write(paidCount); w.write(firstPaid); w.write(lastPaid)
        w.write(recentPaid) { w, t in w.write(t) }
        w.write(window) { w, o in w.write(o.ts); w.write(o.amount); w.write(o.isPaid); w.write(o.usedCoupon) }
        w.write(Int(lifecycle?.rawValue ?? -1)); w.write(Int(tier)); w.write(flags)
        w.write(flagTimes) { w, t in w.write(t) }
        w.write(optional: lastWakeUp); w.write(optional: lastCartRescue)
        w.write(lifecycleDue); w.write(vipDue)
    }

    init(from r: inout SnapshotReader) throws {
        self.init()
        seen = try r.readBool(); community = try r.readInt32(); paidCount = try r.readInt()
        firstPaid = try r.readInt64(); lastPaid = try r.readInt64()
        recentPaid = try r.readArray { try $0.readInt64() }
        for order in try r.readArray({ r in
            WindowedOrder(ts: try r.readInt64(), amount: try r.readMoney(), isPaid: try r.readBool(), usedCoupon: try r.readBool())
        }) { addToWindow(order) }
        let state = try r.readInt()
        lifecycle = state < 0 ? nil : LifecycleRule.State(rawValue: Int8(clamping: state))
        tier = Int8(clamping: try r.readInt())
        flags = try r.readUInt64()
        flagTimes = try r.readArray { try $0.readInt64() }
        lastWakeUp = try r.readOptionalInt64(); lastCartRescue = try r.readOptionalInt64()
        lifecycleDue = try r.readInt64(); vipDue = try r.readInt64()
    }
}

extension CommunityState {
    func write(to w: inout SnapshotWriter) {
        w.write(gmv) { w, e in w.write(e.ts); w.write(e.amount) }
        w.write(paidOrders) { w, t in w.write(t) }
        w.write(items) { w, e in w.write(e.ts); w.write(e.sku); w.write(e.quantity) }
        w.write(ratioWasHigh == nil ? -1 : ratioWasHigh! ? 1 : 0)
    }

    init(from r: inout SnapshotReader) throws {
        self.init()
        for (ts, amount) in try r.readArray({ (try $0.readInt64(), try $0.readMoney()) }) { addOrder(ts: ts, amount: amount) }
        paidOrders = Deque(try r.readArray { try $0.readInt64() })
        for (ts, sku, quantity) in try r.readArray({ (try $0.readInt64(), try $0.readInt32(), try $0.readMoney()) }) {
            addItem(ts: ts, sku: sku, quantity: quantity)
        }
        let high = try r.readInt()
        ratioWasHigh = high < 0 ? nil : high == 1
    }
}
