import Foundation
@testable import TagStreamCore
import TagStreamRuntime

// Shared fixtures for the engine tests: an input builder, a replay through a `Processor`,
// and compact textual forms of the output records that read like the SPEC.

let minute = EventTime.minute
let hour = EventTime.hour
let day = EventTime.day
/// 2026-01-01T00:00:00Z, a UTC midnight (20,454 days after the epoch).
let jan1: Int64 = 20_454 * 86_400_000

extension Pipeline {
    /// The shipped community-grocery pipeline file.
    static let referencePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("pipelines/community-grocery.yaml").path

    /// The reference pipeline, loaded once; every test that uses it fails with the reason when it does not load.
    static var reference: Pipeline {
        get throws { try loadedReference.get() }
    }

    private static let loadedReference = Result { try reference(editing: { $0 }) }

    /// The reference pipeline with its text edited first (e.g. another threshold).
    static func reference(editing edit: (String) -> String) throws -> Pipeline {
        let text = edit(try String(contentsOfFile: referencePath, encoding: .utf8))
        do {
            return try PipelineLoader.parse(yaml: text, file: "community-grocery.yaml")
        } catch {
            throw TestFailure("the edited reference pipeline does not load: \(error)")
        }
    }
}

/// A test's precondition that does not hold, with what was expected.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Input lines for one test. Event ids are sequential (`e00001`, …), so events written at
/// one instant are applied in the order they were written (SPEC §3 `(ts, event_id)`).
struct Feed {
    private(set) var lines: [(ts: Int64, text: String)] = []
    private var counter = 0

    mutating func freshID() -> String {
        counter += 1
        let digits = String(counter)
        return "e" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    /// Any event; `fields` are extra JSON members without braces, e.g. `"query":"milk"`.
    @discardableResult
    mutating func add(
        _ type: String, _ user: String, at ts: Int64, community: String? = nil, fields: String = "", id: String? = nil
    ) -> String {
        let eventID = id ?? freshID()
        var text = #"{"event_id":"\#(eventID)","type":"\#(type)","user_id":"\#(user)","ts":\#(ts)"#
        if let community { text += #","community_id":"\#(community)""# }
        if !fields.isEmpty { text += "," + fields }
        text += "}"
        lines.append((ts, text))
        return eventID
    }

    /// A raw line (any bytes the test wants), placed at `ts` for ordering.
    mutating func raw(_ text: String, at ts: Int64) {
        lines.append((ts, text))
    }

    @discardableResult
    mutating func order(
        _ user: String, at ts: Int64, amount: String = "10", coupon: String? = nil, items: [String] = [],
        community: String? = nil, id: String? = nil
    ) -> String {
        let eventID = id ?? freshID()
        var fields = #""order_id":"o-\#(eventID)","amount":\#(amount)"#
        if let coupon { fields += #","coupon_id":"\#(coupon)""# }
        if !items.isEmpty { fields += #","items":[\#(items.joined(separator: ","))]"# }
        return add("order_paid", user, at: ts, community: community, fields: fields, id: eventID)
    }

    @discardableResult
    mutating func refund(_ user: String, at ts: Int64, amount: String, community: String? = nil, id: String? = nil) -> String {
        let eventID = id ?? freshID()
        return add("order_refunded", user, at: ts, community: community,
                   fields: #""order_id":"r-\#(eventID)","amount":\#(amount)"#, id: eventID)
    }

    @discardableResult
    mutating func open(_ user: String, at ts: Int64, community: String? = nil, id: String? = nil) -> String {
        add("app_open", user, at: ts, community: community, id: id)
    }

    /// A search; `query` is JSON string content, so `\u6709` escapes stay escapes.
    @discardableResult
    mutating func search(_ user: String, at ts: Int64, query: String) -> String {
        add("search", user, at: ts, fields: #""query":"\#(query)""#)
    }

    @discardableResult
    mutating func addToCart(_ user: String, at ts: Int64, id: String? = nil) -> String {
        add("add_to_cart", user, at: ts, fields: #""sku":"s1""#, id: id)
    }

    /// One paid order for each amount, by users `f01`, `f02`, …: a population for the percentiles.
    mutating func fillers(_ amounts: [String], at ts: Int64, prefix: String = "f") {
        for (k, amount) in amounts.enumerated() {
            let n = String(k + 1)
            order(prefix + (n.count < 2 ? "0" + n : n), at: ts, amount: amount)
        }
    }

    /// `count` filler users spending 1, 2, …, count.
    mutating func fillers(count: Int, at ts: Int64, prefix: String = "f") {
        fillers((1...count).map(String.init), at: ts, prefix: prefix)
    }
}

/// A basket line of an `order_paid`; nil fields are left out.
func item(sku: String? = nil, category: String? = nil, qty: String? = nil) -> String {
    var members: [String] = []
    if let sku { members.append(#""sku":"\#(sku)""#) }
    if let category { members.append(#""category":"\#(category)""#) }
    if let qty { members.append(#""qty":\#(qty)"#) }
    return "{" + members.joined(separator: ",") + "}"
}

/// Feeds one line to a processor.
@discardableResult
func process(_ processor: inout Processor, _ line: String, partition: Int = 0) throws -> RecordOutcome {
    try process(&processor, bytes: Array(line.utf8), partition: partition)
}

@discardableResult
func process(_ processor: inout Processor, bytes: [UInt8], partition: Int = 0) throws -> RecordOutcome {
    try bytes.withUnsafeBufferPointer { try processor.process($0, partition: partition) }
}

/// Replays a feed as one partition, in `ts` order (stable), then finishes the run; with the
/// reference pipeline unless another is given.
func replay(_ feed: Feed, pipeline: Pipeline? = nil, until: Int64? = nil) throws -> Replay {
    var processor = try Processor(pipeline: pipeline ?? .reference, partitions: 1, until: until)
    let ordered = feed.lines.enumerated().sorted { a, b in
        a.element.ts != b.element.ts ? a.element.ts < b.element.ts : a.offset < b.offset
    }
    var outcomes: [RecordOutcome] = []
    for (_, line) in ordered { outcomes.append(try process(&processor, line.text)) }
    try processor.finish()
    return Replay(processor: processor, outcomes: outcomes)
}

/// The result of a replay, with compact views of its records.
struct Replay {
    var processor: Processor
    var outcomes: [RecordOutcome]

    var records: [OutputRecord] { processor.engine.output }
    var symbols: SymbolTable { processor.engine.symbols }

    func userName(_ record: OutputRecord) -> String? {
        record.user >= 0 ? symbols.users[record.user] : nil
    }

    func communityName(_ record: OutputRecord) -> String? {
        record.community >= 0 ? symbols.communities[record.community] : nil
    }

    /// One record as `ts kind …`: `1767225600000 tag lifecycle new<-prospect u1`,
    /// `… alert vip_churn_risk v`, `… coupon wake_up u1`, `… stats c1 customers=2 …`, `… outcome wake_up u1 not converted`.
    func describe(_ record: OutputRecord) -> String {
        let who = userName(record) ?? "@" + (communityName(record) ?? "null")
        switch record.body {
        case let .tag(group, tag, previous):
            return "\(record.ts) tag \(group) \(tag ?? "null")<-\(previous ?? "null") \(who)"
        case let .alert(name):
            return "\(record.ts) alert \(name) \(who)"
        case let .coupon(campaign, holdout):
            return "\(record.ts) coupon \(campaign) \(who)\(holdout ? " holdout" : "")"
        case let .communityStats(f):
            func text(_ name: String) -> String {
                switch f[name] {
                case .integer(let n): "\(n)"
                case .money(let m): "\(m)"
                case let .ratio(part, whole): "\(part)/\(whole)"
                case let .ranking(_, _, entries): entries.map { "\($0.0):\($0.1)" }.joined(separator: ",")
                default: "null"
                }
            }
            var sleeping = text("sleeping_ratio")
            if case let .ratio(part, whole) = f["sleeping_ratio"], case let .integer(customers) = f["customers"] {
                sleeping = "\(part * customers / whole)"  // the count of sleeping or churned customers
            }
            return "\(record.ts) stats \(who) customers=\(text("customers")) active=\(text("active_30d")) gmv=\(text("gmv_30d")) "
                + "orders=\(text("orders_7d")) sleeping=\(sleeping) top=[\(text("top_skus_7d"))]"
        case let .couponOutcome(o):
            return "\(record.ts) outcome \(o.campaign) \(who)\(o.holdout ? " holdout" : "") "
                + (o.convertedAt.map { "converted@\($0) \(o.amount)" } ?? "not converted")
        }
    }

    /// Every record, described, optionally only one user's.
    func lines(user: String? = nil) -> [String] {
        records.filter { user == nil || userName($0) == user }.map(describe)
    }

    /// One user's changes of one tag group, as `ts tag<-previous`.
    func tags(_ group: String, user: String) -> [String] {
        records.compactMap { record in
            guard case let .tag(g, tag, previous) = record.body, g == group, userName(record) == user else { return nil }
            return "\(record.ts) \(tag ?? "null")<-\(previous ?? "null")"
        }
    }

    /// The records of one tag group of one user, with their cause.
    func tagRecords(_ group: String, user: String) -> [OutputRecord] {
        records.filter { record in
            guard case let .tag(g, _, _) = record.body else { return false }
            return g == group && userName(record) == user
        }
    }

    /// Instants of an alert, for one user or community (or all).
    func alerts(_ name: String, user: String? = nil, community: String? = nil) -> [Int64] {
        records.compactMap { record in
            guard case let .alert(n) = record.body, n == name else { return nil }
            if let user, userName(record) != user { return nil }
            if let community, communityName(record) != community { return nil }
            return record.ts
        }
    }

    /// Instants of a coupon campaign's triggers, for one user (or all).
    func coupons(_ campaign: String, user: String? = nil) -> [Int64] {
        couponRecords(campaign, user: user).map(\.ts)
    }

    func couponRecords(_ campaign: String, user: String? = nil) -> [OutputRecord] {
        records.filter { record in
            guard case let .coupon(c, _) = record.body, c == campaign else { return false }
            return user == nil || userName(record) == user
        }
    }

    /// Community stats records of one community, described.
    func stats(_ community: String) -> [String] {
        records.filter { record in
            guard case .communityStats = record.body else { return false }
            return communityName(record) == community
        }.map(describe)
    }

    /// The records as the JSON lines of SPEC §2.
    func jsonLines() -> [String] {
        let encoder = RecordEncoder()
        return records.map { String(decoding: encoder.encode($0, symbols: symbols), as: UTF8.self) }
    }

    /// The JSON lines parsed back into objects.
    func jsonObjects() -> [[String: Any]] {
        jsonLines().map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        }
    }
}

/// Decodes one record on its own.
func decode(_ line: String) -> DecodeResult {
    decode(bytes: Array(line.utf8))
}

func decode(bytes: [UInt8]) -> DecodeResult {
    var decoder = EventDecoder()
    var symbols = SymbolTable()
    return bytes.withUnsafeBufferPointer { decoder.decode($0, symbols: &symbols) }
}

/// The dead-letter code of a record, or nil when it is not dead-lettered.
func deadLetterCode(_ result: DecodeResult) -> String? {
    if case let .deadLetter(reason) = result { return reason.code }
    return nil
}

func decodedEvent(_ result: DecodeResult) -> Event? {
    if case let .event(event) = result { return event }
    return nil
}

/// FNV-1a-64 written out from its definition (offset basis 14695981039346656037,
/// prime 1099511628211), independent of the engine's implementation.
func referenceFNV1a64(_ text: String) -> UInt64 {
    var hash: UInt64 = 14_695_981_039_346_656_037
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 1_099_511_628_211
    }
    return hash
}

/// SPEC §4: a trigger is held out when FNV-1a-64("<campaign>:<user_id>") mod 100 < 10.
func expectedHoldout(campaign: String, user: String) -> Bool {
    referenceFNV1a64("\(campaign):\(user)") % 100 < 10
}
