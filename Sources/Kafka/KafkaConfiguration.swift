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
    /// to partitions that receive little). `queued.min.messages` is at its maximum: librdkafka stops
    /// fetching *every* partition once its consumer queue, shared by all of them, holds that many
    /// records, and notices the room again only at a periodic check, so with the default of 100,000
    /// a backfill stalled 0.3–0.9 s at a time; memory stays bounded by `queued.max.messages.kbytes`.
    public static func consumer(brokers: String, group: String, properties: [String: String] = [:]) -> KafkaConfiguration {
        KafkaConfiguration(brokers: brokers, properties: [
            "group.id": group,
            "fetch.wait.max.ms": "10",
            "queued.min.messages": "10000000",
            "enable.auto.commit": "false",
            "auto.offset.reset": "earliest",
            "enable.partition.eof": "true",
        ].merging(properties) { $1 })
    }
}
