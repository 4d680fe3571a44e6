import Foundation
import Testing
import TagStreamCore
import TagStreamRuntime

/// `tagstream compare A B` on replays of the same events under two pipelines.
@Suite struct CompareTests {
    static func compare(_ a: URL, _ b: URL) throws -> (json: [String: Any], stdout: String) {
        let out = try Fixtures.temporaryDirectory("compare").appendingPathComponent("compare.json")
        let result = try Fixtures.run(Fixtures.tagstreamBinary, ["compare", a.path, b.path, "--out", out.path])
        guard result.status == 0 else { throw TestFailure("tagstream compare failed: \(result.stderr)") }
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as? [String: Any])
        return (json, result.stdout)
    }

    @Test func aReplayComparedWithItselfIsEmpty() throws {
        let replay = try ReportedReplay.get()
        let (json, stdout) = try Self.compare(replay.directory, replay.directory)
        #expect(json["identical"] as? Bool == true)
        let records = try #require(json["records"] as? [String: [String: Any]])
        #expect(Set(records.keys) == ["tag", "alert", "coupon", "coupon_outcome", "community_stats"])
        for (kind, figures) in records {
            #expect(figures["added"] as? Int == 0 && figures["removed"] as? Int == 0 && (figures["by"] as? [String: Any])?.isEmpty == true, "\(kind)")
            #expect((figures["records_a"] as? Int ?? 0) > 0 && figures["records_a"] as? Int == figures["records_b"] as? Int, "\(kind)")
        }
        #expect((json["final_tags"] as? [String: Any])?.isEmpty == true)
        let coupons = try #require(json["coupons"] as? [String: Any])
        #expect((coupons["would_be_sent"] as? [String: Any])?.isEmpty == true && (coupons["no_longer_sent"] as? [String: Any])?.isEmpty == true)
        #expect(stdout.hasPrefix("No difference"))
    }

    /// The reference pipeline against a copy that calls users sleeping after 60 days instead of 90:
    /// lifecycle records, final stages and wake-up coupons change, worked out again here from the files.
    @Test func anEarlierSleepingThresholdShowsTheDifferencesRecomputedFromTheFiles() throws {
        let replay = try ReportedReplay.get()
        let reference = try String(contentsOfFile: Fixtures.referencePipeline, encoding: .utf8)
        let changed = reference.replacingOccurrences(of: "sleeping: since(last_paid) >= 90d", with: "sleeping: since(last_paid) >= 60d")
        #expect(changed != reference)
        let pipeline = try PipelineLoader.parse(yaml: changed.replacingOccurrences(of: "pipeline: community-grocery", with: "pipeline: sleeping-60d"),
                                                file: "sleeping-60d.yaml")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: replay.directory.appendingPathComponent("summary.json"))) as? [String: Any]
        let inputs = try #require(summary?["input_files"] as? [String])
        let other = try Fixtures.temporaryDirectory("compare-60d")
        _ = try ReplayJob(options: ReplayOptions(pipeline: pipeline, inputs: inputs, outputDirectory: other.path)).run(progress: ProgressLine(enabled: false))
        let (json, stdout) = try Self.compare(replay.directory, other)
        #expect(json["identical"] as? Bool == false)
        let records = try #require(json["records"] as? [String: [String: Any]])

        // Records as multisets of their content without id, evidence and variant, labelled as compare labels them.
        func multiset(_ directory: URL, _ file: String) throws -> [String: (count: Int, record: [String: Any])] {
            var result: [String: (count: Int, record: [String: Any])] = [:]
            for var record in try ReportChecks.objects(directory.appendingPathComponent(file).path) {
                for field in ["id", "evidence", "variant"] { record[field] = nil }
                let key = RecordSet.canonical(record)
                result[key] = ((result[key]?.count ?? 0) + 1, record)
            }
            return result
        }
        for (kind, file) in [("tag", "tags.jsonl"), ("alert", "alerts.jsonl"), ("coupon", "coupons.jsonl"), ("community_stats", "community_stats.jsonl"),
                             ("coupon_outcome", "coupon_outcomes.jsonl")] {
            let a = try multiset(replay.directory, file), b = try multiset(other, file)
            var added: [String: Int] = [:], removed: [String: Int] = [:]
            for key in Set(a.keys).union(b.keys) {
                let record = (a[key] ?? b[key])!.record
                let label: String = switch kind {
                case "tag": "\(record["group"]!):\(record["tag"] as? String ?? "(cleared)")"
                case "alert": record["alert"] as! String
                case "coupon": (record["holdout"] as! Bool) ? "\(record["campaign"]!) (held out)" : record["campaign"] as! String
                case "coupon_outcome": record["campaign"] as! String
                default: kind
                }
                let difference = (b[key]?.count ?? 0) - (a[key]?.count ?? 0)
                if difference > 0 { added[label, default: 0] += difference } else if difference < 0 { removed[label, default: 0] -= difference }
            }
            let figures = try #require(records[kind])
            #expect(figures["added"] as? Int == added.values.reduce(0, +) && figures["removed"] as? Int == removed.values.reduce(0, +), "\(kind)")
            let by = try #require(figures["by"] as? [String: [String: Int]])
            #expect(Set(by.keys) == Set(added.keys).union(removed.keys), "\(kind) labels")
            for (label, change) in by {
                #expect(change["added"] == added[label] ?? 0 && change["removed"] == removed[label] ?? 0, "\(kind) \(label)")
            }
            if kind == "tag" { #expect((added["lifecycle:sleeping"] ?? 0) > 0, "users fall asleep sooner") }
            if kind == "coupon" {
                let coupons = try #require(json["coupons"] as? [String: Any])
                #expect((coupons["would_be_sent"] as? [String: Int])?["wake_up"] == added["wake_up"], "wake-up coupons sent sooner")
                #expect((coupons["no_longer_sent"] as? [String: Int])?["wake_up"] ?? 0 == removed["wake_up"] ?? 0)
                #expect((added["wake_up"] ?? 0) > 0)
            }
        }
        // Final lifecycle stages, from the last tag record of each user in each replay.
        let finalA = ReportChecks.tags(try ReportChecks.objects(replay.directory.appendingPathComponent("tags.jsonl").path), group: "lifecycle", before: .max)
        let finalB = ReportChecks.tags(try ReportChecks.objects(other.appendingPathComponent("tags.jsonl").path), group: "lifecycle", before: .max)
        let differing = Set(finalA.keys).union(finalB.keys).filter { finalA[$0] != finalB[$0] }
        let lifecycle = try #require((json["final_tags"] as? [String: [String: Any]])?["lifecycle"])
        #expect(lifecycle["users"] as? Int == differing.count && !differing.isEmpty)
        let sample = try #require(lifecycle["sample"] as? [[String: Any]])
        #expect(sample.map { $0["user_id"] as! String } == Array(differing.sorted().prefix(20)))
        #expect(sample.allSatisfy { ($0["a"] as? String) == finalA[$0["user_id"] as! String] && ($0["b"] as? String) == finalB[$0["user_id"] as! String] })
        #expect(stdout.contains("Users whose final lifecycle differs: \(differing.count)"))
    }
}
