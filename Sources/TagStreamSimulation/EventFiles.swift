import Foundation

/// Runs a whole simulation into `directory/clickstream.jsonl` and `directory/orders.jsonl`
/// (one event per line, each file in `ts` order) and returns the run's totals.
///
/// The directory is created if needed and existing files are replaced. `progress`, if given,
/// is called after each day with the number of days written so far (1-based index of the day
/// just written) and the total number of days.
@discardableResult
public func writeEventFiles(
    config: SimulationConfig,
    to directory: URL,
    progress: ((Int, Int) -> Void)? = nil
) throws(SimulationError) -> SimulationStats {
    var simulator = try EventSimulator(config: config)
    do {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
        throw SimulationError(code: .fileOutput, message: "cannot create directory \(directory.path): \(error)")
    }
    var clickstream = try JSONLinesFile(url: directory.appendingPathComponent("clickstream.jsonl"))
    var orders = try JSONLinesFile(url: directory.appendingPathComponent("orders.jsonl"))
    defer {
        clickstream.close()
        orders.close()
    }
    while let events = simulator.nextDay() {
        for event in events {
            switch event.stream {
            case .clickstream: try clickstream.append(line: event.json)
            case .orders: try orders.append(line: event.json)
            }
        }
        progress?(simulator.nextDayIndex, config.days)
    }
    try clickstream.flush()
    try orders.flush()
    return simulator.stats
}

/// A JSONL output file written through a large buffer, so each line costs a memory copy
/// rather than a system call.
private struct JSONLinesFile {
    private let url: URL
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private static let flushThreshold = 1 << 20

    init(url: URL) throws(SimulationError) {
        self.url = url
        guard FileManager.default.createFile(atPath: url.path, contents: nil),
              let handle = FileHandle(forWritingAtPath: url.path)
        else {
            throw SimulationError(code: .fileOutput, message: "cannot create file \(url.path)")
        }
        self.handle = handle
        buffer.reserveCapacity(Self.flushThreshold + 4096)
    }

    mutating func append(line: String) throws(SimulationError) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= Self.flushThreshold { try flush() }
    }

    mutating func flush() throws(SimulationError) {
        guard !buffer.isEmpty else { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw SimulationError(code: .fileOutput, message: "cannot write \(url.path): \(error)")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func close() {
        try? handle.close()
    }
}
