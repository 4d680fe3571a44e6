import Foundation

/// What ``writeEventFiles(config:faults:layout:progress:)`` wrote.
public struct GeneratedEventFiles: Sendable {
    /// The simulation's totals (the events before faults were mixed in).
    public var stats: SimulationStats
    /// The faults and formatting mixed in, counted as a replay will count them.
    public var faults: FaultCounts
    /// The files written, in ``EventFileLayout/files`` order.
    public var files: [URL]
}

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
    try writeEventFiles(config: config, layout: .streams(directory: directory, partitions: 1), progress: progress).stats
}

/// Runs a whole simulation into the files of `layout`, with `faults` mixed in, each file in
/// arrival order; deterministic for the configuration, faults and layout.
///
/// Directories are created if needed and existing files are replaced. `progress`, if given,
/// is called after each day with the number of days written so far and the total.
@discardableResult
public func writeEventFiles(
    config: SimulationConfig,
    faults: FaultMix = .none,
    layout: EventFileLayout,
    progress: ((Int, Int) -> Void)? = nil
) throws(SimulationError) -> GeneratedEventFiles {
    try faults.validate()
    try layout.validate()
    var simulator = try EventSimulator(config: config)
    let urls = layout.files
    for directory in Set(urls.map { $0.deletingLastPathComponent() }) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw SimulationError(code: .fileOutput, message: "cannot create directory \(directory.path): \(error)")
        }
    }
    var files: [JSONLinesFile] = []
    defer { files.forEach { $0.close() } }
    for url in urls { files.append(try JSONLinesFile(url: url)) }

    var injector = FaultInjector(faults: faults, layout: layout, seed: config.seed)
    while let events = simulator.nextDay() {
        injector.add(day: events)
        try injector.release(before: simulator.nextDayStart, to: &files)
        progress?(simulator.nextDayIndex, config.days)
    }
    try injector.release(before: .max, to: &files)
    for index in files.indices { try files[index].flush() }
    return GeneratedEventFiles(stats: simulator.stats, faults: injector.queue.counts, files: urls)
}
