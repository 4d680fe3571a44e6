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

        static let optionalStrings: [Field] = [.communityID, .leaderID, .sessionID, .sku, .category, .query, .referrerID, .orderID, .couponID]
        static let numbers: [Field] = [.price, .amount, .discount]

        /// The kind an optional field must have when present; nil for required fields, checked on their own.
        var expectedKind: JSONToken.Kind? {
            switch self {
            case .eventID, .type, .userID, .ts: nil
            case .price, .amount, .discount: .number
            case .items: .array
            default: .string
            }
        }

        var bit: UInt32 { 1 << UInt32(rawValue) }
    }

    enum ItemKey: Sendable { case sku, category, quantity, price }

    // The name tables are held by each decoder, not read from `static let`s: on Linux every read
    // of a static calls `swift_once`, which the loop over a record's keys felt (1.4 % of a replay).
    private let fieldNames = ShortNameTable(Field.allCases.map { ($0.name, $0) })
    /// Each field's key as compact JSON writes it, `"name":`, to be matched in place.
    private let quotedKeys = Field.allCases.map { QuotedKey("\"\($0.name)\":") }
    private let itemKeys = ShortNameTable<ItemKey>([("sku", .sku), ("category", .category), ("qty", .quantity), ("price", .price)])
    private let eventTypes = ShortNameTable(EventType.allCases.map { ($0.name, $0) })

    struct ItemTokens {
        var sku: JSONToken?
        var category: JSONToken?
        var quantity: JSONToken?
        var price: JSONToken?
    }

    /// Each field's value in the record being decoded (a later duplicate key wins), valid where
    /// its bit in `present` is set: one store resets them all, where clearing the slots cost a
    /// write of every one per record.
    private let slots = FieldSlots(count: Field.allCases.count)
    private var present: UInt32 = 0
    /// Bit `field.rawValue`: the field is present (not null) with a kind other than `expectedKind`.
    private var wrongTypes: UInt32 = 0
    /// Per field (and, last, the start of a record): the field whose key followed it in the latest
    /// record. Producers write their keys in one order, so most keys are recognised by comparing
    /// their bytes with one prediction, without reading and looking up the string.
    private var successor = [Field?](repeating: nil, count: Field.allCases.count + 1)
    private var itemTokens: [ItemTokens] = []
    private var itemsProblem: DeadLetterReason?
    /// The dedupe key of the last record's `event_id`, when `decode` computed it to prefetch its
    /// slot (an id without escapes): the sequencer takes it instead of hashing the id again.
    private(set) var eventIDKey: AcceptedIDs.Key?

    public init() {}

    /// Decodes one record (without its line terminator).
    public mutating func decode(_ bytes: UnsafeBufferPointer<UInt8>, symbols: inout SymbolTable) -> DecodeResult {
        decode(bytes, symbols: &symbols, prefetchingIn: nil)
    }

    /// Decodes one record, and as soon as its `event_id` is read, starts loading that id's slot of
    /// `acceptedIDs`, which the sequencer reads next (and, likewise, with or without
    /// `acceptedIDs`, its `user_id`'s slot of the user names, which validation reads).
    mutating func decode(_ bytes: UnsafeBufferPointer<UInt8>, symbols: inout SymbolTable, prefetchingIn acceptedIDs: AcceptedIDs?) -> DecodeResult {
        var reader = JSONReader(bytes)
        present = 0
        wrongTypes = 0
        itemTokens.removeAll(keepingCapacity: true)
        itemsProblem = nil
        eventIDKey = nil
        do throws(JSONSyntaxError) {
            reader.skipWhitespace()
            guard reader.peek() == 0x7B else {
                _ = try reader.readValue()
                reader.skipWhitespace()
                guard reader.atEnd else { throw reader.fail("unexpected content after the value") }
                return .deadLetter(.notAnObject)
            }
            try readTopObject(&reader, prefetchingIn: acceptedIDs, users: symbols.users)
            reader.skipWhitespace()
            guard reader.atEnd else { throw reader.fail("unexpected content after the object") }
        } catch {
            return .deadLetter(.invalidJSON(error.message, offset: error.offset))
        }
        return validate(reader, symbols: &symbols)
    }

    private mutating func readTopObject(_ reader: inout JSONReader, prefetchingIn acceptedIDs: AcceptedIDs?, users: borrowing Interner) throws(JSONSyntaxError) {
        reader.position += 1
        reader.skipWhitespace()
        if reader.peek() == 0x7D { reader.position += 1; return }
        // The key before this one (`allCases.count`: the start of the record; nil: an unknown key).
        var previous: Int? = Field.allCases.count
        while true {
            reader.skipWhitespace()
            let field: Field?
            if let previous, let predicted = successor[previous], reader.skip(quotedKeys[predicted.rawValue]) {
                field = predicted
            } else {
                guard reader.peek() == 0x22 else { throw reader.fail("expected a key") }
                let key = try reader.readString()
                try reader.expect(0x3A, "':'")
                field = reader.lookUp(key, in: fieldNames)
                if let field, let previous { successor[previous] = field }
            }
            previous = field?.rawValue
            if field == .items {
                reader.skipWhitespace()
                itemTokens.removeAll(keepingCapacity: true)
                itemsProblem = nil
                if reader.peek() == 0x5B {
                    let start = reader.position
                    try readItems(&reader)
                    store(JSONToken(kind: .array, start: start, end: reader.position, flag: false), in: .items)
                } else {
                    store(try reader.readValue(depth: 1), in: .items)
                }
            } else {
                let value: JSONToken
                switch reader.peek() ?? 0 {
                case 0x22:
                    if let string = reader.readPlainString() { value = string } else { value = try reader.readString() }
                case 0x2D, 0x30...0x39: value = try reader.readNumber()
                default: value = try reader.readValue(depth: 1)
                }
                if let field { store(value, in: field) }
                if field == .eventID, let acceptedIDs {
                    // A later duplicate key wins, so its key replaces (or clears) an earlier one's.
                    eventIDKey = value.kind == .string && !value.flag
                        ? AcceptedIDs.Key(utf8: UnsafeBufferPointer(rebasing: reader.bytes[value.start..<value.end])) : nil
                    if let eventIDKey { acceptedIDs.prefetch(eventIDKey) }
                } else if field == .userID, value.kind == .string, !value.flag {
                    users.prefetch(UnsafeBufferPointer(rebasing: reader.bytes[value.start..<value.end]))
                }
            }
            reader.skipWhitespace()
            guard let c = reader.peek() else { throw reader.fail("unterminated object") }
            reader.position += 1
            if c == 0x7D { return }
            guard c == 0x2C else { throw reader.fail("expected ',' or '}'") }
        }
    }

    /// Keeps a field's value (a later duplicate key wins) and notes whether its kind is wrong.
    @inline(__always)
    private mutating func store(_ value: JSONToken, in field: Field) {
        slots.tokens[field.rawValue] = value
        present |= field.bit
        if let expected = field.expectedKind, value.kind != .null, value.kind != expected {
            wrongTypes |= field.bit
        } else {
            wrongTypes &= ~field.bit
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
            switch reader.lookUp(key, in: itemKeys) {
            case .sku: item.sku = value
            case .category: item.category = value
            case .quantity: item.quantity = value
            case .price: item.price = value
            case nil: break
            }
            reader.skipWhitespace()
            guard let c = reader.peek() else { throw reader.fail("unterminated object") }
            reader.position += 1
            if c == 0x7D { break }
            guard c == 0x2C else { throw reader.fail("expected ',' or '}'") }
        }
        if itemsProblem == nil { itemsProblem = Self.problem(of: item) }
        itemTokens.append(item)
    }

    /// The first item field (sku, category, qty, price) present with the wrong kind.
    private static func problem(of item: ItemTokens) -> DeadLetterReason? {
        func wrong(_ token: JSONToken?, _ kind: JSONToken.Kind) -> Bool { token.map { $0.kind != kind } ?? false }
        let name = wrong(item.sku, .string) ? "sku is a string" : wrong(item.category, .string) ? "category is a string"
            : wrong(item.quantity, .number) ? "qty is a number" : wrong(item.price, .number) ? "price is a number" : nil
        return name.map { .wrongType("items", expected: "items whose \($0)") }
    }

    private func token(_ field: Field) -> JSONToken? {
        guard present & field.bit != 0 else { return nil }
        let t = slots.tokens[field.rawValue]
        guard t.kind != .null else { return nil }
        return t
    }

    /// Interns a string token's text, straight from the bytes when it has no escapes.
    private func intern(_ t: JSONToken, _ reader: JSONReader, into interner: inout Interner) -> Int32 {
        t.flag ? interner.intern(reader.string(t)) : interner.intern(bytes: UnsafeBufferPointer(rebasing: reader.bytes[t.start..<t.end]))
    }

    /// The token of a required string field when it is a non-empty string.
    @inline(__always)
    private func requiredString(_ field: Field) -> JSONToken? {
        guard let t = token(field), t.kind == .string, t.end > t.start else { return nil }
        return t
    }

    /// Why the required string fields do not all hold non-empty strings (the first, in SPEC order).
    private func requiredStringProblem() -> DeadLetterReason {
        for field in [Field.eventID, .type, .userID] {
            guard let t = token(field) else { return .missing(field.name) }
            guard t.kind == .string else { return .wrongType(field.name, expected: "a string") }
            guard t.end > t.start else { return .empty(field.name) }
        }
        preconditionFailure("required strings without a problem")
    }

    /// Why an optional field present with the wrong kind makes the record a dead letter (the first, in SPEC order).
    private func wrongTypeReason() -> DeadLetterReason? {
        guard wrongTypes != 0 else { return nil }
        for field in Field.optionalStrings where wrongTypes & field.bit != 0 {
            return .wrongType(field.name, expected: "a string")
        }
        for field in Field.numbers where wrongTypes & field.bit != 0 {
            return .wrongType(field.name, expected: "a number")
        }
        return .wrongType("items", expected: "an array of objects {sku, category, qty, price}")
    }

    private mutating func validate(_ reader: JSONReader, symbols: inout SymbolTable) -> DecodeResult {
        guard let eventIDToken = requiredString(.eventID), let typeToken = requiredString(.type),
              let userToken = requiredString(.userID) else {
            return .deadLetter(requiredStringProblem())
        }
        guard let tsToken = token(.ts) else { return .deadLetter(.missing("ts")) }
        guard let ts = Self.timestamp(tsToken, reader), EventTime.supportedRange.contains(ts) else {
            return .deadLetter(.invalidTimestamp)
        }
        if let reason = wrongTypeReason() { return .deadLetter(reason) }
        if let problem = itemsProblem { return .deadLetter(problem) }

        let type = reader.lookUp(typeToken, in: eventTypes)
        var amount = Money.zero
        if let type, type.isOrder {
            guard let a = token(.amount) else { return .deadLetter(.missing("amount")) }
            guard let value = Money.parse(reader.bytes[a.start..<a.end]) else { return .deadLetter(.amountOutOfRange) }
            guard !Self.isBelowZero(reader.bytes[a.start..<a.end]) else { return .deadLetter(.negativeAmount) }
            amount = value
            guard let o = token(.orderID) else { return .deadLetter(.missing("order_id")) }
            guard o.end > o.start else { return .deadLetter(.empty("order_id")) }
        }
        guard let type else { return .ignored(type: reader.string(typeToken)) }

        // Built in one expression: an event built and then changed was copied into the result.
        let user = intern(userToken, reader, into: &symbols.users)
        let community = token(.communityID).map { intern($0, reader, into: &symbols.communities) } ?? -1
        return .event(Event(
            ts: ts, eventID: reader.string(eventIDToken), type: type, user: user, community: community, amount: amount,
            hasCoupon: token(.couponID).map { $0.end > $0.start } ?? false,
            query: type == .search ? token(.query).map { reader.string($0) } : nil,
            items: type == .orderPaid ? orderItems(reader, symbols: &symbols) : []))
    }

    /// The basket of an `order_paid` record, its sku and category names interned.
    private func orderItems(_ reader: JSONReader, symbols: inout SymbolTable) -> [OrderItem] {
        itemTokens.map { item in
            OrderItem(
                sku: item.sku.map { intern($0, reader, into: &symbols.skus) } ?? -1,
                category: item.category.map { intern($0, reader, into: &symbols.categories) } ?? -1,
                quantity: item.quantity.flatMap { Money.parse(reader.bytes[$0.start..<$0.end]) } ?? .zero)
        }
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
            // Up to 18 digits cannot overflow; longer numbers are checked digit by digit.
            if t.end - k <= 18 {
                while k < t.end {
                    value = value &* 10 &+ Int64(reader.bytes[k] &- 0x30)
                    k += 1
                }
            }
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

/// A decoder's scratch space for the fields of one record: memory of its own rather than an
/// array, whose every write checked that its buffer was unique (a call per field). A decoder
/// reads only the slots its current `decode` wrote, so decoders copied from one another may
/// share it, one at a time.
private final class FieldSlots: @unchecked Sendable {
    let tokens: UnsafeMutableBufferPointer<JSONToken>

    init(count: Int) {
        tokens = .allocate(capacity: count)
        tokens.initialize(repeating: JSONToken(kind: .null, start: 0, end: 0, flag: false))
    }

    deinit { tokens.deallocate() }
}
