import Foundation
import Testing
import TagStreamCore
@testable import TagStreamRuntime

/// Each coupon's outcome (SPEC §6) against a recomputation from the input events: for every coupon
/// record whose window closed before the end of the replay, one `coupon_outcome` record saying
/// whether the user paid within it, when first, and how much in all.
@Suite struct CouponOutcomeTests {
    /// An accepted `order_paid`: its instant and amount.
    struct Payment {
        var ts: Int64
        var amount: Decimal
    }

    /// Clean events, and messy ones: duplicates, dead letters and late events, which count for nothing.
    static let inputs: [[String]] = [
        ["--users", "1500", "--days", "75", "--seed", "41"],
        ["--users", "1000", "--days", "70", "--seed", "3", "--partitions", "2", "--dup-rate", "0.02", "--bad-rate", "0.01",
         "--late-rate", "0.01", "--disorder-ms", "600000"],
    ]

    @Test(arguments: inputs) func everyClosedCouponHasTheOutcomeItsUsersPaymentsGive(_ generatorArguments: [String]) throws {
        let files = try Fixtures.generateEvents(generatorArguments, into: try Fixtures.temporaryDirectory("outcomes-in"))
        let out = try Fixtures.temporaryDirectory("outcomes-out")
        let summary = try Fixtures.replay(files, into: out)
        let end = try #require(summary.lastEventTime.flatMap { EventTime.parseRFC3339(Array($0.utf8)) })
        let windows = try Self.windows(of: PipelineLoader.load(path: Fixtures.referencePipeline))
        let payments = try Self.payments(in: files, replayedInto: out)

        let coupons = try Self.records(out, "coupons.jsonl")
        let outcomes = try Self.records(out, "coupon_outcomes.jsonl")
        let byCoupon = Dictionary(grouping: outcomes) { $0["coupon_id"] as? String ?? "" }
        #expect(Set(outcomes.compactMap { $0["id"] as? String }).count == outcomes.count, "outcome ids are unique")
        var closed = 0, converted: [Bool: Int] = [:]
        for coupon in coupons {
            let id = try #require(coupon["id"] as? String), user = try #require(coupon["user_id"] as? String)
            let campaign = try #require(coupon["campaign"] as? String), ts = try #require(coupon["ts"] as? Int64)
            let within = try #require(windows[campaign], "campaign \(campaign) declares no outcome")
            let found = byCoupon[id] ?? []
            guard ts + within <= end else {
                #expect(found.isEmpty, "coupon \(id) at \(ts): its window is still open at the end, \(end)")
                continue
            }
            closed += 1
            guard found.count == 1, let outcome = found.first else {
                Issue.record("coupon \(id) of \(campaign) for \(user) at \(ts): \(found.count) outcomes")
                continue
            }
            let paid = (payments[user] ?? []).filter { $0.ts > ts && $0.ts <= ts + within }
            converted[coupon["holdout"] as? Bool ?? false, default: 0] += paid.isEmpty ? 0 : 1
            #expect(outcome["campaign"] as? String == campaign && outcome["user_id"] as? String == user)
            #expect(outcome["community_id"] as? String == coupon["community_id"] as? String)
            #expect(outcome["holdout"] as? Bool == coupon["holdout"] as? Bool)
            #expect(outcome["ts"] as? Int64 == ts + within)
            #expect(outcome["converted"] as? Bool == !paid.isEmpty, "coupon \(id): \(paid.count) payments in its window")
            #expect(outcome["converted_ts"] as? Int64 == paid.map(\.ts).min(), "coupon \(id)")
            #expect(outcome["amount_text"] as? Decimal == paid.reduce(Decimal(0)) { $0 + $1.amount }, "coupon \(id): \(outcome)")
        }
        #expect(outcomes.count == closed, "an outcome for each closed coupon, and no other")
        #expect(converted[true, default: 0] > 0 && converted[false, default: 0] > 0, "too few conversions to prove much: \(converted)")
        let instants = outcomes.compactMap { $0["ts"] as? Int64 }
        #expect(instants == instants.sorted(), "outcomes come in time order")
    }

    /// The outcome window of each campaign that declares one.
    static func windows(of pipeline: Pipeline) -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: pipeline.definition.campaigns.compactMap { c in c.outcome.map { (c.name.name, $0.within) } })
    }

    /// Every user's accepted `order_paid` events: each `event_id` once, leaving out the lines the
    /// replay wrote to its dead letters (by file and line) and late events (by their text).
    static func payments(in files: [String], replayedInto out: URL) throws -> [String: [Payment]] {
        let deadLetters = Set(try records(out, ReplayOutput.deadLetterFile).map { "\($0["file"] as? String ?? ""):\($0["line"] as? Int ?? 0)" })
        var late: [Substring: Int] = [:]
        for line in try String(contentsOf: out.appendingPathComponent(ReplayOutput.lateFile), encoding: .utf8).split(separator: "\n") { late[line, default: 0] += 1 }
        var seen = Set<String>(), payments: [String: [Payment]] = [:]
        for file in files {
            // Bytes, not text: dead letters may hold invalid UTF-8.
            for (i, bytes) in try Data(contentsOf: URL(fileURLWithPath: file)).split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
                let line = Substring(String(decoding: bytes, as: UTF8.self))
                guard !line.allSatisfy(\.isWhitespace), !deadLetters.contains("\(file):\(i + 1)") else { continue }
                if let copies = late[line], copies > 0 {
                    late[line] = copies - 1
                    continue
                }
                let event = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(file): \(line)")
                guard event["type"] as? String == "order_paid", let id = event["event_id"] as? String, seen.insert(id).inserted else { continue }
                let ts = try #require((event["ts"] as? Int64) ?? (event["ts"] as? String).flatMap { EventTime.parseRFC3339(Array($0.utf8)) }, "\(file): \(line)")
                let amount = Self.amount(in: line) ?? 0
                payments[try #require(event["user_id"] as? String), default: []].append(Payment(ts: ts, amount: amount))
            }
        }
        return payments
    }

    /// Each record of `file`, with its `amount` as written also under `amount_text` (a `Decimal`).
    static func records(_ directory: URL, _ file: String) throws -> [[String: Any]] {
        try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8).split(separator: "\n").map { line in
            var record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(file): \(line)")
            record["amount_text"] = amount(in: line)
            return record
        }
    }

    /// The `amount` of a JSON line, read as written (a binary floating-point number would round it).
    static func amount(in line: Substring) -> Decimal? {
        guard let range = line.range(of: #""amount":-?[0-9.]+"#, options: .regularExpression) else { return nil }
        return Decimal(string: String(line[range].dropFirst(9)))
    }
}
