import CRdKafka

/// An error from Kafka or librdkafka: a code and the library's (or broker's) own words.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// librdkafka's error code (`rd_kafka_resp_err_t`), or one of ours for configuration problems.
    public let code: Int32
    public let message: String

    public var description: String { "Kafka error \(code): \(message)" }

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    init(_ err: rd_kafka_resp_err_t, context: String) {
        code = err.rawValue
        message = "\(context): \(String(cString: rd_kafka_err2str(err)))"
    }

    /// A configuration property librdkafka refused.
    static func configuration(_ message: String) -> KafkaError { KafkaError(code: -1_000, message: message) }

    public static let queueFull = RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue
    public static let unknownTopic = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART.rawValue
    public static let notLeader = RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION.rawValue
    public static let brokerNotAvailable = RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE.rawValue
    public static let requestTimedOut = RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT.rawValue
    /// librdkafka lost its connections to every broker.
    public static let allBrokersDown = RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue
}
