import CRdKafka
import Logging

/// librdkafka's mock cluster: brokers that speak the real Kafka protocol on loopback, with fault
/// injection. For development (`tagstream cluster`), the demo and tests. Its methods may be called
/// from any thread: librdkafka hands each mock operation to the cluster's own thread.
///
/// The brokers keep records in memory, and only the newest of each partition (see
/// `retainedBytesPerPartition`): a topic holds more with more partitions.
public final class EmbeddedKafkaCluster: @unchecked Sendable {
    /// Each partition keeps its newest 5 MiB of record batches, counted as the producers sent them
    /// (compressed, when they compress); older batches are dropped without an error, as retention
    /// would drop them, and the partition's low watermark moves up. librdkafka fixes this limit in
    /// `rdkafka_mock.c`, with a second one of 100,000 batches that only batches of under about
    /// 50 bytes reach; no property or API changes either.
    public static let retainedBytesPerPartition = 5 * 1024 * 1024

    /// About how many records of `valueBytes` (and a short key) a partition keeps, uncompressed and
    /// batched: each record costs its value plus its key and headers inside the batch.
    public static func retainedRecordsPerPartition(valueBytes: Int) -> Int {
        retainedBytesPerPartition / (valueBytes + recordOverheadBytes)
    }

    /// A record's bytes in a batch besides its value: a key of about 8 bytes, the record's header,
    /// and its share of the batch's header when batches hold many records.
    private static let recordOverheadBytes = 40

    private let handle: RDKafkaHandle
    private let cluster: OpaquePointer
    /// `HOST:PORT,…` for any Kafka client.
    public let bootstrapServers: String

    /// Kafka protocol request kinds, for `injectErrors`.
    public enum Request: Int16, Sendable {
        case produce = 0, fetch = 1
    }

    public init(brokers: Int = 3, logger: Logger = Logger(label: "tagstream.kafka.cluster")) throws(KafkaError) {
        handle = try RDKafkaHandle(type: RD_KAFKA_PRODUCER, configuration: KafkaConfiguration(properties: [:]), logger: logger)
        guard let cluster = rd_kafka_mock_cluster_new(handle.pointer, Int32(brokers)) else {
            throw KafkaError(code: .embeddedClusterUnavailable, message: "cannot start the embedded cluster")
        }
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit { rd_kafka_mock_cluster_destroy(cluster) }

    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "create topic \(name)") }
    }

    /// Takes a broker (ids start at 1) down or brings it back.
    public func setBroker(_ id: Int32, up: Bool) throws(KafkaError) {
        let err = up ? rd_kafka_mock_broker_set_up(cluster, id) : rd_kafka_mock_broker_set_down(cluster, id)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "broker \(id) \(up ? "up" : "down")") }
    }

    /// Delays a broker's responses (not its handling of requests) by this much.
    public func setRoundTripTime(_ id: Int32, milliseconds: Int) throws(KafkaError) {
        let err = rd_kafka_mock_broker_set_rtt(cluster, id, Int32(milliseconds))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "broker \(id) round trip time") }
    }

    /// Makes the next requests of a kind fail with these errors, one each, in order.
    public func injectErrors(_ request: Request, codes: [KafkaError.Code]) {
        var errors = codes.compactMap(\.librdkafkaValue).map { rd_kafka_resp_err_t(rawValue: $0) }
        rd_kafka_mock_push_request_errors_array(cluster, request.rawValue, errors.count, &errors)
    }
}
