import CRdKafka
import Logging

/// One record read from Kafka; its bytes are copied out of librdkafka's buffers.
public struct KafkaRecord: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]
    /// Broker or producer timestamp in epoch milliseconds, when present.
    public var timestamp: Int64?
    /// The value of the header the consumer was asked to read (`KafkaConsumer.readsHeader`), if the record has it.
    public var header: [UInt8]? = nil
}

/// A partition of a topic.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// What a poll returns besides records.
public enum ConsumerEvent: Sendable {
    case record(KafkaRecord)
    /// The group gave these partitions to this consumer; their records follow.
    case assigned([TopicPartition])
    /// The group took these partitions away (or this consumer lost them).
    case revoked([TopicPartition])
    /// The consumer reached the current end of a partition (`next` is the offset it will read next).
    case partitionEnd(topic: String, partition: Int32, next: Int64)
    case error(KafkaError)
}

/// The partitions of a librdkafka list.
private func topicPartitions(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartition] {
    (0..<Int(list.pointee.cnt)).map { i in
        let element = list.pointee.elems[i]
        return TopicPartition(topic: String(cString: element.topic), partition: element.partition)
    }
}

/// A consumer in a consumer group with manual commits. Not thread-safe: one owner thread or actor.
public final class KafkaConsumer {
    private let handle: RDKafkaHandle
    private var closed = false
    /// A header whose value records carry in `KafkaRecord.header`; nil: none (no header is read).
    public var readsHeader: String?
    /// Topic names by librdkafka topic handle (and C name, as a handle's memory could be reused),
    /// so that records share one `String` per topic.
    private var topicNames: [(handle: OpaquePointer, cName: [CChar], name: String)] = []

    public init(configuration: KafkaConfiguration, logger: Logger = Logger(label: "tagstream.kafka.consumer")) throws(KafkaError) {
        handle = try RDKafkaHandle(type: RD_KAFKA_CONSUMER, configuration: configuration, logger: logger) { conf in
            // Client-wide errors (all brokers down, authentication) come back from `poll` as events.
            rd_kafka_conf_set_error_cb(conf) { rk, err, reason, _ in
                guard let rk, let opaque = rd_kafka_opaque(rk) else { return }
                let context = Unmanaged<CallbackContext>.fromOpaque(opaque).takeUnretainedValue()
                let error = KafkaError(code: .init(rd_kafka_resp_err_t(rawValue: err)), message: reason.map { String(cString: $0) } ?? "")
                if context.clientErrors.count < 100 { context.clientErrors.append(error) }
            }
            // Assignments are applied here, inside `poll`, and reported as events, so that the owner
            // learns of them without asking librdkafka's main thread (`assignment()`) every turn.
            rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, _ in
                guard let rk, let partitions, let opaque = rd_kafka_opaque(rk) else { return }
                let context = Unmanaged<CallbackContext>.fromOpaque(opaque).takeUnretainedValue()
                let cooperative = rd_kafka_rebalance_protocol(rk).map { String(cString: $0) } == "COOPERATIVE"
                let assigning = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS
                if assigning, let startOffset = context.startOffset {
                    for i in 0..<Int(partitions.pointee.cnt) {
                        let element = partitions.pointee.elems[i]
                        let tp = TopicPartition(topic: String(cString: element.topic), partition: element.partition)
                        if let offset = startOffset(tp) { partitions.pointee.elems[i].offset = offset }
                    }
                }
                var failure: String?
                if cooperative {
                    if let error = assigning ? rd_kafka_incremental_assign(rk, partitions) : rd_kafka_incremental_unassign(rk, partitions) {
                        failure = String(cString: rd_kafka_error_string(error))
                        rd_kafka_error_destroy(error)
                    }
                } else {
                    let result = rd_kafka_assign(rk, assigning ? partitions : nil)
                    if result != RD_KAFKA_RESP_ERR_NO_ERROR { failure = String(cString: rd_kafka_err2str(result)) }
                }
                if let failure {
                    context.clientErrors.append(KafkaError(code: .init(err), message: "\(assigning ? "assign" : "revoke"): \(failure)"))
                }
                let list = topicPartitions(partitions)
                context.rebalances.append(assigning ? .assigned(list) : .revoked(list))
            }
            // Commits are for monitoring: their failures come back from `poll` as error events.
            rd_kafka_conf_set_offset_commit_cb(conf) { rk, err, offsets, _ in
                guard let rk, let opaque = rd_kafka_opaque(rk) else { return }
                let context = Unmanaged<CallbackContext>.fromOpaque(opaque).takeUnretainedValue()
                var failed = err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET ? nil : err
                if failed == nil, let offsets {
                    failed = (0..<Int(offsets.pointee.cnt)).map { offsets.pointee.elems[$0].err }.first { $0 != RD_KAFKA_RESP_ERR_NO_ERROR }
                }
                if let failed, context.clientErrors.count < 100 { context.clientErrors.append(KafkaError(failed, context: "commit")) }
            }
        }
        rd_kafka_poll_set_consumer(handle.pointer)
    }

    deinit { close() }

    /// The offset that stands for a partition's first record.
    public static let beginning = Int64(RD_KAFKA_OFFSET_BEGINNING)
    /// The offset that stands for the group's committed offset (else `auto.offset.reset`).
    public static let committedOffset = Int64(RD_KAFKA_OFFSET_STORED)

    /// Where each partition the group assigns begins, asked at every assignment: an offset, or
    /// nil for the group's committed offset (else `auto.offset.reset`). A stream processor whose
    /// checkpoints hold its positions answers from them, so that no offset has to be committed
    /// before the group has settled. Called inside `poll`, on the owner's thread.
    public var startOffset: ((TopicPartition) -> Int64?)? {
        get { handle.context.startOffset }
        set { handle.context.startOffset = newValue }
    }

    /// Joins the group for these topics; partitions arrive through the group's rebalancing, which
    /// `poll` reports as `.assigned` and `.revoked` events.
    public func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
        let err = rd_kafka_subscribe(handle.pointer, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "subscribe to \(topics.joined(separator: ","))") }
    }

    /// Up to `maxEvents` events; waits at most `timeoutMilliseconds` for the first one.
    public func poll(maxEvents: Int = 1_000, timeoutMilliseconds: Int32 = 100) -> [ConsumerEvent] {
        var events: [ConsumerEvent] = []
        poll(maxEvents: maxEvents, timeoutMilliseconds: timeoutMilliseconds) { events.append($0) }
        return events
    }

    /// Hands up to `maxEvents` events to `body` one by one, as they are taken from librdkafka (no
    /// array of them in between); waits at most `timeoutMilliseconds` for the first one.
    public func poll<Failure: Error>(maxEvents: Int, timeoutMilliseconds: Int32, _ body: (consuming ConsumerEvent) throws(Failure) -> Void) throws(Failure) {
        var count = 0
        var timeout = timeoutMilliseconds
        while count < maxEvents {
            let message = rd_kafka_consumer_poll(handle.pointer, timeout)
            // A rebalance served by this call comes before the records of what it assigned.
            if !handle.context.rebalances.isEmpty {
                let rebalances = handle.context.rebalances
                handle.context.rebalances.removeAll()
                for event in rebalances { try body(event) }
                count += rebalances.count
            }
            guard let message else { break }
            defer { rd_kafka_message_destroy(message) }
            timeout = 0
            let m = message.pointee
            let topic = m.rkt.map(topicName) ?? ""
            switch m.err {
            case RD_KAFKA_RESP_ERR_NO_ERROR:
                var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
                let ts = rd_kafka_message_timestamp(message, &timestampType)
                try body(.record(KafkaRecord(
                    topic: topic, partition: m.partition, offset: m.offset,
                    key: m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) },
                    value: m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? [],
                    timestamp: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : ts,
                    header: readsHeader.flatMap { header(named: $0, of: message) })))
            case RD_KAFKA_RESP_ERR__PARTITION_EOF:
                try body(.partitionEnd(topic: topic, partition: m.partition, next: m.offset))
            default:
                try body(.error(KafkaError(m.err, context: "consume \(topic)[\(m.partition)]")))
            }
            count += 1
        }
        if !handle.context.clientErrors.isEmpty {
            let errors = handle.context.clientErrors
            handle.context.clientErrors.removeAll()
            for error in errors { try body(.error(error)) }
        }
    }

    /// The value of the last header called `name` of a message, if it has one.
    private func header(named name: String, of message: UnsafeMutablePointer<rd_kafka_message_t>) -> [UInt8]? {
        var headers: OpaquePointer?
        guard rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR, let headers else { return nil }
        var value: UnsafeRawPointer?
        var size = 0
        guard rd_kafka_header_get_last(headers, name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
    }

    private func topicName(_ topic: OpaquePointer) -> String {
        let cName = rd_kafka_topic_name(topic)!
        // Compares up to the first difference, which comes at the latest at the shorter one's NUL.
        func same(_ known: [CChar]) -> Bool { known.indices.allSatisfy { known[$0] == cName[$0] } }
        if let known = topicNames.first(where: { $0.handle == topic && same($0.cName) }) { return known.name }
        let name = String(cString: cName)
        topicNames.removeAll { $0.handle == topic }
        topicNames.append((topic, Array(name.utf8CString), name))
        return name
    }

    /// The partitions currently assigned to this consumer by the group.
    public func assignment() throws(KafkaError) -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        let err = rd_kafka_assignment(handle.pointer, &list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { throw KafkaError(err, context: "assignment") }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return topicPartitions(list)
    }

    /// The group's committed offset of each partition (-1001 when none), asked of the group coordinator.
    public func committed(_ partitions: [TopicPartition], timeoutMilliseconds: Int32 = 10_000) throws(KafkaError) -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        try withList(partitions) { list throws(KafkaError) in
            let err = rd_kafka_committed(handle.pointer, list, timeoutMilliseconds)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "committed offsets") }
            for i in 0..<Int(list.pointee.cnt) {
                let e = list.pointee.elems[i]
                result[TopicPartition(topic: String(cString: e.topic), partition: e.partition)] = e.offset
            }
        }
        return result
    }

    /// Stops fetching these partitions (records already fetched are still returned) until `resume`.
    public func pause(_ partitions: [TopicPartition]) throws(KafkaError) {
        try withList(partitions) { list throws(KafkaError) in
            let err = rd_kafka_pause_partitions(handle.pointer, list)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "pause") }
        }
    }

    public func resume(_ partitions: [TopicPartition]) throws(KafkaError) {
        try withList(partitions) { list throws(KafkaError) in
            let err = rd_kafka_resume_partitions(handle.pointer, list)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "resume") }
        }
    }

    private func withList(_ partitions: [TopicPartition],
                          _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws(KafkaError) -> Void) throws(KafkaError) {
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for tp in partitions { rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition) }
        try body(list)
    }

    private func withList(_ offsets: [TopicPartition: Int64],
                          _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws(KafkaError) -> Void) throws(KafkaError) {
        let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (tp, offset) in offsets { rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition).pointee.offset = offset }
        try body(list)
    }

    /// The offset after the last record now in a partition (its high watermark), asked of the leader.
    public func endOffset(of tp: TopicPartition, timeoutMilliseconds: Int32 = 10_000) throws(KafkaError) -> Int64 {
        try offsets(of: tp, timeoutMilliseconds: timeoutMilliseconds).upperBound
    }

    /// The offsets of the records a partition holds now, from its first (records before it were
    /// deleted by retention) to its end, asked of the leader.
    public func offsets(of tp: TopicPartition, timeoutMilliseconds: Int32 = 10_000) throws(KafkaError) -> Range<Int64> {
        var low: Int64 = 0, high: Int64 = 0
        let err = rd_kafka_query_watermark_offsets(handle.pointer, tp.topic, tp.partition, &low, &high, timeoutMilliseconds)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "offsets of \(tp)") }
        return low..<max(low, high)
    }

    /// The end offsets (high watermarks) of many partitions at once, asked of their leaders in one
    /// request per broker.
    public func endOffsets(of partitions: [TopicPartition], timeoutMilliseconds: Int32 = 10_000) throws(KafkaError) -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        // offsets_for_times with the "timestamp" OFFSET_END answers each partition's end offset.
        try withList(Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(RD_KAFKA_OFFSET_END)) })) { list throws(KafkaError) in
            let err = rd_kafka_offsets_for_times(handle.pointer, list, timeoutMilliseconds)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "end offsets") }
            for i in 0..<Int(list.pointee.cnt) {
                let e = list.pointee.elems[i]
                let tp = TopicPartition(topic: String(cString: e.topic), partition: e.partition)
                guard e.err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(e.err, context: "end offset of \(tp)") }
                result[tp] = e.offset
            }
        }
        return result
    }

    /// Records behind the end of each assigned partition: its end offset (as the last fetch saw it)
    /// minus the offset the consumer returns next, which is its position or, before it has returned
    /// a record of the partition, `startOffsets[partition]` (e.g. the committed offset) or else the
    /// partition's first offset. Partitions not fetched yet are left out. Does not wait for the brokers.
    public func lag(startOffsets: [TopicPartition: Int64] = [:]) throws(KafkaError) -> [TopicPartition: Int64] {
        let assigned = try assignment()
        var result: [TopicPartition: Int64] = [:]
        try withList(assigned) { list throws(KafkaError) in
            let err = rd_kafka_position(handle.pointer, list)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "positions") }
            for i in 0..<Int(list.pointee.cnt) {
                let e = list.pointee.elems[i]
                let tp = TopicPartition(topic: String(cString: e.topic), partition: e.partition)
                var low: Int64 = 0, high: Int64 = 0
                guard rd_kafka_get_watermark_offsets(handle.pointer, e.topic, e.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR,
                      low >= 0, high >= 0 else { continue }
                let next = e.offset >= 0 ? e.offset : max(low, startOffsets[tp] ?? low)
                result[tp] = max(0, high - next)
            }
        }
        return result
    }

    /// Commits these next offsets for the group; `async` returns without waiting, and its failure
    /// comes back from `poll` as an error event. A member can commit only what the group assigned it.
    public func commit(_ offsets: [TopicPartition: Int64], async: Bool = false) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        try withList(offsets) { list throws(KafkaError) in
            let err = rd_kafka_commit(handle.pointer, list, async ? 1 : 0)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET else {
                throw KafkaError(err, context: "commit")
            }
        }
    }

    /// Reads these partitions from these offsets, outside any group's rebalancing (instead of `subscribe`).
    public func assign(_ offsets: [TopicPartition: Int64]) throws(KafkaError) {
        try withList(offsets) { list throws(KafkaError) in
            let err = rd_kafka_assign(handle.pointer, list)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "assign") }
        }
    }

    /// The partitions of a topic, from the cluster's metadata.
    public func partitions(of topic: String, timeoutMilliseconds: Int32 = 10_000) throws(KafkaError) -> [TopicPartition] {
        guard let rkt = rd_kafka_topic_new(handle.pointer, topic, nil) else {
            throw KafkaError(code: .unknownTopic, message: "cannot open topic \(topic)")
        }
        defer { rd_kafka_topic_destroy(rkt) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(handle.pointer, 0, rkt, &metadata, timeoutMilliseconds)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw KafkaError(err, context: "metadata of \(topic)") }
        defer { rd_kafka_metadata_destroy(metadata) }
        guard metadata.pointee.topic_cnt == 1, metadata.pointee.topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(metadata.pointee.topic_cnt == 1 ? metadata.pointee.topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                             context: "metadata of \(topic)")
        }
        let described = metadata.pointee.topics[0]
        return (0..<Int(described.partition_cnt)).map { TopicPartition(topic: topic, partition: described.partitions[$0].id) }
            .sorted { $0.partition < $1.partition }
    }

    /// Leaves the group cleanly.
    public func close() {
        guard !closed else { return }
        closed = true
        rd_kafka_consumer_close(handle.pointer)
    }
}
