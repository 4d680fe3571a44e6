/// What made a record: an input event, a timer, or the daily refresh. Part of the record's id.
public enum RecordCause: Sendable, Equatable {
    case event(String)
    case timer
    case refresh
}

/// A value in a record's `evidence` object.
public enum EvidenceValue: Sendable, Equatable {
    case integer(Int64)
    case money(Money)
    case instant(Int64)
    case ratio(Int64, Int64)
    case text(String)
    case absent
}

/// Community figures at a daily refresh (SPEC §2 `community_stats`).
public struct CommunityFigures: Sendable, Equatable {
    public var customers: Int
    public var active: Int
    public var gmv: Money
    public var orders: Int
    public var sleeping: Int
    public var topSkus: [(sku: Int32, quantity: Money)]

    /// Sleeping customers over customers (0 without customers).
    public var sleepingRatio: Double { customers > 0 ? Double(sleeping) / Double(customers) : 0 }

    public static func == (a: Self, b: Self) -> Bool {
        a.customers == b.customers && a.active == b.active && a.gmv == b.gmv && a.orders == b.orders
            && a.sleeping == b.sleeping && a.topSkus.elementsEqual(b.topSkus, by: { $0.sku == $1.sku && $0.quantity == $1.quantity })
    }
}

/// One output record of SPEC §2, before encoding.
public struct OutputRecord: Sendable, Equatable {
    public enum Body: Sendable, Equatable {
        case tag(group: String, tag: String?, previous: String?)
        case alert(name: String)
        case coupon(campaign: String, holdout: Bool)
        case communityStats(CommunityFigures)
    }

    /// The record kinds, which are also the output streams.
    public enum Kind: Int, CaseIterable, Sendable {
        case tag, alert, coupon, communityStats
        public var name: String {
            switch self {
            case .tag: "tag"
            case .alert: "alert"
            case .coupon: "coupon"
            case .communityStats: "community_stats"
            }
        }
    }

    public var ts: Int64
    /// -1 for community records.
    public var user: Int32
    /// -1 when unknown (`null`).
    public var community: Int32
    public var cause: RecordCause
    public var body: Body
    public var evidence: [(String, EvidenceValue)]

    public var kind: Kind {
        switch body {
        case .tag: .tag
        case .alert: .alert
        case .coupon: .coupon
        case .communityStats: .communityStats
        }
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.ts == b.ts && a.user == b.user && a.community == b.community && a.cause == b.cause && a.body == b.body
            && a.evidence.elementsEqual(b.evidence, by: { $0.0 == $1.0 && $0.1 == $1.1 })
    }
}
