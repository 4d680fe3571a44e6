import Foundation
import Testing
@testable import TagStreamCore

/// A lifecycle transition that time alone causes, at an instant relative to the first order.
struct LifecycleBoundary: Sendable, CustomTestStringConvertible {
    var orders: [Int64]
    var boundary: Int64
    var from: String
    var to: String

    var testDescription: String { "\(from)→\(to) at +\(boundary / day)d" }

    static let all: [LifecycleBoundary] = [
        // first_paid + 30d, with a second order keeping the user away from at_risk.
        LifecycleBoundary(orders: [0, 10 * day], boundary: 30 * day, from: "new", to: "active"),
        // last_paid + 30d.
        LifecycleBoundary(orders: [0, 10 * day], boundary: 40 * day, from: "active", to: "at_risk"),
        // A single order: at first_paid + 30d = last_paid + 30d, at_risk wins over new.
        LifecycleBoundary(orders: [0], boundary: 30 * day, from: "new", to: "at_risk"),
        LifecycleBoundary(orders: [0], boundary: 90 * day, from: "at_risk", to: "sleeping"),
        LifecycleBoundary(orders: [0], boundary: 180 * day, from: "sleeping", to: "churned"),
    ]
}

@Suite struct LifecycleBoundaryTests {
    let t0 = jan1 + 10 * hour

    @Test func firstNonOrderEventStartsAtProspectWithNullPrevious() throws {
        var feed = Feed()
        feed.open("u1", at: t0)
        feed.add("view", "u1", at: t0 + minute, fields: #""sku":"s1""#)
        let run = try replay(feed)
        #expect(run.tags("lifecycle", user: "u1") == ["\(t0) prospect<-null"])
    }

    @Test func prospectBecomesNewAtTheFirstOrder() throws {
        var feed = Feed()
        feed.open("u1", at: t0)
        feed.order("u1", at: t0 + hour)
        let run = try replay(feed)
        #expect(run.tags("lifecycle", user: "u1") == ["\(t0) prospect<-null", "\(t0 + hour) new<-prospect"])
    }

    @Test func userWhoseFirstEventIsAnOrderStartsAtNewWithNullPrevious() throws {
        var feed = Feed()
        feed.order("u1", at: t0)
        let run = try replay(feed)
        #expect(run.tags("lifecycle", user: "u1") == ["\(t0) new<-null"])
        let json = run.jsonObjects().first { ($0["group"] as? String) == "lifecycle" }
        #expect(json?["previous"] is NSNull)
        #expect(json?["tag"] as? String == "new")
    }

    @Test func singleOrderWalksTheWholeLadderAtTheExactInstants() throws {
        var feed = Feed()
        feed.order("u1", at: t0)
        let run = try replay(feed, until: t0 + 400 * day)
        #expect(run.tags("lifecycle", user: "u1") == [
            "\(t0) new<-null",
            "\(t0 + 30 * day) at_risk<-new",
            "\(t0 + 90 * day) sleeping<-at_risk",
            "\(t0 + 180 * day) churned<-sleeping",
        ])
    }

    @Test(arguments: LifecycleBoundary.all, [-1 as Int64, 0, 1])
    func transitionHappensExactlyAtItsBoundaryInstant(_ c: LifecycleBoundary, offset: Int64) throws {
        var feed = Feed()
        for o in c.orders { feed.order("u1", at: t0 + o) }
        let until = t0 + c.boundary + offset
        let run = try replay(feed, until: until)
        let changes = run.tags("lifecycle", user: "u1")
        if offset < 0 {
            #expect(!changes.contains { $0.hasSuffix(" \(c.to)<-\(c.from)") })
            #expect(changes.last?.contains(" \(c.from)<-") == true)
        } else {
            #expect(changes.last == "\(t0 + c.boundary) \(c.to)<-\(c.from)")
        }
    }

    @Test(arguments: LifecycleBoundary.all, [-1 as Int64, 0, 1])
    func eventNearTheBoundaryDoesNotMoveTheTransition(_ c: LifecycleBoundary, offset: Int64) throws {
        var feed = Feed()
        for o in c.orders { feed.order("u1", at: t0 + o) }
        let probe = feed.open("u1", at: t0 + c.boundary + offset)
        let run = try replay(feed, until: t0 + c.boundary + day)
        let records = run.tagRecords("lifecycle", user: "u1")
        let transitions = records.filter { $0.body == .tag(group: "lifecycle", tag: c.to, previous: c.from) }
        #expect(transitions.map(\.ts) == [t0 + c.boundary])
        // An event exactly at the boundary makes the change itself; otherwise the timer does.
        #expect(transitions.first?.cause == (offset == 0 ? RecordCause.event(probe) : RecordCause.timer))
        #expect(!records.contains { $0.ts == t0 + c.boundary - 1 })
    }

    @Test(arguments: [
        (-1, ["new<-null@0", "active<-new@30d"]),
        (0, ["new<-null@0", "active<-new@30d"]),
        (1, ["new<-null@0", "at_risk<-new@30d", "active<-at_risk@30d+1ms"]),
    ] as [(Int64, [String])])
    func orderAtTheAtRiskInstantResetsBeforeTimeAloneCanMoveTheUser(offset: Int64, expected: [String]) throws {
        var feed = Feed()
        feed.order("u1", at: t0)
        feed.order("u1", at: t0 + 30 * day + offset)
        let run = try replay(feed, until: t0 + 31 * day)
        let relative = run.tagRecords("lifecycle", user: "u1").map { record -> String in
            guard case let .tag(_, tag, previous) = record.body else { return "?" }
            let d = record.ts - t0
            let at = d % day == 0 ? "\(d / day)d" : "\(d / day)d+\(d % day)ms"
            return "\(tag ?? "null")<-\(previous ?? "null")@\(d == 0 ? "0" : at)"
        }
        #expect(relative == expected)
    }

    @Test func orderWhileSleepingResetsToActive() throws {
        var feed = Feed()
        feed.order("u1", at: t0)
        feed.order("u1", at: t0 + 100 * day)
        let run = try replay(feed, until: t0 + 131 * day)
        #expect(run.tags("lifecycle", user: "u1") == [
            "\(t0) new<-null",
            "\(t0 + 30 * day) at_risk<-new",
            "\(t0 + 90 * day) sleeping<-at_risk",
            "\(t0 + 100 * day) active<-sleeping",
            "\(t0 + 130 * day) at_risk<-active",
        ])
    }

    @Test func churnedUserWhoOrdersAgainIsActive() throws {
        var feed = Feed()
        feed.order("u1", at: t0)
        feed.order("u1", at: t0 + 200 * day)
        let run = try replay(feed, until: t0 + 201 * day)
        #expect(run.tags("lifecycle", user: "u1").suffix(2) == [
            "\(t0 + 180 * day) churned<-sleeping",
            "\(t0 + 200 * day) active<-churned",
        ])
    }

    @Test func secondOrderWithinThirtyDaysKeepsNewUntilFirstPaidPlusThirtyDays() throws {
        var feed = Feed()
        feed.order("u1", at: t0)
        feed.order("u1", at: t0 + 29 * day)
        let run = try replay(feed, until: t0 + 59 * day - 1)
        #expect(run.tags("lifecycle", user: "u1") == ["\(t0) new<-null", "\(t0 + 30 * day) active<-new"])
    }

    @Test func refundDoesNotResetTheSilence() throws {
        var feed = Feed()
        feed.order("u1", at: t0)
        feed.refund("u1", at: t0 + 20 * day, amount: "5")
        let run = try replay(feed, until: t0 + 30 * day)
        #expect(run.tags("lifecycle", user: "u1") == ["\(t0) new<-null", "\(t0 + 30 * day) at_risk<-new"])
    }

    @Test func clickstreamBetweenBoundariesChangesNothing() throws {
        var feed = Feed()
        feed.order("u1", at: t0)
        feed.open("u1", at: t0 + 5 * day)
        feed.search("u1", at: t0 + 6 * day, query: "milk")
        let run = try replay(feed, until: t0 + 29 * day)
        #expect(run.tags("lifecycle", user: "u1") == ["\(t0) new<-null"])
    }

    @Test func twoOrdersAtOneInstantEmitOneChange() throws {
        var feed = Feed()
        feed.order("u1", at: t0)
        feed.order("u1", at: t0)
        let run = try replay(feed)
        #expect(run.tags("lifecycle", user: "u1") == ["\(t0) new<-null"])
    }

    @Test func timersDueAtOneInstantFireInUserIdOrder() throws {
        var feed = Feed()
        feed.order("b", at: t0)
        feed.order("a", at: t0)
        feed.order("c", at: t0)
        let run = try replay(feed, until: t0 + 30 * day)
        let atRisk = run.records.filter { $0.ts == t0 + 30 * day }.compactMap(run.userName)
        #expect(atRisk == ["a", "b", "c"])
    }
}
