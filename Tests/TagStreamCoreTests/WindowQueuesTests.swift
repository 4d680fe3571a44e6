import Testing
@testable import TagStreamCore

/// Window occurrences per key in blocks of one shared pool behave as a queue per key would.
@Suite struct WindowQueuesTests {
    @Test(arguments: [false, true])
    func queuesMatchPlainArraysUnderRandomOperations(keepsValues: Bool) {
        var queues = WindowQueues(keepsValues: keepsValues, keepsSubjects: true)
        var model: [[WindowEntry]] = Array(repeating: [], count: 7)
        queues.grow(to: model.count)
        var random = SplitMix(seed: 42)
        for step in 0..<20_000 {
            let k = Int(random.next() % UInt64(model.count))
            let entry = WindowEntry(ts: Int64(step), value: keepsValues ? Int64(step * 3) : 0, subject: Int64(step % 11))
            switch random.next() % 10 {
            case 0..<5:
                queues.append(k, entry)
                model[k].append(entry)
            case 5..<8 where !model[k].isEmpty:
                #expect(queues.removeFirst(k) == model[k].removeFirst())
            case 8 where !model[k].isEmpty:
                queues.removeLast(k)
                model[k].removeLast()
            default:
                break
            }
            #expect(queues.count(k) == model[k].count)
            #expect(queues.first(k) == model[k].first)
            #expect(queues.last(k) == model[k].last)
        }
        for k in model.indices {
            var seen: [WindowEntry] = []
            queues.forEach(k) { seen.append($0) }
            #expect(seen == model[k])
        }
    }

    @Test func queuesRebuiltFromColumnsHoldTheSameOccurrencesAndGoOnAlike() {
        var queues = WindowQueues(keepsValues: true, keepsSubjects: false)
        queues.grow(to: 5)
        for i in 0..<200 where i % 5 != 3 { queues.append(i % 5, WindowEntry(ts: Int64(i), value: Int64(-i), subject: 0)) }
        for _ in 0..<7 { queues.removeFirst(1) }
        var lengths: [Int] = [], all: [WindowEntry] = []
        for k in 0..<queues.keys {
            lengths.append(queues.count(k))
            queues.forEach(k) { all.append($0) }
        }
        var rebuilt = WindowQueues(keepsValues: true, keepsSubjects: false, lengths: lengths, ts: all.map(\.ts),
                                   values: all.map(\.value), subjects: all.map(\.subject))
        for step in 0..<2 {
            for k in 0..<queues.keys {
                var a: [WindowEntry] = [], b: [WindowEntry] = []
                queues.forEach(k) { a.append($0) }
                rebuilt.forEach(k) { b.append($0) }
                #expect(a == b)
                #expect(queues.oldest(k) == rebuilt.oldest(k) && queues.last(k) == rebuilt.last(k))
                if step == 0, queues.count(k) > 0 {
                    #expect(queues.removeFirst(k) == rebuilt.removeFirst(k))
                    queues.append(k, WindowEntry(ts: 1_000, value: 1, subject: 0))
                    rebuilt.append(k, WindowEntry(ts: 1_000, value: 1, subject: 0))
                }
            }
        }
    }

    @Test func blocksEmptiedByOneKeyAreReusedByAnother() {
        var queues = WindowQueues(keepsValues: true, keepsSubjects: false)
        queues.grow(to: 2)
        for i in 0..<100 { queues.append(0, WindowEntry(ts: Int64(i), value: 1, subject: 0)) }
        let blocks = queues.blocks
        for _ in 0..<100 { queues.removeFirst(0) }
        for i in 0..<100 { queues.append(1, WindowEntry(ts: Int64(i), value: 1, subject: 0)) }
        #expect(queues.blocks == blocks)
        #expect(queues.count(0) == 0 && queues.first(0) == nil)
    }
}

/// A small deterministic random source for tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
