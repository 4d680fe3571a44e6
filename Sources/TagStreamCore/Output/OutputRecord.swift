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

/// A value of a `community_stats` field.
public enum FigureValue: Sendable, Equatable {
    case integer(Int64)
    case money(Money)
    /// Written as a floating-point number.
    case ratio(Int64, Int64)
    /// A ranked list of objects `{subjectKey: name, totalKey: total}`.
    case ranking(subjectKey: String, totalKey: String, [(String, Money)])
    case absent

    public static func == (a: Self, b: Self) -> Bool {
        switch (a, b) {
        case let (.integer(x), .integer(y)): x == y
        case let (.money(x), .money(y)): x == y
        case let (.ratio(p, q), .ratio(r, s)): p == r && q == s
        case let (.ranking(k1, t1, x), .ranking(k2, t2, y)): k1 == k2 && t1 == t2 && x.elementsEqual(y, by: { $0.0 == $1.0 && $0.1 == $1.1 })
        case (.absent, .absent): true
        default: false
        }
    }
}

/// Community figures at a daily refresh (SPEC §2 `community_stats`), in the pipeline's field order.
public struct CommunityFigures: Sendable, Equatable {
    public var fields: [(String, FigureValue)]

    public init(fields: [(String, FigureValue)]) { self.fields = fields }

    public subscript(name: String) -> FigureValue? { fields.first { $0.0 == name }?.1 }

    public static func == (a: Self, b: Self) -> Bool {
        a.fields.elementsEqual(b.fields, by: { $0.0 == $1.0 && $0.1 == $1.1 })
    }
}

/// How a coupon's goal went (SPEC §6 `coupon_outcome`): whether its user did the campaign's
/// outcome event in the window after it, when first, and the amounts of those events.
public struct CouponOutcome: Sendable, Equatable {
    public var campaign: String
    /// The coupon record's id.
    public var couponID: UInt64
    public var holdout: Bool
    /// The first goal event's instant; nil: not converted.
    public var convertedAt: Int64?
    public var amount: Money
}

/// One output record of SPEC §2 (and §6), before encoding.
public struct OutputRecord: Sendable, Equatable {
    public enum Body: Sendable, Equatable {
        case tag(group: String, tag: String?, previous: String?)
        case alert(name: String)
        case coupon(campaign: String, holdout: Bool)
        case communityStats(CommunityFigures)
        case couponOutcome(CouponOutcome)
    }

    /// The record kinds, which are also the output streams.
    public enum Kind: Int, CaseIterable, Sendable {
        case tag, alert, coupon, communityStats, couponOutcome
        public var name: String {
            switch self {
            case .tag: "tag"
            case .alert: "alert"
            case .coupon: "coupon"
            case .communityStats: "community_stats"
            case .couponOutcome: "coupon_outcome"
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
        case .couponOutcome: .couponOutcome
        }
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.ts == b.ts && a.user == b.user && a.community == b.community && a.cause == b.cause && a.body == b.body
            && a.evidence.elementsEqual(b.evidence, by: { $0.0 == $1.0 && $0.1 == $1.1 })
    }
}
