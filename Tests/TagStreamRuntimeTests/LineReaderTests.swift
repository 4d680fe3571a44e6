import Foundation
import Testing
@testable import TagStreamRuntime

/// The replay's line reader: exact lines, numbers and offsets whatever the chunk size.
struct LineReaderTests {
    /// Every line with the line number and the offset after it, read with `chunkSize`.
    private func lines(of path: String, chunkSize: Int) throws -> [(text: String, line: Int, offset: Int64)] {
        let reader = try LineReader(path: path, chunkSize: chunkSize)
        var lines: [(String, Int, Int64)] = []
        while let text = try reader.nextLine().map({ String(decoding: $0, as: UTF8.self) }) {
            lines.append((text, reader.lineNumber, reader.offset))
        }
        return lines
    }

    @Test func linesLongerThanTheChunkGrowTheBuffer() throws {
        let dir = try Fixtures.temporaryDirectory("line-reader")
        let long = String(repeating: "x", count: 100), longer = String(repeating: "é", count: 150)
        let content = "a\n\n\(long)\nbc\n\(longer)\nlast without newline"
        let path = dir.appendingPathComponent("lines.jsonl").path
        try content.write(toFile: path, atomically: true, encoding: .utf8)
        let expected = content.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)

        for chunkSize in [8, 64, 1 << 18] {
            let read = try lines(of: path, chunkSize: chunkSize)
            #expect(read.map(\.text) == expected, "chunk \(chunkSize)")
            #expect(read.map(\.line) == Array(1...expected.count))
            // The offset after each line counts its bytes and its newline; the last line has none.
            var offset: Int64 = 0
            for (i, line) in read.enumerated() {
                offset += Int64(line.text.utf8.count) + (i < read.count - 1 ? 1 : 0)
                #expect(line.offset == offset)
            }
        }
    }
}
