import Foundation
import TagStreamCore

/// What one line of input came to, as the run's sequencer needs it. Plain data (a reason or a type
/// name is kept by the shard that decoded the line, in `LineChunk.notes`), so that reading a fact
/// costs no reference counting.
enum LineFact: Sendable {
    case pending
    case blank
    /// Dead letter: the reason is note `note` of shard `shard`.
    case deadLetter(shard: Int32, note: Int32)
    /// An unknown type, named by note `note` of shard `shard`.
    case ignored(shard: Int32, note: Int32)
    /// A well-formed event, kept by `shard` as its `slot`-th event of the chunk.
    case event(ts: Int64, key: AcceptedIDs.Key, shard: Int32, slot: Int32)
    /// An event of a user that `shard` holds: that shard decodes the line again.
    case elsewhere(shard: Int32)
}

/// Why a line was not an event, noted by the shard that decoded it.
enum LineNote: Sendable {
    case deadLetter(DeadLetterReason)
    case ignored(type: String)
}

/// A run of lines read from one input file, copied back to back, with the shard each line goes to.
/// The reading thread fills it before handing it over; then each shard's worker writes the facts
/// and notes of its own lines only, and the reading thread reads them after the workers have
/// finished. Chunks are filled again once read, so that their memory is not mapped anew each time.
final class LineChunk: @unchecked Sendable {
    private(set) var id = 0
    private(set) var partition = 0
    /// The file line number of the first line.
    private(set) var firstLine = 0
    private var bytes: [UInt8] = []
    private var ends: [Int] = []
    /// Per line: the shard that decodes it (-1: a blank line).
    var routes: [Int32] = []
    let facts: UnsafeMutableBufferPointer<LineFact>
    /// Per shard: its notes on the chunk's lines (each shard's worker writes its own element only).
    let notes: UnsafeMutableBufferPointer<[LineNote]>

    init(capacity: Int, shards: Int) {
        facts = .allocate(capacity: capacity)
        facts.initialize(repeating: .pending)
        notes = .allocate(capacity: shards)
        notes.initialize(repeating: [])
        bytes.reserveCapacity(capacity * 256)
        ends.reserveCapacity(capacity)
        routes.reserveCapacity(capacity)
    }

    deinit {
        facts.deinitialize()
        facts.deallocate()
        notes.deinitialize()
        notes.deallocate()
    }

    /// Reads the next lines of `reader`, as many as the chunk holds; false at the end of the file.
    func fill(id: Int, partition: Int, reader: LineReader) throws -> Bool {
        self.id = id
        self.partition = partition
        firstLine = reader.lineNumber + 1
        // Filled in locals: appending to the properties checked and retained them for every line.
        var bytes = self.bytes, ends = self.ends, routes = self.routes
        (self.bytes, self.ends, self.routes) = ([], [], [])
        defer { (self.bytes, self.ends, self.routes) = (bytes, ends, routes) }
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        routes.removeAll(keepingCapacity: true)
        for k in notes.indices { notes[k].removeAll(keepingCapacity: true) }
        let shards = notes.count, facts = self.facts
        while ends.count < facts.count, let line = try reader.nextLine() {
            bytes.append(contentsOf: line)
            ends.append(bytes.count)
            let route = UserRoute.shard(of: line, count: shards) ?? Int32((firstLine + ends.count) % shards)
            routes.append(route)
            facts[ends.count - 1] = route < 0 ? .blank : .pending
        }
        return !ends.isEmpty
    }

    var count: Int { ends.count }

    /// Line `i` of the chunk, valid during the call.
    func withLine<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try withLines { try body($0(i)) }
    }

    /// Hands `body` a function that gives each line of the chunk, valid during the call (taken
    /// once for many lines: each access to the properties retained them).
    func withLines<R>(_ body: ((Int) -> UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let ends = self.ends
        return try bytes.withUnsafeBufferPointer { bytes in
            try body { i in UnsafeBufferPointer(rebasing: bytes[(i == 0 ? 0 : ends[i - 1])..<ends[i]]) }
        }
    }
}
