/// What an expression reads besides constants: state (aggregates, tags, statistics, the time) or an event.
protocol ExpressionInput {
    /// The value of a leaf node: an aggregate, a group, a statistic, a community count, `since`, or an event field.
    /// Mutating so that an input may note what was read.
    mutating func leaf(_ node: Node) -> Value
    /// The text of a string field (UTF-8 bytes); nil when absent.
    func text(_ field: EventField) -> String?
}

extension Node {
    /// Evaluates the tree; none propagates through arithmetic, and comparisons with none are false.
    func evaluate<Input: ExpressionInput>(_ input: inout Input) -> Value {
        switch self {
        case .constant(let v):
            return v
        case .not(let a):
            return .bool(!a.evaluate(&input).isTrue)
        case let .and(a, b):
            return a.evaluate(&input).isTrue ? .bool(b.evaluate(&input).isTrue) : .false
        case let .or(a, b):
            return a.evaluate(&input).isTrue ? .true : .bool(b.evaluate(&input).isTrue)
        case let .compare(op, a, b):
            return .bool(op.holds(Value.compare(a.evaluate(&input), b.evaluate(&input))))
        case let .compareUserAggregate(op, _, c):
            return .bool(op.holds(Value.compare(input.leaf(self), c)))
        case let .compareSince(op, _, c):
            return .bool(op.holds(Value.compare(input.leaf(self), c)))
        case let .groupIn(_, mask):
            return input.leaf(self).isTag(in: mask)
        case let .add(a, b):
            return Value.add(a.evaluate(&input), b.evaluate(&input), negate: false)
        case let .subtract(a, b):
            return Value.add(a.evaluate(&input), b.evaluate(&input), negate: true)
        case let .multiply(a, b):
            return Value.multiply(a.evaluate(&input), b.evaluate(&input))
        case let .divide(a, b):
            return Value.divide(a.evaluate(&input), b.evaluate(&input))
        case .negate(let a):
            return a.evaluate(&input).negated
        case .minimum(let list), .maximum(let list):
            var best = Value.none
            let wantsMax = if case .maximum = self { true } else { false }
            for node in list {
                let v = node.evaluate(&input)
                if v.isNone { return .none }
                if best.isNone { best = v; continue }
                guard let order = Value.compare(v, best) else { return .none }
                if wantsMax ? order > 0 : order < 0 { best = v }
            }
            return best
        case let .tagIn(group, mask):
            return group.evaluate(&input).isTag(in: mask)
        case let .stringIn(string, items):
            guard let text = string.evaluate(&input) else { return .false }
            return .bool(items.contains(text))
        case let .containsAny(string, needles):
            guard let text = string.evaluate(&input) else { return .false }
            return .bool(Self.contains(Array(text.utf8), anyOf: needles))
        case .userAggregate, .communityAggregate, .communityCount, .statistic, .group, .field, .since:
            return input.leaf(self)
        }
    }

    /// Whether `haystack` contains one of the needles, comparing bytes.
    static func contains(_ haystack: [UInt8], anyOf needles: [[UInt8]]) -> Bool {
        needles.contains { needle in
            guard !needle.isEmpty, needle.count <= haystack.count else { return needle.isEmpty }
            for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
                if haystack[start..<start + needle.count].elementsEqual(needle) { return true }
            }
            return false
        }
    }
}

extension Value {
    /// `-value`; none for instants, tags and conditions.
    var negated: Value {
        guard kind != .instant, kind != .tag, kind != .bool else { return .none }
        var v = self
        v.numerator = 0 &- v.numerator
        return v
    }

    /// Whether this is a tag in `mask` (bit i: tag i).
    func isTag(in mask: UInt64) -> Value {
        .bool(kind == .tag && numerator >= 0 && mask & (1 << UInt64(numerator)) != 0)
    }
}

extension BinaryOperator {
    /// Whether a comparison with this result (-1, 0, 1; nil: not comparable) holds.
    @inline(__always)
    func holds(_ order: Int?) -> Bool {
        guard let order else { return false }
        switch self {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .less: return order < 0
        case .lessOrEqual: return order <= 0
        case .greater: return order > 0
        default: return order >= 0
        }
    }
}

extension StringNode {
    func evaluate<Input: ExpressionInput>(_ input: inout Input) -> String? {
        switch self {
        case .field(let f): input.text(f)
        case .lower(let inner): inner.evaluate(&input)?.lowercased()
        }
    }
}

/// The fields of one event (and one of its basket items) as seen by `where` filters.
struct EventInput: ExpressionInput {
    var type: EventType
    var ts: Int64
    var amount: Money
    var hasCoupon: Bool
    var query: String?
    var item: OrderItem?
    var skuName: String?
    var categoryName: String?

    func leaf(_ node: Node) -> Value {
        guard case .field(let f) = node else { return .none }
        switch f {
        case .ts: return .instant(ts)
        case .amount: return .number(amount.units, Money.scale)
        case .hasCoupon: return .bool(hasCoupon)
        case .itemQuantity: return item.map { .number($0.quantity.units, Money.scale) } ?? .none
        case .type, .query, .itemSku, .itemCategory: return .none
        }
    }

    func text(_ field: EventField) -> String? {
        switch field {
        case .type: type.name
        case .query: query
        case .itemSku: skuName
        case .itemCategory: categoryName
        default: nil
        }
    }
}
