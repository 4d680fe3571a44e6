import Foundation

/// What a signed link opens. A link's scope follows the page path it was signed for.
public enum DashboardScope: Hashable, Sendable {
    /// Every dashboard resource; the link is signed for the overview, `/communities`.
    case `operator`
    /// One community's page, API and event stream; the link is signed for `/communities/{id}`.
    case leader(community: String)

    /// The canonical page path a link for this scope is signed for.
    public var pagePath: String {
        switch self {
        case .operator: DashboardPath.canonical(["communities"])
        case .leader(let community): DashboardPath.canonical(["communities", community])
        }
    }
}

/// A dashboard resource, read off a request path in canonical form.
public enum DashboardResource: Equatable, Sendable {
    /// The overview page `/communities` and its API `/api/v1/communities`.
    case overview
    /// A community's page `/communities/{id}`, its API `/api/v1/communities/{id}` and its event
    /// stream `/api/v1/communities/{id}/events`.
    case community(String)
    /// A user lookup, `/api/v1/users/{id}`. Operators only, leaders never: access is decided
    /// before any lookup, and a user id alone does not say which community the user is in, so a
    /// leader's link would otherwise read (or probe for) users of every community.
    case user(String)

    /// Nil for any path that is not a dashboard resource in canonical form.
    init?(path: String) {
        guard let segments = DashboardPath.segments(path) else { return nil }
        let api = segments.starts(with: ["api", "v1"])
        let rest = api ? Array(segments.dropFirst(2)) : segments
        switch (api, rest.first, rest.count) {
        case (_, "communities"?, 1): self = .overview
        case (_, "communities"?, 2): self = .community(rest[1])
        case (true, "communities"?, 3) where rest[2] == "events": self = .community(rest[1])
        case (true, "users"?, 2): self = .user(rest[1])
        default: return nil
        }
    }

    /// The scopes whose links open this resource, narrowest first: API and event paths map back
    /// to the page whose link opens them.
    var openedBy: [DashboardScope] {
        switch self {
        case .overview, .user: [.operator]
        case .community(let id): [.leader(community: id), .operator]
        }
    }
}

/// The one spelling of a dashboard path that links are signed for and requests must use: each
/// segment percent-decoded once and encoded again with only unreserved characters left as they
/// are (uppercase hex), no empty segment (double or trailing slash), no `.` or `..`, exact case.
/// Any other spelling of the same place is refused rather than normalised, so that a link never
/// opens more than the one path it was signed for.
public enum DashboardPath {
    /// Whether `segment` (decoded) can be part of a path: not empty, `.` or `..`.
    public static func isValidSegment(_ segment: String) -> Bool {
        !segment.isEmpty && segment != "." && segment != ".."
    }

    /// The canonical path of decoded `segments`.
    static func canonical(_ segments: [String]) -> String {
        "/" + segments.map { $0.addingPercentEncoding(withAllowedCharacters: unreserved) ?? $0 }.joined(separator: "/")
    }

    /// The decoded segments of `path`, or nil unless `path` is canonical.
    static func segments(_ path: String) -> [String]? {
        guard path.hasPrefix("/") else { return nil }
        var decoded: [String] = []
        for raw in path.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            guard let segment = raw.removingPercentEncoding, isValidSegment(segment) else { return nil }
            decoded.append(segment)
        }
        return canonical(decoded) == path ? decoded : nil
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
