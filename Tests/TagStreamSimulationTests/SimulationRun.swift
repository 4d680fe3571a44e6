import Foundation
import TagStreamSimulation

/// One simulated run with every line parsed, shared by the tests that only read it.
///
/// `@unchecked Sendable`: everything is built in `init` and never mutated afterwards; the
/// parsed values are immutable Foundation objects.
final class SimulationRun: @unchecked Sendable {
    struct Line {
        var day: Int
        var event: SimulatedEvent
        var object: [String: Any]

        var type: String { object["type"] as? String ?? "" }
    }

    let config: SimulationConfig
    let days: [[SimulatedEvent]]
    let lines: [Line]
    let stats: SimulationStats

    /// A realistic mix needs months and a few hundred users; this takes about a second to
    /// simulate and parse in a debug build. Built once; every test that reads it fails with the
    /// reason when it cannot be built.
    static var shared: SimulationRun {
        get throws { try built.get() }
    }

    private static let built = Result { try SimulationRun(config: SimulationConfig(users: 200, days: 240, seed: 1)) }

    init(config: SimulationConfig) throws {
        self.config = config
        var simulator = try EventSimulator(config: config)
        var days: [[SimulatedEvent]] = []
        while let events = simulator.nextDay() { days.append(events) }
        self.days = days
        stats = simulator.stats
        var lines: [Line] = []
        for (day, events) in days.enumerated() {
            for event in events {
                let parsed = try JSONSerialization.jsonObject(with: Data(event.json.utf8))
                lines.append(Line(day: day, event: event, object: parsed as? [String: Any] ?? [:]))
            }
        }
        self.lines = lines
    }

    func lines(ofType type: String) -> [Line] {
        lines.filter { $0.type == type }
    }

    /// `order_paid` timestamps per user, ascending.
    func paidTimestamps() -> [String: [Int64]] {
        var result: [String: [Int64]] = [:]
        for line in lines(ofType: "order_paid") { result[line.event.userID, default: []].append(line.event.ts) }
        return result
    }
}

/// All JSON lines of a run, for comparing runs.
func jsonLines(_ config: SimulationConfig) throws -> [String] {
    var simulator = try EventSimulator(config: config)
    var lines: [String] = []
    while let events = simulator.nextDay() { lines += events.map(\.json) }
    return lines
}

/// A JSON number in integer cents; fails the caller's expectation (by returning nil) when it
/// has more than two decimals.
func cents(_ value: Any?) -> Int? {
    guard let number = value as? NSNumber else { return nil }
    let scaled = number.doubleValue * 100
    let rounded = scaled.rounded()
    guard abs(scaled - rounded) < 1e-6 else { return nil }
    return Int(rounded)
}

/// Whether a parsed JSON value is an integer (not a float that happens to be whole).
func isJSONInteger(_ value: Any?) -> Bool {
    // Foundation types JSON integers as "q"/"l"/"i"/"s", floats as "d" and booleans as "c".
    guard let number = value as? NSNumber else { return false }
    let kind = String(cString: number.objCType)
    return kind == "q" || kind == "l" || kind == "i" || kind == "s"
}

let millisecondsPerDay: Int64 = 86_400_000

/// Failed checks over many lines, gathered so a test makes one expectation (per-line
/// `#expect` costs more than the check itself in a debug build) yet still shows examples.
struct Violations: CustomStringConvertible {
    private(set) var count = 0
    private var examples: [String] = []

    mutating func check(_ condition: Bool, _ what: @autoclosure () -> String, in line: SimulationRun.Line) {
        guard !condition else { return }
        count += 1
        if examples.count < 5 { examples.append("\(what()): \(line.event.json)") }
    }

    var isEmpty: Bool { count == 0 }
    var description: String { "\(count) violations, e.g.\n" + examples.joined(separator: "\n") }
}
