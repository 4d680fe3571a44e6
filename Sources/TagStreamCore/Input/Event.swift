import CMemoryHints
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The event types of SPEC §1; anything else is counted as ignored.
public enum EventType: UInt8, CaseIterable, Sendable {
    case appOpen, view, click, search, addToCart, removeFromCart, share, couponClaim, orderPaid, orderRefunded

    /// The name on the wire.
    public var name: String {
        switch self {
        case .appOpen: "app_open"
        case .view: "view"
        case .click: "click"
        case .search: "search"
        case .addToCart: "add_to_cart"
        case .removeFromCart: "remove_from_cart"
        case .share: "share"
        case .couponClaim: "coupon_claim"
        case .orderPaid: "order_paid"
        case .orderRefunded: "order_refunded"
        }
    }

    public var isOrder: Bool { self == .orderPaid || self == .orderRefunded }
}

/// One line of an `order_paid` basket, with interned sku and category (-1 when absent).
public struct OrderItem: Sendable, Equatable {
    public var sku: Int32
    public var category: Int32
    public var quantity: Money
}

/// An accepted, decoded input event; strings that repeat are interned in a `SymbolTable`.
public struct Event: Sendable, Equatable {
    public var ts: Int64
    public var eventID: String
    public var type: EventType
    public var user: Int32
    /// -1 when the event carries no `community_id`.
    public var community: Int32
    /// Paid or refunded amount on orders; zero otherwise.
    public var amount: Money
    /// The order used a coupon (non-empty `coupon_id`).
    public var hasCoupon: Bool
    public var query: String?
    public var items: [OrderItem]

    /// An event that holds nothing to count references of, to leave where an event was moved out.
    public static let empty = Event(ts: 0, eventID: "", type: .appOpen, user: -1, community: -1, amount: Money(units: 0),
                                    hasCoupon: false, query: nil, items: [])

    /// Whether this event is applied before `other`: the SPEC's `(ts, event_id)` order,
    /// `event_id` compared by code points (UTF-8 bytes).
    public func precedes(_ other: Event) -> Bool {
        if ts != other.ts { return ts < other.ts }
        return eventID.utf8.lexicographicallyPrecedes(other.eventID.utf8)
    }
}

/// Dense ids for strings that repeat (users, communities, skus, categories), in first-seen order.
/// Looks names up by their UTF-8 bytes in an open-addressing table, so a known name costs no allocation.
public struct Interner: Sendable {
    public private(set) var names: [String] = []
    /// Every name's UTF-8 bytes back to back, with each name's start, for comparisons without `String`.
    private var arena: [UInt8] = []
    private var starts: [Int] = [0]
    private var slots = [Slot](repeating: .empty, count: 64)

    /// A name's first eight bytes (zero-padded, little-endian), its length and its id + 1 (0: an empty
    /// slot). The slot alone tells a name of at most eight bytes, without a read of the arena.
    private struct Slot: Sendable {
        var prefix: UInt64
        var length: Int32
        var idPlusOne: Int32
        static let empty = Slot(prefix: 0, length: 0, idPlusOne: 0)
    }

    public init() {}

    public mutating func intern(_ name: String) -> Int32 {
        name.withUTF8Bytes { intern(bytes: $0) }
    }

    /// The id of the name spelled by `bytes` (valid UTF-8), adding it when new.
    public mutating func intern(bytes: UnsafeBufferPointer<UInt8>) -> Int32 {
        let (i, found) = find(bytes)
        if let found { return found }
        let id = Int32(names.count)
        names.append(String(decoding: bytes, as: UTF8.self))
        arena.append(contentsOf: bytes)
        starts.append(arena.count)
        slots[i] = Slot(prefix: bytes.leadingWord, length: Int32(bytes.count), idPlusOne: id + 1)
        if names.count * 2 > slots.count { rebuildIndex(size: slots.count * 2) }
        return id
    }

    public func id(of name: String) -> Int32? {
        name.withUTF8Bytes { find($0).id }
    }

    /// Starts loading the slot where the name spelled by `bytes` would be, for an `intern` soon after.
    func prefetch(_ bytes: UnsafeBufferPointer<UInt8>) {
        let i = Self.hash(bytes, prefix: bytes.leadingWord) & (slots.count - 1)
        slots.withUnsafeBufferPointer { tagstream_prefetch($0.baseAddress! + i) }
    }

    /// The slot holding the name spelled by `bytes` and its id, or the empty slot where it would go.
    private func find(_ bytes: UnsafeBufferPointer<UInt8>) -> (slot: Int, id: Int32?) {
        let mask = slots.count - 1
        let prefix = bytes.leadingWord
        var i = Self.hash(bytes, prefix: prefix) & mask
        while slots[i].idPlusOne != 0 {
            let slot = slots[i]
            if slot.prefix == prefix, Int(slot.length) == bytes.count, bytes.count <= 8 || tailMatches(Int(slot.idPlusOne - 1), bytes) {
                return (i, slot.idPlusOne - 1)
            }
            i = (i + 1) & mask
        }
        return (i, nil)
    }

    /// Whether name `id`'s bytes after the first eight equal those of `bytes` (of the same length).
    private func tailMatches(_ id: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        arena.withUnsafeBufferPointer { memcmp($0.baseAddress! + starts[id] + 8, bytes.baseAddress! + 8, bytes.count - 8) == 0 }
    }

    public subscript(id: Int32) -> String { names[Int(id)] }

    /// Whether name `a` sorts before name `b` by code points (UTF-8 bytes).
    public func precedes(_ a: Int32, _ b: Int32) -> Bool {
        let (sa, la) = (starts[Int(a)], starts[Int(a) + 1] - starts[Int(a)])
        let (sb, lb) = (starts[Int(b)], starts[Int(b) + 1] - starts[Int(b)])
        let order = arena.withUnsafeBufferPointer { memcmp($0.baseAddress! + sa, $0.baseAddress! + sb, min(la, lb)) }
        return order != 0 ? order < 0 : la < lb
    }

    public var count: Int { names.count }

    /// Every name's UTF-8 bytes back to back, in id order, and each name's length: what snapshots store.
    var utf8: (arena: [UInt8], lengths: LazyMapSequence<Range<Int>, Int>) {
        (arena, names.indices.lazy.map { [starts] in starts[$0 + 1] - starts[$0] })
    }

    /// The interner of the names spelled back to back in `arena`, with `lengths`: the index is built
    /// in one pass over a table sized once.
    init(arena: [UInt8], lengths: [Int]) throws {
        var starts = [Int](repeating: 0, count: lengths.count + 1)
        for (id, length) in lengths.enumerated() {
            guard length >= 0, length <= arena.count - starts[id] else { throw SnapshotError("snapshot has a malformed name table") }
            starts[id + 1] = starts[id] + length
        }
        guard starts[lengths.count] == arena.count else { throw SnapshotError("snapshot has a malformed name table") }
        var names: [String] = []
        names.reserveCapacity(lengths.count)
        arena.withUnsafeBufferPointer { a in
            for id in lengths.indices { names.append(String(decoding: UnsafeBufferPointer(rebasing: a[starts[id]..<starts[id + 1]]), as: UTF8.self)) }
        }
        self.names = names
        self.arena = arena
        self.starts = starts
        var size = 64
        while lengths.count * 2 > size { size <<= 1 }
        rebuildIndex(size: size)
    }

    /// Builds the table anew with `size` slots (a power of two).
    private mutating func rebuildIndex(size: Int) {
        var table = [Slot](unsafeUninitializedCapacity: size) { buffer, initialized in
            tagstream_advise_huge_pages(buffer.baseAddress!, size * MemoryLayout<Slot>.stride)
            buffer.initialize(repeating: .empty)
            initialized = size
        }
        arena.withUnsafeBufferPointer { a in
            for id in names.indices {
                let name = UnsafeBufferPointer(rebasing: a[starts[id]..<starts[id + 1]])
                let prefix = name.leadingWord
                var i = Self.hash(name, prefix: prefix) & (size - 1)
                while table[i].idPlusOne != 0 { i = (i + 1) & (size - 1) }
                table[i] = Slot(prefix: prefix, length: Int32(name.count), idPlusOne: Int32(id) + 1)
            }
        }
        slots = table
    }

    /// The prefix and length mixed, then FNV-1a over the bytes after the first eight.
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>, prefix: UInt64) -> Int {
        var h = (prefix ^ UInt64(bytes.count)) &* 0x9e37_79b9_7f4a_7c15
        h ^= h >> 32
        if bytes.count > 8 {
            for b in bytes[8...] { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        }
        h = (h ^ (h >> 29)) &* 0xbf58_476d_1ce4_e5b9
        return Int(truncatingIfNeeded: h ^ (h >> 32))
    }
}

/// The interned strings shared by the decoder and the engine.
public struct SymbolTable: Sendable {
    public var users = Interner()
    public var communities = Interner()
    public var skus = Interner()
    public var categories = Interner()

    public init() {}
}
