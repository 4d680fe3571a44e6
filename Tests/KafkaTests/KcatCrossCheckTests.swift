import Foundation
import Testing
@testable import Kafka

/// kcat, an independent Kafka client, against the embedded cluster and our clients.
@Suite struct KcatCrossCheckTests {
    static let kcat = ["/usr/bin/kcat", "/usr/local/bin/kcat"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static func run(_ kcat: String, _ arguments: [String], input: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: kcat)
        process.arguments = arguments
        let output = Pipe(), inputPipe = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = inputPipe
        try process.run()
        if let input { inputPipe.fileHandleForWriting.write(Data(input.utf8)) }
        try inputPipe.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func kcatAndOurClientsReadEachOthersRecords() throws {
        let kcat = try #require(Self.kcat, "kcat is missing: run scripts/install-deps.sh")
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try cluster.createTopic("in", partitions: 2)
        try cluster.createTopic("out", partitions: 2)
        let lines = (0..<50).map { "u\($0 % 5):{\"n\":\($0)}" }
        _ = try Self.run(kcat, ["-b", cluster.bootstrapServers, "-P", "-t", "in", "-K:"], input: lines.joined(separator: "\n") + "\n")

        let consumer = try KafkaConsumer(configuration: .consumer(brokers: cluster.bootstrapServers, group: "x"))
        try consumer.subscribe(["in"])
        let records = KafkaRoundTripTests.consumeAll(consumer, expecting: 50)
        #expect(Set(records.map { "\(String(decoding: $0.key ?? [], as: UTF8.self)):\(String(decoding: $0.value, as: UTF8.self))" }) == Set(lines))

        let producer = try KafkaProducer(configuration: .producer(brokers: cluster.bootstrapServers))
        for record in records { try producer.send(topic: "out", key: record.key, value: record.value) }
        try producer.flush()
        let read = try Self.run(kcat, ["-b", cluster.bootstrapServers, "-C", "-t", "out", "-e", "-q", "-f", "%k:%s\n"])
        #expect(Set(read.split(separator: "\n").map(String.init)) == Set(lines))
    }
}
