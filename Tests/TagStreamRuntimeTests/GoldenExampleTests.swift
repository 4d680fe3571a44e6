import Foundation
import Testing
import TagStreamCore
@testable import TagStreamRuntime

/// The worked examples of `shared/examples`, replayed with their arguments.
@Suite struct GoldenExampleTests {
    static let names = ["cart_rescue", "community_alert", "flags", "hygiene", "interleave", "lifecycle", "refresh", "vip", "wake_up"]

    @Test(arguments: names)
    func exampleGivesExactlyTheExpectedRecords(name: String) throws {
        let folder = Fixtures.examples.appendingPathComponent(name)
        let inputs = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasPrefix("partition-") }.sorted().map { folder.appendingPathComponent($0).path }
        var until: Int64?
        if let args = try? String(contentsOf: folder.appendingPathComponent("args"), encoding: .utf8) {
            let words = args.split(whereSeparator: \.isWhitespace).map(String.init)
            if let i = words.firstIndex(of: "--until") { until = EventTime.parseRFC3339(Array(words[i + 1].utf8)) }
            #expect(until != nil, "args of \(name) should parse")
        }
        let out = try Fixtures.temporaryDirectory(name)
        let summary = try Fixtures.replay(inputs, into: out, until: until)

        let expectedPath = folder.appendingPathComponent("expected.jsonl").path
        let expected = try RecordSet.load([expectedPath])
        let actual = try RecordSet.load(directory: out)
        #expect(RecordSet.differences(expected: expected, actual: actual) == [])

        let summaryLine = try String(contentsOfFile: expectedPath, encoding: .utf8).split(separator: "\n")
            .first { $0.contains("\"summary\"") }
        let counts = try #require(try JSONSerialization.jsonObject(with: Data(summaryLine!.utf8)) as? [String: Any])
        #expect(summary.accepted == counts["accepted"] as? Int)
        #expect(summary.deadLetter == counts["dead_letter"] as? Int)
        #expect(summary.duplicate == counts["duplicate"] as? Int)
        #expect(summary.late == counts["late"] as? Int)
        #expect(summary.ignored == counts["ignored"] as? Int)
    }
}
