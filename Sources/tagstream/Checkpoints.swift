import ArgumentParser
import Foundation
import Redis
import TagStreamCore
import TagStreamRuntime

struct Checkpoints: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, inspect and delete the checkpoints kept in Redis.",
        subcommands: [List.self, Inspect.self, Delete.self])

    struct Server: ParsableArguments {
        @Option(help: "The Redis server (redis://[user:password@]host:port/db).")
        var redis: String

        func client() throws -> RedisClient { RedisClient(url: try RedisURL(redis)) }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every checkpoint, by pipeline and group (NAME = pipeline:group).")
        @OptionGroup var server: Server

        func run() throws {
            let client = try server.client()
            let rows = try RedisCheckpointStore.namespaces(client: client).flatMap { name in
                try RedisCheckpointStore.named(name, client: client).manifests().map { m in
                    [name, "\(m.id)", m.createdAt, byteCount(m.size), "\(m.formatVersion)", "\(m.summary.users)",
                     "\(m.summary.communities)", m.summary.eventTime ?? "-"]
                }
            }
            guard !rows.isEmpty else { return print("no checkpoints in \(client.url)") }
            print(table([["NAME", "ID", "CREATED", "SIZE", "FORMAT", "USERS", "COMMUNITIES", "EVENT TIME"]] + rows))
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One checkpoint in full; its chunks are read and checked.")
        @OptionGroup var server: Server
        @Argument(help: "pipeline:group, as `list` shows it.") var name: String
        @Option(help: "The checkpoint id (default: the latest).") var id: Int64?

        func run() throws {
            let store = RedisCheckpointStore.named(name, client: try server.client())
            guard let id = try id ?? store.latestID() else { throw ValidationError("no checkpoint under \(name)") }
            let m = try store.manifest(id)
            print("""
                checkpoint \(m.id) of \(name)
                  created       \(m.createdAt)
                  format        version \(m.formatVersion) (this build reads \(SnapshotEnvelope.formatVersion))
                  size          \(byteCount(m.size)) in \(m.chunkChecksums.count) chunk(s)
                  users         \(m.summary.users)
                  communities   \(m.summary.communities)
                  event time    \(m.summary.eventTime ?? "-")
                """)
            for (title, offsets) in [("input offsets (next)", m.summary.inputs), ("output offsets (end)", m.summary.outputs)] where !offsets.isEmpty {
                print("  \(title):")
                for (partition, offset) in offsets.sorted(by: { $0.key < $1.key }) { print("    \(partition)  \(offset)") }
            }
            do {
                _ = try store.load(id)
                print("  chunks        all present, checksums match")
            } catch let error as SnapshotError {
                print("  chunks        UNUSABLE: \(error.message)")
                throw ExitCode(1)
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete one checkpoint, or all of a pipeline and group.")
        @OptionGroup var server: Server
        @Argument(help: "pipeline:group, as `list` shows it.") var name: String
        @Option(help: "The checkpoint id.") var id: Int64?
        @Flag(help: "Delete every checkpoint of this pipeline and group.") var all = false

        func validate() throws {
            guard (id == nil) != !all else { throw ValidationError("Give --id ID or --all.") }
        }

        func run() throws {
            let store = RedisCheckpointStore.named(name, client: try server.client())
            if let id {
                _ = try store.manifest(id)
                try store.delete(id)
                print("deleted checkpoint \(id) of \(name)")
            } else {
                try store.clear()
                print("deleted every checkpoint of \(name)")
            }
        }
    }
}

/// Columns padded to their widest cell.
private func table(_ rows: [[String]]) -> String {
    let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max()! }
    return rows.map { row in
        row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }.joined(separator: "\n")
}

private func byteCount(_ bytes: Int) -> String {
    ByteCountFormatter.string(fromByteCount: Int64(bytes), countStyle: .binary)
}
