import Foundation
import Testing
import TagStreamSimulation

@Suite struct EventSchemaTests {
    static let clickstreamTypes: Set = [
        "app_open", "view", "click", "search", "add_to_cart", "remove_from_cart", "share", "coupon_claim",
    ]
    static let orderTypes: Set = ["order_paid", "order_refunded"]
    static let skuTypes: Set = ["view", "click", "add_to_cart", "remove_from_cart"]

    @Test func everyLineIsAJSONObjectWithTheRequiredFields() throws {
        let run = try SimulationRun.shared
        #expect(run.lines.count > 10_000)
        var violations = Violations()
        for line in run.lines {
            let object = line.object
            violations.check(!line.event.json.contains("\n"), "newline", in: line)
            violations.check((object["event_id"] as? String)?.isEmpty == false, "event_id", in: line)
            violations.check(Self.clickstreamTypes.contains(line.type) || Self.orderTypes.contains(line.type),
                             "type", in: line)
            violations.check(object["user_id"] as? String == line.event.userID, "user_id", in: line)
            violations.check(isJSONInteger(object["ts"]), "ts not an integer", in: line)
            violations.check((object["ts"] as? NSNumber)?.int64Value == line.event.ts, "ts", in: line)
            violations.check((object["community_id"] as? String)?.isEmpty == false, "community_id", in: line)
            for key in ["session_id", "leader_id", "referrer_id", "query", "sku", "category"] where object[key] != nil {
                violations.check(object[key] is String, key, in: line)
            }
            if let coupon = object["coupon_id"] {
                violations.check(coupon is String || coupon is NSNull, "coupon_id", in: line)
            }
        }
        #expect(violations.isEmpty, "\(violations)")
    }

    @Test func eachTypeGoesToItsStream() throws {
        var violations = Violations()
        for line in try SimulationRun.shared.lines {
            let expected: EventStream = Self.orderTypes.contains(line.type) ? .orders : .clickstream
            violations.check(line.event.stream == expected, "stream", in: line)
        }
        #expect(violations.isEmpty, "\(violations)")
    }

    @Test func ordersCarryAnOrderIDAndANonNegativeAmount() throws {
        let orders = try SimulationRun.shared.lines.filter { Self.orderTypes.contains($0.type) }
        #expect(!orders.isEmpty)
        var violations = Violations()
        for line in orders {
            violations.check((line.object["order_id"] as? String)?.isEmpty == false, "order_id", in: line)
            violations.check((cents(line.object["amount"]) ?? -1) >= 0, "amount", in: line)
        }
        #expect(violations.isEmpty, "\(violations)")
    }

    @Test func productEventsCarrySkuCategoryAndPrice() throws {
        let run = try SimulationRun.shared
        var violations = Violations()
        for line in run.lines where Self.skuTypes.contains(line.type) {
            violations.check(line.object["sku"] is String, "sku", in: line)
            violations.check(line.object["category"] is String, "category", in: line)
            violations.check((cents(line.object["price"]) ?? 0) > 0, "price", in: line)
        }
        for line in run.lines(ofType: "search") {
            violations.check((line.object["query"] as? String)?.isEmpty == false, "query", in: line)
        }
        for line in run.lines(ofType: "coupon_claim") {
            violations.check((line.object["coupon_id"] as? String)?.isEmpty == false, "coupon_id", in: line)
        }
        #expect(violations.isEmpty, "\(violations)")
    }

    @Test func eventsOfEachDayAreInTimestampOrderWithinThatDay() throws {
        let run = try SimulationRun.shared
        #expect(run.days.count == run.config.days)
        var unordered = 0
        var outsideTheDay = 0
        for (day, events) in run.days.enumerated() {
            let dayStart = run.config.start + Int64(day) * millisecondsPerDay
            unordered += zip(events, events.dropFirst()).filter { $0.ts > $1.ts }.count
            outsideTheDay += events.filter { $0.ts < dayStart || $0.ts >= dayStart + millisecondsPerDay }.count
        }
        #expect(unordered == 0)
        #expect(outsideTheDay == 0)
    }

    @Test func eventIDsAreUnique() throws {
        let lines = try SimulationRun.shared.lines
        let ids = lines.compactMap { $0.object["event_id"] as? String }
        #expect(ids.count == lines.count)
        #expect(Set(ids).count == ids.count)
    }

    @Test func orderIDsOfPaidOrdersAreUnique() throws {
        let ids = try SimulationRun.shared.lines(ofType: "order_paid").compactMap { $0.object["order_id"] as? String }
        #expect(Set(ids).count == ids.count)
    }
}
