/// Encodes output records as the JSON lines of SPEC §2, with deterministic ids. Its copies share
/// one buffer (a `JSONWriter`): each owner keeps its own encoder and uses it from one thread.
public struct RecordEncoder {
    private let writer = JSONWriter()

    public init() {}

    /// The record as one JSON line (without the newline); with a `variant` (the pipeline that made
    /// it, in a run with a canary), that is its last field.
    public func encode(_ record: OutputRecord, symbols: SymbolTable, variant: String? = nil) -> [UInt8] {
        write(record, symbols: symbols, variant: variant)
        return writer.bytes
    }

    /// Hands the record's JSON line (without the newline) to `body`, without a copy of its own:
    /// the bytes are valid during the call only.
    public func withEncoded<R>(_ record: OutputRecord, symbols: SymbolTable, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        write(record, symbols: symbols)
        return try writer.withBytes(body)
    }

    private func write(_ record: OutputRecord, symbols: SymbolTable, variant: String? = nil) {
        writer.reset()
        let userID = record.user >= 0 ? symbols.users[record.user] : nil
        let communityID = record.community >= 0 ? symbols.communities[record.community] : nil
        writer.beginObject()
        writer.key("kind"); writer.string(record.kind.name)
        writer.key("id"); writer.hex(Self.hash(of: record, user: userID, community: communityID))
        switch record.body {
        case let .tag(group, tag, previous):
            writer.key("user_id"); writer.string(userID)
            writer.key("community_id"); writer.string(communityID)
            writer.key("group"); writer.string(group)
            writer.key("tag"); writer.string(tag)
            writer.key("previous"); writer.string(previous)
            writer.key("ts"); writer.integer(record.ts)
        case let .alert(name):
            writer.key("alert"); writer.string(name)
            if let userID { writer.key("user_id"); writer.string(userID) }
            writer.key("community_id"); writer.string(communityID)
            writer.key("ts"); writer.integer(record.ts)
        case let .coupon(campaign, holdout):
            writer.key("campaign"); writer.string(campaign)
            writer.key("user_id"); writer.string(userID)
            writer.key("community_id"); writer.string(communityID)
            writer.key("ts"); writer.integer(record.ts)
            writer.key("holdout"); writer.bool(holdout)
        case let .communityStats(figures):
            writer.key("community_id"); writer.string(communityID)
            writer.key("ts"); writer.integer(record.ts)
            for (name, value) in figures.fields {
                writer.key(name)
                writer.figure(value)
            }
        case let .couponOutcome(outcome):
            writer.key("coupon_id"); writer.hex(outcome.couponID)
            writer.key("campaign"); writer.string(outcome.campaign)
            writer.key("user_id"); writer.string(userID)
            writer.key("community_id"); writer.string(communityID)
            writer.key("ts"); writer.integer(record.ts)
            writer.key("holdout"); writer.bool(outcome.holdout)
            writer.key("converted"); writer.bool(outcome.convertedAt != nil)
            writer.key("converted_ts")
            if let at = outcome.convertedAt { writer.integer(at) } else { writer.null() }
            writer.key("amount"); writer.money(outcome.amount)
        }
        if !record.evidence.isEmpty {
            writer.key("evidence")
            writer.beginObject()
            for (name, value) in record.evidence {
                writer.key(name)
                writer.evidence(value)
            }
            writer.endObject()
        }
        if let variant { writer.key("variant"); writer.string(variant) }
        writer.endObject()
    }

    /// A record's stable id (written as 16 hex digits): FNV-1a-64 of its content and cause.
    static func hash(of record: OutputRecord, user: String?, community: String?) -> UInt64 {
        var hash = FNV1a64()
        hash.add(record.kind.name)
        hash.add(user ?? "")
        hash.add(community ?? "")
        withUnsafeBytes(of: record.ts.littleEndian) { hash.add(bytes: $0) }
        switch record.body {
        case let .tag(group, tag, previous): hash.add(group); hash.add(tag ?? "-"); hash.add(previous ?? "-")
        case let .alert(name): hash.add(name)
        case let .coupon(campaign, _): hash.add(campaign)
        case .communityStats: break
        case let .couponOutcome(outcome): hash.add(outcome.campaign); withUnsafeBytes(of: outcome.couponID.littleEndian) { hash.add(bytes: $0) }
        }
        switch record.cause {
        case .event(let id): hash.add("e"); hash.add(id)
        case .timer: hash.add("t")
        case .refresh: hash.add("r")
        }
        return hash.value
    }
}

extension JSONWriter {
    /// Writes a value of a record's `evidence` object.
    public func evidence(_ value: EvidenceValue) {
        switch value {
        case .integer(let v): integer(v)
        case .money(let m): money(m)
        case .instant(let t): instant(t)
        case let .ratio(part, whole): number(whole != 0 ? Double(part) / Double(whole) : 0)
        case .text(let s): string(s)
        case .absent: null()
        }
    }

    /// Writes a `community_stats` field's value.
    public func figure(_ value: FigureValue) {
        switch value {
        case .integer(let n): integer(n)
        case .money(let m): money(m)
        case let .ratio(part, whole): number(whole != 0 ? Double(part) / Double(whole) : 0)
        case .absent: null()
        case let .ranking(subjectKey, totalKey, entries):
            beginArray()
            for (subject, total) in entries {
                beginObject()
                key(subjectKey); string(subject)
                key(totalKey); money(total)
                endObject()
            }
            endArray()
        }
    }
}

/// The FNV-1a 64-bit hash, used for record ids and holdout assignment (SPEC §4).
public struct FNV1a64 {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func add<S: Sequence>(bytes: S) where S.Element == UInt8 {
        for b in bytes {
            value ^= UInt64(b)
            value = value &* 0x0000_0100_0000_01B3
        }
    }

    /// Adds the UTF-8 bytes of `text` followed by a separator byte.
    public mutating func add(_ text: String) {
        text.withUTF8Bytes { add(bytes: $0) }
        add(bytes: CollectionOfOne(0x1F))
    }

    public static func hash(_ text: String) -> UInt64 {
        var h = FNV1a64()
        text.withUTF8Bytes { h.add(bytes: $0) }
        return h.value
    }
}
