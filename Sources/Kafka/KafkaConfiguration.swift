/// librdkafka properties (the same keys as `kcat -X key=value`), with the defaults TagStream relies on.
public struct KafkaConfiguration: Sendable {
    public var properties: [String: String]

    /// `bootstrap.servers` set to `brokers`; everything else librdkafka's defaults unless given.
    public init(brokers: String, properties: [String: String] = [:]) {
        self.properties = ["bootstrap.servers": brokers].merging(properties) { $1 }
    }

    /// Exactly these properties.
    public init(properties: [String: String]) {
        self.properties = properties
    }

    /// Producer defaults: idempotence on (no duplicates or reordering on retries), all replicas
    /// acknowledge, batches wait at most 1 ms (latency before batch size).
    public static func producer(brokers: String, properties: [String: String] = [:]) -> KafkaConfiguration {
        KafkaConfiguration(brokers: brokers, properties: [
            "enable.idempotence": "true",
            "acks": "all",
            "linger.ms": "1",
        ].merging(properties) { $1 })
    }

    /// Consumer defaults: a group, manual commits, start from the earliest offset, end-of-partition
    /// events, and fetches that wait at most 10 ms for data (librdkafka's 500 ms adds that much latency
    /// to partitions that receive little).
    public static func consumer(brokers: String, group: String, properties: [String: String] = [:]) -> KafkaConfiguration {
        KafkaConfiguration(brokers: brokers, properties: [
            "group.id": group,
            "fetch.wait.max.ms": "10",
            "enable.auto.commit": "false",
            "auto.offset.reset": "earliest",
            "enable.partition.eof": "true",
        ].merging(properties) { $1 })
    }
}
