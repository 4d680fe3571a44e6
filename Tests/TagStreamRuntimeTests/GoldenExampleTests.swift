import Foundation
import Testing

/// The repository's worked examples (`examples/`), each replayed by `tagstream replay` with its options;
/// a folder added there is tested without a change here.
@Suite struct GoldenExampleTests {
    @Test func theRepositoryHasWorkedExamples() throws {
        #expect(try !WorkedExample.all(in: Fixtures.repositoryExamples).isEmpty, "no example folders in \(Fixtures.repositoryExamples.path)")
    }

    @Test(arguments: try WorkedExample.all(in: Fixtures.repositoryExamples))
    func exampleGivesExactlyTheExpectedRecordsAndCounts(_ example: WorkedExample) throws {
        let differences = try example.differences()
        #expect(differences.isEmpty, "\(example.name):\n\(differences.joined(separator: "\n"))")
    }
}
