import Foundation

/// The records of one file as `compare` matches them: each record's content without the fields
/// that do not say what happened, counted, with a label to sum changes under.
struct RecordContents {
    struct Entry {
        var count = 0
        var label = ""
        /// For a coupon that was not held out: what `compare` lists as sent or no longer sent.
        var sentCoupon: ReplayComparison.CouponChange?
    }

    /// By canonical content: the record's JSON without `ReplayComparison.ignoredFields`, keys sorted.
    private(set) var entries: [String: Entry] = [:]
    private(set) var count = 0
    /// For tag files: each user's tag at the end, by group then user; users whose tag was cleared are left out.
    private(set) var finalTags: [String: [String: String]] = [:]

    static func read(_ path: String, kind: String, progress: ReportProgress) throws -> RecordContents {
        var contents = RecordContents()
        var latest: [String: [String: Int64]] = [:]
        let reader: LineReader
        do {
            reader = try LineReader(path: path)
        } catch let error as FileError {
            throw RecordFileError(file: path, line: 0, field: nil, message: error.message)
        }
        while let line = try reader.nextLine() {
            guard line.contains(where: { $0 > 0x20 }) else { continue }
            if reader.lineNumber % 65_536 == 0 { progress.lines(reader.lineNumber, of: (path as NSString).lastPathComponent) }
            func fail(_ field: String?, _ message: String) -> RecordFileError {
                RecordFileError(file: path, line: reader.lineNumber, field: field, message: message)
            }
            guard var record = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
                throw fail(nil, "not a JSON object")
            }
            func string(_ field: String) throws -> String {
                guard let value = record[field] as? String else { throw fail(field, record[field] == nil ? "missing" : "expected a string") }
                return value
            }
            func timestamp() throws -> Int64 {
                guard let value = record["ts"] as? NSNumber, let ts = Int64(exactly: value.doubleValue) else {
                    throw fail("ts", record["ts"] == nil ? "missing" : "expected integer epoch milliseconds")
                }
                return ts
            }
            var entry = Entry()
            switch kind {
            case "tag":
                let group = try string("group"), user = try string("user_id"), ts = try timestamp()
                let tag = record["tag"] as? String
                entry.label = "\(group):\(tag ?? "(cleared)")"
                // The latest record of a group wins; at one instant, the later line.
                if ts >= latest[group]?[user] ?? .min {
                    latest[group, default: [:]][user] = ts
                    contents.finalTags[group, default: [:]][user] = tag
                }
            case "alert":
                entry.label = try string("alert")
            case "coupon":
                let campaign = try string("campaign")
                let heldOut = record["holdout"] as? Bool ?? false
                entry.label = heldOut ? "\(campaign) (held out)" : campaign
                if !heldOut { entry.sentCoupon = .init(campaign: campaign, user: try string("user_id"), ts: try timestamp()) }
            case "coupon_outcome":
                entry.label = try string("campaign")
            default:
                entry.label = kind
            }
            for field in ReplayComparison.ignoredFields { record[field] = nil }
            let content = String(decoding: try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]), as: UTF8.self)
            contents.entries[content, default: entry].count += 1
            contents.count += 1
        }
        return contents
    }
}
