import Foundation
import TagStreamCore

/// What a checkpoint holds besides its bytes, for operators (`tagstream checkpoints`).
public struct CheckpointSummary: Codable, Sendable, Equatable {
    public var users: Int
    public var communities: Int
    /// The event time reached (RFC 3339), when any event was applied.
    public var eventTime: String?
    /// The next offset of each input partition (`topic[partition]`), in live runs.
    public var inputs: [String: Int64] = [:]
    /// The end offset of each output partition when the checkpoint was taken, in live runs.
    public var outputs: [String: Int64] = [:]
    /// Whether a task of a split run has finished its bounded run; nil: not a task.
    public var finished: Bool?

    public init(processor: Processor, inputs: [String: Int64] = [:], outputs: [String: Int64] = [:]) {
        users = processor.engine.symbols.users.count
        communities = processor.engine.symbols.communities.count
        eventTime = processor.lastApplied == .min ? nil : EventTime.format(processor.lastApplied)
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// Where a run keeps its latest complete checkpoint; writing one replaces the previous only once complete.
public protocol CheckpointStore {
    /// The latest complete checkpoint, or nil when there is none.
    func load() throws -> [UInt8]?
    /// Stores a checkpoint; the previous one stays valid until this returns.
    func save(_ checkpoint: [UInt8], summary: CheckpointSummary) throws
    /// Forgets the checkpoints (after a run completed).
    func clear() throws
}

/// Checkpoints as a file in a directory, replaced atomically (write, fsync, rename), with its
/// summary beside it in `checkpoint.json`.
public struct DirectoryCheckpointStore: CheckpointStore {
    public let directory: String
    var path: String { (directory as NSString).appendingPathComponent("checkpoint.bin") }
    var summaryPath: String { (directory as NSString).appendingPathComponent("checkpoint.json") }

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    public func load() throws -> [UInt8]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    public func save(_ checkpoint: [UInt8], summary: CheckpointSummary) throws {
        try replace(summaryPath, with: Array(try JSONEncoder.sorted.encode(summary)))
        try replace(path, with: checkpoint)
    }

    private func replace(_ path: String, with bytes: [UInt8]) throws {
        let temporary = path + ".tmp"
        let writer = try FileWriter(path: temporary)
        try writer.writeBytes(bytes)
        try writer.sync()
        guard rename(temporary, path) == 0 else { throw FileError(path: path, message: String(cString: strerror(errno))) }
        let dir = open(directory, O_RDONLY)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }

    public func clear() throws {
        for file in [path, summaryPath] where FileManager.default.fileExists(atPath: file) {
            try FileManager.default.removeItem(atPath: file)
        }
    }
}

extension JSONEncoder {
    /// Keys sorted, for files and values people read.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
