import Foundation
import Testing
import TagStreamCore
import Yams
@testable import TagStreamRuntime

/// The dashboard API's documents: each is what docs/openapi.yaml says it is, and its figures are
/// the bytes of the records a replay wrote.
@Suite struct DashboardJSONTests {
    /// One replay of generated data, its views and its records, shared by the tests.
    struct Replayed: Sendable {
        let part: DashboardPart
        let users: [UserView]
        let records: DashboardViewTests.Oracle

        static let shared = Result { try Replayed() }

        private init() throws {
            let input = try Fixtures.temporaryDirectory("dashboard-json-in")
            let file = input.appendingPathComponent("events.jsonl").path
            try Fixtures.run(Fixtures.tagstreamBinary, ["generate", "--users", "600", "--days", "150", "--seed", "41", "--communities", "8", "--merged", file])
            let (job, out) = try DashboardViewTests.replay([file], name: "dashboard-json")
            records = try DashboardViewTests.Oracle(out: out, input: file)
            part = job.dashboardPart()
            users = try records.communityOf.keys.sorted().map { try #require(job.userView($0)) }
        }

        func community(_ id: String) throws -> JSON {
            try JSON.parse(try #require(DashboardJSON.community(id, in: part)))
        }

        /// The last `community_stats` record of `community`, as parsed JSON.
        func lastRecord(of community: String) throws -> JSON {
            let ts = try #require(records.refreshes(of: community, after: .min).last)
            return try JSON.parse(Array(records.communityStats["\(community)@\(ts)"]!.utf8))
        }
    }

    static func schemas() throws -> OpenAPISchemas {
        try OpenAPISchemas(file: Fixtures.packageRoot.appendingPathComponent("docs/openapi.yaml").path)
    }

    /// Record fields that are not figures.
    static let recordHeader: Set<String> = ["kind", "id", "community_id", "ts", "evidence"]

    @Test func everyDocumentIsJSONThatTheSchemasDescribe() throws {
        let replayed = try Replayed.shared.get(), schemas = try Self.schemas()
        var documents: [(name: String, schema: String, bytes: [UInt8])] = [("overview", "Overview", DashboardJSON.overview(replayed.part))]
        for id in replayed.part.communities.keys.sorted() {
            documents.append((id, "Community", try #require(DashboardJSON.community(id, in: replayed.part))))
        }
        for view in replayed.users { documents.append((view.user, "User", DashboardJSON.user(view))) }
        #expect(documents.count > 600)
        for document in documents {
            #expect((try? JSONSerialization.jsonObject(with: Data(document.bytes))) != nil, "\(document.name): not JSON")
            let problems = schemas.problems(try JSON.parse(document.bytes), against: document.schema)
            #expect(problems.isEmpty, "\(document.name): \(problems)")
        }
        #expect(DashboardJSON.community("nobody", in: replayed.part) == nil)
    }

    @Test func theCheckerRefusesDocumentsTheSchemasDoNotDescribe() throws {
        let replayed = try Replayed.shared.get(), schemas = try Self.schemas()
        let user = try JSON.parse(DashboardJSON.user(try #require(replayed.users.first { !$0.coupons.isEmpty })))
        let community = try replayed.community(try #require(replayed.part.communities.first { !$0.value.sleeping.isEmpty }?.key))
        #expect(schemas.problems(user, against: "User").isEmpty)
        let wrong: [(String, JSON, String)] = [
            ("a required field missing", user.removing("as_of"), "User"),
            ("a field the schema does not have", user.setting("extra", to: .null), "User"),
            ("a string that should be an integer", community.setting("users", to: .string("12")), "Community"),
            ("a fraction where an integer belongs", community.setting("users", to: .number("1.5")), "Community"),
            ("null where null is not allowed", user.setting("user_id", to: .null), "User"),
            ("an instant that is not RFC 3339", user.setting("as_of", to: .string("yesterday")), "User"),
            ("an array item of the wrong type", user.setting("open_alerts", to: .array([.number("3")])), "User"),
            ("a nested object's required field missing", user.setting("coupons", to: .array([.object([])])), "User"),
            ("an anyOf matching no branch", community.setting("figures", to: .string("none")), "Community"),
            ("another document's schema", user, "Community"),
        ]
        for (what, document, schema) in wrong {
            #expect(!schemas.problems(document, against: schema).isEmpty, "the checker let through \(what)")
        }
    }

    @Test func figuresAndTrendAreTheBytesOfTheRecords() throws {
        let replayed = try Replayed.shared.get()
        var movements = 0
        for id in replayed.part.communities.keys.sorted() {
            let document = try replayed.community(id)
            let record = try replayed.lastRecord(of: id)
            let figures = try #require(document["figures"]?.members, "\(id): no figures")
            #expect(figures == record.members!.filter { !Self.recordHeader.contains($0.key) }, "\(id): figures differ from the last record")
            #expect(document["figures_at"]?.string == EventTime.format(record["ts"]!.integer!), "\(id): figures_at")

            let trend = try #require(document["trend"]?.elements)
            let asOf = replayed.part.asOf
            #expect(trend.count == replayed.records.refreshes(of: id, after: asOf - Engine.historySpan).count, "\(id): trend points")
            for point in trend {
                let date = try #require(point["date"]?.string)
                let ts = try #require(replayed.records.refreshes(of: id, after: .min).first { EventTime.format($0).hasPrefix(date + "T") }, "\(id): no record on \(date)")
                let dayRecord = try JSON.parse(Array(replayed.records.communityStats["\(id)@\(ts)"]!.utf8))
                let numbers = dayRecord.members!.filter { !Self.recordHeader.contains($0.key) && $0.value.elements == nil }
                #expect(point.members!.dropFirst().elementsEqual(numbers), "\(id) on \(date): trend point differs from the record")
            }

            let members = replayed.records.communityOf.filter { $0.value == id }.map(\.key)
            let latest = try #require(replayed.part.communities[id]?.history.last?.at)
            let groups = replayed.part.countedGroups
            let now = replayed.records.tagCounts(groups, users: members, at: .max)
            let before = replayed.records.refreshes(of: id, after: .min).contains(latest - 30 * EventTime.day)
                ? replayed.records.tagCounts(groups, users: members, at: latest - 30 * EventTime.day) : nil
            let tags = try #require(document["groups"]?.elements).flatMap { $0["tags"]!.elements! }
            #expect(tags.map { $0["now"]!.integer! } == now.map(Int64.init), "\(id): tag counts now")
            #expect(tags.map { $0["days_ago_30"]!.integer } == now.indices.map { i in before.map { Int64($0[i]) } }, "\(id): tag counts 30 days ago")
            #expect(tags.allSatisfy { tag in tag["change"]!.integer == tag["days_ago_30"]!.integer.map { tag["now"]!.integer! - $0 } })
            if before != nil { movements += 1 }

            for vip in try #require(document["vips_at_risk"]?.elements) {
                let user = vip["user_id"]!.string!
                #expect(vip["last_paid"]?.string == replayed.records.lastPaid[user].map(EventTime.format), "\(user): last_paid")
                let gap = try #require(replayed.part.communities[id]!.vipsAtRisk.first { $0.user == user }?.usualGap)
                let days = try #require(vip["usual_gap_days"]?.double)
                #expect(abs(days * Double(EventTime.day) - Double(gap)) <= Double(EventTime.day) / 20, "\(user): usual_gap_days \(days) for \(gap) ms")
            }
        }
        #expect(movements > replayed.part.communities.count / 2, "too few communities 30 days old for the test to prove much")
    }

    @Test func theOverviewIsSortedAndAgreesWithTheCommunityDocuments() throws {
        let replayed = try Replayed.shared.get()
        try expectOverview(of: replayed.part, agreesWithCommunitiesOf: replayed)
        // The data leaves no or few community alerts open: open one where it would sort last.
        var part = replayed.part
        let quiet = try #require(try JSON.parse(DashboardJSON.overview(part))["communities"]?.elements?.last?["community_id"]?.string)
        part.communities[quiet]!.openAlerts = ["community_sleeping_ratio_high", "z"]
        let rows = try #require(try JSON.parse(DashboardJSON.overview(part))["communities"]?.elements)
        #expect(rows.first?["community_id"]?.string == quiet)
        try expectOverview(of: part, agreesWithCommunitiesOf: replayed)
    }

    func expectOverview(of part: DashboardPart, agreesWithCommunitiesOf replayed: Replayed) throws {
        let overview = try JSON.parse(DashboardJSON.overview(part))
        #expect(overview["as_of"]?.string == EventTime.format(part.asOf))
        let rows = try #require(overview["communities"]?.elements)
        #expect(Set(rows.map { $0["community_id"]!.string! }) == Set(part.communities.keys) && rows.count == part.communities.count)
        func key(_ row: JSON) -> (alerts: Int, ratio: Double, id: String) {
            (row["open_alerts"]!.elements!.count, row["sleeping_ratio"]!.double ?? -.infinity, row["community_id"]!.string!)
        }
        for (a, b) in zip(rows, rows.dropFirst()) {
            let (x, y) = (key(a), key(b))
            #expect(x.alerts > y.alerts || x.alerts == y.alerts && (x.ratio > y.ratio || x.ratio == y.ratio && x.id < y.id), "\(x) before \(y)")
        }
        for row in rows {
            let id = row["community_id"]!.string!
            let community = try JSON.parse(try #require(DashboardJSON.community(id, in: part)))
            for name in ["customers", "active_30d", "gmv_30d", "orders_7d", "sleeping_ratio"] {
                #expect(row.member(name) == community["figures"]?.member(name), "\(id): \(name)")
            }
            for name in ["users", "open_alerts", "figures_at"] { #expect(row[name] == community[name], "\(id): \(name)") }
            #expect(row["vips_at_risk"]?.integer == community["vips_at_risk"]?.elements.map { Int64($0.count) })
        }
        #expect(rows.contains { $0["sleeping_ratio"]?.double != nil })
    }

    @Test func userDocumentsShowTheLastTagOfEachGroup() throws {
        let replayed = try Replayed.shared.get()
        for view in replayed.users {
            let document = try JSON.parse(DashboardJSON.user(view))
            let profile = try #require(document["profile"]?.members)
            #expect(Dictionary(uniqueKeysWithValues: profile.map { ($0.key, $0.value.string!) }) == replayed.records.currentTags[view.user] ?? [:], "\(view.user): profile")
            #expect(document["community_id"]?.string == replayed.records.communityOf[view.user])
            #expect(document["aggregates"]?["last_paid"] == replayed.records.lastPaid[view.user].map { JSON.string(EventTime.format($0)) } ?? .null)
            let open = try #require(document["open_alerts"]?.elements).map { $0.string! }
            #expect(open == (replayed.records.openVIPAlert.contains(view.user) ? ["vip_churn_risk"] : []), "\(view.user): open alerts")
        }
    }
}

/// A JSON value as written, for comparing documents byte for byte: numbers keep their text, objects
/// their key order, and each member the text it was read from.
indirect enum JSON: Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSON])
    case object([Member])

    struct Member: Equatable {
        var key: String
        var value: JSON
        /// The value's text in the document; equal values may differ only here.
        var text: String

        init(key: String, value: JSON, text: String? = nil) {
            (self.key, self.value) = (key, value)
            self.text = text ?? ""
        }
    }

    subscript(key: String) -> JSON? { member(key)?.value }
    func member(_ key: String) -> Member? { members?.first { $0.key == key } }
    var members: [Member]? { if case .object(let m) = self { m } else { nil } }
    var elements: [JSON]? { if case .array(let e) = self { e } else { nil } }
    var string: String? { if case .string(let s) = self { s } else { nil } }
    var double: Double? { if case .number(let n) = self { Double(n) } else { nil } }
    var integer: Int64? { if case .number(let n) = self { Int64(n) } else { nil } }

    func removing(_ key: String) -> JSON { .object(members!.filter { $0.key != key }) }
    func setting(_ key: String, to value: JSON) -> JSON {
        .object(members!.filter { $0.key != key } + [Member(key: key, value: value)])
    }

    /// Parses one JSON text (RFC 8259) and nothing after it.
    static func parse(_ bytes: [UInt8]) throws -> JSON {
        var reader = Reader(bytes: bytes)
        let value = try reader.value()
        guard reader.at == bytes.count else { throw TestFailure("JSON: text after the value at byte \(reader.at)") }
        return value
    }

    private struct Reader {
        let bytes: [UInt8]
        var at = 0

        mutating func value() throws -> JSON {
            skipSpace()
            guard at < bytes.count else { throw failure("a value") }
            switch bytes[at] {
            case UInt8(ascii: "{"):
                at += 1
                var members: [Member] = []
                while try !closes(UInt8(ascii: "}"), after: members.count) {
                    skipSpace()
                    let key = try string()
                    skipSpace()
                    try expect(UInt8(ascii: ":"))
                    skipSpace()
                    let start = at
                    let value = try value()
                    members.append(Member(key: key, value: value, text: String(decoding: bytes[start..<at], as: UTF8.self)))
                }
                return .object(members)
            case UInt8(ascii: "["):
                at += 1
                var elements: [JSON] = []
                while try !closes(UInt8(ascii: "]"), after: elements.count) { elements.append(try value()) }
                return .array(elements)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default:
                let start = at
                while at < bytes.count, "-+.eE0123456789".utf8.contains(bytes[at]) { at += 1 }
                let text = String(decoding: bytes[start..<at], as: UTF8.self)
                guard !text.isEmpty, Double(text) != nil else { throw failure("a number") }
                return .number(text)
            }
        }

        /// Whether the container ends here; otherwise consumes the comma before every item but the first.
        mutating func closes(_ end: UInt8, after count: Int) throws -> Bool {
            skipSpace()
            if at < bytes.count, bytes[at] == end {
                at += 1
                return true
            }
            if count > 0 { try expect(UInt8(ascii: ",")) }
            return false
        }

        mutating func string() throws -> String {
            try expect(UInt8(ascii: "\""))
            var utf8: [UInt8] = []
            while at < bytes.count, bytes[at] != UInt8(ascii: "\"") {
                guard bytes[at] >= 0x20 else { throw failure("no control character in a string") }
                guard bytes[at] == UInt8(ascii: "\\") else { utf8.append(bytes[at]); at += 1; continue }
                guard at + 1 < bytes.count else { throw failure("an escape") }
                let escaped = bytes[at + 1]
                at += 2
                switch escaped {
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "u"):
                    guard at + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[at..<at + 4], as: UTF8.self), radix: 16),
                          let scalar = Unicode.Scalar(code) else { throw failure("a \\u escape of a scalar") }
                    utf8.append(contentsOf: String(scalar).utf8)
                    at += 4
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escaped)
                default: throw failure("a valid escape")
                }
            }
            try expect(UInt8(ascii: "\""))
            return String(decoding: utf8, as: UTF8.self)
        }

        mutating func literal(_ word: String) throws {
            guard bytes[at...].starts(with: word.utf8) else { throw failure(word) }
            at += word.utf8.count
        }

        mutating func expect(_ byte: UInt8) throws {
            guard at < bytes.count, bytes[at] == byte else { throw failure("'\(Character(Unicode.Scalar(byte)))'") }
            at += 1
        }

        mutating func skipSpace() {
            while at < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[at]) { at += 1 }
        }

        func failure(_ expected: String) -> TestFailure { TestFailure("JSON: expected \(expected) at byte \(at)") }
    }
}

/// The component schemas of an OpenAPI 3.1 file, and a checker for the JSON Schema keywords they
/// use: `$ref`, `anyOf`, `type` (one or a list), `format` (date-time, date), `required`,
/// `properties`, `additionalProperties` and `items`.
struct OpenAPISchemas {
    let schemas: Node

    init(file: String) throws {
        guard let schemas = try Yams.compose(yaml: String(contentsOfFile: file, encoding: .utf8))?["components"]?["schemas"] else {
            throw TestFailure("\(file): no components.schemas")
        }
        self.schemas = schemas
    }

    /// What in `value` schema `name` does not allow, one line each with the place; empty when valid.
    func problems(_ value: JSON, against name: String) -> [String] {
        guard let schema = schemas[name] else { return ["no schema \(name)"] }
        var problems: [String] = []
        check(value, schema, at: "$", into: &problems)
        return problems
    }

    private func check(_ value: JSON, _ schema: Node, at path: String, into problems: inout [String]) {
        if let ref = schema["$ref"]?.string {
            guard ref.hasPrefix("#/components/schemas/"), let target = schemas[String(ref.split(separator: "/").last!)] else {
                return problems.append("\(path): unresolved $ref \(ref)")
            }
            check(value, target, at: path, into: &problems)
        }
        if let branches = schema["anyOf"]?.array() {
            let matches = branches.contains { branch in
                var branchProblems: [String] = []
                check(value, branch, at: path, into: &branchProblems)
                return branchProblems.isEmpty
            }
            if !matches { problems.append("\(path): matches none of anyOf") }
        }
        if let type = schema["type"] {
            let types = type.sequence != nil ? type.array(of: String.self) : [type.string ?? "?"]
            guard types.contains(where: { Self.value(value, is: $0) }) else {
                return problems.append("\(path): not \(types.joined(separator: " or "))")
            }
        }
        if let format = schema["format"]?.string, let text = value.string {
            let instant = format == "date" ? (text.utf8.count == 10 ? text + "T00:00:00Z" : "") : text
            if ["date", "date-time"].contains(format), EventTime.parseRFC3339(Array(instant.utf8)) == nil {
                problems.append("\(path): not a \(format): \(text)")
            }
        }
        if let members = value.members {
            for name in schema["required"]?.array(of: String.self) ?? [] where !members.contains(where: { $0.key == name }) {
                problems.append("\(path): no \(name)")
            }
            let additional = schema["additionalProperties"]
            for member in members {
                let place = "\(path).\(member.key)"
                if let property = schema["properties"]?[member.key] {
                    check(member.value, property, at: place, into: &problems)
                } else if let additional, additional.mapping != nil {
                    check(member.value, additional, at: place, into: &problems)
                } else if additional?.bool == false {
                    problems.append("\(place): not in the schema")
                }
            }
        }
        if let elements = value.elements, let items = schema["items"] {
            for (i, element) in elements.enumerated() { check(element, items, at: "\(path)[\(i)]", into: &problems) }
        }
    }

    /// JSON Schema's types; an integer is a number without a fraction or exponent, as JSONWriter writes them.
    private static func value(_ value: JSON, is type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("number", .number), ("array", .array), ("object", .object): true
        case ("integer", .number(let text)): Int64(text) != nil
        default: false
        }
    }
}
