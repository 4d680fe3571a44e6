import Foundation
import Testing
@testable import Kafka

/// The Kafka module against librdkafka's embedded cluster: the real protocol on loopback.
@Suite(.serialized) struct KafkaRoundTripTests {
    static func consumeAll(_ consumer: KafkaConsumer, expecting count: Int, seconds: Double = 30) -> [KafkaRecord] {
        var records: [KafkaRecord] = []
        let deadline = Date().addingTimeInterval(seconds)
        while records.count < count, Date() < deadline {
            for event in consumer.poll() {
                if case .record(let r) = event { records.append(r) }
            }
        }
        return records
    }

    @Test func keyedRecordsComeBackInOrderPerKey() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        try cluster.createTopic("events", partitions: 4)
        let producer = try KafkaProducer(configuration: .producer(brokers: cluster.bootstrapServers))
        for i in 0..<2_000 {
            try producer.send(topic: "events", key: Array("user-\(i % 37)".utf8), value: Array("{\"n\":\(i)}".utf8))
        }
        try producer.flush()
        #expect(producer.delivered == 2_000)
        #expect(producer.failed == 0)

        let consumer = try KafkaConsumer(configuration: .consumer(brokers: cluster.bootstrapServers, group: "round-trip"))
        try consumer.subscribe(["events"])
        let records = Self.consumeAll(consumer, expecting: 2_000)
        #expect(records.count == 2_000)
        #expect(Set(records.map(\.partition)).count == 4)
        var lastByKey: [String: Int] = [:]
        for record in records {
            let key = String(decoding: record.key ?? [], as: UTF8.self)
            let value = String(decoding: record.value, as: UTF8.self)
            let n = try #require(Int(value.dropFirst(5).dropLast()), "record value \(value) is not {\"n\":<integer>}")
            #expect(n > lastByKey[key, default: -1], "records of \(key) out of order")
            lastByKey[key] = n
        }
        var next: [TopicPartition: Int64] = [:]
        for record in records {
            let tp = TopicPartition(topic: record.topic, partition: record.partition)
            next[tp] = max(next[tp, default: 0], record.offset + 1)
        }
        try consumer.commit(next)
        consumer.close()
        let other = try KafkaConsumer(configuration: .consumer(brokers: cluster.bootstrapServers, group: "round-trip"))
        #expect(try other.committed(Array(next.keys)) == next)
        let partitions = try other.partitions(of: "events")
        #expect(partitions.map(\.partition) == [0, 1, 2, 3])
        let ends = try other.endOffsets(of: partitions)
        #expect(ends.values.reduce(0, +) == 2_000)
        for tp in partitions { #expect(try other.endOffset(of: tp) == ends[tp]) }
    }

    @Test func assignmentIsReportedBeforeTheRecordsOfItsPartitions() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        try cluster.createTopic("assigned", partitions: 4)
        let producer = try KafkaProducer(configuration: .producer(brokers: cluster.bootstrapServers))
        for i in 0..<100 { try producer.send(topic: "assigned", key: Array("k\(i)".utf8), value: Array("\(i)".utf8)) }
        try producer.flush()
        let consumer = try KafkaConsumer(configuration: .consumer(brokers: cluster.bootstrapServers, group: "assigned"))
        try consumer.subscribe(["assigned"])
        var assigned: Set<TopicPartition> = []
        var records = 0
        let deadline = Date().addingTimeInterval(30)
        while records < 100, Date() < deadline {
            for event in consumer.poll() {
                switch event {
                case .assigned(let partitions): assigned.formUnion(partitions)
                case .record(let record):
                    #expect(assigned.contains(TopicPartition(topic: record.topic, partition: record.partition)))
                    records += 1
                case .revoked, .partitionEnd, .error: break
                }
            }
        }
        #expect(records == 100)
        #expect(assigned == Set(try consumer.assignment()))
        #expect(assigned.count == 4)
        consumer.close()
    }

    @Test func producerRidesOutABrokerOutageAndTransientErrors() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        try cluster.createTopic("faults", partitions: 3, replicationFactor: 3)
        let producer = try KafkaProducer(configuration: .producer(brokers: cluster.bootstrapServers))
        cluster.injectErrors(.produce, codes: [.notLeader, .requestTimedOut, .brokerNotAvailable])
        for i in 0..<300 { try producer.send(topic: "faults", key: Array("k\(i % 7)".utf8), value: Array("\(i)".utf8)) }
        try cluster.setBroker(2, up: false)
        for i in 300..<600 { try producer.send(topic: "faults", key: Array("k\(i % 7)".utf8), value: Array("\(i)".utf8)) }
        Thread.sleep(forTimeInterval: 2)
        try cluster.setBroker(2, up: true)
        try producer.flush(timeoutMilliseconds: 60_000)
        #expect(producer.delivered == 600)

        let consumer = try KafkaConsumer(configuration: .consumer(brokers: cluster.bootstrapServers, group: "faults"))
        try consumer.subscribe(["faults"])
        let values = Set(Self.consumeAll(consumer, expecting: 600).map { String(decoding: $0.value, as: UTF8.self) })
        #expect(values == Set((0..<600).map(String.init)), "every record arrives exactly once (idempotent producer)")
    }

    @Test func badPropertyIsAClearError() {
        #expect { try KafkaProducer(configuration: KafkaConfiguration(brokers: "localhost:1", properties: ["no.such.property": "1"])) } throws: {
            ($0 as? KafkaError)?.message.contains("no.such.property") == true
        }
    }
}
