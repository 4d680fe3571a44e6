import Foundation

/// A secret kept in a file: the dashboard's link-signing secret (`--secret-file`) or the
/// operators' bearer token (`--operator-token-file`).
public enum SecretFile {
    /// Shorter secrets are refused: an HMAC-SHA256 key or a token should carry at least 256 bits.
    public static let minimumBytes = 32

    /// The file's bytes without one trailing newline (editors add it). Throws when the file cannot
    /// be read or is shorter than `minimumBytes`; calls `warn` when group or others may read it.
    /// Neither the error nor the warning contains any of the file's bytes.
    public static func read(_ path: String, warn: (String) -> Void = writeToStandardError) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SecretFileError(path: path, problem: "cannot be read (missing, or not readable by this user)")
        }
        var bytes = [UInt8](data)
        if bytes.last == UInt8(ascii: "\n") {
            bytes.removeLast()
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        }
        guard bytes.count >= minimumBytes else {
            throw SecretFileError(path: path, problem: "must hold at least \(minimumBytes) bytes, not counting a final newline")
        }
        if let permissions = try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int,
           permissions & 0o044 != 0 {
            warn("warning: \(path) is readable by group or others; chmod 600 it")
        }
        return bytes
    }

    /// The default `warn`: one line on standard error.
    public static func writeToStandardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// A secret file that cannot be used; names the file and the rule, never its content.
public struct SecretFileError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String
    public var description: String { "\(path): the secret file \(problem)" }
}
