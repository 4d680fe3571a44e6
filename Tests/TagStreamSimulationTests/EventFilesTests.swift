import Foundation
import Testing
import TagStreamSimulation

@Suite struct EventFilesTests {
    private func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("tagstream-simulation-\(UUID().uuidString)")
            .appendingPathComponent("nested")
    }

    @Test func writesEachStreamToItsOwnFileInTheSimulatorsOrder() throws {
        let config = SimulationConfig(users: 120, days: 30, seed: 5)
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        var progress: [Int] = []
        let stats = try writeEventFiles(config: config, to: directory) { day, total in
            #expect(total == 30)
            progress.append(day)
        }
        #expect(progress == Array(1...30))

        var simulator = try EventSimulator(config: config)
        var expected: [EventStream: String] = [.clickstream: "", .orders: ""]
        while let events = simulator.nextDay() {
            for event in events { expected[event.stream, default: ""] += event.json + "\n" }
        }
        let clickstream = try String(contentsOf: directory.appendingPathComponent("clickstream.jsonl"), encoding: .utf8)
        let orders = try String(contentsOf: directory.appendingPathComponent("orders.jsonl"), encoding: .utf8)
        #expect(clickstream == expected[.clickstream])
        #expect(orders == expected[.orders])
        #expect(stats == simulator.stats)
        let lineCount = clickstream.split(separator: "\n").count + orders.split(separator: "\n").count
        #expect(lineCount == stats.events)
        #expect(orders.split(separator: "\n").allSatisfy { $0.contains("\"type\":\"order_") })
    }

    @Test func invalidConfigurationWritesNothing() {
        let directory = temporaryDirectory()
        #expect(throws: SimulationError.self) {
            try writeEventFiles(config: SimulationConfig(users: 0), to: directory)
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path))
    }
}
