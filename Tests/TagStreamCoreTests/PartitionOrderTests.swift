import Testing
@testable import TagStreamCore

/// `PartitionOrder` picks partitions exactly as `Sequencer.partitionHoldingWatermark` does.
@Suite struct PartitionOrderTests {
    /// Queues of event lines per partition, with disorder, equal timestamps, bad lines and an empty partition.
    static func queues(seed: UInt64, partitions: Int) -> [[String]] {
        var state = seed
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        return (0..<partitions).map { p in
            guard p != 3 else { return [] }
            var ts = jan1 + Int64(next(3_600)) * 1_000
            return (0..<(20 + next(40))).map { i in
                ts += Int64(next(4)) * minute - minute  // sometimes backwards, sometimes equal
                return next(25) == 0 ? "not json" : #"{"event_id":"p\#(p)-\#(i)","type":"app_open","user_id":"u\#(next(9))","ts":\#(ts)}"#
            }
        }
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func picksTheSamePartitionsAsAScanOverAllOfThem(seed: UInt64) throws {
        let input = Self.queues(seed: seed, partitions: 8)
        // Partition 3 is empty: it holds the watermark back while active, as in live mode.
        func run(ordered: Bool) throws -> [Int] {
            var processor = try Processor(pipeline: .reference, partitions: input.count)
            var queues = input.map { ArraySlice($0) }
            var picks: [Int] = []
            let isCandidate = { (p: Int, processor: Processor, queues: [ArraySlice<String>]) in
                !queues[p].isEmpty || processor.sequencer.partitions[p].isActive
            }
            var order = PartitionOrder(processor.sequencer) { isCandidate($0, processor, queues) }
            func holdingWatermark() -> Int? {
                var sequencer = processor.sequencer
                return sequencer.partitionHoldingWatermark { isCandidate($0, processor, queues) }
            }
            while let p = ordered ? order.first : holdingWatermark() {
                picks.append(p)
                if let line = queues[p].popFirst() {
                    try process(&processor, line, partition: p)
                } else {
                    try processor.setPartition(p, active: false)  // the end of this partition's records
                }
                if ordered { order.update(firstWatermark: isCandidate(p, processor, queues) ? processor.sequencer.watermark(ofPartition: p) : nil) }
            }
            return picks
        }
        let scanned = try run(ordered: false)
        #expect(scanned.count > 200)
        #expect(try run(ordered: true) == scanned)
    }
}
