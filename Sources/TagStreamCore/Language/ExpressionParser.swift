/// Parses the text of a condition or value (`since(last_paid) >= 30d and tier in ["gold"]`)
/// by recursive descent. Precedence, loosest first: `or`, `and`, `not`, comparisons and `in`,
/// `+ -`, `* /`, unary minus.
public struct ExpressionParser {
    private enum Token: Equatable {
        case number(Int64, Int64)
        case duration(Int64)
        case string(String)
        case word(String)
        case symbol(String)
        case end
    }

    private let characters: [Character]
    private var position = 0
    private var token = Token.end
    private var tokenStart = 0

    /// Parses `text` completely; throws the first mistake.
    public static func parse(_ text: String) throws(ExpressionError) -> Expression {
        var parser = ExpressionParser(text)
        try parser.advance()
        let expression = try parser.or()
        guard parser.token == .end else { throw parser.unexpected() }
        return expression
    }

    private init(_ text: String) { characters = Array(text) }

    // MARK: Grammar

    private mutating func or() throws(ExpressionError) -> Expression {
        var left = try and()
        while token == .word("or") {
            let at = tokenStart
            try advance()
            left = .binary(.or, left, try and(), at: at)
        }
        return left
    }

    private mutating func and() throws(ExpressionError) -> Expression {
        var left = try not()
        while token == .word("and") {
            let at = tokenStart
            try advance()
            left = .binary(.and, left, try not(), at: at)
        }
        return left
    }

    private mutating func not() throws(ExpressionError) -> Expression {
        guard token == .word("not") else { return try comparison() }
        let at = tokenStart
        try advance()
        return .not(try not(), at: at)
    }

    private mutating func comparison() throws(ExpressionError) -> Expression {
        let left = try sum()
        let at = tokenStart
        if case .symbol(let s) = token, let op = BinaryOperator(rawValue: s), op.isComparison {
            try advance()
            return .binary(op, left, try sum(), at: at)
        }
        if token == .word("in") {
            try advance()
            return .binary(.in, left, try sum(), at: at)
        }
        return left
    }

    private mutating func sum() throws(ExpressionError) -> Expression {
        var left = try product()
        while case .symbol(let s) = token, s == "+" || s == "-" {
            let at = tokenStart
            try advance()
            left = .binary(s == "+" ? .plus : .minus, left, try product(), at: at)
        }
        return left
    }

    private mutating func product() throws(ExpressionError) -> Expression {
        var left = try unary()
        while case .symbol(let s) = token, s == "*" || s == "/" {
            let at = tokenStart
            try advance()
            left = .binary(s == "*" ? .times : .divided, left, try unary(), at: at)
        }
        return left
    }

    private mutating func unary() throws(ExpressionError) -> Expression {
        guard token == .symbol("-") else { return try primary() }
        let at = tokenStart
        try advance()
        return .negate(try unary(), at: at)
    }

    private mutating func primary() throws(ExpressionError) -> Expression {
        let at = tokenStart
        switch token {
        case let .number(n, d):
            try advance()
            if case .word(let unit) = token, !Self.keywords.contains(unit) {
                let text = String(characters[at..<position]).trimmingSpaces()
                throw ExpressionError(offset: at, message: Self.badDuration(text))
            }
            return .number(numerator: n, denominator: d, at: at)
        case let .duration(ms):
            try advance()
            return .duration(milliseconds: ms, at: at)
        case let .string(s):
            try advance()
            return .string(s, at: at)
        case .symbol("("):
            try advance()
            let inner = try or()
            try expect(")")
            return inner
        case .symbol("["):
            try advance()
            var items: [String] = []
            while token != .symbol("]") {
                guard case .string(let s) = token else {
                    throw ExpressionError(offset: tokenStart, message: "a list holds quoted strings, e.g. [\"gold\", \"platinum\"]")
                }
                items.append(s)
                try advance()
                if token == .symbol(",") { try advance() } else { break }
            }
            try expect("]")
            return .list(items, at: at)
        case .word("true"), .word("false"):
            let value = token == .word("true")
            try advance()
            return .boolean(value, at: at)
        case .word(let name) where !Self.keywords.contains(name):
            try advance()
            guard token == .symbol("(") else { return .name(name, at: at) }
            try advance()
            var arguments: [Expression] = []
            while token != .symbol(")") {
                arguments.append(try or())
                if token == .symbol(",") { try advance() } else { break }
            }
            try expect(")")
            return .call(name, arguments, at: at)
        default:
            throw unexpected()
        }
    }

    private mutating func expect(_ symbol: String) throws(ExpressionError) {
        guard token == .symbol(symbol) else {
            throw ExpressionError(offset: tokenStart, message: "expected '\(symbol)' but found \(describe(token))")
        }
        try advance()
    }

    private func unexpected() -> ExpressionError {
        ExpressionError(offset: tokenStart, message: token == .end ? "the expression ends too early" : "unexpected \(describe(token))")
    }

    private func describe(_ token: Token) -> String {
        switch token {
        case .end: "the end"
        case .word(let w): "'\(w)'"
        case .symbol(let s): "'\(s)'"
        case .string(let s): "\"\(s)\""
        case .number, .duration: "'\(String(characters[tokenStart..<position]).trimmingSpaces())'"
        }
    }

    static let keywords: Set<String> = ["and", "or", "not", "in", "true", "false"]

    static func badDuration(_ text: String) -> String {
        "'\(text)' is not a duration: use a whole number and a unit ms, s, m, h, d or w (e.g. 30d, 2h, 5m)"
    }

    // MARK: Tokens

    private mutating func advance() throws(ExpressionError) {
        while position < characters.count, characters[position] == " " || characters[position] == "\t" || characters[position] == "\n" {
            position += 1
        }
        tokenStart = position
        guard position < characters.count else { token = .end; return }
        let c = characters[position]
        if c.isASCII, c.isNumber {
            token = try numberOrDuration()
        } else if c == "\"" || c == "'" {
            token = try quoted(c)
        } else if c.isLetter || c == "_" {
            var end = position
            while end < characters.count, characters[end].isLetter || characters[end].isNumber || characters[end] == "_" || characters[end] == "." {
                end += 1
            }
            token = .word(String(characters[position..<end]))
            position = end
        } else {
            let two = position + 1 < characters.count ? String(characters[position...position + 1]) : ""
            if [">=", "<=", "==", "!="].contains(two) {
                token = .symbol(two)
                position += 2
            } else if "<>+-*/()[],".contains(c) {
                token = .symbol(String(c))
                position += 1
            } else {
                throw ExpressionError(offset: position, message: "unexpected character '\(c)'")
            }
        }
    }

    private mutating func numberOrDuration() throws(ExpressionError) -> Token {
        var end = position
        while end < characters.count, characters[end].isASCII, characters[end].isNumber || characters[end] == "." { end += 1 }
        let digits = String(characters[position..<end])
        var unitEnd = end
        while unitEnd < characters.count, characters[unitEnd].isLetter { unitEnd += 1 }
        if unitEnd > end {
            let text = String(characters[position..<unitEnd])
            guard let span = TimeSpan(parsing: text) else {
                throw ExpressionError(offset: position, message: Self.badDuration(text))
            }
            position = unitEnd
            return .duration(span.milliseconds)
        }
        guard let ratio = Ratio(parsing: digits) else {
            throw ExpressionError(offset: position, message: "'\(digits)' is not a number")
        }
        position = end
        return .number(ratio.numerator, ratio.denominator)
    }

    private mutating func quoted(_ quote: Character) throws(ExpressionError) -> Token {
        var end = position + 1
        while end < characters.count, characters[end] != quote { end += 1 }
        guard end < characters.count else {
            throw ExpressionError(offset: position, message: "this string has no closing \(quote)")
        }
        let text = String(characters[(position + 1)..<end])
        position = end + 1
        return .string(text)
    }
}
