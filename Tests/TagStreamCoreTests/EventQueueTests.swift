import Testing
@testable import TagStreamCore

/// The reorder buffer's queue behaves as an array would, and copies of it are independent.
@Suite struct EventQueueTests {
    private func event(_ n: Int) -> Event {
        // Ids longer than a small string, so that the events hold memory of their own.
        Event(ts: Int64(n), eventID: "event-\(n)-with-a-long-id", type: .search, user: Int32(n % 5), community: -1,
              amount: .zero, hasCoupon: false, query: "query \(n)", items: [OrderItem(sku: 1, category: 2, quantity: .zero)])
    }

    @Test func queueMatchesAnArrayThroughWrapsAndGrowth() {
        var queue = EventQueue()
        var model: [Event] = []
        var random = SplitMix(seed: 7)
        for step in 0..<20_000 {
            // Appends win slightly, so the queue wraps around many times at sizes that keep growing.
            if random.next() % 100 < 55 || model.isEmpty {
                queue.append(event(step))
                model.append(event(step))
            } else {
                #expect(queue.firstTimestamp == model[0].ts)
                #expect(queue.removeFirst() == model.removeFirst())
            }
            #expect(queue.count == model.count)
        }
        #expect(queue.events == model)
    }

    @Test func aCopyKeepsItsEventsWhenTheOriginalChanges() {
        var original = EventQueue()
        for n in 0..<10 { original.append(event(n)) }
        let copy = original
        _ = original.removeFirst()
        original.append(event(10))
        var second = copy
        second.append(event(11))
        #expect(copy.events == (0..<10).map(event))
        #expect(original.events == (1...10).map(event))
        #expect(second.events == (0..<10).map(event) + [event(11)])
    }

    /// Appending to a full queue whose storage a copy shares, wrapped around or not: the append
    /// copies into a larger storage, and the copy keeps its own events.
    @Test(arguments: [0, 5])
    func appendingToAFullSharedQueueGrowsIt(removedFirst: Int) {
        var queue = EventQueue()
        for n in 0..<removedFirst { queue.append(event(n)) }
        for _ in 0..<removedFirst { _ = queue.removeFirst() }
        for n in removedFirst..<(removedFirst + 16) { queue.append(event(n)) }
        let copy = queue
        queue.append(event(99))
        let expected = (removedFirst..<(removedFirst + 16)).map(event)
        #expect(queue.events == expected + [event(99)])
        #expect(copy.events == expected)
        var drained: [Event] = []
        while queue.count > 0 { drained.append(queue.removeFirst()) }
        #expect(drained == expected + [event(99)])
    }

    @Test func orderQuestionsCompareTimesThenIds() {
        var queue = EventQueue()
        #expect(!queue.precedesLast(event(5)))
        queue.append(event(5))
        queue.append(event(8))
        #expect(queue.precedesLast(event(7)))
        #expect(!queue.precedesLast(event(9)))
        var sameTime = event(8)
        sameTime.eventID = "a"
        #expect(queue.precedesLast(sameTime))
        #expect(queue.firstPrecedes(event(6)))
        #expect(!queue.firstPrecedes(event(4)))
    }
}
