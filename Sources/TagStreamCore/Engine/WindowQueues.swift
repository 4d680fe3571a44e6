/// The occurrences inside every key's window, oldest first. A key's occurrences sit in a chain of
/// small blocks carved from one pool shared by all keys, so a key costs 24 bytes and no allocation
/// of its own, and a block emptied by one key is reused by the next. Values and subjects are kept
/// only for the aggregates that read them: a count's window holds times alone.
struct WindowQueues: Sendable {
    /// Where one key's occurrences are: the time of the oldest (`.max`: none), which decides on
    /// its own whether anything left the window, the blocks holding the oldest and the newest, the
    /// oldest's place in its block, and how many there are.
    struct Span: Sendable {
        var oldest = Int64.max
        var first: Int32 = -1
        var last: Int32 = -1
        var start: Int32 = 0
        var count: Int32 = 0
    }

    static let blockSize: Int32 = 4
    private var spans: [Span] = []
    /// The occurrences' times, `blockSize` per block, block after block.
    private var times: [Int64] = []
    /// Parallel to `times`, when the aggregate reads values (sums, extremes, rankings).
    private var values: [Int64] = []
    /// Parallel to `times`, when the aggregate ranks or counts subjects (skus, categories).
    private var subjects: [Int64] = []
    /// Per block: the next block of its chain, or of the free list; -1: none.
    private var next: [Int32] = []
    private var freeBlocks: Int32 = -1
    let keepsValues: Bool
    let keepsSubjects: Bool

    init(keepsValues: Bool, keepsSubjects: Bool) {
        self.keepsValues = keepsValues
        self.keepsSubjects = keepsSubjects
    }

    /// Number of keys.
    var keys: Int { spans.count }

    /// Blocks taken from the pool so far, in use or free.
    var blocks: Int { next.count }

    mutating func grow(to n: Int) {
        spans.extend(to: n, with: Span())
    }

    /// The queues of `lengths[k]` occurrences for each key `k`, taken in order from the columns (a
    /// snapshot's): each key's blocks laid out one after another, in one pass.
    init(keepsValues: Bool, keepsSubjects: Bool, lengths: [Int], ts: [Int64], values: [Int64], subjects: [Int64]) {
        self.init(keepsValues: keepsValues, keepsSubjects: keepsSubjects)
        let size = Int(Self.blockSize)
        let blockCount = lengths.reduce(0) { $0 + ($1 + size - 1) / size }
        times = [Int64](repeating: 0, count: blockCount * size)
        if keepsValues { self.values = [Int64](repeating: 0, count: blockCount * size) }
        if keepsSubjects { self.subjects = [Int64](repeating: 0, count: blockCount * size) }
        next = [Int32](repeating: -1, count: blockCount)
        spans.reserveCapacity(lengths.count)
        var block = 0, at = 0
        for n in lengths {
            guard n > 0 else {
                spans.append(Span())
                continue
            }
            // Occurrence i of the key goes to slot i of the key's run of blocks.
            let position = block * size
            for i in 0..<n {
                times[position + i] = ts[at + i]
                if keepsValues { self.values[position + i] = values[at + i] }
                if keepsSubjects { self.subjects[position + i] = subjects[at + i] }
            }
            let used = (n + size - 1) / size
            for b in block..<(block + used - 1) { next[b] = Int32(b + 1) }
            spans.append(Span(oldest: ts[at], first: Int32(block), last: Int32(block + used - 1), start: 0, count: Int32(n)))
            block += used
            at += n
        }
    }

    @inline(__always)
    func count(_ k: Int) -> Int { Int(spans[k].count) }

    /// The time of the oldest occurrence of key `k`; `.max` when it has none.
    @inline(__always)
    func oldest(_ k: Int) -> Int64 { spans[k].oldest }

    /// The oldest occurrence of key `k`.
    @inline(__always)
    func first(_ k: Int) -> WindowEntry? {
        let span = spans[k]
        return span.count == 0 ? nil : entry(at: Self.position(span.first, span.start))
    }

    /// The newest occurrence of key `k`.
    func last(_ k: Int) -> WindowEntry? {
        let span = spans[k]
        return span.count == 0 ? nil : entry(at: Self.position(span.last, (span.start + span.count - 1) % Self.blockSize))
    }

    mutating func append(_ k: Int, _ e: WindowEntry) {
        var span = spans[k]
        // An empty span starts at slot 0, so this is 0 for a key's first occurrence too.
        let slot = (span.start + span.count) % Self.blockSize
        if span.count == 0 {
            span.first = allocateBlock()
            span.last = span.first
            span.start = 0
            span.oldest = e.ts
        } else if slot == 0 {
            let block = allocateBlock()
            next[Int(span.last)] = block
            span.last = block
        }
        let at = Self.position(span.last, slot)
        times[at] = e.ts
        if keepsValues { values[at] = e.value }
        if keepsSubjects { subjects[at] = e.subject }
        span.count += 1
        spans[k] = span
    }

    /// Removes and returns the oldest occurrence of key `k`, which must have one.
    @discardableResult
    mutating func removeFirst(_ k: Int) -> WindowEntry {
        var span = spans[k]
        let removed = entry(at: Self.position(span.first, span.start))
        span.count -= 1
        span.start += 1
        if span.count == 0 {
            freeBlock(span.first)
            span = Span()
        } else {
            if span.start == Self.blockSize {
                let emptied = span.first
                span.first = next[Int(emptied)]
                span.start = 0
                freeBlock(emptied)
            }
            span.oldest = times[Self.position(span.first, span.start)]
        }
        spans[k] = span
        return removed
    }

    /// Removes the newest occurrence of key `k`, which must have one.
    mutating func removeLast(_ k: Int) {
        var span = spans[k]
        span.count -= 1
        if span.count == 0 {
            freeBlock(span.first)
            span = Span()
        } else if (span.start + span.count) % Self.blockSize == 0 {
            // The newest block is empty now: its predecessor becomes the last (chains are short).
            var block = span.first
            while next[Int(block)] != span.last { block = next[Int(block)] }
            freeBlock(span.last)
            next[Int(block)] = -1
            span.last = block
        }
        spans[k] = span
    }

    /// Calls `body` with each occurrence of key `k`, oldest first.
    func forEach(_ k: Int, _ body: (WindowEntry) -> Void) {
        let span = spans[k]
        var block = span.first, slot = span.start
        for _ in 0..<span.count {
            body(entry(at: Self.position(block, slot)))
            slot += 1
            if slot == Self.blockSize {
                block = next[Int(block)]
                slot = 0
            }
        }
    }

    /// Where slot `slot` of block `block` is in the pool (in `Int`: the pool may outgrow `Int32`).
    @inline(__always)
    private static func position(_ block: Int32, _ slot: Int32) -> Int {
        Int(block) &* Int(blockSize) &+ Int(slot)
    }

    @inline(__always)
    private func entry(at i: Int) -> WindowEntry {
        WindowEntry(ts: times[i], value: keepsValues ? values[i] : 0, subject: keepsSubjects ? subjects[i] : 0)
    }

    private mutating func allocateBlock() -> Int32 {
        if freeBlocks >= 0 {
            let block = freeBlocks
            freeBlocks = next[Int(block)]
            next[Int(block)] = -1
            return block
        }
        let block = Int32(next.count)
        let size = (next.count + 1) * Int(Self.blockSize)
        next.extend(to: next.count + 1, with: -1)
        times.extend(to: size, with: 0)
        if keepsValues { values.extend(to: size, with: 0) }
        if keepsSubjects { subjects.extend(to: size, with: 0) }
        return block
    }

    private mutating func freeBlock(_ block: Int32) {
        next[Int(block)] = freeBlocks
        freeBlocks = block
    }
}
