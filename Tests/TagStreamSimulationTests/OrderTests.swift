import Foundation
import Testing
import TagStreamSimulation

@Suite struct OrderTests {
    @Test func orderAmountEqualsItemsMinusDiscountExactlyInCents() {
        let orders = SimulationRun.shared.lines(ofType: "order_paid")
        #expect(orders.count > 500)
        for line in orders {
            guard let items = line.object["items"] as? [[String: Any]], !items.isEmpty else {
                Issue.record("order without items: \(line.event.json)")
                continue
            }
            var subtotal = 0
            for item in items {
                #expect(item["sku"] is String && item["category"] is String, "\(line.event.json)")
                #expect(isJSONInteger(item["qty"]), "\(line.event.json)")
                let quantity = (item["qty"] as? NSNumber)?.intValue ?? 0
                let price = cents(item["price"])
                #expect(quantity >= 1 && price != nil, "\(line.event.json)")
                subtotal += quantity * (price ?? 0)
            }
            let discount = cents(line.object["discount"] ?? 0)
            let amount = cents(line.object["amount"])
            #expect(discount != nil && discount! >= 0, "\(line.event.json)")
            #expect(amount == subtotal - (discount ?? 0), "\(line.event.json)")
        }
    }

    @Test func couponOrdersNameTheirCouponAndGetADiscount() {
        let orders = SimulationRun.shared.lines(ofType: "order_paid")
        let couponOrders = orders.filter { ($0.object["coupon_id"] as? String)?.isEmpty == false }
        #expect(couponOrders.count > orders.count / 20)
        for line in couponOrders {
            #expect((cents(line.object["discount"]) ?? 0) > 0, "\(line.event.json)")
        }
        #expect(orders.contains { $0.object["coupon_id"] is NSNull })
    }

    @Test func refundsReferenceAnEarlierPaidOrderOfTheSameUser() {
        let run = SimulationRun.shared
        var paid: [String: (user: String, ts: Int64, amount: Int)] = [:]
        var refunds = 0
        for line in run.lines {
            let orderID = line.object["order_id"] as? String ?? ""
            switch line.type {
            case "order_paid":
                paid[orderID] = (line.event.userID, line.event.ts, cents(line.object["amount"]) ?? -1)
            case "order_refunded":
                refunds += 1
                guard let order = paid[orderID] else {
                    Issue.record("refund of an order not paid before: \(line.event.json)")
                    continue
                }
                #expect(order.user == line.event.userID, "\(line.event.json)")
                #expect(line.event.ts >= order.ts + millisecondsPerDay, "\(line.event.json)")
                #expect(line.event.ts < order.ts + 6 * millisecondsPerDay, "\(line.event.json)")
                let amount = cents(line.object["amount"]) ?? -1
                #expect(amount >= 0 && amount <= order.amount, "\(line.event.json)")
                #expect(line.object["items"] == nil, "\(line.event.json)")
            default:
                break
            }
        }
        #expect(refunds > 0)
    }

    @Test func aboutThreePercentOfOrdersAreRefunded() throws {
        var simulator = try EventSimulator(config: SimulationConfig(users: 2_000, days: 60, seed: 3))
        while simulator.nextDay() != nil {}
        let share = Double(simulator.stats.refunds) / Double(simulator.stats.orders)
        #expect(share > 0.015 && share < 0.045, "refund share \(share)")
    }
}
