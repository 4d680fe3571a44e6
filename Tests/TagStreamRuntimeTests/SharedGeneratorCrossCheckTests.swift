import Foundation
import Testing

/// The engine against the oracle on data of a second, independent generator: the project's
/// `../shared/tools/gen_events.py`, which takes the same arguments as `tagstream generate`.
/// It runs only where `../shared` is checked out beside the repository, and says so when not.
@Suite struct SharedGeneratorCrossCheckTests {
    static let generator = Fixtures.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/tools/gen_events.py").path

    @Test func replayAgreesWithTheOracleOnTheSharedGeneratorsData() throws {
        guard FileManager.default.fileExists(atPath: Self.generator) else {
            print("shared cross-check: ../shared not found beside the repository; ran nothing against it")
            return
        }
        for arguments in OracleCrossCheckTests.dataSets {
            let directory = try Fixtures.temporaryDirectory("shared-in")
            let result = try Fixtures.run("/usr/bin/env", ["python3", Self.generator] + arguments + ["--out", directory.path])
            #expect(result.status == 0, "gen_events.py \(arguments) failed: \(result.stderr)")
            try OracleCrossCheckTests.expectReplayAgreesWithOracle(on: try Fixtures.jsonLinesFiles(in: directory))
        }
        print("shared cross-check: replay and oracle agree on \(OracleCrossCheckTests.dataSets.count) data sets of ../shared/tools/gen_events.py")
    }
}
