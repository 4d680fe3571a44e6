import Foundation
import Testing
import TagStreamSimulation

@Suite struct EventSchemaTests {
    static let clickstreamTypes: Set = [
        "app_open", "view", "click", "search", "add_to_cart", "remove_from_cart", "share", "coupon_claim",
    ]
    static let orderTypes: Set = ["order_paid", "order_refunded"]
    static let skuTypes: Set = ["view", "click", "add_to_cart", "remove_from_cart"]

    @Test func everyLineIsAJSONObjectWithTheRequiredFields() {
        let run = SimulationRun.shared
        #expect(run.lines.count > 10_000)
        for line in run.lines {
            let object = line.object
            #expect(!line.event.json.contains("\n"))
            #expect((object["event_id"] as? String)?.isEmpty == false, "\(line.event.json)")
            #expect(Self.clickstreamTypes.contains(line.type) || Self.orderTypes.contains(line.type), "\(line.event.json)")
            #expect(object["user_id"] as? String == line.event.userID, "\(line.event.json)")
            #expect(isJSONInteger(object["ts"]), "\(line.event.json)")
            #expect((object["ts"] as? NSNumber)?.int64Value == line.event.ts, "\(line.event.json)")
            #expect((object["community_id"] as? String)?.isEmpty == false, "\(line.event.json)")
            for key in ["session_id", "leader_id", "referrer_id", "query", "sku", "category"] where object[key] != nil {
                #expect(object[key] is String, "\(key) in \(line.event.json)")
            }
            if let coupon = object["coupon_id"] {
                #expect(coupon is String || coupon is NSNull, "\(line.event.json)")
            }
        }
    }

    @Test func eachTypeGoesToItsStream() {
        for line in SimulationRun.shared.lines {
            let expected: EventStream = Self.orderTypes.contains(line.type) ? .orders : .clickstream
            #expect(line.event.stream == expected, "\(line.event.json)")
        }
    }

    @Test func ordersCarryAnOrderIDAndANonNegativeAmount() {
        let orders = SimulationRun.shared.lines.filter { Self.orderTypes.contains($0.type) }
        #expect(!orders.isEmpty)
        for line in orders {
            #expect((line.object["order_id"] as? String)?.isEmpty == false, "\(line.event.json)")
            let amount = cents(line.object["amount"])
            #expect(amount != nil && amount! >= 0, "\(line.event.json)")
        }
    }

    @Test func productEventsCarrySkuCategoryAndPrice() {
        let run = SimulationRun.shared
        for line in run.lines where Self.skuTypes.contains(line.type) {
            #expect(line.object["sku"] is String, "\(line.event.json)")
            #expect(line.object["category"] is String, "\(line.event.json)")
            #expect((cents(line.object["price"]) ?? 0) > 0, "\(line.event.json)")
        }
        for line in run.lines(ofType: "search") {
            #expect((line.object["query"] as? String)?.isEmpty == false, "\(line.event.json)")
        }
        for line in run.lines(ofType: "coupon_claim") {
            #expect((line.object["coupon_id"] as? String)?.isEmpty == false, "\(line.event.json)")
        }
    }

    @Test func eventsOfEachDayAreInTimestampOrderWithinThatDay() {
        let run = SimulationRun.shared
        #expect(run.days.count == run.config.days)
        for (day, events) in run.days.enumerated() {
            let dayStart = run.config.start + Int64(day) * millisecondsPerDay
            for (earlier, later) in zip(events, events.dropFirst()) {
                #expect(earlier.ts <= later.ts, "day \(day)")
            }
            if let first = events.first, let last = events.last {
                #expect(first.ts >= dayStart)
                #expect(last.ts < dayStart + millisecondsPerDay)
            }
        }
    }

    @Test func eventIDsAreUnique() {
        let ids = SimulationRun.shared.lines.compactMap { $0.object["event_id"] as? String }
        #expect(ids.count == SimulationRun.shared.lines.count)
        #expect(Set(ids).count == ids.count)
    }

    @Test func orderIDsOfPaidOrdersAreUnique() {
        let ids = SimulationRun.shared.lines(ofType: "order_paid").compactMap { $0.object["order_id"] as? String }
        #expect(Set(ids).count == ids.count)
    }
}
