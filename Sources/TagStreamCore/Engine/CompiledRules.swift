/// The pipeline's rules turned into indices and bit masks, computed once when the engine starts.
struct CompiledRules: Sendable {
    enum Flag: Sendable {
        case couponShare(minimumOrders: Int, share: Ratio)
        case boughtCategory(categories: Set<String>, window: Int64, slot: Int)
        case searchedKeywords(keywords: [[UInt8]], count: Int, window: Int64, slot: Int)
        case flagAndTier(flag: Int, tiers: UInt64)
    }

    let flags: [Flag]
    let flagNames: [String]
    let flagSlots: Int
    let vipTiers: UInt64
    let percentiles: [Ratio]
    /// For each tier level, the index of its percentile in `percentiles`.
    let levelPercentile: [Int?]
    /// The longest recency bound of any tier level.
    let longestRecency: Int64
    /// The slot and window of each flag that holds for a while after an event.
    let timedFlagSlots: [(slot: Int, window: Int64)]

    init(_ pipeline: Pipeline) {
        let levelNames = pipeline.tier.levels.map(\.name)
        func mask(_ names: [String]) -> UInt64 {
            names.reduce(0) { m, name in levelNames.firstIndex(of: name).map { m | 1 << UInt64($0) } ?? m }
        }
        var slot = 0
        var compiled: [Flag] = []
        for flag in pipeline.flags.all {
            switch flag.condition {
            case let .couponShare(minimumOrders, share):
                compiled.append(.couponShare(minimumOrders: minimumOrders, share: share))
            case let .boughtCategory(categories, window):
                compiled.append(.boughtCategory(categories: Set(categories), window: window.milliseconds, slot: slot))
                slot += 1
            case let .searchedKeywords(keywords, count, window):
                compiled.append(.searchedKeywords(
                    keywords: keywords.map { Array($0.lowercased().utf8) }, count: count, window: window.milliseconds, slot: slot))
                slot += count
            case let .flagAndTier(other, tiers):
                let index = pipeline.flags.all.firstIndex { $0.name == other } ?? 0
                compiled.append(.flagAndTier(flag: index, tiers: mask(tiers)))
            }
        }
        flags = compiled
        flagNames = pipeline.flags.all.map(\.name)
        flagSlots = slot
        vipTiers = mask(pipeline.vipChurn?.tiers ?? [])
        percentiles = pipeline.tier.percentiles
        longestRecency = pipeline.tier.levels.map(\.recency.milliseconds).max() ?? 0
        timedFlagSlots = compiled.compactMap { flag in
            switch flag {
            case let .boughtCategory(_, window, slot), let .searchedKeywords(_, _, window, slot): (slot, window)
            default: nil
            }
        }
        levelPercentile = pipeline.tier.levels.map { level in level.spendPercentile.flatMap { pipeline.tier.percentiles.firstIndex(of: $0) } }
    }

    /// Whether the lowercased query contains one of the keywords, comparing code points.
    static func contains(_ haystack: [UInt8], anyOf needles: [[UInt8]]) -> Bool {
        needles.contains { needle in
            guard !needle.isEmpty, needle.count <= haystack.count else { return needle.isEmpty }
            for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
                if haystack[start..<start + needle.count].elementsEqual(needle) { return true }
            }
            return false
        }
    }
}
