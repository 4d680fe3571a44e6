import ArgumentParser
import Foundation
import TagStreamRuntime

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two replays of the same events under different pipelines.",
        discussion: """
            Records added and removed per kind and per tag, alert or campaign (records match when \
            equal without id, evidence and variant), the users whose final tag of a group differs \
            (with a sample), and the coupons that would be sent or no longer sent. Prints a short \
            summary and writes compare.json.
            """)

    @Argument(help: "The --out directory of the first replay (the baseline).")
    var directoryA: String

    @Argument(help: "The --out directory of the second replay.")
    var directoryB: String

    @Option(help: "Where to write the JSON (default: compare.json in the second directory).")
    var out: String?

    func run() throws {
        let progress = ReportProgress()
        do {
            let comparison = try ReplayComparison(ReplayDirectory(path: directoryA), ReplayDirectory(path: directoryB), progress: progress)
            let path = out ?? (directoryB as NSString).appendingPathComponent("compare.json")
            try Data(comparison.json.text().utf8).write(to: URL(fileURLWithPath: path))
            progress.finish()
            print(comparison.text)
            print("Wrote \(path)")
        } catch let error as RecordFileError {
            progress.finish()
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
    }
}
