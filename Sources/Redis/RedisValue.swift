/// A Redis reply, copied out of hiredis's buffers.
public enum RedisValue: Sendable, Equatable {
    case string([UInt8])
    case status(String)
    case integer(Int64)
    case array([RedisValue])
    case null
    /// An error reply inside a pipeline or transaction (a single command throws it instead).
    case error(String)

    /// The bytes of a bulk string; nil for `null`.
    public func bytes() throws(RedisError) -> [UInt8]? {
        switch self {
        case .string(let bytes): return bytes
        case .status(let text): return Array(text.utf8)
        case .null: return nil
        default: throw .unexpectedReply("expected a string, got \(self)")
        }
    }

    /// A bulk or status string as text; nil for `null`.
    public func text() throws(RedisError) -> String? {
        try bytes().map { String(decoding: $0, as: UTF8.self) }
    }

    public func integer() throws(RedisError) -> Int64 {
        guard case .integer(let value) = self else { throw .unexpectedReply("expected an integer, got \(self)") }
        return value
    }

    public func array() throws(RedisError) -> [RedisValue] {
        switch self {
        case .array(let values): return values
        case .null: return []
        default: throw .unexpectedReply("expected an array, got \(self)")
        }
    }
}

/// Something that can be an argument of a Redis command.
public protocol RedisArgument {
    var redisBytes: [UInt8] { get }
}

extension String: RedisArgument { public var redisBytes: [UInt8] { Array(utf8) } }
extension Array: RedisArgument where Element == UInt8 { public var redisBytes: [UInt8] { self } }
extension ArraySlice: RedisArgument where Element == UInt8 { public var redisBytes: [UInt8] { Array(self) } }
extension Int: RedisArgument { public var redisBytes: [UInt8] { Array(String(self).utf8) } }
extension Int64: RedisArgument { public var redisBytes: [UInt8] { Array(String(self).utf8) } }
