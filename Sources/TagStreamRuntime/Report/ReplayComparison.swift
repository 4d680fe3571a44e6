import Foundation

/// What changes between two replays of different pipelines over the same events (`tagstream
/// compare A B`): records added and removed, users whose final tag differs, coupons that would now
/// be sent or no longer be sent.
///
/// Two records are the same when they are equal without `id`, `evidence` and `variant`: ids hash
/// the pipeline's own content, evidence holds values for people, and the variant names the pipeline;
/// the rest (user, group, tag, previous tag, ts; campaign and holdout; figures) is what happened.
/// Records are compared as multisets, per file.
public struct ReplayComparison {
    /// Record files compared, with the kind of record each holds.
    static let files = [("tag", ReplayDirectory.tagFile), ("alert", ReplayDirectory.alertFile), ("coupon", ReplayDirectory.couponFile),
                        ("coupon_outcome", ReplayDirectory.couponOutcomeFile), ("community_stats", ReplayDirectory.communityStatsFile)]
    static let ignoredFields = ["id", "evidence", "variant"]
    /// Users or coupons listed as examples, per list.
    public static let sampleSize = 20

    /// Records of one kind (or one label within a kind) in A only (removed) and in B only (added).
    public struct Change: Equatable {
        public var added = 0
        public var removed = 0
        var json: ReportJSON { .object(["added": .integer(added), "removed": .integer(removed)]) }
    }

    public struct KindComparison {
        public var recordsA = 0
        public var recordsB = 0
        public var total = Change()
        /// By label: `group:tag` for tags (`group:(cleared)` when a tag is removed), the alert's
        /// name, the campaign (`campaign (held out)` for holdout coupons); only labels that changed.
        public var byLabel: [String: Change] = [:]
    }

    /// Users whose tag of one group differs at the end of the two replays.
    public struct GroupDifference {
        public var users = 0
        /// By `tag in A → tag in B` (`(none)` for no tag).
        public var changes: [String: Int] = [:]
        /// The first users by id, with their tags in A and B.
        public var sample: [(user: String, a: String?, b: String?)] = []
    }

    /// A coupon (not held out) present in one replay only.
    public struct CouponChange: Comparable {
        public let campaign: String
        public let user: String
        public let ts: Int64
        public static func < (x: Self, y: Self) -> Bool { (x.ts, x.user, x.campaign) < (y.ts, y.user, y.campaign) }
    }

    public let pathA: String
    public let pathB: String
    /// By kind; a kind whose file is missing from either directory is left out.
    public private(set) var kinds: [String: KindComparison] = [:]
    /// By tag group.
    public private(set) var finalTags: [String: GroupDifference] = [:]
    public private(set) var wouldBeSent: [CouponChange] = []
    public private(set) var noLongerSent: [CouponChange] = []

    public init(_ a: ReplayDirectory, _ b: ReplayDirectory, progress: ReportProgress = ReportProgress()) throws {
        pathA = a.path
        pathB = b.path
        var finalA: [String: [String: String]] = [:], finalB: [String: [String: String]] = [:]
        for (kind, file) in Self.files where a.contains(file) && b.contains(file) {
            let recordsA = try RecordContents.read(a.path(of: file), kind: kind, progress: progress)
            let recordsB = try RecordContents.read(b.path(of: file), kind: kind, progress: progress)
            var comparison = KindComparison(recordsA: recordsA.count, recordsB: recordsB.count)
            for content in Set(recordsA.entries.keys).union(recordsB.entries.keys) {
                let inA = recordsA.entries[content]?.count ?? 0, inB = recordsB.entries[content]?.count ?? 0
                guard inA != inB, let entry = recordsA.entries[content] ?? recordsB.entries[content] else { continue }
                let change = inB > inA ? Change(added: inB - inA) : Change(removed: inA - inB)
                comparison.total.added += change.added
                comparison.total.removed += change.removed
                comparison.byLabel[entry.label, default: Change()].added += change.added
                comparison.byLabel[entry.label, default: Change()].removed += change.removed
                if let coupon = entry.sentCoupon {
                    let copies = Array(repeating: coupon, count: change.added + change.removed)
                    if change.added > 0 { wouldBeSent += copies } else { noLongerSent += copies }
                }
            }
            kinds[kind] = comparison
            if kind == "tag" { (finalA, finalB) = (recordsA.finalTags, recordsB.finalTags) }
        }
        wouldBeSent.sort()
        noLongerSent.sort()
        for group in Set(finalA.keys).union(finalB.keys) {
            let tagsA = finalA[group] ?? [:], tagsB = finalB[group] ?? [:]
            var difference = GroupDifference()
            for user in Set(tagsA.keys).union(tagsB.keys).sorted() where tagsA[user] != tagsB[user] {
                difference.users += 1
                difference.changes["\(tagsA[user] ?? TagOrder.none) → \(tagsB[user] ?? TagOrder.none)", default: 0] += 1
                if difference.sample.count < Self.sampleSize { difference.sample.append((user, tagsA[user], tagsB[user])) }
            }
            if difference.users > 0 { finalTags[group] = difference }
        }
    }

    /// True when the two replays hold the same records.
    public var isEmpty: Bool { kinds.values.allSatisfy { $0.total == Change() } }

    public var json: ReportJSON {
        func couponList(_ coupons: [CouponChange]) -> ReportJSON {
            .array(coupons.prefix(Self.sampleSize).map { .object(["campaign": .string($0.campaign), "user_id": .string($0.user), "ts": .integer(Int($0.ts))]) })
        }
        func byCampaign(_ coupons: [CouponChange]) -> ReportJSON {
            .object(Dictionary(grouping: coupons, by: \.campaign).mapValues { .integer($0.count) })
        }
        return .object([
            "a": .string(pathA),
            "b": .string(pathB),
            "identical": .bool(isEmpty),
            "records": .object(kinds.mapValues { kind in
                .object(["records_a": .integer(kind.recordsA), "records_b": .integer(kind.recordsB),
                         "added": .integer(kind.total.added), "removed": .integer(kind.total.removed),
                         "by": .object(kind.byLabel.mapValues(\.json))])
            }),
            "final_tags": .object(finalTags.mapValues { group in
                .object(["users": .integer(group.users), "changes": .object(group.changes.mapValues(ReportJSON.integer)),
                         "sample": .array(group.sample.map { .object(["user_id": .string($0.user), "a": $0.a.map(ReportJSON.string) ?? .null,
                                                                      "b": $0.b.map(ReportJSON.string) ?? .null]) })])
            }),
            "coupons": .object([
                "would_be_sent": byCampaign(wouldBeSent),
                "no_longer_sent": byCampaign(noLongerSent),
                "sample_would_be_sent": couponList(wouldBeSent),
                "sample_no_longer_sent": couponList(noLongerSent),
            ]),
        ])
    }

    /// A short summary for the terminal.
    public var text: String {
        guard !isEmpty else { return "No difference: \(pathA) and \(pathB) hold the same records." }
        var lines = ["Records in \(pathB) against \(pathA) (+ added, − removed):"]
        for kind in kinds.keys.sorted() {
            let comparison = kinds[kind]!
            guard comparison.total != Change() else { lines.append("  \(kind): no change"); continue }
            let top = comparison.byLabel.sorted { ($0.value.added + $0.value.removed, $1.key) > ($1.value.added + $1.value.removed, $0.key) }.prefix(6)
            lines.append("  \(kind): +\(comparison.total.added) −\(comparison.total.removed) ("
                         + top.map { "\($0.key) +\($0.value.added) −\($0.value.removed)" }.joined(separator: ", ")
                         + (comparison.byLabel.count > top.count ? ", …" : "") + ")")
        }
        for group in finalTags.keys.sorted() {
            let difference = finalTags[group]!
            let example = difference.sample.first.map { " (e.g. \($0.user): \($0.a ?? TagOrder.none) → \($0.b ?? TagOrder.none))" } ?? ""
            lines.append("Users whose final \(group) differs: \(difference.users)\(example)")
        }
        func byCampaign(_ coupons: [CouponChange]) -> String {
            Dictionary(grouping: coupons, by: \.campaign).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.count)" }.joined(separator: ", ")
        }
        lines.append("Coupons that would be sent: \(wouldBeSent.count)" + (wouldBeSent.isEmpty ? "" : " (\(byCampaign(wouldBeSent)))")
                     + "; no longer sent: \(noLongerSent.count)" + (noLongerSent.isEmpty ? "" : " (\(byCampaign(noLongerSent)))"))
        return lines.joined(separator: "\n")
    }
}
