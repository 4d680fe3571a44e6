import Foundation
import Testing
@testable import Kafka

/// Consumer lag: the end offset minus the offset the consumer returns next.
@Suite struct ConsumerLagTests {
    @Test func lagIsTheRecordsNotYetReturned() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try cluster.createTopic("lag", partitions: 1)
        let producer = try KafkaProducer(configuration: .producer(brokers: cluster.bootstrapServers))
        for i in 0..<10 { try producer.send(topic: "lag", key: nil, value: Array("\(i)".utf8)) }
        try producer.flush()
        let tp = TopicPartition(topic: "lag", partition: 0)

        let consumer = try KafkaConsumer(configuration: .consumer(brokers: cluster.bootstrapServers, group: "lag"))
        try consumer.subscribe(["lag"])
        var read = 0
        let deadline = Date().addingTimeInterval(30)
        while read < 4, Date() < deadline {
            for case .record in consumer.poll(maxEvents: 4 - read) { read += 1 }
        }
        #expect(read == 4)
        #expect(try consumer.lag()[tp] == 6)
        while read < 10, Date() < deadline {
            for case .record in consumer.poll() { read += 1 }
        }
        #expect(try consumer.lag()[tp] == 0)
        consumer.close()
    }
}
