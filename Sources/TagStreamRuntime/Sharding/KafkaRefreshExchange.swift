import Foundation
import Kafka
import Logging
import TagStreamCore

/// Shards that meet at each daily refresh through a Kafka topic of one partition, as Kafka
/// Streams' shards meet through its internal topics: each shard publishes its part of a step
/// under the key `<refresh>/<step>/<shard>/<piece>/<pieces>` (large parts in pieces below the
/// brokers' message limit), then reads the topic until it holds every shard's part of that step.
/// The shards' canary engines have steps of their own (`canary-samples`, `canary-communities`).
/// A shard restored from a checkpoint publishes its parts again: the copies are byte-identical,
/// and the first of each piece counts. The tasks of a live run split by partition also agree here
/// on the run's first applied event and on the end of a bounded run. Not thread-safe: one shard's
/// thread uses it (hence unchecked `Sendable`, which `TaskAgreement` asks for).
public final class KafkaRefreshExchange: TaskAgreement, @unchecked Sendable {
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
    private var completed: Set<String>
    /// The offset after the last message read.
    private var position: Int64
    /// What this shard has exchanged so far: the refreshes it met at, the messages and bytes it
    /// published, and the seconds from publishing a part to holding every shard's.
    public private(set) var cost = Cost()
    /// Called again and again while this shard waits for the others (a live task renews its lease
    /// here, and throws to stop waiting when it must stop).
    public var whileWaiting: (() throws -> Void)?
    /// Whether this shard has published its end (`awaitEnd`).
    private var endPublished = false

    public struct Cost: Sendable {
        public var refreshes = 0
        public var messages = 0
        public var bytes = 0
        public var seconds = 0.0
    }

    /// Where a shard restored from a checkpoint goes on: the first message of a step it has not
    /// completed (it may have read past it), and the steps it has completed, whose copies it must
    /// pass over when it reads them again.
    public struct Resume: Sendable, Equatable {
        public var position: Int64
        public var completed: Set<String>

        public init(position: Int64, completed: Set<String> = []) {
            self.position = position
            self.completed = completed
        }
    }

    /// What a checkpoint keeps of this exchange.
    public var resume: Resume {
        Resume(position: parts.values.flatMap(\.values).map(\.firstOffset).min() ?? position, completed: completed)
    }

    /// Reads the topic from `resume` on (default: its beginning). `producer`: one to share, used
    /// from the same thread (a live task's own); nil: one of its own.
    public init(brokers: String, topic: String, shards: Int, resume: Resume = Resume(position: KafkaConsumer.beginning),
                pieceSize: Int = 512 << 10, properties: [String: String] = [:], producer: KafkaProducer? = nil, logger: Logger) throws {
        self.topic = topic
        self.pieceSize = pieceSize
        self.shards = shards
        self.logger = logger
        position = resume.position
        completed = resume.completed
        self.producer = try producer ?? KafkaProducer(configuration: .producer(brokers: brokers, properties: properties), logger: logger)
        consumer = try KafkaConsumer(configuration: .consumer(brokers: brokers, group: "\(topic).reader", properties: properties), logger: logger)
        try consumer.assign([TopicPartition(topic: topic, partition: 0): resume.position])
    }

    deinit { consumer.close() }

    public func settle(_ samples: StatisticSamples, from shard: Int, at refresh: Int64,
                       by compute: @escaping @Sendable ([StatisticSamples]) -> StatisticValues) throws -> StatisticValues {
        try settle(samples, from: shard, at: refresh, channel: "", by: compute)
    }

    public func share(_ contribution: CommunityContribution, from shard: Int, at refresh: Int64) throws -> [CommunityContribution] {
        try share(contribution, from: shard, at: refresh, channel: "")
    }

    public var canaryExchange: any RefreshExchange { Channel(exchange: self, prefix: "canary-") }

    /// The refresh steps of the engines a prefix names, in the same topic: `<refresh>/<prefix>samples`.
    private struct Channel: RefreshExchange {
        let exchange: KafkaRefreshExchange
        let prefix: String

        func settle(_ samples: StatisticSamples, from shard: Int, at refresh: Int64,
                    by compute: @escaping @Sendable ([StatisticSamples]) -> StatisticValues) throws -> StatisticValues {
            try exchange.settle(samples, from: shard, at: refresh, channel: prefix, by: compute)
        }

        func share(_ contribution: CommunityContribution, from shard: Int, at refresh: Int64) throws -> [CommunityContribution] {
            try exchange.share(contribution, from: shard, at: refresh, channel: prefix)
        }
    }

    private func settle(_ samples: StatisticSamples, from shard: Int, at refresh: Int64, channel: String,
                        by compute: @escaping @Sendable ([StatisticSamples]) -> StatisticValues) throws -> StatisticValues {
        compute(try exchange(samples.encoded, step: "\(refresh)/\(channel)samples", from: shard).map(StatisticSamples.init(decoding:)))
    }

    private func share(_ contribution: CommunityContribution, from shard: Int, at refresh: Int64, channel: String) throws -> [CommunityContribution] {
        try exchange(contribution.encoded, step: "\(refresh)/\(channel)communities", from: shard).map(CommunityContribution.init(decoding:))
    }

    /// Agreed in rounds: a round where no task had an event (all idle at the start of a live run)
    /// settles nothing, and the next task to have one opens the next.
    public func agreeOnFirst(_ first: Int64?, from shard: Int) throws -> Int64? {
        let round = completed.count { $0.hasPrefix(Self.firstRound) }
        let firsts = try exchange(Self.encode(first ?? .max), step: "\(Self.firstRound)\(round)", from: shard).map(Self.decode)
        return firsts.min().flatMap { $0 == .max ? nil : $0 }
    }

    public func awaited(by shard: Int) throws -> AwaitedStep? {
        try read(timeoutMilliseconds: 0)
        if parts.keys.contains(where: { $0.hasPrefix(Self.firstRound) }) { return .first }
        return parts.keys.compactMap(Self.refreshAwaited).min().map { .refresh($0) }
    }

    private static let firstRound = "run/first-"

    public func awaitEnd(_ end: Int64, from shard: Int) throws -> AgreedEnd {
        let step = "run/end"
        if !endPublished {
            try publish(Self.encode(end), step: step, from: shard)
            endPublished = true
        }
        let started = Date()
        while !isComplete(step) {
            // A refresh another shard waits at: only a shard that has passed it can have ended.
            if let m = parts.keys.compactMap(Self.refreshAwaited).min() { return .refresh(m) }
            try readOnce(waitingAt: step, from: shard, since: started)
        }
        return .end(try take(step).map(Self.decode).max()!)
    }

    /// Publishes this shard's part of a step and returns every shard's, in shard order.
    private func exchange(_ part: [UInt8], step: String, from shard: Int) throws -> [[UInt8]] {
        let count = try publish(part, step: step, from: shard)
        let started = Date()
        while !isComplete(step) { try readOnce(waitingAt: step, from: shard, since: started) }
        cost.messages += count
        cost.bytes += part.count
        cost.seconds += Date().timeIntervalSince(started)
        if step.hasSuffix("/samples") { cost.refreshes += 1 }
        return try take(step)
    }

    /// Publishes a part in pieces and waits until the brokers have them; returns the piece count.
    @discardableResult
    private func publish(_ part: [UInt8], step: String, from shard: Int) throws -> Int {
        let count = max(1, (part.count + pieceSize - 1) / pieceSize)
        for piece in 0..<count {
            let bytes = Array(part[min(piece * pieceSize, part.count)..<min((piece + 1) * pieceSize, part.count)])
            try producer.send(topic: topic, key: Array("\(step)/\(shard)/\(piece)/\(count)".utf8), value: bytes, partition: 0)
        }
        try producer.flush()
        return count
    }

    /// Reads what has come (waiting up to 100 ms), and warns once a wait has lasted a minute.
    private func readOnce(waitingAt step: String, from shard: Int, since started: Date) throws {
        try whileWaiting?()
        try read(timeoutMilliseconds: 100)
        let waited = Date().timeIntervalSince(started)
        if waited > 60, waited - 60 < 0.2 {
            logger.warning("shard \(shard) has waited over a minute at step \(step) for \(shards - wholeParts(of: step)) other shard(s) (\(topic))")
        }
    }

    /// Takes the messages that have come, waiting up to `timeoutMilliseconds` for the first.
    private func read(timeoutMilliseconds: Int32) throws {
        for event in consumer.poll(maxEvents: 1_000, timeoutMilliseconds: timeoutMilliseconds) {
            switch event {
            case .record(let record):
                position = record.offset + 1
                try take(key: String(decoding: record.key ?? [], as: UTF8.self), value: record.value, offset: record.offset)
            case .error(let error):
                logger.warning("\(topic): \(error.description)")
            case .partitionEnd, .assigned, .revoked:
                break
            }
        }
    }

    /// Every shard's part of a complete step, in shard order; later copies are passed over.
    private func take(_ step: String) throws -> [[UInt8]] {
        let whole = (0..<shards).map { parts[step]![$0]!.bytes }
        parts[step] = nil
        completed.insert(step)
        return whole
    }

    /// The refresh instant of a step `<refresh>/samples`, the first step of a refresh.
    private static func refreshAwaited(_ step: String) -> Int64? {
        step.hasSuffix("/samples") ? Int64(step.dropLast("/samples".count)) : nil
    }

    private static func encode(_ value: Int64) -> [UInt8] {
        var w = SnapshotWriter()
        w.write(value)
        return w.bytes
    }

    private static func decode(_ bytes: [UInt8]) throws -> Int64 {
        var r = SnapshotReader(bytes)
        return try r.readInt64()
    }

    private func take(key: String, value: [UInt8], offset: Int64) throws {
        let fields = key.split(separator: "/")
        guard fields.count == 5, let shard = Int(fields[2]), let piece = Int(fields[3]), let count = Int(fields[4]),
              (0..<shards).contains(shard), (0..<count).contains(piece) else {
            throw KafkaExchangeError("\(topic) holds a message this exchange did not write (key '\(key)'): is the topic shared with something else?")
        }
        let step = "\(fields[0])/\(fields[1])"
        guard !completed.contains(step) else { return }
        var part = parts[step]?[shard] ?? Part(count: count, firstOffset: offset)
        if part.pieces[piece] == nil { part.pieces[piece] = value }
        parts[step, default: [:]][shard] = part
    }

    private func wholeParts(of step: String) -> Int { parts[step]?.values.count(where: \.isWhole) ?? 0 }

    private func isComplete(_ step: String) -> Bool { wholeParts(of: step) == shards }

    /// One shard's part of a step as read so far: the piece count travels with each piece.
    private struct Part {
        let count: Int
        let firstOffset: Int64
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
