import Foundation
import TagStreamCore

/// Finds the shard of a record's user with a quick scan instead of a decode. A line without
/// backslashes has no escaped quote, so the first `"user_id"` followed by a colon is a key; its
/// string value names the user. The scan may be wrong for a key inside a nested object: the shard
/// that decodes the line then sends it on (`LineFact.elsewhere`).
enum UserRoute {
    private static let key = Array(#""user_id""#.utf8)

    /// The user's shard; -1 for a blank line; nil when the scan cannot tell.
    static func shard(of line: UnsafeBufferPointer<UInt8>, count: Int) -> Int32? {
        guard let base = line.baseAddress, line.count > 0 else { return -1 }
        guard !line.isBlankLine else { return -1 }
        guard memchr(base, 0x5C, line.count) == nil, var i = keyEnd(in: line) else { return nil }
        func skipSpace() { while i < line.count, line[i] == 0x20 || line[i] == 0x09 { i += 1 } }
        skipSpace()
        guard i < line.count, line[i] == 0x3A else { return nil }
        i += 1
        skipSpace()
        guard i < line.count, line[i] == 0x22 else { return nil }
        let start = i + 1
        guard let close = memchr(base + start, 0x22, line.count - start) else { return nil }
        let end = UnsafeRawPointer(close) - UnsafeRawPointer(base)
        return Int32(ShardRole.shard(of: UnsafeBufferPointer(rebasing: line[start..<end]), count: count))
    }

    /// The index just past the first `"user_id"` in the line.
    private static func keyEnd(in line: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        while i + key.count <= line.count {
            guard let quote = memchr(line.baseAddress! + i, 0x22, line.count - i) else { return nil }
            i = UnsafeRawPointer(quote) - UnsafeRawPointer(line.baseAddress!)
            if i + key.count <= line.count, line[i + 1] == 0x75, memcmp(line.baseAddress! + i, key, key.count) == 0 { return i + key.count }
            i += 1
        }
        return nil
    }
}
