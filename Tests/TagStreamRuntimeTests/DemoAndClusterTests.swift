import Foundation
import Kafka
import Testing
import TagStreamRuntime

/// `tagstream demo` and `tagstream cluster` as a script runs them: started in another directory,
/// their output redirected to a file that is read while they run.
@Suite(.serialized) struct DemoAndClusterTests {
    @Test func demoStartedElsewhereWritesItsBootstrapToAFileWhileItRunsAndKcatReadsItsTags() throws {
        let directory = try Fixtures.temporaryDirectory("demo-elsewhere")
        let log = directory.appendingPathComponent("demo.log")
        let demo = try Self.launch(["demo", "--duration", "60", "--users", "300", "--seconds-per-day", "1"], in: directory, output: log)
        defer { if demo.isRunning { demo.terminate() } }

        let bootstrap = try Self.bootstrap(of: demo, in: log)
        #expect(demo.isRunning, "the bootstrap line arrived only when the demo ended")
        let tags = try Self.run(try Self.kcat(), ["-C", "-b", bootstrap, "-t", "tags", "-o", "beginning", "-c", "5", "-q"],
                                in: directory, timeout: 40)
        let records = tags.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(records.count == 5, "kcat: \(tags.stdout) \(tags.stderr)")
        #expect(records.allSatisfy { $0["kind"] as? String == "tag" && $0["user_id"] is String })

        kill(demo.processIdentifier, SIGINT)
        demo.waitUntilExit()
        #expect(demo.terminationStatus == 0)
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.first?.hasPrefix("bootstrap: ") == true)
        #expect(lines.contains { $0.hasPrefix("final: ") })
    }

    @Test func clusterStartedElsewherePrintsItsRetentionAtStartAndKeepsWhatItSays() throws {
        let directory = try Fixtures.temporaryDirectory("cluster-elsewhere")
        let log = directory.appendingPathComponent("cluster.log")
        let cluster = try Self.launch(["cluster", "--brokers", "1", "--input-partitions", "1", "--output-partitions", "1"],
                                      in: directory, output: log)
        defer { if cluster.isRunning { cluster.terminate() } }

        let bootstrap = try Self.bootstrap(of: cluster, in: log)
        let retention = try Self.line(startingWith: "retention: ", of: cluster, in: log)
        #expect(retention.contains("newest 5 MiB") && retention.contains("--input-partitions") && retention.contains("kcat -z lz4"))
        let promised = try #require(retention.firstMatch(of: /holds about ([0-9,]+) such records/).flatMap { Int($0.1.filter(\.isNumber)) })
        #expect(promised == EmbeddedKafkaCluster.retainedRecordsPerPartition(valueBytes: 250) / 1_000 * 1_000)

        // Three times what one partition keeps, each record a 250-byte value under a short key.
        let produced = 3 * promised
        let input = directory.appendingPathComponent("records.txt")
        let records = (0..<produced).map { n in
            let key = "u\(n % 10_000)"
            let head = #"{"n":\#(n),"user_id":"\#(key)","pad":""#
            return key + "\t" + head + String(repeating: "x", count: 250 - head.utf8.count - 2) + #""}"#
        }
        try (records.joined(separator: "\n") + "\n").write(to: input, atomically: true, encoding: .utf8)
        let kcat = try Self.kcat()
        let produce = try Self.run(kcat, ["-P", "-b", bootstrap, "-t", "events.clickstream", "-p", "0", "-K", "\t", "-l", input.path],
                                   in: directory, timeout: 60)
        #expect(produce.status == 0, "kcat: \(produce.stderr)")
        let offsets = try ["-2", "-1"].map { position in
            let query = try Self.run(kcat, ["-Q", "-b", bootstrap, "-t", "events.clickstream:0:\(position)"], in: directory, timeout: 20)
            guard let offset = query.stdout.split(separator: " ").last.flatMap({ Int($0.filter(\.isNumber)) }) else {
                throw TestFailure("kcat -Q gave no offset: \(query.stdout) \(query.stderr)")
            }
            return offset
        }
        #expect(offsets[1] == produced)
        let kept = offsets[1] - offsets[0]
        #expect(abs(kept - promised) < promised / 10, "kept \(kept) of \(produced) records, the cluster said about \(promised)")

        kill(cluster.processIdentifier, SIGINT)
        cluster.waitUntilExit()
        #expect(cluster.terminationStatus == 0)
        #expect(try String(contentsOf: log, encoding: .utf8).hasPrefix("bootstrap: "))
    }

    @Test func replayWithoutAPipelineFileUsesTheBuiltInReferencePipelineFromAnyDirectory() throws {
        let directory = try Fixtures.temporaryDirectory("replay-elsewhere")
        let generate = try Self.run(Fixtures.tagstreamBinary, ["generate", "--users", "300", "--days", "30", "--out", "in"], in: directory, timeout: 120)
        #expect(generate.status == 0, "\(generate.stderr)")
        let inputs = ["in/clickstream.jsonl", "in/orders.jsonl"]
        let builtIn = try Self.run(Fixtures.tagstreamBinary, ["replay", "--out", "built-in"] + inputs, in: directory, timeout: 120)
        #expect(builtIn.status == 0, "\(builtIn.stderr)")
        let file = try Self.run(Fixtures.tagstreamBinary, ["replay", "--pipeline", Fixtures.referencePipeline, "--out", "file"] + inputs,
                                in: directory, timeout: 120)
        #expect(file.status == 0, "\(file.stderr)")
        let records = try RecordSet.load(directory: directory.appendingPathComponent("built-in"))
        #expect(!records.isEmpty)
        #expect(records == (try RecordSet.load(directory: directory.appendingPathComponent("file"))))
    }

    @Test func builtInPipelineIsTheReferencePipelineFile() throws {
        let file = Fixtures.packageRoot.appendingPathComponent(BuiltInPipeline.file).path
        #expect(file == Fixtures.referencePipeline)
        #expect(BuiltInPipeline.yaml == (try String(contentsOfFile: file, encoding: .utf8)))
        #expect(try BuiltInPipeline.load().name == "community-grocery")
    }

    // MARK: - Running the binary as a script does

    /// kcat, which scripts/install-deps.sh installs; these tests need it.
    static func kcat() throws -> String {
        guard let path = ["/usr/bin/kcat", "/usr/local/bin/kcat"].first(where: FileManager.default.isExecutableFile) else {
            throw TestFailure("kcat is not installed: run scripts/install-deps.sh")
        }
        return path
    }

    /// Starts the built `tagstream` in `directory`, its standard output and error going to `output`.
    static func launch(_ arguments: [String], in directory: URL, output: URL) throws -> Process {
        guard FileManager.default.createFile(atPath: output.path, contents: nil) else { throw TestFailure("cannot create \(output.path)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Fixtures.tagstreamBinary)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let file = try FileHandle(forWritingTo: output)
        process.standardOutput = file
        process.standardError = file
        try process.run()
        return process
    }

    /// The first line of `file` that starts with `prefix`, waiting for it while `process` runs.
    static func line(startingWith prefix: String, of process: Process, in file: URL, seconds: Double = 30) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let text = try String(contentsOf: file, encoding: .utf8)
            if let line = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().first(where: { $0.hasPrefix(prefix) }) {
                return String(line)
            }
            guard process.isRunning else { throw TestFailure("exited without a '\(prefix)' line: \(text)") }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw TestFailure("no '\(prefix)' line in \(file.path) within \(Int(seconds)) s: \(try String(contentsOf: file, encoding: .utf8))")
    }

    /// The brokers of the `bootstrap:` line, which must be the first line.
    static func bootstrap(of process: Process, in file: URL) throws -> String {
        let line = try line(startingWith: "bootstrap: ", of: process, in: file)
        guard try String(contentsOf: file, encoding: .utf8).hasPrefix(line) else { throw TestFailure("'bootstrap:' is not the first line") }
        return String(line.dropFirst("bootstrap: ".count))
    }

    /// Runs a command in `directory`, stopping it after `timeout` seconds.
    static func run(_ executable: String, _ arguments: [String], in directory: URL, timeout: Double) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        // Standard error goes to a file, so that it cannot fill a pipe while standard output is read.
        let errors = directory.appendingPathComponent("stderr-\(UUID().uuidString).txt")
        guard FileManager.default.createFile(atPath: errors.path, contents: nil) else { throw TestFailure("cannot create \(errors.path)") }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        let stderr = try Data(contentsOf: errors)
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}
