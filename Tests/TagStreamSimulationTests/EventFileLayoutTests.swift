import Foundation
import Testing
@testable import TagStreamSimulation

/// Where generated events go: per-stream files, per-stream partition files, or one file.
@Suite struct EventFileLayoutTests {
    static let config = SimulationConfig(users: 300, days: 30, seed: 9)

    @Test func partitionFilesSpreadUsersByKeyAndHoldEveryEventInOrder() throws {
        let directory = FaultFiles.directory("partitions")
        defer { try? FileManager.default.removeItem(at: directory) }
        let written = try writeEventFiles(config: Self.config, layout: .streams(directory: directory, partitions: 4))
        #expect(written.files.map(\.lastPathComponent) == (0..<4).map { "clickstream-\($0).jsonl" } + (0..<4).map { "orders-\($0).jsonl" })

        var simulator = try EventSimulator(config: Self.config)
        var expected: [URL: [String]] = [:]
        var partitionsOfUser: [String: Set<Int>] = [:]
        while let events = simulator.nextDay() {
            for event in events {
                let partition = Int(crc32(event.userID.utf8) % 4)
                let name = "\(event.stream.rawValue)-\(partition).jsonl"
                expected[directory.appendingPathComponent(name), default: []].append(event.json)
                partitionsOfUser[event.userID, default: []].insert(partition)
            }
        }
        for file in written.files {
            let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(!lines.isEmpty, "\(file.lastPathComponent) is empty")
            #expect(lines == expected[file, default: []], "\(file.lastPathComponent) holds its users' events in time order")
        }
        #expect(partitionsOfUser.values.allSatisfy { $0.count == 1 }, "a user's events, clicks and orders, share one partition")
        #expect(Set(partitionsOfUser.values.map { $0.first ?? -1 }) == [0, 1, 2, 3])
    }

    @Test func keysArePartitionedByTheCRC32KafkaClientsUse() {
        #expect(crc32("123456789".utf8) == 0xCBF4_3926)
        #expect(crc32("".utf8) == 0)
    }

    @Test func mergedFileHoldsBothStreamsInTimeOrder() throws {
        let directory = FaultFiles.directory("merged")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("nested/events.jsonl")
        let written = try writeEventFiles(config: Self.config, layout: .merged(file: file))
        #expect(written.files == [file])
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == (try jsonLines(Self.config)))
        #expect(written.faults.lines == lines.count && written.faults.outOfOrder == 0)
    }

    @Test(arguments: [0, EventFileLayout.maximumPartitions + 1])
    func partitionCountsOutOfRangeAreRefused(_ partitions: Int) {
        let directory = FaultFiles.directory("bad-partitions")
        #expect(throws: SimulationError.self) {
            try writeEventFiles(config: Self.config, layout: .streams(directory: directory, partitions: partitions))
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path))
    }
}
