/// The event types of SPEC §1; anything else is counted as ignored.
public enum EventType: UInt8, CaseIterable, Sendable {
    case appOpen, view, click, search, addToCart, removeFromCart, share, couponClaim, orderPaid, orderRefunded

    /// The name on the wire.
    public var name: String {
        switch self {
        case .appOpen: "app_open"
        case .view: "view"
        case .click: "click"
        case .search: "search"
        case .addToCart: "add_to_cart"
        case .removeFromCart: "remove_from_cart"
        case .share: "share"
        case .couponClaim: "coupon_claim"
        case .orderPaid: "order_paid"
        case .orderRefunded: "order_refunded"
        }
    }

    static let byName: [String: EventType] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.name, $0) })

    public var isOrder: Bool { self == .orderPaid || self == .orderRefunded }
}

/// One line of an `order_paid` basket, with interned sku and category (-1 when absent).
public struct OrderItem: Sendable, Equatable {
    public var sku: Int32
    public var category: Int32
    public var quantity: Money
}

/// An accepted, decoded input event; strings that repeat are interned in a `SymbolTable`.
public struct Event: Sendable, Equatable {
    public var ts: Int64
    public var eventID: String
    public var type: EventType
    public var user: Int32
    /// -1 when the event carries no `community_id`.
    public var community: Int32
    /// Paid or refunded amount on orders; zero otherwise.
    public var amount: Money
    /// The order used a coupon (non-empty `coupon_id`).
    public var hasCoupon: Bool
    public var query: String?
    public var items: [OrderItem]

    /// Whether this event is applied before `other`: the SPEC's `(ts, event_id)` order,
    /// `event_id` compared by code points (UTF-8 bytes).
    public func precedes(_ other: Event) -> Bool {
        if ts != other.ts { return ts < other.ts }
        return eventID.utf8.lexicographicallyPrecedes(other.eventID.utf8)
    }
}

/// Dense ids for strings that repeat (users, communities, skus, categories), in first-seen order.
public struct Interner: Sendable {
    private var ids: [String: Int32] = [:]
    public private(set) var names: [String] = []

    public init() {}

    public mutating func intern(_ name: String) -> Int32 {
        if let id = ids[name] { return id }
        let id = Int32(names.count)
        names.append(name)
        ids[name] = id
        return id
    }

    public func id(of name: String) -> Int32? { ids[name] }

    public subscript(id: Int32) -> String { names[Int(id)] }

    public var count: Int { names.count }
}

/// The interned strings shared by the decoder and the engine.
public struct SymbolTable: Sendable {
    public var users = Interner()
    public var communities = Interner()
    public var skus = Interner()
    public var categories = Interner()

    public init() {}
}
