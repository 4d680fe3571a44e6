/// The parts shards exchange at a refresh, as bytes, for shards that meet through a broker.
/// The same part always gives the same bytes, so a part sent again after a restore is a copy.
extension StatisticSamples {
    public var encoded: [UInt8] {
        var w = SnapshotWriter()
        w.write(values) { w, samples in w.write(samples) { w, value in w.write(value) } }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws {
        var r = SnapshotReader(bytes)
        values = try r.readArray { r in try r.readArray { try $0.readValue() } }
        guard r.isAtEnd else { throw SnapshotError("statistic samples have unexpected trailing data") }
    }
}

extension CommunityContribution {
    public var encoded: [UInt8] {
        var w = SnapshotWriter()
        w.write(communities) { w, name in w.write(name) }
        w.write(counts.sorted { $0.key < $1.key }) { w, entry in
            w.write(entry.key)
            w.write(entry.value) { w, n in w.write(n) }
        }
        w.write(occurrences) { w, occurrence in occurrence.write(to: &w) }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws {
        var r = SnapshotReader(bytes)
        communities = try r.readArray { try $0.readString() }
        counts = Dictionary(uniqueKeysWithValues: try r.readArray { r in (try r.readString(), try r.readArray { try $0.readInt64() }) })
        occurrences = try r.readArray { try CommunityOccurrence(from: &$0) }
        guard r.isAtEnd else { throw SnapshotError("a community contribution has unexpected trailing data") }
    }
}
