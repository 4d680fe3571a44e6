import Foundation
import Testing
@testable import TagStreamCore
import TagStreamRuntime

/// Conditions on elapsed time and on windows compile into timers that fire at exactly the
/// instant where the condition changes, not a millisecond before or after.
@Suite struct TimeConditionTests {
    let t0 = jan1 + 10 * hour

    /// Loaded once; every test fails with the reason when it does not load.
    static let pipeline = Result {
        let yaml = """
        pipeline: timing
        aggregates:
          last_open: {last: ts, of: app_open}
          opens_10d: {count: app_open, window: 10d}
          views_1d: {count: view, window: 1d}
        tags:
          presence:
            evaluate_at: [event, boundary]
            rules:
              - gone: since(last_open) >= 3d
              - here: true
        flags:
          busy:
            when: opens_10d >= 2
            evaluate_at: [event, boundary]
          strictly_quiet:
            when: since(last_open) > 3d
            evaluate_at: [event, boundary]
          viewed_only_at_events: views_1d >= 1
        alerts:
          reopened:
            evaluate_at: [app_open]
            when: opens_10d >= 2
            rearm: opens_10d == 1
        """
        return try PipelineLoader.parse(yaml: yaml, file: "timing.yaml")
    }

    func run(_ build: (inout Feed) -> Void, until: Int64) throws -> Replay {
        var feed = Feed()
        build(&feed)
        return try replay(feed, pipeline: Self.pipeline.get(), until: until)
    }

    @Test(arguments: [-1 as Int64, 0, 1])
    func sinceAtLeastFlipsExactlyAtTheBoundary(offset: Int64) throws {
        let boundary = t0 + day + 3 * day
        let r = try run({ $0.open("u1", at: t0); $0.open("u1", at: t0 + day) }, until: boundary + offset)
        let gone = r.tags("presence", user: "u1").filter { $0.hasSuffix("gone<-here") }
        #expect(gone == (offset >= 0 ? ["\(boundary) gone<-here"] : []))
        #expect(r.tagRecords("presence", user: "u1").last.map { $0.cause == .timer } == (offset >= 0))
    }

    @Test(arguments: [0 as Int64, 1, 2])
    func sinceGreaterThanFlipsOneMillisecondLater(offset: Int64) throws {
        let r = try run({ $0.open("u1", at: t0) }, until: t0 + 3 * day + offset)
        #expect(r.tags("strictly_quiet", user: "u1") == (offset >= 1 ? ["\(t0 + 3 * day + 1) strictly_quiet<-null"] : []))
    }

    @Test func anEventAtTheBoundaryInstantComesFirstAndKeepsTheTag() throws {
        let r = try run({ $0.open("u1", at: t0); $0.open("u1", at: t0 + 3 * day) }, until: t0 + 5 * day)
        #expect(r.tags("presence", user: "u1") == ["\(t0) here<-null"])
    }

    @Test(arguments: [-1 as Int64, 0, 1])
    func windowExpiryIsABoundaryToo(offset: Int64) throws {
        let expiry = t0 + 10 * day
        let r = try run({ $0.open("u1", at: t0); $0.open("u1", at: t0 + day) }, until: expiry + offset)
        #expect(r.tags("busy", user: "u1") == ["\(t0 + day) busy<-null"] + (offset >= 0 ? ["\(expiry) null<-busy"] : []))
    }

    /// The window empties at t0 + 1d, but a flag evaluated at events and refreshes only drops at the next midnight.
    @Test func aRuleNotEvaluatedAtBoundariesChangesAtItsEventsAndRefreshes() throws {
        let r = try run({ $0.add("view", "u1", at: t0) }, until: t0 + 6 * day)
        #expect(r.tags("viewed_only_at_events", user: "u1") == [
            "\(t0) viewed_only_at_events<-null", "\(jan1 + 2 * day) null<-viewed_only_at_events",
        ])
        #expect(r.tagRecords("viewed_only_at_events", user: "u1").last?.cause == .refresh)
    }

    @Test func alertFiresOnceUntilItsRearmConditionHolds() throws {
        let r = try run({ feed in
            for d in [0, 1, 2] as [Int64] { feed.open("u1", at: t0 + d * day) }   // fires at +1d, stays disarmed at +2d
            feed.open("u1", at: t0 + 30 * day)                                   // one open in the window: re-armed
            feed.open("u1", at: t0 + 31 * day)                                   // fires again
        }, until: t0 + 32 * day)
        #expect(r.alerts("reopened", user: "u1") == [t0 + day, t0 + 31 * day])
    }
}
