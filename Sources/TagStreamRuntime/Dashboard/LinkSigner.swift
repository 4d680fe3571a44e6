import Crypto
import Foundation

/// Signs and checks dashboard links: a canonical page path with `?exp=<epoch seconds>&sig=…`,
/// where `sig` is base64url (no padding) of HMAC-SHA256(secret, "tagstream-link-v1\n" + path +
/// "\n" + exp). Rotating the secret revokes every link.
public struct LinkSigner: Sendable {
    private let key: SymmetricKey

    /// Signs with `secret`, which should hold at least `SecretFile.minimumBytes` bytes.
    public init(secret: some ContiguousBytes) {
        key = SymmetricKey(data: secret)
    }

    /// The signer for the secret in `file`, under `SecretFile.read`'s rules.
    public static func readSecret(file: String, warn: (String) -> Void = SecretFile.writeToStandardError) throws -> LinkSigner {
        LinkSigner(secret: try SecretFile.read(file, warn: warn))
    }

    /// `path` with the query that opens it until `expires`. `path` must be canonical, as
    /// `DashboardScope.pagePath` gives it: a link for any other spelling never verifies.
    public func sign(path: String, expires: Date) -> String {
        let exp = String(Int64(expires.timeIntervalSince1970.rounded(.down)))
        return "\(path)?exp=\(exp)&sig=\(signature(path: path, exp: exp))"
    }

    /// The scope of the link in `query` when it opens the request `path` at `now`; nil for
    /// anything wrong: a path that is not a canonical dashboard resource, a missing, duplicated or
    /// malformed `exp` or `sig`, an expired link (valid only before `exp`), or a signature for
    /// another path or key. Query items other than `exp` and `sig` are ignored.
    public func verify(path: String, query: [URLQueryItem], now: Date) -> DashboardScope? {
        guard let resource = DashboardResource(path: path),
              // The signature covers `exp` as written, so "+12" or "012" never passes for "12".
              let exp = Self.onlyValue(of: "exp", in: query), let seconds = Int64(exp), now.timeIntervalSince1970 < Double(seconds),
              let sig = Self.onlyValue(of: "sig", in: query) else { return nil }
        return resource.openedBy.first { scope in
            ConstantTime.equal(signature(path: scope.pagePath, exp: exp).utf8, sig.utf8)
        }
    }

    private func signature(path: String, exp: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data("tagstream-link-v1\n\(path)\n\(exp)".utf8), using: key)
        return Data(code).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The value of `name` when the query has it exactly once.
    private static func onlyValue(of name: String, in query: [URLQueryItem]) -> String? {
        let matches = query.filter { $0.name == name }
        return matches.count == 1 ? matches[0].value : nil
    }
}
