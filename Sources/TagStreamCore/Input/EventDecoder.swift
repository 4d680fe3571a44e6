/// What one input record decodes to (SPEC §1, checks in the fine print's order).
public enum DecodeResult: Sendable {
    case event(Event)
    /// Well-formed, but of a type the pipeline does not know.
    case ignored(type: String)
    case deadLetter(DeadLetterReason)
}

/// Turns one record's bytes into an `Event`, scanning the JSON directly.
public struct EventDecoder: Sendable {
    enum Field: Int, CaseIterable {
        case eventID, type, userID, ts, communityID, leaderID, sessionID, sku, category, price, query
        case referrerID, orderID, amount, discount, couponID, items

        var name: String {
            switch self {
            case .eventID: "event_id"
            case .type: "type"
            case .userID: "user_id"
            case .ts: "ts"
            case .communityID: "community_id"
            case .leaderID: "leader_id"
            case .sessionID: "session_id"
            case .sku: "sku"
            case .category: "category"
            case .price: "price"
            case .query: "query"
            case .referrerID: "referrer_id"
            case .orderID: "order_id"
            case .amount: "amount"
            case .discount: "discount"
            case .couponID: "coupon_id"
            case .items: "items"
            }
        }

        static let byName: [String: Field] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.name, $0) })
        static let optionalStrings: [Field] = [.communityID, .leaderID, .sessionID, .sku, .category, .query, .referrerID, .orderID, .couponID]
        static let numbers: [Field] = [.price, .amount, .discount]
    }

    struct ItemTokens {
        var sku: JSONToken?
        var category: JSONToken?
        var quantity: JSONToken?
        var price: JSONToken?
    }

    private var slots = [JSONToken?](repeating: nil, count: Field.allCases.count)
    private var itemTokens: [ItemTokens] = []
    private var itemsProblem: DeadLetterReason?

    public init() {}

    /// Decodes one record (without its line terminator).
    public mutating func decode(_ bytes: UnsafeBufferPointer<UInt8>, symbols: inout SymbolTable) -> DecodeResult {
        var reader = JSONReader(bytes)
        for k in slots.indices { slots[k] = nil }
        itemTokens.removeAll(keepingCapacity: true)
        itemsProblem = nil
        do throws(JSONSyntaxError) {
            reader.skipWhitespace()
            guard reader.peek() == 0x7B else {
                _ = try reader.readValue()
                reader.skipWhitespace()
                guard reader.atEnd else { throw reader.fail("unexpected content after the value") }
                return .deadLetter(.notAnObject)
            }
            try readTopObject(&reader)
            reader.skipWhitespace()
            guard reader.atEnd else { throw reader.fail("unexpected content after the object") }
        } catch {
            return .deadLetter(.invalidJSON(error.message, offset: error.offset))
        }
        return validate(reader, symbols: &symbols)
    }

    private mutating func readTopObject(_ reader: inout JSONReader) throws(JSONSyntaxError) {
        reader.position += 1
        reader.skipWhitespace()
        if reader.peek() == 0x7D { reader.position += 1; return }
        while true {
            reader.skipWhitespace()
            guard reader.peek() == 0x22 else { throw reader.fail("expected a key") }
            let key = try reader.readString()
            try reader.expect(0x3A, "':'")
            let field = Self.field(for: key, in: reader)
            if field == .items {
                reader.skipWhitespace()
                itemTokens.removeAll(keepingCapacity: true)
                itemsProblem = nil
                if reader.peek() == 0x5B {
                    let start = reader.position
                    try readItems(&reader)
                    slots[Field.items.rawValue] = JSONToken(kind: .array, start: start, end: reader.position, flag: false)
                } else {
                    slots[Field.items.rawValue] = try reader.readValue(depth: 1)
                }
            } else {
                let value = try reader.readValue(depth: 1)
                if let field { slots[field.rawValue] = value }
            }
            reader.skipWhitespace()
            guard let c = reader.peek() else { throw reader.fail("unterminated object") }
            reader.position += 1
            if c == 0x7D { return }
            guard c == 0x2C else { throw reader.fail("expected ',' or '}'") }
        }
    }

    private mutating func readItems(_ reader: inout JSONReader) throws(JSONSyntaxError) {
        reader.position += 1
        reader.skipWhitespace()
        if reader.peek() == 0x5D { reader.position += 1; return }
        while true {
            reader.skipWhitespace()
            if reader.peek() == 0x7B {
                try readItem(&reader)
            } else {
                _ = try reader.readValue(depth: 2)
                if itemsProblem == nil {
                    itemsProblem = .wrongType("items", expected: "an array of objects {sku, category, qty, price}")
                }
            }
            reader.skipWhitespace()
            guard let c = reader.peek() else { throw reader.fail("unterminated array") }
            reader.position += 1
            if c == 0x5D { return }
            guard c == 0x2C else { throw reader.fail("expected ',' or ']'") }
        }
    }

    private mutating func readItem(_ reader: inout JSONReader) throws(JSONSyntaxError) {
        var item = ItemTokens()
        reader.position += 1
        reader.skipWhitespace()
        if reader.peek() == 0x7D {
            reader.position += 1
            itemTokens.append(item)
            return
        }
        while true {
            reader.skipWhitespace()
            guard reader.peek() == 0x22 else { throw reader.fail("expected a key") }
            let key = try reader.readString()
            try reader.expect(0x3A, "':'")
            var value: JSONToken? = try reader.readValue(depth: 3)
            if value?.kind == .null { value = nil }
            if reader.stringEquals(key, "sku") { item.sku = value }
            else if reader.stringEquals(key, "category") { item.category = value }
            else if reader.stringEquals(key, "qty") { item.quantity = value }
            else if reader.stringEquals(key, "price") { item.price = value }
            reader.skipWhitespace()
            guard let c = reader.peek() else { throw reader.fail("unterminated object") }
            reader.position += 1
            if c == 0x7D { break }
            guard c == 0x2C else { throw reader.fail("expected ',' or '}'") }
        }
        if itemsProblem == nil {
            for (name, token, kind) in [("sku", item.sku, JSONToken.Kind.string), ("category", item.category, .string),
                                        ("qty", item.quantity, .number), ("price", item.price, .number)]
            where token != nil && token!.kind != kind {
                itemsProblem = .wrongType("items", expected: "items whose \(name) is a \(kind == .string ? "string" : "number")")
                break
            }
        }
        itemTokens.append(item)
    }

    /// Each field name as up to two little-endian words (names are at most 16 bytes).
    static let nameWords: [(length: Int, low: UInt64, high: UInt64, field: Field)] = Field.allCases.map { field in
        let bytes = Array(field.name.utf8)
        func word(_ range: Range<Int>) -> UInt64 {
            range.reduce(0) { w, k in k < bytes.count ? w | UInt64(bytes[k]) << UInt64(8 * (k - range.lowerBound)) : w }
        }
        return (bytes.count, word(0..<8), word(8..<16), field)
    }

    static func field(for key: JSONToken, in reader: JSONReader) -> Field? {
        if key.flag { return Field.byName[reader.string(key)] }
        let length = key.end - key.start
        guard length > 0, length <= 16 else { return nil }
        var low: UInt64 = 0, high: UInt64 = 0
        if key.start + 16 <= reader.bytes.count {
            let base = UnsafeRawPointer(reader.bytes.baseAddress! + key.start)
            low = base.loadUnaligned(as: UInt64.self)
            high = base.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            if length < 8 { low &= (1 << UInt64(8 * length)) - 1 }
            high = length <= 8 ? 0 : length < 16 ? high & ((1 << UInt64(8 * (length - 8))) - 1) : high
        } else {
            for k in 0..<length {
                let byte = UInt64(reader.bytes[key.start + k])
                if k < 8 { low |= byte << UInt64(8 * k) } else { high |= byte << UInt64(8 * (k - 8)) }
            }
        }
        for entry in nameWords where entry.length == length && entry.low == low && entry.high == high { return entry.field }
        return nil
    }

    private func token(_ field: Field) -> JSONToken? {
        guard let t = slots[field.rawValue], t.kind != .null else { return nil }
        return t
    }

    /// Interns a string token's text, straight from the bytes when it has no escapes.
    private func intern(_ t: JSONToken, _ reader: JSONReader, into interner: inout Interner) -> Int32 {
        t.flag ? interner.intern(reader.string(t)) : interner.intern(bytes: UnsafeBufferPointer(rebasing: reader.bytes[t.start..<t.end]))
    }

    private func requiredString(_ field: Field, _ reader: JSONReader, decode: Bool = true) -> Result<String, DeadLetterReason> {
        guard let t = token(field) else { return .failure(.missing(field.name)) }
        guard t.kind == .string else { return .failure(.wrongType(field.name, expected: "a string")) }
        guard t.end > t.start else { return .failure(.empty(field.name)) }
        return .success(decode ? reader.string(t) : "")
    }

    private mutating func validate(_ reader: JSONReader, symbols: inout SymbolTable) -> DecodeResult {
        let eventID: String, typeName: String
        switch requiredString(.eventID, reader) {
        case .success(let s): eventID = s
        case .failure(let r): return .deadLetter(r)
        }
        switch requiredString(.type, reader) {
        case .success(let s): typeName = s
        case .failure(let r): return .deadLetter(r)
        }
        if case .failure(let r) = requiredString(.userID, reader, decode: false) { return .deadLetter(r) }
        guard let tsToken = token(.ts) else { return .deadLetter(.missing("ts")) }
        guard let ts = Self.timestamp(tsToken, reader), EventTime.supportedRange.contains(ts) else {
            return .deadLetter(.invalidTimestamp)
        }
        for field in Field.optionalStrings {
            if let t = token(field), t.kind != .string { return .deadLetter(.wrongType(field.name, expected: "a string")) }
        }
        for field in Field.numbers {
            if let t = token(field), t.kind != .number { return .deadLetter(.wrongType(field.name, expected: "a number")) }
        }
        if let t = token(.items), t.kind != .array {
            return .deadLetter(.wrongType("items", expected: "an array of objects {sku, category, qty, price}"))
        }
        if let problem = itemsProblem { return .deadLetter(problem) }

        let type = EventType.byName[typeName]
        var amount = Money.zero
        if let type, type.isOrder {
            guard let a = token(.amount) else { return .deadLetter(.missing("amount")) }
            guard let value = Money.parse(reader.bytes[a.start..<a.end]) else { return .deadLetter(.amountOutOfRange) }
            guard !Self.isBelowZero(reader.bytes[a.start..<a.end]) else { return .deadLetter(.negativeAmount) }
            amount = value
            guard let o = token(.orderID) else { return .deadLetter(.missing("order_id")) }
            guard o.end > o.start else { return .deadLetter(.empty("order_id")) }
        }
        guard let type else { return .ignored(type: typeName) }

        var event = Event(
            ts: ts, eventID: eventID, type: type, user: intern(token(.userID)!, reader, into: &symbols.users), community: -1,
            amount: amount, hasCoupon: false, query: nil, items: [])
        if let c = token(.communityID) { event.community = intern(c, reader, into: &symbols.communities) }
        if let c = token(.couponID) { event.hasCoupon = c.end > c.start }
        if type == .search, let q = token(.query) { event.query = reader.string(q) }
        if type == .orderPaid, !itemTokens.isEmpty {
            event.items.reserveCapacity(itemTokens.count)
            for item in itemTokens {
                let quantity = item.quantity.flatMap { Money.parse(reader.bytes[$0.start..<$0.end]) } ?? .zero
                event.items.append(OrderItem(
                    sku: item.sku.map { intern($0, reader, into: &symbols.skus) } ?? -1,
                    category: item.category.map { intern($0, reader, into: &symbols.categories) } ?? -1,
                    quantity: quantity))
            }
        }
        return .event(event)
    }

    /// Whether a JSON number's text is negative and not zero (before any rounding).
    static func isBelowZero(_ number: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        guard number.first == 0x2D else { return false }
        for c in number.dropFirst() {
            if c == 0x65 || c == 0x45 { return false }
            if c >= 0x31, c <= 0x39 { return true }
        }
        return false
    }

    static func timestamp(_ t: JSONToken, _ reader: JSONReader) -> Int64? {
        switch t.kind {
        case .number:
            guard !t.flag else { return nil }
            var value: Int64 = 0
            var k = t.start
            let negative = reader.bytes[k] == 0x2D
            if negative { k += 1 }
            while k < t.end {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(Int64(reader.bytes[k] - 0x30))
                guard !o1, !o2 else { return nil }
                value = s
                k += 1
            }
            return negative ? -value : value
        case .string:
            if t.flag { return EventTime.parseRFC3339(Array(reader.string(t).utf8)) }
            return EventTime.parseRFC3339(UnsafeBufferPointer(rebasing: reader.bytes[t.start..<t.end]))
        default:
            return nil
        }
    }
}
