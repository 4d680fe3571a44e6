import Foundation

/// A JSONL output file written through a large buffer, so each line costs a memory copy
/// rather than a system call.
struct JSONLinesFile {
    private let url: URL
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private static let flushThreshold = 1 << 20

    init(url: URL) throws(SimulationError) {
        self.url = url
        guard FileManager.default.createFile(atPath: url.path, contents: nil),
              let handle = FileHandle(forWritingAtPath: url.path)
        else {
            throw SimulationError(code: .fileOutput, message: "cannot create file \(url.path)")
        }
        self.handle = handle
        buffer.reserveCapacity(Self.flushThreshold + 4096)
    }

    mutating func append(_ line: ScheduledLine.Bytes) throws(SimulationError) {
        switch line {
        case .text(let text): buffer.append(contentsOf: text.utf8)
        case .raw(let bytes): buffer.append(contentsOf: bytes)
        }
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= Self.flushThreshold { try flush() }
    }

    mutating func flush() throws(SimulationError) {
        guard !buffer.isEmpty else { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw SimulationError(code: .fileOutput, message: "cannot write \(url.path): \(error)")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func close() {
        try? handle.close()
    }
}
