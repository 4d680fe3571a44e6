import Foundation
import Testing

/// The worked examples of the project's shared folder, `../shared/examples` beside the package, when there is
/// one: written apart from this repository, they cross-check it. A clone on its own has none and says so.
@Suite struct SharedExamplesCrossCheckTests {
    static let folder = Fixtures.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/examples")

    @Test func sharedExamplesGiveTheirExpectedRecordsAndCounts() throws {
        guard FileManager.default.fileExists(atPath: Self.folder.path) else {
            print("SharedExamplesCrossCheckTests: \(Self.folder.path) does not exist, so the shared examples are not cross-checked (the repository's own examples/ are, by GoldenExampleTests)")
            return
        }
        let examples = try WorkedExample.all(in: Self.folder)
        #expect(!examples.isEmpty, "no example folders in \(Self.folder.path)")
        for example in examples {
            for workers in [1, 3] {
                let differences = try example.differences(workers: workers)
                #expect(differences.isEmpty, "shared example \(example.name) with \(workers) worker(s):\n\(differences.joined(separator: "\n"))")
            }
        }
    }
}
