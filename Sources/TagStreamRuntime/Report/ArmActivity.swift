/// What each user of an A/B replay did in its records, per arm: lifecycle tag records, the final
/// lifecycle stage, and coupons sent. Users come into an arm by the split's hash; each record's
/// `variant` must name that arm, or the records and the summary do not belong together.
struct ArmActivity {
    struct Arm {
        /// Lifecycle tag records per user (a stage set, changed or cleared).
        var lifecycleRecords: [String: Int] = [:]
        /// Each user's lifecycle stage after their last record; users whose stage was cleared are left out.
        var finalLifecycle: [String: String] = [:]
        /// Coupons not held out, per user.
        var sentCoupons: [String: Int] = [:]
        fileprivate var lastLifecycleTS: [String: Int64] = [:]
        /// Users named by any of the arm's records.
        fileprivate(set) var users = Set<String>()
    }

    /// By pipeline name.
    private(set) var arms: [String: Arm]

    /// Reads `tags.jsonl` and `coupons.jsonl` of the A/B replay's directory.
    static func read(_ directory: ReplayDirectory, split: ArmSplit, progress: ReportProgress) throws -> ArmActivity {
        var activity = ArmActivity(arms: [split.control.name: Arm(), split.variant.name: Arm()])
        func arm(of user: String, variant: String?, file: String, line: Int) throws -> String {
            let arm = split.arm(of: user)
            guard variant == arm else {
                throw RecordFileError(file: file, line: line, field: "variant",
                                      message: (variant.map { "'\($0)'" } ?? "missing") + ", but user '\(user)' is in the arm of '\(arm)' by the split of summary.json")
            }
            return arm
        }
        let tagFile = directory.path(of: ReplayDirectory.tagFile)
        try RecordFileReader.forEach(TagRecord.self, in: tagFile, progress: { progress.lines($0, of: "tags by arm") }) { record, line in
            let name = try arm(of: record.userID, variant: record.variant, file: tagFile, line: line)
            activity.arms[name]!.users.insert(record.userID)
            guard record.group == ReplayReport.lifecycleGroup else { return }
            activity.arms[name]!.record(lifecycle: record)
        }
        let couponFile = directory.path(of: ReplayDirectory.couponFile)
        if directory.contains(ReplayDirectory.couponFile) {
            try RecordFileReader.forEach(CouponRecord.self, in: couponFile, progress: { progress.lines($0, of: "coupons by arm") }) { coupon, line in
                let name = try arm(of: coupon.userID, variant: coupon.variant, file: couponFile, line: line)
                activity.arms[name]!.users.insert(coupon.userID)
                if !coupon.holdout { activity.arms[name]!.sentCoupons[coupon.userID, default: 0] += 1 }
            }
        }
        return activity
    }
}

extension ArmActivity.Arm {
    /// Counts the record; the latest one of a user sets the final stage (at one instant, the later line).
    fileprivate mutating func record(lifecycle record: TagRecord) {
        lifecycleRecords[record.userID, default: 0] += 1
        guard record.ts >= lastLifecycleTS[record.userID] ?? .min else { return }
        lastLifecycleTS[record.userID] = record.ts
        finalLifecycle[record.userID] = record.tag
    }
}
