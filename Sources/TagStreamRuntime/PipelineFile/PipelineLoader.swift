import Foundation
import TagStreamCore
import Yams

/// One mistake in a pipeline file, located as `file:line:column`.
public struct PipelineIssue: Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int
    public let message: String
    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// Every mistake found in a pipeline file.
public struct PipelineError: Error, CustomStringConvertible {
    public let issues: [PipelineIssue]
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}

/// Reads a pipeline YAML file, validates it and compiles it into a `Pipeline`.
public enum PipelineLoader {
    /// Loads and validates `path`; throws `PipelineError` listing every mistake.
    public static func load(path: String) throws -> Pipeline {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw PipelineError(issues: [PipelineIssue(file: path, line: 1, column: 1, message: "cannot read the file: \(error.localizedDescription)")])
        }
        return try parse(yaml: text, file: path)
    }

    /// Validates YAML text; `file` names it in messages.
    public static func parse(yaml: String, file: String) throws -> Pipeline {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw PipelineError(issues: [syntaxIssue(error, file: file)])
        }
        var checker = PipelineChecker(file: file)
        guard let definition = checker.definition(root) else { throw PipelineError(issues: checker.issues) }
        // Names and types are checked even after mistakes of shape, so one run reports them all.
        switch Pipeline.compile(definition) {
        case .success(let pipeline):
            guard checker.issues.isEmpty else { throw PipelineError(issues: checker.issues) }
            return pipeline
        case .failure(let errors):
            throw PipelineError(issues: checker.issues + errors.issues.map {
                PipelineIssue(file: file, line: $0.line, column: $0.column, message: $0.message)
            })
        }
    }

    static func syntaxIssue(_ error: YamlError, file: String) -> PipelineIssue {
        switch error {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return PipelineIssue(file: file, line: mark.line, column: mark.column, message: "YAML syntax: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            return PipelineIssue(file: file, line: context.mark.line, column: context.mark.column,
                                 message: "duplicate key \(duplicates.joined(separator: ", "))")
        default:
            return PipelineIssue(file: file, line: 1, column: 1, message: "YAML: \(error)")
        }
    }
}
