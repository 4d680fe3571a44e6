import Crypto
import Foundation

/// What a dashboard request may see.
public enum DashboardAccess: Equatable, Sendable {
    case `operator`
    case leader(community: String)
    case denied
}

/// Decides dashboard requests before any lookup: a signed link in the query (`LinkSigner`), or for
/// operators `Authorization: Bearer <token>` with the token from `--operator-token-file`.
public struct AccessPolicy: Sendable {
    private let signer: LinkSigner
    private let operatorTokenDigest: [UInt8]?

    /// `operatorToken` nil: no bearer token is accepted.
    public init(signer: LinkSigner, operatorToken: [UInt8]?) {
        self.signer = signer
        operatorTokenDigest = operatorToken.map { Array(SHA256.hash(data: $0)) }
    }

    /// The access `path` (as requested, still percent-encoded) gets with `query` and the
    /// `Authorization` header. A request that sends the header is judged by it alone, so a wrong
    /// token is denied even beside a valid link.
    public func access(path: String, query: [URLQueryItem], authorization: String?, now: Date) -> DashboardAccess {
        if let authorization {
            return DashboardResource(path: path) != nil && isOperatorToken(authorization) ? .operator : .denied
        }
        switch signer.verify(path: path, query: query, now: now) {
        case .operator: return .operator
        case .leader(let community): return .leader(community: community)
        case nil: return .denied
        }
    }

    /// The one response to every `.denied` request, whatever was wrong and whether or not the
    /// community or user exists, so that it reveals neither.
    public static func forbidden() -> DashboardResponse {
        DashboardResponse(status: 403, headers: ["Content-Type": "text/plain; charset=utf-8"],
                          body: Array("forbidden: this link or token does not open this page, or it has expired\n".utf8))
    }

    /// Digests, not tokens, are compared: equal lengths, and no prefix of the token to guess at.
    private func isOperatorToken(_ authorization: String) -> Bool {
        // The scheme is case-insensitive (RFC 9110).
        guard let operatorTokenDigest, authorization.prefix(7).lowercased() == "bearer " else { return false }
        let token = authorization.dropFirst(7)
        return ConstantTime.equal(Array(SHA256.hash(data: Data(token.utf8))), operatorTokenDigest)
    }
}

/// An HTTP response as plain values, for whichever server serves the dashboard.
public struct DashboardResponse: Equatable, Sendable {
    public let status: Int
    public let headers: [String: String]
    public let body: [UInt8]
}
