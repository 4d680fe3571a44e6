import Foundation

/// Where a run keeps its latest complete checkpoint; writing one replaces the previous only once complete.
public protocol CheckpointStore {
    /// The latest complete checkpoint, or nil when there is none.
    func load() throws -> [UInt8]?
    /// Stores a checkpoint; the previous one stays valid until this returns.
    func save(_ checkpoint: [UInt8]) throws
    /// Forgets the checkpoint (after a run completed).
    func clear() throws
}

/// Checkpoints as a file in a directory, replaced atomically (write, fsync, rename).
public struct DirectoryCheckpointStore: CheckpointStore {
    public let directory: String
    var path: String { (directory as NSString).appendingPathComponent("checkpoint.bin") }

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    public func load() throws -> [UInt8]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    public func save(_ checkpoint: [UInt8]) throws {
        let temporary = path + ".tmp"
        let writer = try FileWriter(path: temporary)
        try writer.writeBytes(checkpoint)
        try writer.sync()
        guard rename(temporary, path) == 0 else { throw FileError(path: path, message: String(cString: strerror(errno))) }
        let dir = open(directory, O_RDONLY)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }

    public func clear() throws {
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
    }
}
