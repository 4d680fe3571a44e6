import Foundation
import TagStreamCore

/// Records one shard produced, encoded as JSON lines per record kind, each with the key that
/// places it among the other shards' records (`OutputRecord.order`).
struct EncodedRecords: Sendable {
    struct Stream: Sendable {
        var bytes: [UInt8] = []
        var ends: [Int] = []
        var ts: [Int64] = []
        var phases: [UInt8] = []
        var keys: [String] = []

        var count: Int { ends.count }

        func withLine<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
            let start = i == 0 ? 0 : ends[i - 1]
            return try bytes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<ends[i]])) }
        }

        /// Whether record `i` of this stream goes before record `j` of `other`.
        func precedes(_ i: Int, _ other: Stream, _ j: Int) -> Bool {
            if ts[i] != other.ts[j] { return ts[i] < other.ts[j] }
            if phases[i] != other.phases[j] { return phases[i] < other.phases[j] }
            return keys[i].utf8.lexicographicallyPrecedes(other.keys[j].utf8)
        }
    }

    /// Per record kind, in `OutputRecord.Kind` order.
    var streams = Array(repeating: Stream(), count: OutputRecord.Kind.allCases.count)
    var tally = OutputTally()

    mutating func append(_ records: [OutputRecord], symbols: SymbolTable, encoder: RecordEncoder) {
        for record in records {
            let kind = record.kind.rawValue
            encoder.withEncoded(record, symbols: symbols) { streams[kind].bytes.append(contentsOf: $0) }
            streams[kind].ends.append(streams[kind].bytes.count)
            let (phase, key) = record.order(symbols: symbols)
            streams[kind].ts.append(record.ts)
            streams[kind].phases.append(phase)
            streams[kind].keys.append(key)
            tally.count(record)
        }
    }
}

extension ReplayOutput {
    /// Writes the shards' records of one step merged into the order one engine gives them: each
    /// shard's are in that order already, and no two shards' records share a key.
    func writeMerged(_ shards: [EncodedRecords]) throws {
        for kind in OutputRecord.Kind.allCases.map(\.rawValue) {
            let streams = shards.map { $0.streams[kind] }
            var next = Array(repeating: 0, count: streams.count)
            while true {
                var best = -1
                for s in streams.indices where next[s] < streams[s].count {
                    if best < 0 || streams[s].precedes(next[s], streams[best], next[best]) { best = s }
                }
                guard best >= 0 else { break }
                try streams[best].withLine(next[best]) { try writeEncoded($0, kind: kind) }
                next[best] += 1
            }
        }
        for shard in shards { addTally(shard.tally) }
    }
}
