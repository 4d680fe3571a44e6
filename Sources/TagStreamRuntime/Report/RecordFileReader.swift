import Foundation

/// A record file that cannot be read as the report expects: which file, which line and field, and why.
public struct RecordFileError: Error, CustomStringConvertible {
    public let file: String
    /// 1-based; 0 when the problem is the file as a whole.
    public let line: Int
    public let field: String?
    public let message: String

    public var description: String {
        var text = file
        if line > 0 { text += ":\(line)" }
        if let field { text += ": field '\(field)'" }
        return text + ": " + message
    }
}

/// Reads the JSONL record files a replay writes, one `Decodable` record per non-blank line.
enum RecordFileReader {
    /// Calls `body` with each record of `path` and its line number. A line that is not the record
    /// `R` describes (bad JSON, a field missing or of the wrong type) throws `RecordFileError`.
    static func forEach<R: Decodable>(_ type: R.Type, in path: String, progress: (Int) -> Void = { _ in },
                                      _ body: (R, Int) throws -> Void) throws {
        let reader: LineReader
        do {
            reader = try LineReader(path: path)
        } catch let error as FileError {
            throw RecordFileError(file: path, line: 0, field: nil, message: error.message)
        }
        let decoder = JSONDecoder()
        while let line = try reader.nextLine() {
            guard line.contains(where: { $0 > 0x20 }) else { continue }
            let record: R
            do {
                record = try decoder.decode(R.self, from: Data(line))
            } catch let error as DecodingError {
                throw describe(error, file: path, line: reader.lineNumber)
            }
            try body(record, reader.lineNumber)
            if reader.lineNumber % 65_536 == 0 { progress(reader.lineNumber) }
        }
    }

    /// Every record of `path`, in file order.
    static func read<R: Decodable>(_ type: R.Type, from path: String, progress: (Int) -> Void = { _ in }) throws -> [R] {
        var records: [R] = []
        try forEach(type, in: path, progress: progress) { record, _ in records.append(record) }
        return records
    }

    private static func describe(_ error: DecodingError, file: String, line: Int) -> RecordFileError {
        func field(_ path: [CodingKey]) -> String? {
            path.isEmpty ? nil : path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, context):
            return RecordFileError(file: file, line: line, field: field(context.codingPath + [key]), message: "missing")
        case let .valueNotFound(type, context):
            return RecordFileError(file: file, line: line, field: field(context.codingPath), message: "is null, expected \(describe(type))")
        case let .typeMismatch(type, context):
            return RecordFileError(file: file, line: line, field: field(context.codingPath), message: "expected \(describe(type))")
        case let .dataCorrupted(context):
            let message = context.codingPath.isEmpty ? "not a JSON object: \(context.debugDescription)" : context.debugDescription
            return RecordFileError(file: file, line: line, field: field(context.codingPath), message: message)
        @unknown default:
            return RecordFileError(file: file, line: line, field: nil, message: "\(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        default: "\(type)"
        }
    }
}
