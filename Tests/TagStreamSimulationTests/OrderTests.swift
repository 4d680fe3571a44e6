import Foundation
import Testing
import TagStreamSimulation

@Suite struct OrderTests {
    @Test func orderAmountEqualsItemsMinusDiscountExactlyInCents() throws {
        let orders = try SimulationRun.shared.lines(ofType: "order_paid")
        #expect(orders.count > 500)
        var violations = Violations()
        for line in orders {
            let items = line.object["items"] as? [[String: Any]] ?? []
            violations.check(!items.isEmpty, "no items", in: line)
            var subtotal = 0
            for item in items {
                violations.check(item["sku"] is String && item["category"] is String, "item sku/category", in: line)
                violations.check(isJSONInteger(item["qty"]), "qty not an integer", in: line)
                let quantity = (item["qty"] as? NSNumber)?.intValue ?? 0
                let price = cents(item["price"])
                violations.check(quantity >= 1 && (price ?? 0) > 0, "qty/price", in: line)
                subtotal += quantity * (price ?? 0)
            }
            let discount = cents(line.object["discount"] ?? 0)
            violations.check((discount ?? -1) >= 0, "discount", in: line)
            violations.check(cents(line.object["amount"]) == subtotal - (discount ?? 0),
                             "amount ≠ Σ qty × price − discount (\(subtotal) − \(discount ?? -1))", in: line)
        }
        #expect(violations.isEmpty, "\(violations)")
    }

    @Test func couponOrdersNameTheirCouponAndGetADiscount() throws {
        let orders = try SimulationRun.shared.lines(ofType: "order_paid")
        let couponOrders = orders.filter { ($0.object["coupon_id"] as? String)?.isEmpty == false }
        #expect(couponOrders.count > orders.count / 20)
        #expect(couponOrders.allSatisfy { (cents($0.object["discount"]) ?? 0) > 0 })
        #expect(orders.contains { $0.object["coupon_id"] is NSNull })
        #expect(orders.contains { $0.object["coupon_id"] == nil })
    }

    @Test func refundsReferenceAnEarlierPaidOrderOfTheSameUser() throws {
        let run = try SimulationRun.shared
        var paid: [String: (user: String, ts: Int64, amount: Int)] = [:]
        var refunds = 0
        var violations = Violations()
        for line in run.lines {
            let orderID = line.object["order_id"] as? String ?? ""
            switch line.type {
            case "order_paid":
                paid[orderID] = (line.event.userID, line.event.ts, cents(line.object["amount"]) ?? -1)
            case "order_refunded":
                refunds += 1
                guard let order = paid[orderID] else {
                    violations.check(false, "refund of an order not paid before", in: line)
                    continue
                }
                violations.check(order.user == line.event.userID, "another user's order", in: line)
                violations.check(line.event.ts >= order.ts + millisecondsPerDay
                                     && line.event.ts < order.ts + 6 * millisecondsPerDay,
                                 "not 1–5 days after payment", in: line)
                let amount = cents(line.object["amount"]) ?? -1
                violations.check(amount >= 0 && amount <= order.amount, "amount above the paid amount", in: line)
                violations.check(line.object["items"] == nil, "items on a refund", in: line)
            default:
                break
            }
        }
        #expect(refunds > 0)
        #expect(violations.isEmpty, "\(violations)")
    }

    @Test func aboutThreePercentOfOrdersAreRefunded() throws {
        let stats = try SimulationRun.shared.stats
        let share = Double(stats.refunds) / Double(stats.orders)
        #expect(share > 0.015 && share < 0.045, "refund share \(share)")
    }
}
