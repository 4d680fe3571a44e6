import CRdKafka
import Logging

/// Per-handle state that librdkafka's C callbacks reach through the handle's opaque pointer.
/// The handle keeps it alive (it outlives the `rd_kafka_t`); the log callback may run on
/// librdkafka's threads and only touches the `Sendable` logger; delivery reports run inside
/// `rd_kafka_poll`/`rd_kafka_flush` on the thread that owns the handle, and client errors inside
/// the consumer's poll, and so do rebalances.
final class CallbackContext: @unchecked Sendable {
    let logger: Logger
    var delivered = 0
    var failed = 0
    var lastDeliveryError: KafkaError?
    /// Client-wide errors (e.g. every broker down) reported since the owner last took them.
    var clientErrors: [KafkaError] = []
    /// Assignments and revocations of the consumer's group since the owner last took them.
    var rebalances: [ConsumerEvent] = []
    /// The consumer's `startOffset`, asked inside the rebalance callback.
    var startOffset: ((TopicPartition) -> Int64?)?

    init(logger: Logger) { self.logger = logger }
}

/// The text of a NUL-terminated C buffer.
func text(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Owns one `rd_kafka_t` and its configuration; every C pointer of the module lives in such a handle.
/// Not thread-safe: one owner thread (or actor) uses it.
final class RDKafkaHandle {
    let pointer: OpaquePointer
    let context: CallbackContext

    init(type: rd_kafka_type_t, configuration: KafkaConfiguration, logger: Logger,
         configure: (OpaquePointer) -> Void = { _ in }) throws(KafkaError) {
        let context = CallbackContext(logger: logger)
        self.context = context
        guard let conf = rd_kafka_conf_new() else { throw KafkaError.configuration("out of memory") }
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in configuration.properties.sorted(by: { $0.key < $1.key }) {
            guard rd_kafka_conf_set(conf, key, value, &errorText, errorText.count) == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(conf)
                throw KafkaError.configuration("\(key)=\(value): \(text(errorText))")
            }
        }
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_log_cb(conf) { rk, level, facility, message in
            guard let rk, let opaque = rd_kafka_opaque(rk) else { return }
            let context = Unmanaged<CallbackContext>.fromOpaque(opaque).takeUnretainedValue()
            let text = "\(facility.map { String(cString: $0) } ?? ""): \(message.map { String(cString: $0) } ?? "")"
            switch level {
            case 0...3: context.logger.error("\(text)")
            case 4: context.logger.warning("\(text)")
            case 5, 6: context.logger.info("\(text)")
            default: context.logger.debug("\(text)")
            }
        }
        configure(conf)
        // rd_kafka_new takes ownership of conf on success only.
        guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError.configuration(text(errorText))
        }
        pointer = handle
    }

    deinit { rd_kafka_destroy(pointer) }
}
