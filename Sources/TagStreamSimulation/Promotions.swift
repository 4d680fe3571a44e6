/// A 满减 coupon: `offCents` off a basket of at least `minimumCents`.
struct Coupon: Sendable {
    var id: String
    var minimumCents: Int
    var offCents: Int
    /// Only for a user's first order.
    var firstOrderOnly: Bool = false

    /// Ordered by value, so the first that applies to a basket is the best one.
    static let all: [Coupon] = [
        Coupon(id: "cp-vip-30", minimumCents: 19_900, offCents: 3_000),
        Coupon(id: "cp-weekend-15", minimumCents: 9_900, offCents: 1_500),
        Coupon(id: "cp-fresh-10", minimumCents: 5_900, offCents: 1_000),
        Coupon(id: "cp-new-5", minimumCents: 1_900, offCents: 500, firstOrderOnly: true),
        Coupon(id: "cp-daily-3", minimumCents: 2_900, offCents: 300),
    ]

    /// The most valuable coupon for a basket, if any applies.
    static func best(forSubtotal subtotal: Int, firstOrder: Bool) -> Int? {
        all.firstIndex { subtotal >= $0.minimumCents && (firstOrder || !$0.firstOrderOnly) }
    }
}

/// What people type into the search box, in English and Chinese; quality seekers look for
/// organic and imported food, spelled in any case.
struct SearchQueries: Sendable {
    let all: [String]
    /// Indices into `all` of the everyday queries.
    let everyday: Range<Int>
    /// Indices into `all` of queries containing organic / imported / 有机 / 进口.
    let quality: Range<Int>

    init() {
        let everydayQueries = [
            "strawberry", "eggs", "milk", "pork belly", "shrimp", "rice", "bread", "yogurt", "apples",
            "durian", "tofu", "chicken wings", "toilet paper", "instant noodles", "cola", "dumplings",
            "Cherries", "Beef", "Mango", "鸡蛋", "牛奶", "草莓", "大米", "五花肉", "虾", "面包", "酸奶",
            "苹果", "车厘子", "榴莲", "豆腐", "鸡翅", "纸巾", "方便面", "可乐", "饺子", "西红柿", "土豆",
            "纸尿裤", "奶粉",
        ]
        let englishProducts = ["milk", "eggs", "beef", "cherries", "vegetables", "rice", "baby formula", "salmon"]
        let chineseProducts = ["牛奶", "鸡蛋", "牛肉", "车厘子", "蔬菜", "大米", "奶粉", "三文鱼"]
        var qualityQueries: [String] = []
        for term in ["organic", "imported"] {
            let spellings = [term, term.prefix(1).uppercased() + term.dropFirst(), term.uppercased()]
            for spelling in spellings {
                for product in englishProducts {
                    qualityQueries.append(spelling + " " + product)
                }
            }
        }
        for term in ["有机", "进口"] {
            for product in chineseProducts {
                qualityQueries.append(term + product)
            }
            qualityQueries.append(term + " " + chineseProducts[0])
        }
        qualityQueries += ["Organic 蔬菜", "IMPORTED 牛肉", "新鲜有机", "进口 Cherries", "牛排 imported"]
        all = everydayQueries + qualityQueries
        everyday = 0..<everydayQueries.count
        quality = everydayQueries.count..<all.count
    }
}
