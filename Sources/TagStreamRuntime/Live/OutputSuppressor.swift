import Foundation
import Kafka
import Logging
import TagStreamCore

/// Exactly-once output without broker transactions (DESIGN, "Checkpoints and exactly-once"):
/// after a restore the engine creates again, byte for byte, the records it had produced after
/// the checkpoint. This holds the records already in the output topics past the checkpoint's end
/// offsets, and suppresses each once when it is produced again. A checkpoint taken before every
/// one of them was created again keeps the rest (`pending`): they lie before its end offsets, so
/// the next restore would not find them by reading on from there.
struct OutputSuppressor {
    /// How many times each record (by `identity`) is still to be suppressed.
    private(set) var pending: [UInt64: Int] = [:]

    var isEmpty: Bool { pending.isEmpty }

    init(pending: [UInt64: Int] = [:]) { self.pending = pending }

    /// The suppressions a checkpoint kept, and the records in every output partition from the
    /// checkpoint's end offset to its current end; with `producedBy`, only the records that carry
    /// that header (a task's, where several tasks write to the same topics).
    static func read(after ends: [TopicPartition: Int64], keeping kept: [UInt64: Int], consumer: KafkaConsumer,
                     producedBy header: KafkaHeader? = nil, logger: Logger) throws -> OutputSuppressor {
        var suppressor = OutputSuppressor(pending: kept)
        defer {
            let count = suppressor.pending.values.reduce(0, +)
            if count > 0 { logger.info("\(count) output records are already past the checkpoint and will not be produced again") }
        }
        let targets = try consumer.endOffsets(of: Array(ends.keys)).filter { $0.value > ends[$0.key]! }
        guard !targets.isEmpty else { return suppressor }
        consumer.readsHeader = header?.name
        try consumer.assign(ends.filter { targets[$0.key] != nil })
        var remaining = Set(targets.keys)
        let deadline = Date().addingTimeInterval(120)
        while !remaining.isEmpty {
            guard Date() < deadline else {
                throw KafkaError(code: .outputReadBackTimedOut, message: "could not read the output topics back to the checkpoint within 120 s (\(remaining.map(\.description).sorted().joined(separator: ", ")))")
            }
            for event in consumer.poll(maxEvents: 10_000, timeoutMilliseconds: 100) {
                guard case .record(let record) = event else { continue }
                let tp = TopicPartition(topic: record.topic, partition: record.partition)
                guard let target = targets[tp], record.offset < target else { continue }
                if record.offset + 1 >= target { remaining.remove(tp) }
                if let header, record.header != header.value { continue }
                suppressor.pending[identity(topic: record.topic, key: record.key, value: record.value), default: 0] += 1
            }
        }
        consumer.close()
        return suppressor
    }

    /// Whether this record is already in its topic (then it is counted and not to be produced).
    mutating func suppress(topic: String, key: [UInt8]?, value: [UInt8]) -> Bool {
        let id = Self.identity(topic: topic, key: key, value: value)
        guard let n = pending[id] else { return false }
        pending[id] = n > 1 ? n - 1 : nil
        return true
    }

    private static func identity(topic: String, key: [UInt8]?, value: [UInt8]) -> UInt64 {
        var hash = FNV1a64()
        hash.add(topic)
        hash.add(bytes: key ?? [])
        hash.add(bytes: CollectionOfOne(0x1F))
        hash.add(bytes: value)
        return hash.value
    }
}
