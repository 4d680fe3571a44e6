import Testing
@testable import TagStreamCore

/// The name tables behind users, communities, skus and categories: a name of at most eight bytes
/// is told apart by its slot's prefix word alone, so that word must hold exactly the name's bytes.
@Suite struct InternerTests {
    /// Every name of lengths 0 to 12 that differs from "aaaa…" in one byte, in every position.
    static let names: [String] = (0...12).flatMap { length in
        [String(repeating: "a", count: length)] + (0..<length).map { k in
            String(repeating: "a", count: k) + "b" + String(repeating: "a", count: length - k - 1)
        }
    }

    @Test func namesDifferingInAnyOneByteGetTheirOwnIds() {
        var interner = Interner()
        let ids = Self.names.map { interner.intern($0) }
        #expect(Set(ids).count == Self.names.count)
        #expect(ids == Array(0..<Int32(Self.names.count)))
        for (name, id) in zip(Self.names, ids) {
            #expect(interner.intern(name) == id)
            #expect(interner.id(of: name) == id)
            #expect(interner[id] == name)
        }
        #expect(interner.id(of: "abb") == nil)
        #expect(interner.id(of: "aaaaaaaaaaaaa") == nil)
        #expect(interner.count == Self.names.count)
    }

    @Test func idsSurviveTheTableGrowingAndARebuildFromTheArena() throws {
        var interner = Interner()
        let many = (0..<5_000).map { "u\($0)" } + Self.names
        let ids = many.map { interner.intern($0) }
        let (arena, lengths) = interner.utf8
        let rebuilt = try Interner(arena: arena, lengths: Array(lengths))
        for (name, id) in zip(many, ids) {
            #expect(interner.id(of: name) == id)
            #expect(rebuilt.id(of: name) == id)
        }
    }
}
