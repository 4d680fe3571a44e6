/// Running totals of a simulation (events by type, orders, users) for the summary a run prints.
public struct SimulationStats: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Days simulated so far.
    public internal(set) var days: Int = 0
    /// Events emitted, per `type` (every type of SPEC §1 is present, possibly with 0).
    public internal(set) var eventsByType: [String: Int] = Dictionary(
        uniqueKeysWithValues: EventKind.allCases.map { ($0.name, 0) }
    )
    /// Events emitted to the `clickstream` stream.
    public internal(set) var clickstreamEvents: Int = 0
    /// Events emitted to the `orders` stream.
    public internal(set) var orderEvents: Int = 0
    /// `order_paid` events.
    public internal(set) var orders: Int = 0
    /// `order_refunded` events.
    public internal(set) var refunds: Int = 0
    /// Users whose join day has come.
    public internal(set) var usersJoined: Int = 0
    /// Distinct users with at least one `order_paid`.
    public internal(set) var buyers: Int = 0
    /// Communities of the run.
    public internal(set) var communities: Int = 0

    public init() {}

    /// All events emitted.
    public var events: Int { clickstreamEvents + orderEvents }

    mutating func add(dayCounts: [Int]) {
        for kind in EventKind.allCases where dayCounts[kind.rawValue] > 0 {
            let count = dayCounts[kind.rawValue]
            eventsByType[kind.name, default: 0] += count
            if kind.stream == .orders { orderEvents += count } else { clickstreamEvents += count }
        }
        orders += dayCounts[EventKind.orderPaid.rawValue]
        refunds += dayCounts[EventKind.orderRefunded.rawValue]
    }

    public var description: String {
        let byType = eventsByType.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            .map { "\($0.key) \($0.value)" }
            .joined(separator: ", ")
        return "\(events) events over \(days) days (clickstream \(clickstreamEvents), orders \(orderEvents)); "
            + "\(usersJoined) users joined, \(buyers) bought, \(communities) communities; "
            + "\(orders) orders, \(refunds) refunds; by type: \(byType)"
    }
}
