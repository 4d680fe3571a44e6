import TagStreamCore

// The fields of a replay's records that the report and `compare` read (SPEC §2 and §6). Other
// fields are left alone, so a record may grow without breaking the report.

/// A tag record: one user's tag of one group changed at `ts` (`tag` nil: the group was cleared).
struct TagRecord: Decodable {
    let userID: String
    let group: String
    let tag: String?
    let ts: Int64
    let variant: String?

    enum CodingKeys: String, CodingKey {
        case userID = "user_id", group, tag, ts, variant
    }
}

/// An alert record; community alerts have no `user_id`.
struct AlertRecord: Decodable {
    let alert: String
    let ts: Int64
    let variant: String?
}

/// A coupon trigger, sent to the user or held out.
struct CouponRecord: Decodable {
    let id: String
    let campaign: String
    let userID: String
    let ts: Int64
    let holdout: Bool
    let variant: String?

    enum CodingKeys: String, CodingKey {
        case id, campaign, userID = "user_id", ts, holdout, variant
    }
}

/// What a coupon's user did in the campaign's outcome window (SPEC §6 `coupon_outcome`).
struct CouponOutcomeRecord: Decodable {
    let couponID: String
    let campaign: String
    let userID: String
    let holdout: Bool
    let converted: Bool
    let amount: Money
    let variant: String?

    enum CodingKeys: String, CodingKey {
        case couponID = "coupon_id", campaign, userID = "user_id", holdout, converted, amount, variant
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        couponID = try container.decode(String.self, forKey: .couponID)
        campaign = try container.decode(String.self, forKey: .campaign)
        userID = try container.decode(String.self, forKey: .userID)
        holdout = try container.decode(Bool.self, forKey: .holdout)
        converted = try container.decode(Bool.self, forKey: .converted)
        amount = Money(exactly: try container.decode(Double.self, forKey: .amount))
        variant = try container.decodeIfPresent(String.self, forKey: .variant)
    }
}

/// A community's figures at a daily refresh; a pipeline may leave any of them out.
struct CommunityStatsRecord: Decodable {
    let communityID: String
    let ts: Int64
    let customers: Int?
    let active30d: Int?
    let gmv30d: Money?
    let sleepingRatio: Double?

    enum CodingKeys: String, CodingKey {
        case communityID = "community_id", ts, customers, active30d = "active_30d", gmv30d = "gmv_30d", sleepingRatio = "sleeping_ratio"
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        communityID = try container.decode(String.self, forKey: .communityID)
        ts = try container.decode(Int64.self, forKey: .ts)
        customers = try container.decodeIfPresent(Int.self, forKey: .customers)
        active30d = try container.decodeIfPresent(Int.self, forKey: .active30d)
        gmv30d = try container.decodeIfPresent(Double.self, forKey: .gmv30d).map(Money.init(exactly:))
        sleepingRatio = try container.decodeIfPresent(Double.self, forKey: .sleepingRatio)
    }
}

extension Money {
    /// The amount a JSON number read as a `Double` stands for. Records carry at most 6 decimals,
    /// and a `Double` holds such an amount closely enough that rounding to millionths restores it.
    init(exactly value: Double) {
        self.init(units: Int64((value * Double(Money.scale)).rounded()))
    }

    /// The amount as a `Double`, for means and charts.
    var doubleValue: Double { Double(units) / Double(Money.scale) }
}
