import ArgumentParser
import Dispatch
import Foundation
import Kafka
import Logging
import TagStreamCore

struct Cluster: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start an embedded Kafka cluster (librdkafka's mock brokers) with TagStream's topics, until Ctrl-C.")

    @Option(help: "Number of brokers.")
    var brokers = 3

    @Option(help: "Partitions of every topic.")
    var partitions = 4

    func validate() throws {
        guard (1...16).contains(brokers) else { throw ValidationError("--brokers must be from 1 to 16.") }
        guard (1...256).contains(partitions) else { throw ValidationError("--partitions must be from 1 to 256.") }
    }

    func run() throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let cluster = try EmbeddedKafkaCluster(brokers: brokers)
        let topics = Topics()
        for topic in topics.all {
            try cluster.createTopic(topic, partitions: partitions, replicationFactor: min(brokers, 3))
        }
        // Unbuffered, so a script can read the first line while the cluster serves.
        FileHandle.standardOutput.write(Data("""
            bootstrap: \(cluster.bootstrapServers)
            topics: \(topics.clickstream), \(topics.orders) → \(topics.tags), \(topics.alerts), \(topics.coupons), \
            \(topics.communityStats), \(topics.deadLetters), \(topics.late) (\(partitions) partitions each)
            try: kcat -b \(cluster.bootstrapServers) -L      Ctrl-C stops the cluster

            """.utf8))
        waitForTermination()
        withExtendedLifetime(cluster) {}
        print("cluster stopped")
    }
}

/// Blocks until SIGINT or SIGTERM.
func waitForTermination() {
    let stop = DispatchSemaphore(value: 0)
    let sources = stopOnTermination { stop.signal() }
    stop.wait()
    sources.forEach { $0.cancel() }
}

/// Calls `action` on SIGINT or SIGTERM instead of dying; keep the returned sources alive.
func stopOnTermination(_ action: @escaping @Sendable () -> Void) -> [DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { signalNumber in
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler(handler: action)
        source.resume()
        return source
    }
}
