import CZlib

/// CRC-32 (IEEE 802.3, zlib's): the checksum of checkpoint chunks, and the hash of librdkafka's
/// default partitioner, which places a keyed record in partition `checksum(key) % partitions`.
enum CRC32 {
    static func checksum<C: Collection<UInt8>>(_ bytes: C) -> UInt32 {
        bytes.withContiguousStorageIfAvailable { buffer in
            UInt32(CZlib.crc32(0, buffer.baseAddress, UInt32(buffer.count)))
        } ?? checksum(Array(bytes))
    }
}
