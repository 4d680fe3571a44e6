import Foundation
import Testing
@testable import TagStreamRuntime
import TagStreamCore

/// The built `tagstream` binary, end to end, as a person runs it.
@Suite struct CommandLineTests {
    @Test func replayOfMessyGeneratedFilesAccountsForEveryLine() throws {
        let input = try Fixtures.temporaryDirectory("cli-in")
        let files = try Fixtures.generateEvents([
            "--users", "300", "--days", "60", "--seed", "5", "--partitions", "2", "--ts-format", "mixed",
            "--disorder-ms", "120000", "--dup-rate", "0.01", "--bad-rate", "0.01", "--late-rate", "0.005",
            "--unknown-type-rate", "0.005", "--escape-rate", "0.01", "--noise-rate", "0.01",
        ], into: input)
        let out = try Fixtures.temporaryDirectory("cli-out")
        let result = try Fixtures.run(Fixtures.tagstreamBinary, ["replay", "--pipeline", Fixtures.referencePipeline, "--out", out.path] + files)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("accepted"))

        var lines = 0, blank = 0
        for file in files {
            // Bytes, not String: some bad lines are deliberately invalid UTF-8.
            for line in try Data(contentsOf: URL(fileURLWithPath: file)).split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { blank += 1 } else { lines += 1 }
            }
        }
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as? [String: Any])
        let outcomes = ["accepted", "dead_letter", "duplicate", "late", "ignored"].map { summary[$0] as? Int ?? -1 }
        #expect(outcomes.allSatisfy { $0 > 0 })
        #expect(outcomes.reduce(0, +) == lines)
        #expect(summary["blank_lines"] as? Int == blank)

        let deadLetters = try String(contentsOf: out.appendingPathComponent("dead_letters.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(deadLetters.count == summary["dead_letter"] as? Int)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(deadLetters[0].utf8)) as? [String: Any])
        #expect(first["reason"] is String && first["line"] is Int && first["file"] is String)
        #expect(first["raw"] is String || first["raw_base64"] is String)
        let late = try String(contentsOf: out.appendingPathComponent("late.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(late.count == summary["late"] as? Int)
    }

    @Test func generatePrintsTheFaultsAsTheReplayThenCountsThem() throws {
        let input = try Fixtures.temporaryDirectory("cli-generate")
        let generated = try Fixtures.run(Fixtures.tagstreamBinary, [
            "generate", "--users", "200", "--days", "30", "--seed", "4", "--partitions", "3", "--disorder-ms", "600000",
            "--dup-rate", "0.01", "--bad-rate", "0.01", "--late-rate", "0.005", "--unknown-type-rate", "0.005", "--out", input.path,
        ])
        #expect(generated.status == 0, "stderr: \(generated.stderr)")
        let files = try Fixtures.jsonLinesFiles(in: input)
        #expect(files.map { URL(fileURLWithPath: $0).lastPathComponent }.sorted()
            == ["clickstream-0.jsonl", "clickstream-1.jsonl", "clickstream-2.jsonl", "orders-0.jsonl", "orders-1.jsonl", "orders-2.jsonl"])
        let summary = try Fixtures.replay(files, into: try Fixtures.temporaryDirectory("cli-generate-out"))
        let reasons = summary.deadLetterReasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        #expect(summary.deadLetter > 0 && summary.duplicate > 0 && summary.late > 0 && summary.ignored > 0)
        #expect(generated.stdout.contains("dead letters \(summary.deadLetter): \(reasons)\n"), "\(generated.stdout)")
        #expect(generated.stdout.contains("duplicates \(summary.duplicate), late \(summary.late) (held back "), "\(generated.stdout)")
        #expect(generated.stdout.contains("unknown types \(summary.ignored), blank lines \(summary.blankLines)\n"), "\(generated.stdout)")
    }

    @Test func validateReportsMistakesAndExitsOne() throws {
        let dir = try Fixtures.temporaryDirectory("cli-validate")
        let file = dir.appendingPathComponent("bad.yaml").path
        try """
        pipeline: x
        aggregates:
          spend: {sum: amount, window: 30 fortnights}
        tags:
          tier:
            rules: []
        flags:
          big: spnd >= 100
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try Fixtures.run(Fixtures.tagstreamBinary, ["validate", file])
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(file):3:32: '30 fortnights' is not a duration"))
        #expect(result.stderr.contains("\(file):5:3: tag group 'tier' has no rules"))
        #expect(result.stderr.contains("\(file):8:8: unknown aggregate, value or tag group 'spnd'"))
        let good = try Fixtures.run(Fixtures.tagstreamBinary, ["validate", Fixtures.referencePipeline])
        #expect(good.status == 0)
    }

    @Test func leaderLinkPrintsALinkThatVerifiesWithTheSameSecretFile() throws {
        let secretFile = try Fixtures.temporaryDirectory("cli-leader-link").appendingPathComponent("secret").path
        #expect(FileManager.default.createFile(atPath: secretFile, contents: Data("a-dashboard-secret-longer-than-32-bytes\n".utf8),
                                               attributes: [.posixPermissions: 0o600]))
        let signer = try LinkSigner.readSecret(file: secretFile)
        let started = Date()
        for (arguments, base, scope) in [
            (["--community", "c007", "--expires", "2h"], "http://127.0.0.1:8080/communities/c007?", DashboardScope.leader(community: "c007")),
            (["--operator", "--base-url", "https://dash.example.org/"], "https://dash.example.org/communities?", .operator),
        ] {
            let result = try Fixtures.run(Fixtures.tagstreamBinary, ["leader-link", "--secret-file", secretFile] + arguments)
            #expect(result.status == 0 && result.stderr.isEmpty, "stderr: \(result.stderr)")
            let lines = result.stdout.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix(base), "\(result.stdout)")
            let url = try #require(URLComponents(string: String(lines[0])))
            let query = url.queryItems ?? []
            #expect(signer.verify(path: url.percentEncodedPath, query: query, now: Date()) == scope)
            let lifetime: TimeInterval = arguments.contains("2h") ? 2 * 3600 : 30 * 86_400
            #expect(signer.verify(path: url.percentEncodedPath, query: query, now: started.addingTimeInterval(lifetime - 60)) == scope)
            #expect(signer.verify(path: url.percentEncodedPath, query: query, now: Date().addingTimeInterval(lifetime + 1)) == nil)
        }
    }

    @Test func leaderLinkRefusesAShortOrMissingSecretFileWithoutShowingIt() throws {
        let directory = try Fixtures.temporaryDirectory("cli-leader-link-short")
        let short = directory.appendingPathComponent("short").path
        let content = "only-31-bytes-of-secret-xyz0123"
        #expect(FileManager.default.createFile(atPath: short, contents: Data((content + "\n").utf8), attributes: [.posixPermissions: 0o600]))
        let missing = directory.appendingPathComponent("missing").path
        for file in [short, missing] {
            let result = try Fixtures.run(Fixtures.tagstreamBinary, ["leader-link", "--community", "c001", "--secret-file", file])
            #expect(result.status == 1)
            #expect(result.stdout.isEmpty)
            #expect(result.stderr.hasPrefix("\(file): the secret file "), "stderr: \(result.stderr)")
            #expect(!result.stderr.contains(content) && !result.stderr.contains("xyz0123"), "stderr: \(result.stderr)")
        }
    }

    @Test(arguments: [
        (["replay", "--out", "/tmp/x"], "<files>"),
        (["replay", "--pipeline", "/nonexistent.yaml", "--out", "/tmp/x", "f.jsonl"], "/nonexistent.yaml:1:1: cannot read the file"),
        (["replay", "--pipeline", "p.yaml", "--out", "/tmp/x", "--until", "soon", "f.jsonl"], "--until"),
        (["replay", "--pipeline", Fixtures.referencePipeline, "--out", "/tmp/x", "/nonexistent.jsonl"], "no such file"),
        (["frobnicate"], "Usage"),
        (["generate", "--out", "/tmp/x", "--merged", "/tmp/x.jsonl"], "one of --out DIR or --merged FILE"),
        (["generate", "--merged", "/tmp/x.jsonl", "--partitions", "2"], "--partitions applies to --out"),
        (["generate", "--out", "/tmp/x", "--dup-rate", "0.6", "--late-rate", "0.6"], "must add up to at most 1"),
        (["generate", "--out", "/tmp/x", "--ts-format", "iso"], "--ts-format"),
        (["leader-link", "--secret-file", "/tmp/x"], "Give --community ID or --operator"),
        (["leader-link", "--secret-file", "/tmp/x", "--community", "c001", "--operator"], "not both"),
        (["leader-link", "--secret-file", "/tmp/x", "--community", ".."], "is not a community id"),
        (["leader-link", "--secret-file", "/tmp/x", "--operator", "--expires", "soon"], "--expires"),
    ])
    func misuseGivesAClearErrorAndTheUsage(arguments: [String], mention: String) throws {
        let result = try Fixtures.run(Fixtures.tagstreamBinary, arguments)
        #expect(result.status != 0)
        #expect(result.stderr.contains(mention), "stderr: \(result.stderr)")
    }
}

/// `tagstream cluster`: an embedded Kafka cluster any client can use.
@Suite struct ClusterCommandTests {
    @Test func clusterServesTheTopicsToKcatAndStopsOnInterrupt() throws {
        let kcat = try DemoAndClusterTests.kcat()
        let output = Pipe()
        let process = try Fixtures.launch(["cluster", "--brokers", "3", "--input-partitions", "2", "--output-partitions", "3"], output: output)
        defer { if process.isRunning { process.terminate() } }
        var firstLine = Data()
        while !firstLine.contains(0x0A), case let chunk = output.fileHandleForReading.availableData, !chunk.isEmpty {
            firstLine.append(chunk)
        }
        let text = String(decoding: firstLine, as: UTF8.self)
        #expect(text.hasPrefix("bootstrap: 127.0.0.1:"))
        let brokers = String(text.dropFirst("bootstrap: ".count).prefix { $0 != "\n" })
        let metadata = try Fixtures.run(kcat, ["-b", brokers, "-L", "-m", "10"])
        #expect(metadata.stdout.contains("3 brokers"))
        for topic in ["events.clickstream", "events.orders"] {
            #expect(metadata.stdout.contains("topic \"\(topic)\" with 2 partitions"), "\(topic) missing")
        }
        for topic in ["tags", "alerts", "coupons", "community.stats", "events.dlq", "events.late"] {
            #expect(metadata.stdout.contains("topic \"\(topic)\" with 3 partitions"), "\(topic) missing")
        }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}

/// `tagstream demo` as the README's first command runs it, bounded by `--duration`.
@Suite struct DemoCommandLineTests {
    @Test func demoRunsTheEngineOnLiveTrafficAndStopsCleanly() throws {
        let result = try Fixtures.run(Fixtures.tagstreamBinary, ["demo", "--duration", "6", "--users", "300", "--seconds-per-day", "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("bootstrap: 127.0.0.1:") == true)
        // Without a terminal: status lines, then the final one, which counts accepted events and output records.
        let final = try #require(lines.last { $0.hasPrefix("final: ") })
        let accepted = final.firstRange(of: /accepted (\d+)/).flatMap { Int(final[$0].split(separator: " ")[1]) }
        #expect((accepted ?? 0) > 0, "\(final)")
        #expect(final.contains("tag "))
        // The cluster outlives every client: no broker errors when the demo ends.
        #expect(!result.stderr.contains("brokers are down"), "stderr: \(result.stderr)")
    }
}

/// The second shipped pipeline through the built binary: its own tags, flags, alert and campaign.
@Suite struct SecondPipelineCommandLineTests {
    @Test func ecommercePipelineReplaysEndToEnd() throws {
        let input = try Fixtures.temporaryDirectory("shop-cli-in")
        let files = try Fixtures.generateEvents(["--users", "400", "--days", "90", "--seed", "11"], into: input)
        let pipeline = Fixtures.packageRoot.appendingPathComponent("pipelines/ecommerce-basic.yaml").path
        let validate = try Fixtures.run(Fixtures.tagstreamBinary, ["validate", pipeline])
        #expect(validate.status == 0)
        #expect(validate.stdout.contains("2 tag groups (lifecycle, tier), 3 flags"))

        let out = try Fixtures.temporaryDirectory("shop-cli-out")
        let result = try Fixtures.run(Fixtures.tagstreamBinary, ["replay", "--pipeline", pipeline, "--out", out.path] + files)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let tags = try String(contentsOf: out.appendingPathComponent("tags.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let groups = Set(tags.compactMap { $0["group"] as? String })
        #expect(groups.isSuperset(of: ["lifecycle", "tier", "bargain_hunter", "explorer"]))
        #expect(Set(tags.filter { $0["group"] as? String == "tier" }.compactMap { $0["tag"] as? String }) == ["vip", "regular"])
        // The 21-day at_risk boundary of this pipeline, not the reference's 30 days.
        let atRisk = tags.filter { $0["group"] as? String == "lifecycle" && $0["tag"] as? String == "at_risk" }
        #expect(!atRisk.isEmpty)
        for record in atRisk {
            let lastOrder = try #require((record["evidence"] as? [String: Any])?["last_order"] as? String)
            let at = try #require(record["ts"] as? Int64)
            #expect(at - EventTime.parseRFC3339(Array(lastOrder.utf8))! >= 21 * EventTime.day)
        }
        let coupons = try String(contentsOf: out.appendingPathComponent("coupons.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(!coupons.isEmpty && coupons.allSatisfy { $0.contains(#""campaign":"cart_rescue""#) })
        let stats = try String(contentsOf: out.appendingPathComponent("community_stats.jsonl"), encoding: .utf8)
        #expect(stats.isEmpty)
        #expect(result.stdout.contains("Final state:") && result.stdout.contains("  tier: "))
    }
}
