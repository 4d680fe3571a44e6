/// The pipeline's names that the leaders' dashboard reads, resolved to positions once. A name the
/// pipeline lacks resolves to nil, and the panel that needs it is left out, so that any pipeline
/// gets the panels it can fill. The defaults are the reference pipeline's names.
public struct DashboardBindings: Sendable {
    /// The names to look for.
    public struct Names: Sendable {
        public var lifecycle = "lifecycle"
        public var tier = "tier"
        /// Tiers whose customers a leader calls when they fall silent.
        public var vipTiers = ["platinum", "gold"]
        public var vipAlert = "vip_churn_risk"
        public var lastPaid = "last_paid"
        public var paidGap = "paid_gap"
        public var firstPaid = "first_paid"
        /// Lifecycle stages of customers worth waking.
        public var sleepingStages = ["sleeping", "churned"]
        public var wakeCampaign = "wake_up"

        public init() {}
    }

    let lifecycle: Int?
    let tier: Int?
    let vipTiers: Set<Int8>
    let vipAlert: Int?
    let lastPaid: Int?
    let paidGap: Int?
    let firstPaid: Int?
    let sleepingStages: Set<Int8>
    let wakeCampaign: Int?

    /// Resolves `names` against the engine's pipeline.
    init(_ names: Names, program: Program) {
        func group(_ name: String) -> Int? { program.groups.firstIndex { $0.name == name } }
        func tags(_ names: [String], of g: Int?) -> Set<Int8> {
            guard let g else { return [] }
            return Set(names.compactMap { program.groups[g].tags.firstIndex(of: $0).map(Int8.init) })
        }
        func aggregate(_ name: String) -> Int? { program.userAggregates.firstIndex { $0.name == name } }
        lifecycle = group(names.lifecycle)
        tier = group(names.tier)
        vipTiers = tags(names.vipTiers, of: tier)
        vipAlert = program.alerts.firstIndex { $0.name == names.vipAlert && $0.key == .user }
        lastPaid = aggregate(names.lastPaid)
        paidGap = aggregate(names.paidGap)
        firstPaid = aggregate(names.firstPaid)
        sleepingStages = tags(names.sleepingStages, of: lifecycle)
        wakeCampaign = program.campaigns.firstIndex { $0.name == names.wakeCampaign }
    }
}
