import Testing
import TagStreamSimulation

@Suite struct DeterminismTests {
    @Test func sameSeedGivesIdenticalEvents() throws {
        let config = SimulationConfig(users: 150, days: 60, seed: 7)
        let first = try jsonLines(config)
        let second = try jsonLines(config)
        #expect(!first.isEmpty)
        #expect(first == second)
    }

    @Test func differentSeedGivesDifferentEvents() throws {
        let first = try jsonLines(SimulationConfig(users: 150, days: 60, seed: 7))
        let second = try jsonLines(SimulationConfig(users: 150, days: 60, seed: 8))
        #expect(first != second)
    }

    @Test func nextDayReturnsOneBatchPerDayThenNil() throws {
        var simulator = try EventSimulator(config: SimulationConfig(users: 20, days: 3))
        var batches = 0
        while simulator.nextDay() != nil { batches += 1 }
        #expect(batches == 3)
        #expect(simulator.isFinished)
        #expect(simulator.nextDay() == nil)
        #expect(simulator.stats.days == 3)
    }

    @Test func statsCountEveryEmittedEvent() throws {
        let run = try SimulationRun.shared
        #expect(run.stats.events == run.lines.count)
        var byType: [String: Int] = [:]
        for line in run.lines { byType[line.type, default: 0] += 1 }
        for (type, count) in run.stats.eventsByType {
            #expect(byType[type, default: 0] == count, "count of \(type)")
        }
        #expect(run.stats.orders == byType["order_paid"])
        #expect(run.stats.refunds == byType["order_refunded"])
        #expect(run.stats.orderEvents == run.lines.filter { $0.event.stream == .orders }.count)
        #expect(run.stats.usersJoined == run.config.users)
        #expect(run.stats.buyers == Set(run.lines(ofType: "order_paid").map(\.event.userID)).count)
    }

    @Test func smallestConfigurationRuns() throws {
        let lines = try jsonLines(SimulationConfig(users: 1, communities: 1, days: 1))
        #expect(!lines.isEmpty)
    }
}
