/// Product categories of the grocery catalogue, with how many skus each holds and its
/// typical shelf price.
enum ProductCategory: Int, CaseIterable, Sendable {
    case fruit, vegetable, meat, seafood, dairy, baby, snacks, drinks, grain, household, frozen, bakery

    var name: String {
        switch self {
        case .fruit: "fruit"
        case .vegetable: "vegetable"
        case .meat: "meat"
        case .seafood: "seafood"
        case .dairy: "dairy"
        case .baby: "baby"
        case .snacks: "snacks"
        case .drinks: "drinks"
        case .grain: "grain"
        case .household: "household"
        case .frozen: "frozen"
        case .bakery: "bakery"
        }
    }

    var skuCount: Int {
        switch self {
        case .fruit, .vegetable: 400
        case .snacks: 350
        case .meat, .drinks, .household: 250
        case .seafood, .dairy, .baby, .frozen: 200
        case .grain, .bakery: 150
        }
    }

    /// Typical price in cents; a sku's price spreads from about half to two and a half times it.
    var typicalPriceCents: Int {
        switch self {
        case .fruit: 1590
        case .vegetable: 590
        case .meat: 3500
        case .seafood: 5800
        case .dairy: 1290
        case .baby: 8900
        case .snacks: 990
        case .drinks: 650
        case .grain: 2500
        case .household: 1990
        case .frozen: 2200
        case .bakery: 850
        }
    }
}

/// The skus on sale: ids, categories, prices and Zipf popularity within each category.
struct Catalogue: Sendable {
    let skuIDs: [String]
    let skuCategory: [ProductCategory]
    let skuPriceCents: [Int]
    /// Per category: sku indices by popularity rank, and the Zipf table over those ranks.
    private let rankedSkus: [[Int]]
    private let popularity: [WeightedTable]
    /// Per category: the pricier half of its skus, by popularity rank, for premium shoppers.
    private let rankedPremiumSkus: [[Int]]
    private let premiumPopularity: [WeightedTable]

    init(random: inout RandomSource) {
        var ids: [String] = []
        var categories: [ProductCategory] = []
        var prices: [Int] = []
        var ranked: [[Int]] = []
        var premium: [[Int]] = []
        for category in ProductCategory.allCases {
            var members: [Int] = []
            for _ in 0..<category.skuCount {
                let index = ids.count
                ids.append("sku-" + zeroPadded(index + 1, width: 4))
                categories.append(category)
                prices.append(Self.shelfPrice(typical: category.typicalPriceCents, random: &random))
                members.append(index)
            }
            random.shuffle(&members)  // popularity does not follow sku numbering
            ranked.append(members)
            let median = members.map { prices[$0] }.sorted()[members.count / 2]
            premium.append(members.filter { prices[$0] >= median })
        }
        skuIDs = ids
        skuCategory = categories
        skuPriceCents = prices
        rankedSkus = ranked
        popularity = ranked.map { WeightedTable.zipf(count: $0.count, offset: 2) }
        rankedPremiumSkus = premium
        premiumPopularity = premium.map { WeightedTable.zipf(count: $0.count, offset: 2) }
    }

    /// Shelf prices look like shelf prices: 12.9, 7.99, 30 — never 12.37.
    private static func shelfPrice(typical: Int, random: inout RandomSource) -> Int {
        let u = random.unit()
        let factor = 0.45 + 2.15 * u * u  // many cheap skus, a few expensive ones
        var cents = Int((Double(typical) * factor / 10).rounded()) * 10
        cents = max(cents, 100)
        switch random.below(10) {
        case 0..<4: cents -= 1  // 12.99
        case 4..<6: cents = max(100, (cents + 50) / 100 * 100)  // 13
        default: break  // 12.9
        }
        return cents
    }

    var count: Int { skuIDs.count }

    func sku(in category: ProductCategory, premium: Bool, random: inout RandomSource) -> Int {
        let c = category.rawValue
        if premium {
            return rankedPremiumSkus[c][premiumPopularity[c].sample(&random)]
        }
        return rankedSkus[c][popularity[c].sample(&random)]
    }
}

/// Decimal digits of a non-negative `value`, left-padded with zeros to `width`.
func zeroPadded(_ value: Int, width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
