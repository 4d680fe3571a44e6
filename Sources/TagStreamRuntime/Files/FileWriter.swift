import Foundation

/// An append-only file written through a buffer; `flush` makes the bytes durable enough for a
/// checkpoint (written to the OS), `sync` also fsyncs. The buffer is written out before it would
/// overflow, so it never grows past its capacity (a replay keeps seven of them). Used from one
/// thread; its state skips the run-time exclusivity checks (see `ReplayJob`).
public final class FileWriter {
    public let path: String
    private let descriptor: Int32
    @exclusivity(unchecked) private var buffer: [UInt8] = []
    private let capacity: Int
    /// Bytes written so far, buffered ones included.
    @exclusivity(unchecked) public private(set) var size: Int64

    /// Opens `path` for appending, first truncating it to `truncateTo` bytes (0 creates it anew).
    public init(path: String, truncateTo: Int64 = 0, capacity: Int = 256 << 10) throws {
        self.path = path
        self.capacity = capacity
        descriptor = open(path, O_WRONLY | O_CREAT, 0o644)
        guard descriptor >= 0 else { throw FileError(path: path, message: String(cString: strerror(errno))) }
        guard ftruncate(descriptor, off_t(truncateTo)) == 0, lseek(descriptor, off_t(truncateTo), SEEK_SET) >= 0 else {
            let message = String(cString: strerror(errno))
            close(descriptor)
            throw FileError(path: path, message: message)
        }
        size = truncateTo
        buffer.reserveCapacity(capacity)
    }

    deinit {
        try? flush()
        close(descriptor)
    }

    /// Appends `bytes` and a newline.
    public func writeLine<C: Collection>(_ bytes: C) throws where C.Element == UInt8 {
        let count = bytes.count
        if buffer.count + count + 1 > capacity { try flush() }
        buffer.append(contentsOf: bytes)
        buffer.append(0x0A)
        size += Int64(count + 1)
    }

    /// Appends `bytes` as they are.
    public func writeBytes<C: Collection>(_ bytes: C) throws where C.Element == UInt8 {
        let count = bytes.count
        if buffer.count + count > capacity { try flush() }
        buffer.append(contentsOf: bytes)
        size += Int64(count)
    }

    public func flush() throws {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeBytes { write(descriptor, $0.baseAddress! + done, $0.count - done) }
            guard n > 0 else { throw FileError(path: path, message: String(cString: strerror(errno))) }
            done += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    public func sync() throws {
        try flush()
        guard fsync(descriptor) == 0 else { throw FileError(path: path, message: String(cString: strerror(errno))) }
    }
}
