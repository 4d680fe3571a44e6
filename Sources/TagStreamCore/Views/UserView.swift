/// One user as the engine holds them now: what `GET /api/v1/users/{id}` answers.
public struct UserView: Sendable, Equatable {
    /// A group's current tag (a flag's tag is the flag's name).
    public struct Tag: Sendable, Equatable {
        public var group: String
        public var tag: String
    }

    /// An aggregate's value as a record's evidence shows it.
    public struct Aggregate: Sendable, Equatable {
        public var name: String
        public var value: EvidenceValue
    }

    /// A campaign's last coupon trigger for the user.
    public struct Coupon: Sendable, Equatable {
        public var campaign: String
        public var at: Int64
        public var holdout: Bool
    }

    public var user: String
    public var community: String?
    /// The groups that have a tag, in pipeline order: the fields of the profile store's hash.
    public var profile: [Tag]
    public var aggregates: [Aggregate]
    /// User alerts that fired and have not re-armed.
    public var openAlerts: [String]
    public var coupons: [Coupon]
    /// The engine's clock: everything up to this instant is applied.
    public var asOf: Int64
}

extension Engine {
    /// User `name` now; nil for a user this engine has not seen. Reads aggregates at the engine's
    /// clock, as the next evaluation would, so it changes nothing that a later record could show.
    public mutating func userView(_ name: String) -> UserView? {
        guard let id = symbols.users.id(of: name), Int(id) < userSeen.count, userSeen[Int(id)] else { return nil }
        let u = Int(id)
        let t = clock
        var profile: [UserView.Tag] = []
        for (g, group) in program.groups.enumerated() {
            let tag = tags[u * layout.groups + g]
            if tag >= 0 { profile.append(UserView.Tag(group: group.name, tag: group.tags[Int(tag)])) }
        }
        var aggregates: [UserView.Aggregate] = []
        for i in userAggregates.indices {
            aggregates.append(UserView.Aggregate(name: program.userAggregates[i].name, value: EvidenceValue(userAggregates[i].value(u, at: t))))
        }
        let openAlerts = program.alerts.indices.filter { program.alerts[$0].key == .user && !armed[u * layout.alerts + $0] }.map { program.alerts[$0].name }
        let coupons = program.campaigns.indices.compactMap { c -> UserView.Coupon? in
            let at = lastTrigger[u * layout.campaigns + c]
            return at == .min ? nil : UserView.Coupon(campaign: program.campaigns[c].name, at: at, holdout: isHeldOut(id, campaign: c))
        }
        let community = userCommunity[u]
        return UserView(user: name, community: community >= 0 ? symbols.communities[community] : nil, profile: profile,
                        aggregates: aggregates, openAlerts: openAlerts, coupons: coupons, asOf: t)
    }
}
