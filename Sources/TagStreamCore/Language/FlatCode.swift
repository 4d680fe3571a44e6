/// One step of a flattened expression: the steps of a node's operands follow its own (prefix
/// order), so walking them mirrors walking the tree. Every payload is a plain value, so a walk
/// retains nothing, where each node of a `Node` tree is a box that its walk retained and released.
enum Step: Sendable {
    case constant(Value)
    case userAggregate(Int32)
    case communityAggregate(Int32)
    case communityCount(Int32)
    case statistic(Int32)
    case group(Int32)
    /// The fused forms of `Node`.
    case compareUserAggregate(BinaryOperator, Int32, Value)
    case compareSince(BinaryOperator, Int32, Value)
    case groupIn(Int32, mask: UInt64)
    case since
    case not
    /// `and`, `or`: the right operand's steps are skipped, `Int32` of them, when the left decides.
    case and(Int32)
    case or(Int32)
    case compare(BinaryOperator)
    case add, subtract, multiply, divide, negate
    case tagIn(mask: UInt64)
    /// A subtree evaluated as a tree: `min`, `max` (which stop at the first none) and string tests.
    case tree(Int32)
}

extension Step {
    /// The step of a leaf: a constant, or what reads state (an aggregate, a community count, a
    /// statistic, a group's tag, a fused comparison); nil for other nodes.
    init?(leaf node: Node) {
        switch node {
        case .constant(let v): self = .constant(v)
        case .userAggregate(let i): self = .userAggregate(Int32(i))
        case .communityAggregate(let i): self = .communityAggregate(Int32(i))
        case .communityCount(let i): self = .communityCount(Int32(i))
        case .statistic(let i): self = .statistic(Int32(i))
        case .group(let g): self = .group(Int32(g))
        case let .compareUserAggregate(op, i, c): self = .compareUserAggregate(op, Int32(i), c)
        case let .compareSince(op, i, c): self = .compareSince(op, Int32(i), c)
        case let .groupIn(g, mask): self = .groupIn(Int32(g), mask: mask)
        default: return nil
        }
    }
}

/// The steps of the expressions an engine evaluates per user, in memory that lives as long as
/// this object and that the engine reads through a plain pointer.
final class FlatCode: Sendable {
    /// The steps; immutable once built.
    nonisolated(unsafe) let steps: UnsafeMutableBufferPointer<Step>
    /// The subtrees of `Step.tree`.
    let trees: [Node]

    init(_ builder: Builder) {
        steps = .allocate(capacity: max(1, builder.steps.count))
        _ = steps.initialize(from: builder.steps)
        trees = builder.trees
    }

    deinit { steps.deallocate() }

    /// Collects the steps of expressions, one after another.
    struct Builder {
        fileprivate var steps: [Step] = []
        fileprivate var trees: [Node] = []

        /// Appends `node`'s steps; returns where they start.
        mutating func add(_ node: Node) -> Int32 {
            let start = steps.count
            append(node)
            return Int32(start)
        }

        private mutating func append(_ node: Node) {
            if let leaf = Step(leaf: node) {
                steps.append(leaf)
                return
            }
            switch node {
            case .since(let a): append(.since, a)
            case .not(let a): append(.not, a)
            case .negate(let a): append(.negate, a)
            case let .tagIn(a, mask): append(.tagIn(mask: mask), a)
            case let .compare(op, a, b): append(.compare(op), a, b)
            case let .add(a, b): append(.add, a, b)
            case let .subtract(a, b): append(.subtract, a, b)
            case let .multiply(a, b): append(.multiply, a, b)
            case let .divide(a, b): append(.divide, a, b)
            case let .and(a, b), let .or(a, b):
                let at = steps.count
                append(.and(0), a)
                let right = steps.count
                append(b)
                let skip = Int32(steps.count - right)
                if case .and = node { steps[at] = .and(skip) } else { steps[at] = .or(skip) }
            default:
                steps.append(.tree(Int32(trees.count)))
                trees.append(node)
            }
        }

        private mutating func append(_ step: Step, _ operands: Node...) {
            steps.append(step)
            for operand in operands { append(operand) }
        }
    }
}
