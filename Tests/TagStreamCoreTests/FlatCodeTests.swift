import Testing
@testable import TagStreamCore

/// The flattened expressions the engine evaluates give exactly what their trees give.
@Suite struct FlatCodeTests {
    /// The reference pipeline with flags of every shape the flat code has a step for, and some it
    /// leaves to trees (`min`, `max`, here also one whose first operand is none, inside `since`).
    static let shapes = Result { try Pipeline.reference {
        $0.replacingOccurrences(of: "flags:\n", with: """
            flags:
              shape_a: not (paid_orders >= 2) or (spend_90d * 2 >= 100 and -spend_90d < 0)
              shape_b: since(last_paid) < max(14d, 2 * paid_gap) or min(orders_90d, 3) / 3 >= 0.5
              shape_c: tier in ["gold", "silver"] and not (lifecycle in ["new"]) or spend_90d - refunded_90d > p75
              shape_d: since(first_paid + 1d) >= 30d and (paid_90d / 2 > 5 or quality_searches_30d == 0)
              shape_e: since(max(last_baby_item, first_paid)) >= 1d or paid_orders >= 1

            """)
    } }

    /// Thirty users ordering, refunding and searching over 200 days, evaluated at 40 instants.
    @Test(arguments: ["reference", "shapes"])
    func everyExpressionGivesWhatItsTreeGives(name: String) throws {
        let pipeline = try name == "shapes" ? Self.shapes.get() : .reference
        var feed = Feed()
        var random = SplitMix(seed: 11)
        for n in 0..<600 {
            let user = "u\(random.next() % 30)", at = jan1 + Int64(random.next() % 200) * day + Int64(n) * minute
            switch random.next() % 4 {
            case 0: feed.refund(user, at: at, amount: "\(random.next() % 20)")
            case 1: feed.search(user, at: at, query: "organic eggs")
            default: feed.order(user, at: at, amount: "\(random.next() % 90).5", community: "c\(random.next() % 3)")
            }
        }
        var engine = try replay(feed, pipeline: pipeline, until: jan1 + 100 * day).processor.engine
        let program = engine.program, flat = engine.expressions
        var compared = 0
        /// The same value from both, and both noting that they read a statistic, or neither.
        func same(_ start: Int32, _ node: Node) -> Bool {
            engine.frame.readStatistics = false
            let flatValue = engine.evaluate(start), flatRead = engine.frame.readStatistics
            engine.frame.readStatistics = false
            let treeValue = node.evaluate(&engine), treeRead = engine.frame.readStatistics
            compared += 1
            return flatValue == treeValue && flatRead == treeRead
        }
        for step in 0...40 {
            let t = jan1 + Int64(step) * 5 * day
            for u in engine.userSeen.indices {
                engine.frame = .init(t: t, user: Int32(u), community: engine.userCommunity[u])
                for (g, group) in program.groups.enumerated() {
                    for (k, rule) in zip(flat.groupRules[g], group.rules) {
                        #expect(same(flat.rules[k].condition, rule.condition), "\(name) \(group.name)")
                    }
                }
                for (a, alert) in program.alerts.enumerated() {
                    #expect(same(flat.alertConditions[a], alert.condition))
                    #expect(same(flat.alertRearms[a], alert.rearm))
                }
                for (i, statistic) in program.statistics.enumerated() {
                    #expect(same(flat.statisticValues[i], statistic.of))
                }
                for (i, count) in program.communityCounts.enumerated() {
                    #expect(same(flat.communityCountConditions[i], count.1))
                }
            }
        }
        #expect(compared > 10_000)
    }
}
