import Testing
@testable import TagStreamCore

private func line(_ id: String, _ user: String, _ ts: Int64, type: String = "app_open") -> String {
    #"{"event_id":"\#(id)","type":"\#(type)","user_id":"\#(user)","ts":\#(ts)}"#
}

private func orderLine(_ id: String, _ user: String, _ ts: Int64) -> String {
    #"{"event_id":"\#(id)","type":"order_paid","user_id":"\#(user)","ts":\#(ts),"order_id":"o-\#(id)","amount":10}"#
}

/// Watermarks, lateness, duplicates, ordering and `--until` (SPEC §1, §3, §5).
@Suite struct SequencerTests {
    let t = jan1 + 10 * hour
    let lateness = 5 * minute

    // MARK: Lateness

    @Test(arguments: [(-1 as Int64, RecordOutcome.late), (0, .accepted), (1, .accepted)])
    func eventExactlyAtThePartitionWatermarkIsAccepted(offset: Int64, outcome: RecordOutcome) throws {
        var processor = try Processor(pipeline: .reference, partitions: 1)
        #expect(try process(&processor, line("a", "u1", t)) == .accepted)
        #expect(try process(&processor, line("b", "u1", t - lateness + offset)) == outcome)
    }

    @Test func lateEventIsCountedAndNotApplied() throws {
        var processor = try Processor(pipeline: .reference, partitions: 1)
        try process(&processor, line("a", "u1", t))
        #expect(try process(&processor, orderLine("b", "u2", t - lateness - 1)) == .late)
        try processor.finish()
        #expect(processor.counts.late == 1)
        #expect(processor.engine.symbols.users.id(of: "u2").map { id in
            processor.engine.output.contains { $0.user == id }
        } != true)
    }

    @Test func latenessIsJudgedAgainstTheEventsOwnPartition() throws {
        var processor = try Processor(pipeline: .reference, partitions: 2)
        try process(&processor, line("a", "u1", t + day), partition: 0)
        // Far behind partition 0, but partition 1 has seen nothing yet: accepted.
        #expect(try process(&processor, line("b", "u2", t), partition: 1) == .accepted)
        #expect(try process(&processor, line("c", "u2", t - lateness), partition: 1) == .accepted)
        #expect(try process(&processor, line("d", "u2", t - lateness - 1), partition: 1) == .late)
        // Partition 0's own watermark is t + 1d − 5m.
        #expect(try process(&processor, line("e", "u1", t + day - lateness - 1), partition: 0) == .late)
    }

    @Test(arguments: [(-1 as Int64, RecordOutcome.late), (0, .accepted)])
    func eventBehindTheEngineWatermarkIsLateOnAnIdlePartition(offset: Int64, outcome: RecordOutcome) throws {
        var processor = try Processor(pipeline: .reference, partitions: 2)
        try process(&processor, line("a", "u1", t), partition: 1)
        try processor.setPartition(1, active: false)
        try process(&processor, line("b", "u2", t + hour), partition: 0)
        #expect(processor.sequencer.watermark == t + hour - lateness)
        // Within partition 1's own lateness, but behind the engine's watermark.
        #expect(try process(&processor, line("c", "u1", t + hour - lateness + offset), partition: 1) == outcome)
    }

    // MARK: Duplicates

    @Test(arguments: [(-1 as Int64, RecordOutcome.duplicate), (0, .accepted), (1, .accepted)])
    func duplicateHorizonIsSevenDaysBeforeTheLargestAcceptedTs(offset: Int64, outcome: RecordOutcome) throws {
        var processor = try Processor(pipeline: .reference, partitions: 1)
        try process(&processor, line("x", "u1", t))
        let newest = t + 7 * day + offset
        try process(&processor, line("y", "u1", newest))
        // The same id again, at a ts that is not late.
        #expect(try process(&processor, line("x", "u1", newest)) == outcome)
    }

    @Test func resentEventIsADuplicateEvenWithDifferentContent() throws {
        var processor = try Processor(pipeline: .reference, partitions: 1)
        try process(&processor, line("x", "u1", t))
        #expect(try process(&processor, orderLine("x", "u2", t + hour)) == .duplicate)
        #expect(processor.counts.duplicate == 1)
    }

    @Test func eventsNotAcceptedDoNotCountAsSeenForDuplicates() throws {
        var processor = try Processor(pipeline: .reference, partitions: 1)
        try process(&processor, line("a", "u1", t))
        #expect(try process(&processor, line("late", "u1", t - hour)) == .late)
        #expect(try process(&processor, line("late", "u1", t)) == .accepted)
        #expect(try process(&processor, #"{"event_id":"dl","type":"view","user_id":"u1","ts":1.5}"#) != .accepted)
        #expect(try process(&processor, line("dl", "u1", t)) == .accepted)
        #expect(try process(&processor, #"{"event_id":"ig","type":"wishlist","user_id":"u1","ts":\#(t)}"#) == .ignored(type: "wishlist"))
        #expect(try process(&processor, line("ig", "u1", t)) == .accepted)
    }

    // MARK: Order of application

    @Test func eventsAreAppliedInTsThenEventIdOrderRegardlessOfArrival() throws {
        var processor = try Processor(pipeline: .reference, partitions: 1)
        let arrivals = [
            line("e3", "a", t + 3 * minute), line("e2", "b", t + minute), line("e1", "c", t + minute),
            line("e4", "d", t + 2 * minute), line("E9", "e", t + minute),
        ]
        for l in arrivals { #expect(try process(&processor, l) == .accepted) }
        try processor.finish()
        let users = processor.engine.output.map { processor.engine.symbols.users[$0.user] }
        // "E9" < "e1" < "e2" by code points.
        #expect(users == ["e", "c", "b", "d", "a"])
    }

    @Test func eventIdsAreComparedByCodePoints() throws {
        var processor = try Processor(pipeline: .reference, partitions: 1)
        try process(&processor, line("id-é", "accent", t))
        try process(&processor, line("id-z", "zed", t))
        try process(&processor, line("id-Z", "upper", t))
        try processor.finish()
        let users = processor.engine.output.map { processor.engine.symbols.users[$0.user] }
        #expect(users == ["upper", "zed", "accent"])
    }

    @Test func eventsAreReleasedOnlyOnceTheWatermarkIsPastThem() throws {
        var processor = try Processor(pipeline: .reference, partitions: 1)
        try process(&processor, line("a", "u1", t))
        #expect(processor.engine.output.isEmpty)
        try process(&processor, line("b", "u2", t + lateness))
        #expect(processor.engine.output.isEmpty)  // watermark t: `ts < watermark` releases nothing yet
        try process(&processor, line("c", "u3", t + lateness + 1))
        #expect(processor.engine.output.map(\.ts) == [t])
        #expect(processor.sequencer.buffered == 2)
    }

    @Test func outputDoesNotDependOnHowPartitionsInterleave() throws {
        var first = Feed()
        var second = Feed()
        for k in 0..<30 {
            let ts = t + Int64(k) * 7 * minute
            first.order("p\(k % 4)", at: ts, items: [item(sku: "s\(k % 3)", category: k % 5 == 0 ? "baby" : "veg", qty: "1")], community: "c\(k % 2)")
            second.add("add_to_cart", "q\(k % 3)", at: ts + 3 * minute, community: "c\(k % 2)", fields: #""sku":"s""#, id: "q\(k)")
        }
        let end = t + 40 * day
        func run(_ schedule: [Int]) throws -> [String] {
            var processor = try Processor(pipeline: .reference, partitions: 2, until: end)
            var cursors = [0, 0]
            let parts = [first.lines.map(\.text), second.lines.map(\.text)]
            for p in schedule where cursors[p] < parts[p].count {
                try process(&processor, parts[p][cursors[p]], partition: p)
                cursors[p] += 1
            }
            for p in 0..<2 {
                while cursors[p] < parts[p].count {
                    try process(&processor, parts[p][cursors[p]], partition: p)
                    cursors[p] += 1
                }
                try processor.setPartition(p, active: false)
            }
            try processor.finish()
            let encoder = RecordEncoder()
            return processor.engine.output.map { String(decoding: encoder.encode($0, symbols: processor.engine.symbols), as: UTF8.self) }
        }
        let alternating = try run((0..<60).map { $0 % 2 })
        let firstThenSecond = try run(Array(repeating: 0, count: 30) + Array(repeating: 1, count: 30))
        let secondThenFirst = try run(Array(repeating: 1, count: 30) + Array(repeating: 0, count: 30))
        #expect(!alternating.isEmpty)
        #expect(alternating == firstThenSecond)
        #expect(alternating == secondThenFirst)
    }

    // MARK: Partitions

    @Test func aFinishedPartitionNoLongerHoldsTheWatermarkBack() throws {
        var processor = try Processor(pipeline: .reference, partitions: 2)
        try process(&processor, line("a", "u1", t), partition: 0)
        try process(&processor, line("b", "u2", t + 10 * minute), partition: 0)
        try process(&processor, line("c", "u3", t + 20 * minute), partition: 0)
        try process(&processor, line("d", "u4", t), partition: 1)
        #expect(processor.sequencer.watermark == t - lateness)
        #expect(processor.engine.output.isEmpty)
        try processor.setPartition(1, active: false)
        #expect(processor.sequencer.watermark == t + 15 * minute)
        let applied = processor.engine.output.map { processor.engine.symbols.users[$0.user] }
        #expect(applied == ["u1", "u4", "u2"])
    }

    @Test func aPartitionWithoutEventsHoldsTheWatermarkUntilItFinishes() throws {
        var processor = try Processor(pipeline: .reference, partitions: 2)
        try process(&processor, line("a", "u1", t), partition: 0)
        try process(&processor, line("b", "u2", t + hour), partition: 0)
        #expect(processor.engine.output.isEmpty)
        try processor.setPartition(1, active: false)
        #expect(processor.engine.output.map(\.ts) == [t])
    }

    @Test func timersFireUpToTheWatermarkOnly() throws {
        var processor = try Processor(pipeline: .reference, partitions: 1)
        try process(&processor, orderLine("a", "u1", t))
        try process(&processor, line("b", "u2", t + 30 * day + lateness))
        // Watermark t + 30d: the at_risk timer at t + 30d is not yet due (an event at t + 30d may still come).
        #expect(!processor.engine.output.contains { $0.ts == t + 30 * day })
        try process(&processor, line("c", "u2", t + 30 * day + lateness + 1))
        #expect(processor.engine.output.contains { $0.ts == t + 30 * day && $0.body == .tag(group: "lifecycle", tag: "at_risk", previous: "new") })
    }

    // MARK: End of replay and --until

    @Test func finishFiresTimersUpToTheLargestAcceptedTs() throws {
        func atRisk(lastEvent: Int64) throws -> Bool {
            var processor = try Processor(pipeline: .reference, partitions: 1)
            try process(&processor, orderLine("a", "u1", t))
            try process(&processor, line("b", "u2", lastEvent))
            try processor.finish()
            return processor.engine.output.contains { $0.body == .tag(group: "lifecycle", tag: "at_risk", previous: "new") }
        }
        #expect(try !atRisk(lastEvent: t + 30 * day - 1))
        #expect(try atRisk(lastEvent: t + 30 * day))
    }

    @Test(arguments: [(-1 as Int64, false), (0, true), (1, true)])
    func eventsAfterUntilAreAcceptedButNotApplied(offset: Int64, applied: Bool) throws {
        let until = t + hour
        var processor = try Processor(pipeline: .reference, partitions: 1, until: until)
        try process(&processor, orderLine("a", "u1", t))
        #expect(try process(&processor, orderLine("b", "u2", until - offset)) == .accepted)
        try processor.finish()
        #expect(processor.counts.accepted == 2)
        #expect(processor.counts.notApplied == (applied ? 0 : 1))
        let u2 = processor.engine.symbols.users.id(of: "u2")
        #expect(processor.engine.output.contains { $0.user == u2 } == applied)
    }

    @Test func timersAndRefreshesStopAtUntil() throws {
        let until = t + 30 * day - 1
        var processor = try Processor(pipeline: .reference, partitions: 1, until: until)
        try process(&processor, #"{"event_id":"a","type":"order_paid","user_id":"u1","ts":\#(t),"order_id":"o","amount":1,"community_id":"c1"}"#)
        try process(&processor, orderLine("b", "u2", t + 60 * day))
        try processor.finish()
        let output = processor.engine.output
        #expect(output.allSatisfy { $0.ts <= until })
        #expect(!output.contains { $0.body == .tag(group: "lifecycle", tag: "at_risk", previous: "new") })
        #expect(output.filter { $0.kind == .communityStats }.last?.ts == jan1 + 30 * day)
        #expect(processor.engine.clock == until)
    }

    @Test func untilBeyondTheLastEventLetsTimersRunToIt() throws {
        var processor = try Processor(pipeline: .reference, partitions: 1, until: t + 90 * day)
        try process(&processor, orderLine("a", "u1", t))
        try processor.finish()
        let lifecycle = processor.engine.output.compactMap { record -> String? in
            guard case let .tag("lifecycle", tag, _) = record.body else { return nil }
            return tag
        }
        #expect(lifecycle == ["new", "at_risk", "sleeping"])
    }
}
