import Foundation
import Redis

/// Where a run keeps its checkpoints: a directory, or a Redis server.
public enum CheckpointLocation: Sendable, CustomStringConvertible {
    case directory(String)
    case redis(RedisURL)

    /// The store for one pipeline and group (a consumer group, or one backtest's input files).
    func store(pipeline: String, group: String) throws -> CheckpointStore {
        switch self {
        case .directory(let path): try DirectoryCheckpointStore(directory: path)
        case .redis(let url): RedisCheckpointStore(client: RedisClient(url: url), pipeline: pipeline, group: group)
        }
    }

    public var description: String {
        switch self {
        case .directory(let path): path
        case .redis(let url): url.description
        }
    }
}
