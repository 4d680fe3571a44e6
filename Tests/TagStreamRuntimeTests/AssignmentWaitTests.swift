import Foundation
import Testing
@testable import TagStreamRuntime

/// What a live run does while its group assigns it no partitions.
@Suite struct AssignmentWaitTests {
    let start = Date(timeIntervalSince1970: 1_000)

    @Test func anUnboundedRunWarnsOnceAfterThirtySecondsAndNeverGivesUp() {
        var wait = AssignmentWait(limit: nil, since: start)
        #expect(wait.check(at: start + 30) == .none)
        #expect(wait.check(at: start + 31) == .warn(seconds: 31))
        #expect(wait.check(at: start + 32) == .none)
        #expect(wait.check(at: start + 86_400) == .none)
    }

    @Test func aBoundedRunGivesUpAfterItsLimit() {
        var wait = AssignmentWait(limit: 120, since: start)
        #expect(wait.check(at: start + 31) == .warn(seconds: 31))
        #expect(wait.check(at: start + 120) == .none)
        #expect(wait.check(at: start + 121) == .giveUp(seconds: 121))
    }

    @Test func anAssignmentStopsTheClockAndLosingEveryPartitionStartsItAgain() {
        var wait = AssignmentWait(limit: 120, since: start)
        #expect(wait.check(at: start + 31) == .warn(seconds: 31))
        wait.assigned()
        #expect(wait.check(at: start + 500) == .none)
        wait.revokedAll(at: start + 600)
        wait.revokedAll(at: start + 650)
        #expect(wait.check(at: start + 631) == .warn(seconds: 31))
        #expect(wait.check(at: start + 721) == .giveUp(seconds: 121))
    }
}
