import TagStreamCore

/// The dashboard API's JSON documents, as docs/openapi.yaml describes them: compact, snake_case
/// keys in a fixed order. They are written with the records' `JSONWriter`, so that a figure, an
/// amount or an instant reads exactly as in the `community_stats` record or the evidence it came from.
public enum DashboardJSON {
    /// The figures every overview row shows, by their `community_stats` field names.
    static let overviewFigures = ["customers", "active_30d", "gmv_30d", "orders_7d", "sleeping_ratio"]
    /// The figure the overview puts the worst communities first by.
    static let sleepingRatio = "sleeping_ratio"
    /// How far back a tag count's movement reaches.
    static let movementSpan = 30 * EventTime.day

    /// `GET /api/v1/users/{id}`.
    public static func user(_ view: UserView) -> [UInt8] {
        let w = JSONWriter()
        w.beginObject()
        w.key("user_id"); w.string(view.user)
        w.key("community_id"); w.string(view.community)
        w.key("as_of"); w.instant(view.asOf)
        w.key("profile"); w.beginObject()
        for tag in view.profile { w.key(tag.group); w.string(tag.tag) }
        w.endObject()
        w.key("aggregates"); w.beginObject()
        for aggregate in view.aggregates { w.key(aggregate.name); w.evidence(aggregate.value) }
        w.endObject()
        w.key("open_alerts"); w.strings(view.openAlerts)
        w.key("coupons"); w.beginArray()
        for coupon in view.coupons { w.coupon(coupon) }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// `GET /api/v1/communities/{id}`; nil when `part` does not know the community.
    public static func community(_ id: String, in part: DashboardPart) -> [UInt8]? {
        guard let community = part.communities[id] else { return nil }
        let w = JSONWriter()
        let latest = community.latestFigures
        w.beginObject()
        w.key("community_id"); w.string(id)
        w.key("as_of"); w.instant(orNull: part.asOf)
        w.key("figures")
        if let figures = latest?.figures {
            w.beginObject()
            for (name, value) in figures.fields { w.key(name); w.figure(value) }
            w.endObject()
        } else {
            w.null()
        }
        w.key("figures_at"); w.instant(orNull: latest?.at)
        w.key("trend"); w.beginArray()
        for day in community.history {
            guard let figures = day.figures else { continue }
            w.beginObject()
            w.key("date"); w.string(String(EventTime.format(day.at).prefix(10)))
            for (name, value) in figures.fields where !value.isRanking { w.key(name); w.figure(value) }
            w.endObject()
        }
        w.endArray()
        w.key("groups"); w.movements(of: community, groups: part.countedGroups)
        w.key("users"); w.integer(Int64(community.users))
        w.key("new_customers_30d"); w.integer(Int64(community.newCustomers))
        w.key("vips_at_risk"); w.beginArray()
        for vip in community.vipsAtRisk {
            w.customer(vip, tagKey: "tier") { w.key("usual_gap_days"); w.days(vip.usualGap) }
        }
        w.endArray()
        w.key("sleeping"); w.beginObject()
        w.key("wake_coupons_sent"); w.integer(Int64(community.wakeCouponsSent))
        w.key("wake_coupons_held_out"); w.integer(Int64(community.wakeCouponsHeldOut))
        w.key("customers"); w.beginArray()
        for customer in community.sleeping {
            w.customer(customer, tagKey: "stage") {
                w.key("wake_coupon")
                if let coupon = customer.wakeCoupon { w.coupon(coupon) } else { w.null() }
            }
        }
        w.endArray()
        w.endObject()
        w.key("open_alerts"); w.strings(community.openAlerts)
        w.endObject()
        return w.bytes
    }

    /// `GET /api/v1/communities`: one row per community, those with the most open alerts first,
    /// then the highest sleeping ratios, then by id.
    public static func overview(_ part: DashboardPart) -> [UInt8] {
        let rows = part.communities.map { (id: $0.key, community: $0.value, latest: $0.value.latestFigures) }
            .sorted { a, b in
                if a.community.openAlerts.count != b.community.openAlerts.count { return a.community.openAlerts.count > b.community.openAlerts.count }
                let ra = a.latest?.figures?[sleepingRatio]?.number, rb = b.latest?.figures?[sleepingRatio]?.number
                if ra != rb { return (ra ?? -.infinity) > (rb ?? -.infinity) }
                return a.id.utf8.lexicographicallyPrecedes(b.id.utf8)
            }
        let w = JSONWriter()
        w.beginObject()
        w.key("as_of"); w.instant(orNull: part.asOf)
        w.key("communities"); w.beginArray()
        for row in rows {
            w.beginObject()
            w.key("community_id"); w.string(row.id)
            w.key("users"); w.integer(Int64(row.community.users))
            for name in overviewFigures {
                w.key(name)
                w.figure(row.latest?.figures?[name] ?? .absent)
            }
            w.key("open_alerts"); w.strings(row.community.openAlerts)
            w.key("vips_at_risk"); w.integer(Int64(row.community.vipsAtRisk.count))
            w.key("figures_at"); w.instant(orNull: row.latest?.at)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }
}

extension CommunityPart {
    /// The last refresh in the history that has figures: the community's last `community_stats` record.
    fileprivate var latestFigures: CommunityDay? { history.last { $0.figures != nil } }
}

extension FigureValue {
    fileprivate var isRanking: Bool {
        if case .ranking = self { true } else { false }
    }

    /// The value as the record's JSON number reads, for sorting; nil for a value that is not a number.
    fileprivate var number: Double? {
        switch self {
        case .integer(let n): Double(n)
        case .money(let m): Double(m.units) / Double(Money.scale)
        case let .ratio(part, whole): whole != 0 ? Double(part) / Double(whole) : 0
        case .ranking, .absent: nil
        }
    }
}

extension JSONWriter {
    /// `.min` is the clock of an engine that has applied nothing yet.
    fileprivate func instant(orNull t: Int64?) {
        if let t, t != .min { instant(t) } else { null() }
    }

    fileprivate func strings(_ values: [String]) {
        beginArray()
        for value in values { string(value) }
        endArray()
    }

    fileprivate func coupon(_ coupon: UserView.Coupon) {
        beginObject()
        key("campaign"); string(coupon.campaign)
        key("at"); instant(coupon.at)
        key("holdout"); bool(coupon.holdout)
        endObject()
    }

    /// A customer of a panel: who, their `tag` under `tagKey`, when they last paid, then the
    /// panel's own fields.
    fileprivate func customer(_ customer: CommunityPart.Customer, tagKey: String, then panelFields: () -> Void) {
        beginObject()
        key("user_id"); string(customer.user)
        key(tagKey); string(customer.tag)
        key("last_paid"); instant(orNull: customer.lastPaid)
        panelFields()
        endObject()
    }

    /// Milliseconds as days with at most one decimal (rounded half up), for people: `12`, `7.5`.
    fileprivate func days(_ ms: Int64?) {
        guard let ms else { return null() }
        let tenths = (ms + EventTime.day / 20) / (EventTime.day / 10)
        raw(tenths % 10 == 0 ? "\(tenths / 10)" : "\(tenths / 10).\(tenths % 10)")
    }

    /// Per counted group and tag: the users carrying it now, at the refresh `movementSpan` before
    /// the community's latest, and the change between the two (null without that refresh).
    fileprivate func movements(of community: CommunityPart, groups: [CountedGroup]) {
        let then = community.history.last.flatMap { latest in community.history.last { $0.at == latest.at - DashboardJSON.movementSpan } }
        beginArray()
        var offset = 0
        for group in groups {
            beginObject()
            key("group"); string(group.name)
            key("tags"); beginArray()
            for (i, tag) in group.tags.enumerated() {
                let now = community.tagCounts[offset + i], before = then?.tagCounts[offset + i]
                beginObject()
                key("tag"); string(tag)
                key("now"); integer(Int64(now))
                key("days_ago_30")
                if let before { integer(Int64(before)) } else { null() }
                key("change")
                if let before { integer(Int64(now - before)) } else { null() }
                endObject()
            }
            endArray()
            endObject()
            offset += group.tags.count
        }
        endArray()
    }
}
