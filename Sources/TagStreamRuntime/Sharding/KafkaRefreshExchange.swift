import Foundation
import Kafka
import Logging
import TagStreamCore

/// Shards that meet at each daily refresh through a Kafka topic of one partition, as Kafka
/// Streams' shards meet through its internal topics: each shard publishes its part of a step
/// under the key `<refresh>/<step>/<shard>/<piece>/<pieces>` (large parts in pieces below the
/// brokers' message limit), then reads the topic until it holds every shard's part of that step.
/// A shard restored from a checkpoint publishes its parts again: the copies are byte-identical,
/// and the first of each piece counts. Not thread-safe: one shard's thread uses it.
public final class KafkaRefreshExchange: RefreshExchange {
    private let topic: String
    /// The largest piece of a part in one message; the default stays below Kafka's 1 MB limit.
    private let pieceSize: Int
    private let shards: Int
    private let producer: KafkaProducer
    private let consumer: KafkaConsumer
    private let logger: Logger
    /// The parts read of each step not yet complete, by `<refresh>/<step>`, then shard.
    private var parts: [String: [Int: Part]] = [:]
    /// The steps every shard has completed, whose copies are passed over.
    private var completed: Set<String> = []
    /// The offset after the last message read: a checkpoint keeps it, to read on from there.
    public private(set) var position: Int64
    /// What this shard has exchanged so far: the refreshes it met at, the messages and bytes it
    /// published, and the seconds from publishing a part to holding every shard's.
    public private(set) var cost = Cost()

    public struct Cost: Sendable {
        public var refreshes = 0
        public var messages = 0
        public var bytes = 0
        public var seconds = 0.0
    }

    /// Reads the topic from `offset` on (default: its beginning).
    public init(brokers: String, topic: String, shards: Int, readingFrom offset: Int64 = KafkaConsumer.beginning,
                pieceSize: Int = 512 << 10, properties: [String: String] = [:], logger: Logger) throws {
        self.topic = topic
        self.pieceSize = pieceSize
        self.shards = shards
        self.logger = logger
        position = offset
        producer = try KafkaProducer(configuration: .producer(brokers: brokers, properties: properties), logger: logger)
        consumer = try KafkaConsumer(configuration: .consumer(brokers: brokers, group: "\(topic).reader", properties: properties), logger: logger)
        try consumer.assign([TopicPartition(topic: topic, partition: 0): offset])
    }

    deinit { consumer.close() }

    public func settle(_ samples: StatisticSamples, from shard: Int, at refresh: Int64,
                       by compute: @escaping @Sendable ([StatisticSamples]) -> StatisticValues) throws -> StatisticValues {
        compute(try exchange(samples.encoded, step: "\(refresh)/samples", from: shard).map(StatisticSamples.init(decoding:)))
    }

    public func share(_ contribution: CommunityContribution, from shard: Int, at refresh: Int64) throws -> [CommunityContribution] {
        try exchange(contribution.encoded, step: "\(refresh)/communities", from: shard).map(CommunityContribution.init(decoding:))
    }

    /// Publishes this shard's part of a step and returns every shard's, in shard order.
    private func exchange(_ part: [UInt8], step: String, from shard: Int) throws -> [[UInt8]] {
        let count = max(1, (part.count + pieceSize - 1) / pieceSize)
        for piece in 0..<count {
            let bytes = Array(part[min(piece * pieceSize, part.count)..<min((piece + 1) * pieceSize, part.count)])
            try producer.send(topic: topic, key: Array("\(step)/\(shard)/\(piece)/\(count)".utf8), value: bytes, partition: 0)
        }
        let started = Date()
        try producer.flush()
        var warned = false
        while !isComplete(step) {
            for event in consumer.poll(maxEvents: 1_000, timeoutMilliseconds: 100) {
                switch event {
                case .record(let record):
                    position = record.offset + 1
                    try take(key: String(decoding: record.key ?? [], as: UTF8.self), value: record.value)
                case .error(let error):
                    logger.warning("\(topic): \(error.description)")
                case .partitionEnd, .assigned, .revoked:
                    break
                }
            }
            if !warned, Date().timeIntervalSince(started) > 60 {
                warned = true
                logger.warning("shard \(shard) has waited over a minute at refresh step \(step) for \(shards - wholeParts(of: step)) other shard(s) (\(topic))")
            }
        }
        let whole = (0..<shards).map { parts[step]![$0]!.bytes }
        parts[step] = nil
        completed.insert(step)
        cost.messages += count
        cost.bytes += part.count
        cost.seconds += Date().timeIntervalSince(started)
        if step.hasSuffix("/samples") { cost.refreshes += 1 }
        return whole
    }

    private func take(key: String, value: [UInt8]) throws {
        let fields = key.split(separator: "/")
        guard fields.count == 5, let shard = Int(fields[2]), let piece = Int(fields[3]), let count = Int(fields[4]),
              (0..<shards).contains(shard), (0..<count).contains(piece) else {
            throw KafkaExchangeError("\(topic) holds a message this exchange did not write (key '\(key)'): is the topic shared with something else?")
        }
        let step = "\(fields[0])/\(fields[1])"
        guard !completed.contains(step) else { return }
        var part = parts[step]?[shard] ?? Part(count: count)
        if part.pieces[piece] == nil { part.pieces[piece] = value }
        parts[step, default: [:]][shard] = part
    }

    private func wholeParts(of step: String) -> Int { parts[step]?.values.count(where: \.isWhole) ?? 0 }

    private func isComplete(_ step: String) -> Bool { wholeParts(of: step) == shards }

    /// One shard's part of a step as read so far: the piece count travels with each piece.
    private struct Part {
        let count: Int
        var pieces: [Int: [UInt8]] = [:]

        var isWhole: Bool { pieces.count == count }
        var bytes: [UInt8] { pieces.keys.sorted().flatMap { pieces[$0]! } }
    }
}

/// The exchange topic holds what this build cannot read.
struct KafkaExchangeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
