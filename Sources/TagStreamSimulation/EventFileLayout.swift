import Foundation

/// Which files generated events go to. A replay reads each file as one input partition.
public enum EventFileLayout: Sendable, Hashable {
    /// `directory/clickstream.jsonl` and `directory/orders.jsonl`; with `partitions` > 1,
    /// `clickstream-<p>.jsonl` and `orders-<p>.jsonl` for p in `0..<partitions`, a user's
    /// events in partition `CRC32(user_id) mod partitions`, as librdkafka's default
    /// partitioner places a Kafka key. A replay of these files then sees the partitions a
    /// live run over the two topics sees.
    case streams(directory: URL, partitions: Int)
    /// Every event in one file, in arrival order.
    case merged(file: URL)

    /// The largest accepted number of partitions.
    public static let maximumPartitions = 1_024

    /// The files, by destination index: clickstream partitions, then orders partitions.
    public var files: [URL] {
        switch self {
        case .merged(let file):
            return [file]
        case .streams(let directory, let partitions):
            return EventStream.allCases.flatMap { stream in
                (0..<partitions).map { p in
                    directory.appendingPathComponent(partitions == 1 ? "\(stream.rawValue).jsonl" : "\(stream.rawValue)-\(p).jsonl")
                }
            }
        }
    }

    /// The index in ``files`` of the file an event of `stream` keyed by `userID` goes to.
    func destination(of stream: EventStream, userID: String) -> Int {
        switch self {
        case .merged:
            return 0
        case .streams(_, let partitions):
            let streamBase = stream == .clickstream ? 0 : partitions
            return partitions == 1 ? streamBase : streamBase + Int(crc32(userID.utf8) % UInt32(partitions))
        }
    }

    /// Throws a ``SimulationError`` with code `.invalidConfiguration` when the partition count is out of range.
    public func validate() throws(SimulationError) {
        if case .streams(_, let partitions) = self, !(1...Self.maximumPartitions).contains(partitions) {
            throw .invalidConfiguration("partitions must be between 1 and \(Self.maximumPartitions) (got \(partitions))")
        }
    }
}

/// CRC-32 (IEEE 802.3, the checksum of zlib and of librdkafka's key partitioner) of `bytes`.
func crc32<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc = crc32Table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
    }
    return ~crc
}

private let crc32Table: [UInt32] = (0..<256).map { index in
    var value = UInt32(index)
    for _ in 0..<8 {
        value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1
    }
    return value
}
