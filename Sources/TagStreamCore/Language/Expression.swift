/// An expression of the pipeline language as written, before names are resolved.
/// `at` is the character offset of the node in its source text, for error messages.
public indirect enum Expression: Sendable, Equatable {
    case number(numerator: Int64, denominator: Int64, at: Int)
    case duration(milliseconds: Int64, at: Int)
    case string(String, at: Int)
    case list([String], at: Int)
    case boolean(Bool, at: Int)
    /// A name (`last_paid`, `tier`) or a dotted field (`item.sku`).
    case name(String, at: Int)
    case call(String, [Expression], at: Int)
    case not(Expression, at: Int)
    case negate(Expression, at: Int)
    case binary(BinaryOperator, Expression, Expression, at: Int)

    public var offset: Int {
        switch self {
        case let .number(_, _, at), let .duration(_, at), let .string(_, at), let .list(_, at), let .boolean(_, at),
             let .name(_, at), let .call(_, _, at), let .not(_, at), let .negate(_, at), let .binary(_, _, _, at):
            at
        }
    }
}

public enum BinaryOperator: String, Sendable, Equatable {
    case and, or
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case `in`
    case plus = "+", minus = "-", times = "*", divided = "/"

    var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: true
        default: false
        }
    }

    /// The comparison with its sides swapped (`a < b` is `b > a`).
    var mirrored: BinaryOperator {
        switch self {
        case .less: .greater
        case .lessOrEqual: .greaterOrEqual
        case .greater: .less
        case .greaterOrEqual: .lessOrEqual
        default: self
        }
    }
}

/// A mistake in an expression, at a character offset of its text.
public struct ExpressionError: Error, Sendable, Equatable {
    public var offset: Int
    public var message: String
}
