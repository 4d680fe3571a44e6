import Testing
import TagStreamSimulation

@Suite struct ConfigurationTests {
    @Test func defaultsMatchTheGenerator() {
        let config = SimulationConfig()
        #expect(config.users == 10_000)
        #expect(config.communities == 33)
        #expect(config.days == 240)
        #expect(config.seed == 1)
        #expect(config.start == 1_767_225_600_000)
        #expect(SimulationConfig(users: 100).communities == 1)
    }

    @Test(arguments: [
        SimulationConfig(users: 0),
        SimulationConfig(users: -5),
        SimulationConfig(users: 100, days: 0),
        SimulationConfig(users: 100, communities: 0),
        SimulationConfig(users: 10, communities: 11),
        SimulationConfig(users: 10, start: 1_767_225_600_001),
    ])
    func invalidConfigurationThrows(config: SimulationConfig) {
        #expect(throws: SimulationError.self) { try EventSimulator(config: config) }
        do {
            try config.validate()
        } catch {
            #expect(error.code == .invalidConfiguration)
            #expect(!error.message.isEmpty)
        }
    }

    @Test func errorMessageNamesTheSetting() {
        do {
            try SimulationConfig(users: 10, communities: 11).validate()
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("communities"))
        }
    }
}
