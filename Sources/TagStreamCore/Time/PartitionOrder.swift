/// Candidate partitions in the order `Sequencer.partitionHoldingWatermark` picks them (the lowest
/// watermark, ties to the first), in a binary heap: a run that takes record after record from the
/// partition holding the watermark back pays O(log partitions) per record instead of a scan over
/// every partition. Only the first partition may change between picks (its watermark rises as its
/// records are accepted, or it stops being a candidate); `update` restores the order.
public struct PartitionOrder: Sendable {
    private struct Entry: Sendable {
        var watermark: Int64
        var partition: Int
        func precedes(_ other: Entry) -> Bool {
            watermark != other.watermark ? watermark < other.watermark : partition < other.partition
        }
    }

    private var heap: [Entry] = []

    /// The candidates of `sequencer` that `isCandidate` admits.
    public init(_ sequencer: Sequencer, where isCandidate: (Int) -> Bool) {
        for p in sequencer.partitions.indices where isCandidate(p) {
            heap.append(Entry(watermark: sequencer.watermark(ofPartition: p), partition: p))
        }
        for i in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
    }

    /// The partition holding the watermark back, as `partitionHoldingWatermark` would pick it.
    public var first: Int? { heap.first?.partition }

    /// The first partition changed: it takes its place by its new watermark, or leaves (nil) when
    /// it is no longer a candidate. (A watermark rather than the sequencer: a caller holding the
    /// sequencer in a class property would copy it for every record.)
    public mutating func update(firstWatermark: Int64?) {
        guard !heap.isEmpty else { return }
        if let firstWatermark {
            heap[0].watermark = firstWatermark
        } else {
            heap[0] = heap[heap.count - 1]
            heap.removeLast()
        }
        if !heap.isEmpty { siftDown(0) }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let left = 2 * i + 1, right = left + 1
            var smallest = i
            if left < heap.count, heap[left].precedes(heap[smallest]) { smallest = left }
            if right < heap.count, heap[right].precedes(heap[smallest]) { smallest = right }
            if smallest == i { return }
            heap.swapAt(i, smallest)
            i = smallest
        }
    }
}
