import Foundation
import Testing

/// The repository's worked examples (`examples/`), each replayed by `tagstream replay` with its options;
/// a folder added there is tested without a change here.
@Suite struct GoldenExampleTests {
    @Test func theRepositoryHasWorkedExamples() throws {
        #expect(try !WorkedExample.all(in: Fixtures.repositoryExamples).isEmpty, "no example folders in \(Fixtures.repositoryExamples.path)")
    }

    /// Each example with one engine and with its users split among three workers (most shards
    /// then hold no user at all, and must still meet the others at every refresh).
    @Test(arguments: try WorkedExample.all(in: Fixtures.repositoryExamples), [1, 3])
    func exampleGivesExactlyTheExpectedRecordsAndCounts(_ example: WorkedExample, workers: Int) throws {
        let differences = try example.differences(workers: workers)
        #expect(differences.isEmpty, "\(example.name) with \(workers) worker(s):\n\(differences.joined(separator: "\n"))")
    }
}
