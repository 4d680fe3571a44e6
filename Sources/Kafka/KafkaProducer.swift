import CRdKafka
import Logging

/// A record header: a name and its bytes.
public struct KafkaHeader: Sendable, Equatable {
    public var name: String
    public var value: [UInt8]

    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

/// Produces keyed records; waits (never drops) when librdkafka's queue is full, and checks every
/// delivery report. Not thread-safe: use it from one thread or actor.
public final class KafkaProducer {
    private let handle: RDKafkaHandle
    private var topics: [String: OpaquePointer] = [:]

    /// Records acknowledged by the brokers so far.
    public var delivered: Int { handle.context.delivered }
    /// Records that failed for good (after librdkafka's retries).
    public var failed: Int { handle.context.failed }
    /// The first delivery that failed for good, if any: librdkafka retries each record until
    /// `message.timeout.ms` (5 minutes by default) has passed.
    public var deliveryFailure: KafkaError? { handle.context.lastDeliveryError }
    /// Records handed over and not yet acknowledged.
    public var pending: Int { Int(rd_kafka_outq_len(handle.pointer)) }
    /// Called with `true` when a send starts waiting for room in the full local queue, and with
    /// `false` once it got room; runs on the sending thread.
    public var onQueueFull: ((_ waiting: Bool) -> Void)?

    public init(configuration: KafkaConfiguration, logger: Logger = Logger(label: "tagstream.kafka.producer")) throws(KafkaError) {
        handle = try RDKafkaHandle(type: RD_KAFKA_PRODUCER, configuration: configuration, logger: logger) { conf in
            rd_kafka_conf_set_dr_msg_cb(conf) { rk, message, _ in
                guard let rk, let message, let opaque = rd_kafka_opaque(rk) else { return }
                let context = Unmanaged<CallbackContext>.fromOpaque(opaque).takeUnretainedValue()
                if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    context.delivered += 1
                } else {
                    context.failed += 1
                    if context.lastDeliveryError == nil {
                        context.lastDeliveryError = KafkaError(message.pointee.err, context: "delivery failed")
                    }
                }
            }
        }
    }

    deinit {
        for topic in topics.values { rd_kafka_topic_destroy(topic) }
    }

    /// Queues one record (bytes are copied); waits while the local queue is full. Delivery reports
    /// are served by `poll()` (call it after each batch of sends) and `flush()`.
    /// `header`: one record header (name and value), if any.
    public func send(topic: String, key: [UInt8]?, value: [UInt8], partition: Int32 = RD_KAFKA_PARTITION_UA,
                     header: KafkaHeader? = nil) throws(KafkaError) {
        let topicHandle = try self.topic(topic)
        var waited = false
        defer { if waited { onQueueFull?(false) } }
        while true {
            let err = value.withUnsafeBytes { valueBytes in
                withOptionalBytes(key) { keyBytes in
                    if let header {
                        return header.value.withUnsafeBytes { headerBytes in
                            tagstream_produce_with_header(handle.pointer, topic, partition, valueBytes.baseAddress, valueBytes.count,
                                                          keyBytes?.baseAddress, keyBytes?.count ?? 0,
                                                          header.name, headerBytes.baseAddress, headerBytes.count)
                        }
                    }
                    let result = rd_kafka_produce(topicHandle, partition, RD_KAFKA_MSG_F_COPY,
                                                  UnsafeMutableRawPointer(mutating: valueBytes.baseAddress), valueBytes.count,
                                                  keyBytes?.baseAddress, keyBytes?.count ?? 0, nil)
                    return result == 0 ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_last_error()
                }
            }
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { break }
            guard err == RD_KAFKA_RESP_ERR__QUEUE_FULL else { throw KafkaError(err, context: "produce to \(topic)") }
            if !waited {
                waited = true
                onQueueFull?(true)
            }
            rd_kafka_poll(handle.pointer, 50)  // backpressure: serve delivery reports until there is room
        }
    }

    /// Serves delivery reports without waiting.
    public func poll() { rd_kafka_poll(handle.pointer, 0) }

    /// Waits until every queued record is acknowledged; throws if one failed or time ran out.
    public func flush(timeoutMilliseconds: Int32 = 30_000) throws(KafkaError) {
        let err = rd_kafka_flush(handle.pointer, timeoutMilliseconds)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "flush (\(pending) records unacknowledged)") }
        if let failure = deliveryFailure { throw failure }
    }

    private func topic(_ name: String) throws(KafkaError) -> OpaquePointer {
        if let topic = topics[name] { return topic }
        guard let topic = rd_kafka_topic_new(handle.pointer, name, nil) else {
            throw KafkaError(rd_kafka_last_error(), context: "topic \(name)")
        }
        topics[name] = topic
        return topic
    }
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}
