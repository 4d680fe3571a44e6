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

    /// Producer defaults: idempotence on (no duplicates or reordering on retries), all replicas acknowledge.
    public static func producer(brokers: String, properties: [String: String] = [:]) -> KafkaConfiguration {
        KafkaConfiguration(brokers: brokers, properties: [
            "enable.idempotence": "true",
            "acks": "all",
            "linger.ms": "5",
        ].merging(properties) { $1 })
    }

    /// Consumer defaults: a group, manual commits, start from the earliest offset, end-of-partition events.
    public static func consumer(brokers: String, group: String, properties: [String: String] = [:]) -> KafkaConfiguration {
        KafkaConfiguration(brokers: brokers, properties: [
            "group.id": group,
            "enable.auto.commit": "false",
            "auto.offset.reset": "earliest",
            "enable.partition.eof": "true",
        ].merging(properties) { $1 })
    }
}
