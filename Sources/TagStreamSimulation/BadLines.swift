import Foundation

/// Malformed lines of every kind SPEC §1 sends to the dead letters, each labelled with the
/// machine-readable reason the engine's decoder gives it, and blank lines, which a replay skips.
///
/// The catalogue is used in turn, so a run with as many bad lines as it has entries holds
/// every reason; the tests replay the lines and compare the reasons the engine reports.
enum BadLines {
    /// One kind of malformed line.
    struct Kind: Sendable {
        /// The dead-letter reason code, or nil for a blank line.
        let reason: String?
        let make: @Sendable (Context) -> [UInt8]
    }

    /// What a bad line borrows from the traffic around it.
    struct Context {
        var eventID: String
        var userID: String
        var ts: Int64
        /// A number to vary the line by (where a truncation cuts, which number stands alone).
        var variant: Int

        /// A well-formed `view`.
        var view: String {
            #"{"event_id":"\#(eventID)","type":"view","user_id":"\#(userID)","ts":\#(ts),"sku":"sku-0002","category":"fruit","price":6.5}"#
        }

        /// A well-formed `order_paid`.
        var paid: String {
            #"{"event_id":"\#(eventID)","type":"order_paid","user_id":"\#(userID)","ts":\#(ts),"order_id":"o-\#(eventID)","amount":12.5,"#
                + #""items":[{"sku":"sku-0001","category":"fruit","qty":2,"price":6.25}]}"#
        }

        /// `view` with one more member before its closing brace.
        func view(adding member: String) -> String { String(view.dropLast()) + "," + member + "}" }
        func paid(adding member: String) -> String { String(paid.dropLast()) + "," + member + "}" }
    }

    private static func line(_ reason: String?, _ make: @escaping @Sendable (Context) -> String) -> Kind {
        Kind(reason: reason) { Array(make($0).utf8) }
    }

    static let catalogue: [Kind] = [
        line("invalid_json") { String($0.paid.prefix(1 + $0.variant % ($0.paid.count - 2))) },
        Kind(reason: "invalid_json") { context in
            // Bytes that are not UTF-8 inside a string.
            let parts = context.paid.components(separatedBy: "order_paid")
            return Array((parts[0] + "order_").utf8) + [0xFF, 0xFE] + Array(("paid" + parts.dropFirst().joined()).utf8)
        },
        line("invalid_json") { $0.view + $0.view },
        line("invalid_json") { $0.view.replacingOccurrences(of: #""sku":"sku-0002""#, with: #""sku":"\ud83d""#) },
        line("invalid_json") { String($0.view.dropLast()) + ",}" },
        line("not_an_object") { "[" + $0.view + "]" },
        line("not_an_object") { String($0.variant) },
        line("not_an_object") { _ in #""just a string""# },
        line("not_an_object") { _ in "null" },
        line("missing_event_id") { $0.view.replacingOccurrences(of: #""event_id":"\#($0.eventID)","#, with: "") },
        line("empty_event_id") { $0.view.replacingOccurrences(of: #""event_id":"\#($0.eventID)""#, with: #""event_id":"""#) },
        line("wrong_type_event_id") { $0.view.replacingOccurrences(of: #""event_id":"\#($0.eventID)""#, with: #""event_id":12345"#) },
        line("missing_type") { $0.view.replacingOccurrences(of: #""type":"view","#, with: "") },
        line("empty_type") { $0.view.replacingOccurrences(of: #""type":"view""#, with: #""type":"""#) },
        line("wrong_type_type") { $0.view.replacingOccurrences(of: #""type":"view""#, with: #""type":["view"]"#) },
        line("missing_user_id") { $0.view.replacingOccurrences(of: #""user_id":"\#($0.userID)","#, with: "") },
        line("empty_user_id") { $0.view.replacingOccurrences(of: #""user_id":"\#($0.userID)""#, with: #""user_id":"""#) },
        line("wrong_type_user_id") { $0.view.replacingOccurrences(of: #""user_id":"\#($0.userID)""#, with: #""user_id":12345"#) },
        line("missing_ts") { $0.view.replacingOccurrences(of: #","ts":\#($0.ts)"#, with: "") },
        line("invalid_ts") { $0.view.replacingOccurrences(of: #""ts":\#($0.ts)"#, with: #""ts":"yesterday""#) },
        line("invalid_ts") { $0.view.replacingOccurrences(of: #""ts":\#($0.ts)"#, with: #""ts":"2026-13-45T00:00:00Z""#) },
        line("invalid_ts") { $0.view.replacingOccurrences(of: #""ts":\#($0.ts)"#, with: #""ts":\#($0.ts).5"#) },
        line("invalid_ts") { $0.view.replacingOccurrences(of: #""ts":\#($0.ts)"#, with: #""ts":"\#($0.ts)""#) },
        line("wrong_type_community_id") { $0.view(adding: #""community_id":42"#) },
        line("wrong_type_leader_id") { $0.view(adding: #""leader_id":false"#) },
        line("wrong_type_session_id") { $0.view(adding: #""session_id":{"id":"s1"}"#) },
        line("wrong_type_sku") { $0.view.replacingOccurrences(of: #""sku":"sku-0002""#, with: #""sku":2"#) },
        line("wrong_type_category") { $0.view.replacingOccurrences(of: #""category":"fruit""#, with: #""category":["fruit"]"#) },
        line("wrong_type_price") { $0.view.replacingOccurrences(of: #""price":6.5"#, with: #""price":"6.5""#) },
        line("wrong_type_query") { $0.view(adding: #""query":true"#) },
        line("wrong_type_referrer_id") { $0.view(adding: #""referrer_id":7"#) },
        line("wrong_type_order_id") { $0.paid.replacingOccurrences(of: #""order_id":"o-\#($0.eventID)""#, with: #""order_id":12345"#) },
        line("wrong_type_amount") { $0.paid.replacingOccurrences(of: #""amount":12.5"#, with: #""amount":"12.5""#) },
        line("wrong_type_discount") { $0.paid(adding: #""discount":"0""#) },
        line("wrong_type_coupon_id") { $0.paid(adding: #""coupon_id":5"#) },
        line("wrong_type_items") {
            $0.paid.replacingOccurrences(of: #""items":[{"#, with: #""items":{"#).replacingOccurrences(of: "}]}", with: "}}")
        },
        line("wrong_type_items") { $0.paid.replacingOccurrences(of: #""qty":2"#, with: #""qty":"2""#) },
        line("missing_amount") { $0.paid.replacingOccurrences(of: #","amount":12.5"#, with: "") },
        line("negative_amount") { $0.paid.replacingOccurrences(of: #""amount":12.5"#, with: #""amount":-12.5"#) },
        line("amount_out_of_range") { $0.paid.replacingOccurrences(of: #""amount":12.5"#, with: #""amount":1e30"#) },
        line("missing_order_id") { $0.paid.replacingOccurrences(of: #""order_id":"o-\#($0.eventID)","#, with: "") },
        line("empty_order_id") { $0.paid.replacingOccurrences(of: #""order_id":"o-\#($0.eventID)""#, with: #""order_id":"""#) },
        line(nil) { _ in "" },
        line(nil) { _ in " \t " },
    ]
}
