import CZlib
import Foundation

/// Why a file could not be read; carries the path and the system's words.
public struct FileError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
}

/// Reads a plain or gzip-compressed JSONL file line by line, in large chunks, without a copy per line.
/// Used from one thread; its state skips the run-time exclusivity checks (see `ReplayJob`).
public final class LineReader {
    public let path: String
    /// 1-based number of the last line handed out.
    @exclusivity(unchecked) public private(set) var lineNumber = 0
    /// Bytes of (decompressed) input consumed so far, up to the end of the last line handed out.
    @exclusivity(unchecked) public private(set) var offset: Int64 = 0
    private var file: gzFile?
    /// Memory of its own rather than an array: an array read from a class property is retained
    /// and released around every use, twice per line.
    @exclusivity(unchecked) private var buffer: UnsafeMutableBufferPointer<UInt8>
    @exclusivity(unchecked) private var start = 0
    @exclusivity(unchecked) private var end = 0
    @exclusivity(unchecked) private var exhausted = false

    /// Opens `path`; gzip files are recognised by their content, not their name. A chunk of 256 KB
    /// stays in the core's cache from the read that fills it to the decoding of its lines (4 MB
    /// chunks cost 5-10 % more CPU in a replay); a longer line grows the buffer.
    public init(path: String, chunkSize: Int = 1 << 18) throws {
        self.path = path
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw FileError(path: path, message: FileManager.default.fileExists(atPath: path) ? "not readable" : "no such file")
        }
        guard let handle = gzopen(path, "rb") else { throw FileError(path: path, message: "cannot open") }
        buffer = .allocate(capacity: chunkSize)
        gzbuffer(handle, 1 << 17)
        file = handle
    }

    deinit {
        if let file { gzclose(file) }
        buffer.deallocate()
    }

    /// Skips forward to a position reached earlier (for resuming from a checkpoint).
    public func skip(toOffset target: Int64, lineNumber line: Int) throws {
        while offset < target {
            guard try nextLine() != nil else {
                throw FileError(path: path, message: "is shorter than the checkpoint says (\(target) bytes)")
            }
        }
        guard offset == target, lineNumber == line else {
            throw FileError(path: path, message: "does not match the checkpoint (byte \(target), line \(line)): was the file changed?")
        }
    }

    /// The next line (without its newline), valid until the next call; nil at the end of the file.
    /// A buffer rather than a closure's argument: the closure's captures were retained and
    /// released for every line.
    public func nextLine() throws -> UnsafeBufferPointer<UInt8>? {
        while true {
            let base = buffer.baseAddress!
            if let found = memchr(base + start, 0x0A, end - start) {
                let newline = UnsafeRawPointer(found) - UnsafeRawPointer(base)
                let lineStart = start
                start = newline + 1
                lineNumber += 1
                offset += Int64(newline + 1 - lineStart)
                return UnsafeBufferPointer(rebasing: buffer[lineStart..<newline])
            }
            if exhausted {
                guard start < end else { return nil }
                let lineStart = start
                start = end
                lineNumber += 1
                offset += Int64(end - lineStart)
                return UnsafeBufferPointer(rebasing: buffer[lineStart..<end])
            }
            try refill()
        }
    }

    private func refill() throws {
        if start > 0 {
            _ = memmove(buffer.baseAddress!, buffer.baseAddress! + start, end - start)
            end -= start
            start = 0
        }
        if end == buffer.count {  // a line longer than the buffer: double it
            let larger = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: buffer.count * 2)
            _ = larger.initialize(fromContentsOf: buffer)
            buffer.deallocate()
            buffer = larger
        }
        let read = gzread(file, buffer.baseAddress! + end, UInt32(buffer.count - end))
        if read < 0 {
            var code: Int32 = 0
            let message = gzerror(file, &code).map { String(cString: $0) } ?? "read error"
            throw FileError(path: path, message: message)
        }
        if read == 0 { exhausted = true }
        end += Int(read)
    }
}
