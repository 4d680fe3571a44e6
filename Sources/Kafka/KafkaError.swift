import CRdKafka

/// An error from Kafka, librdkafka or TagStream's use of them: a named code and the library's
/// (or broker's) own words.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for callers that branch on it: one of librdkafka's error codes
    /// (`rd_kafka_resp_err_t`), or one of TagStream's own conditions, which have names and no number.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: Hashable, Sendable {
            case librdkafka(Int32)
            case own(String)
        }
        private let kind: Kind

        /// librdkafka's code.
        public init(_ err: rd_kafka_resp_err_t) { kind = .librdkafka(err.rawValue) }
        private init(own name: String) { kind = .own(name) }

        /// librdkafka's number for this code; nil for TagStream's own conditions.
        public var librdkafkaValue: Int32? {
            if case .librdkafka(let value) = kind { return value }
            return nil
        }

        /// librdkafka's name of the code (e.g. `NOT_LEADER_FOR_PARTITION`), or ours.
        public var description: String {
            switch kind {
            case .librdkafka(let value): String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: value)))
            case .own(let name): name
            }
        }

        public static let queueFull = Code(RD_KAFKA_RESP_ERR__QUEUE_FULL)
        public static let unknownTopic = Code(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        public static let notLeader = Code(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION)
        public static let brokerNotAvailable = Code(RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE)
        public static let requestTimedOut = Code(RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT)
        /// A permanent error: the broker refuses a record that large.
        public static let messageTooLarge = Code(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
        /// librdkafka lost its connections to every broker.
        public static let allBrokersDown = Code(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)

        /// librdkafka refused a configuration property.
        public static let invalidConfiguration = Code(own: "INVALID_CONFIGURATION")
        /// The embedded (mock) cluster could not be started.
        public static let embeddedClusterUnavailable = Code(own: "EMBEDDED_CLUSTER_UNAVAILABLE")
        /// A bounded run was given no partitions of its input topics in time.
        public static let noAssignment = Code(own: "NO_ASSIGNMENT")
        /// The output topics could not be read back to a checkpoint's end offsets in time.
        public static let outputReadBackTimedOut = Code(own: "OUTPUT_READ_BACK_TIMED_OUT")
    }

    public let code: Code
    public let message: String

    public var description: String { "Kafka error \(code): \(message)" }

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    init(_ err: rd_kafka_resp_err_t, context: String) {
        code = Code(err)
        message = "\(context): \(String(cString: rd_kafka_err2str(err)))"
    }

    /// A configuration property librdkafka refused.
    static func configuration(_ message: String) -> KafkaError { KafkaError(code: .invalidConfiguration, message: message) }
}
