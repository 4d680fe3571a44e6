/// Why a record was dead-lettered: a machine-readable code and a sentence for a person.
public struct DeadLetterReason: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable code such as `invalid_json`, `missing_user_id`, `wrong_type_price`, `invalid_ts`.
    public let code: String
    /// The field at fault, when there is one.
    public let field: String?
    /// What was expected, for a person.
    public let message: String

    public var description: String { message }

    static func invalidJSON(_ detail: String, offset: Int) -> Self {
        Self(code: "invalid_json", field: nil, message: "not valid JSON: \(detail) at byte \(offset + 1)")
    }
    static let notAnObject = Self(code: "not_an_object", field: nil, message: "expected a JSON object")
    static func missing(_ field: String) -> Self {
        Self(code: "missing_\(field)", field: field, message: "field '\(field)' is required")
    }
    static func empty(_ field: String) -> Self {
        Self(code: "empty_\(field)", field: field, message: "field '\(field)' must be a non-empty string")
    }
    static func wrongType(_ field: String, expected: String) -> Self {
        Self(code: "wrong_type_\(field)", field: field, message: "field '\(field)' must be \(expected)")
    }
    static let invalidTimestamp = Self(
        code: "invalid_ts", field: "ts",
        message: "field 'ts' must be integer epoch milliseconds or an RFC 3339 string such as 2026-03-01T08:15:30.123Z")
    static let negativeAmount = Self(code: "negative_amount", field: "amount", message: "field 'amount' must be a number >= 0")
    static let amountOutOfRange = Self(code: "amount_out_of_range", field: "amount", message: "field 'amount' is too large")
}
