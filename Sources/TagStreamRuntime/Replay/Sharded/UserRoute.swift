import Foundation
import TagStreamCore

/// Finds the shard of a record's user with a quick scan instead of a decode: the string value of
/// the first `"user_id"` followed by a colon. The scan is only a hint, read in one pass without
/// telling keys from values: a key inside a nested object or an escaped name can mislead it. The
/// shard that decodes the line checks the user, and sends a misplaced line on
/// (`LineFact.elsewhere`).
enum UserRoute {
    /// `user_id"`, the eight bytes after the key's opening quote, as a little-endian word. A
    /// literal: a computed static is initialized lazily, and each use checked that it was.
    static let keyTail: UInt64 = 0x2264_695F_7265_7375

    /// The user's shard; -1 for a blank line; nil when the scan cannot tell.
    static func shard(of line: UnsafeBufferPointer<UInt8>, count: Int) -> Int32? {
        guard let base = line.baseAddress, !line.isBlankLine else { return -1 }
        guard var i = keyEnd(in: line) else { return nil }
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

    /// The index just past the first `"user_id"` in the line. A byte loop: the key comes within
    /// the first few fields, and a `memchr` call per quote, or a search eight bytes at a time,
    /// cost more (see the performance log).
    private static func keyEnd(in line: UnsafeBufferPointer<UInt8>) -> Int? {
        guard line.count >= 9, let base = line.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        for i in 0...(line.count - 9) where base[i] == 0x22 {
            if raw.loadUnaligned(fromByteOffset: i + 1, as: UInt64.self) == keyTail { return i + 9 }
        }
        return nil
    }
}
