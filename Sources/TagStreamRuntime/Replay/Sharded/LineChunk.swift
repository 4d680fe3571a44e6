import Foundation
import TagStreamCore

/// What one line of input came to, as the run's sequencer needs it.
enum LineFact: Sendable {
    case pending
    case blank
    case deadLetter(DeadLetterReason)
    case ignored(type: String)
    /// A well-formed event, kept by `shard` as its `slot`-th event of the chunk.
    case event(ts: Int64, key: AcceptedIDs.Key, shard: Int32, slot: Int32)
    /// An event of a user that `shard` holds: that shard decodes the line again.
    case elsewhere(shard: Int32)
}

/// A run of lines read from one input file, copied back to back, with the shard each line goes to.
/// The reading thread fills it before handing it over; then each shard's worker writes the facts
/// of its own lines only, and the reading thread reads them after the workers have finished.
final class LineChunk: @unchecked Sendable {
    let id: Int
    let partition: Int
    /// The file line number of the first line.
    let firstLine: Int
    private(set) var bytes: [UInt8] = []
    private(set) var ends: [Int] = []
    /// Per line: the shard that decodes it (-1: a blank line).
    var routes: [Int32] = []
    let facts: UnsafeMutableBufferPointer<LineFact>

    /// Reads up to `limit` lines from `reader`; nil at the end of the file.
    init?(id: Int, partition: Int, reader: LineReader, limit: Int, shards: Int) throws {
        self.id = id
        self.partition = partition
        firstLine = reader.lineNumber + 1
        bytes.reserveCapacity(limit * 256)
        while ends.count < limit, let line = try reader.nextLine() {
            bytes.append(contentsOf: line)
            ends.append(bytes.count)
            routes.append(UserRoute.shard(of: line, count: shards) ?? Int32((firstLine + ends.count) % shards))
        }
        guard !ends.isEmpty else { return nil }
        facts = .allocate(capacity: ends.count)
        facts.initialize(repeating: .pending)
        for i in routes.indices where routes[i] < 0 { facts[i] = .blank }
    }

    deinit {
        facts.deinitialize()
        facts.deallocate()
    }

    var count: Int { ends.count }

    /// Line `i` of the chunk, valid while the chunk lives.
    func withLine<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let start = i == 0 ? 0 : ends[i - 1]
        return try bytes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<ends[i]])) }
    }
}

/// Finds the shard of a record's user with a quick scan instead of a decode. A line without
/// backslashes has no escaped quote, so the first `"user_id"` followed by a colon is a key; its
/// string value names the user. The scan may be wrong for a key inside a nested object: the shard
/// that decodes the line then sends it on (`LineFact.elsewhere`).
enum UserRoute {
    private static let key = Array(#""user_id""#.utf8)

    /// The user's shard; -1 for a blank line; nil when the scan cannot tell.
    static func shard(of line: UnsafeBufferPointer<UInt8>, count: Int) -> Int32? {
        guard let base = line.baseAddress, line.count > 0 else { return -1 }
        guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D && $0 != 0x0A }) else { return -1 }
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
            if i + key.count <= line.count, memcmp(line.baseAddress! + i, key, key.count) == 0 { return i + key.count }
            i += 1
        }
        return nil
    }
}
