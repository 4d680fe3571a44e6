/// The input stream (and default Kafka topic `events.<stream>`) an event belongs to.
public enum EventStream: String, Sendable, Hashable, CaseIterable, Codable {
    /// `app_open`, `search`, `view`, `click`, `add_to_cart`, `remove_from_cart`, `share`, `coupon_claim`.
    case clickstream
    /// `order_paid` and `order_refunded`.
    case orders
}

/// One generated input event: its JSON line (SPEC §1) plus what a producer needs to route it.
public struct SimulatedEvent: Sendable, Hashable {
    /// Event time in epoch milliseconds (the `ts` field of `json`).
    public var ts: Int64
    /// The `user_id` field, the Kafka message key.
    public var userID: String
    /// The stream the event goes to.
    public var stream: EventStream
    /// The event as one line of JSON, without a trailing newline.
    public var json: String

    public init(ts: Int64, userID: String, stream: EventStream, json: String) {
        self.ts = ts
        self.userID = userID
        self.stream = stream
        self.json = json
    }
}

/// Event types of SPEC §1, in the order their counts are kept.
enum EventKind: Int, CaseIterable, Sendable {
    case appOpen, search, view, click, addToCart, removeFromCart, share, couponClaim, orderPaid, orderRefunded

    var name: String {
        switch self {
        case .appOpen: "app_open"
        case .search: "search"
        case .view: "view"
        case .click: "click"
        case .addToCart: "add_to_cart"
        case .removeFromCart: "remove_from_cart"
        case .share: "share"
        case .couponClaim: "coupon_claim"
        case .orderPaid: "order_paid"
        case .orderRefunded: "order_refunded"
        }
    }

    /// The `"type"` member of the JSON line, punctuation included.
    var typeField: StaticString {
        switch self {
        case .appOpen: ",\"type\":\"app_open\""
        case .search: ",\"type\":\"search\""
        case .view: ",\"type\":\"view\""
        case .click: ",\"type\":\"click\""
        case .addToCart: ",\"type\":\"add_to_cart\""
        case .removeFromCart: ",\"type\":\"remove_from_cart\""
        case .share: ",\"type\":\"share\""
        case .couponClaim: ",\"type\":\"coupon_claim\""
        case .orderPaid: ",\"type\":\"order_paid\""
        case .orderRefunded: ",\"type\":\"order_refunded\""
        }
    }

    var stream: EventStream {
        self == .orderPaid || self == .orderRefunded ? .orders : .clickstream
    }
}
