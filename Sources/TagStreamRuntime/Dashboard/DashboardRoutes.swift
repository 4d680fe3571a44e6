import Foundation
import HTTPTypes
import Hummingbird

/// The dashboard on the operations endpoint: the JSON API (`GET /api/v1/users/{id}`,
/// `/api/v1/communities/{id}` and `/api/v1/communities`) and the pages (`DashboardPages`).
/// Access is decided first, before any lookup, with one 403 for every denial; then a request
/// about what another instance answers (a run split by partition) is redirected there (307), and
/// the engine answers the rest through `source` (503 with `Retry-After` when it cannot in time).
/// Every response carries `DashboardResponse.securityHeaders`.
public struct DashboardRoutes: Sendable {
    public let source: any DashboardSource
    let access: AccessPolicy

    public init(source: any DashboardSource, access: AccessPolicy) {
        self.source = source
        self.access = access
    }

    func register(on router: Router<BasicRequestContext>) {
        for path in ["api/v1/users/:id", "api/v1/communities/:id", "api/v1/communities"] {
            router.get(RouterPath(path)) { request, _ in await respond(to: request).http }
        }
        DashboardPages(routes: self).register(on: router)
    }

    /// What the request may see: the resource its path names, if its link or token opens it.
    func allowed(_ request: Request) -> DashboardResource? {
        let query = request.uri.queryParameters.map { URLQueryItem(name: String($0.key), value: String($0.value)) }
        let path = request.uri.path
        guard access.access(path: path, query: query, authorization: request.headers[.authorization], now: Date()) != .denied else { return nil }
        return DashboardResource(path: path)
    }

    /// Nil when this instance answers for `resource`; else a redirect to the one that does, with
    /// the same path and query (links and tokens open every instance alike), or 503.
    func redirect(_ request: Request, for resource: DashboardResource) async -> DashboardResponse? {
        switch await source.locate(resource) {
        case .here: return nil
        case .unavailable: return .busy
        case .elsewhere(let base):
            let target = (base.hasSuffix("/") ? String(base.dropLast()) : base) + request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            return DashboardResponse(status: 307, headers: ["Location": target], body: [])
        }
    }

    /// The answer to a GET of a dashboard API path.
    func respond(to request: Request) async -> DashboardResponse {
        guard let resource = allowed(request) else { return AccessPolicy.forbidden() }
        if let elsewhere = await redirect(request, for: resource) { return elsewhere }
        switch resource {
        case .user(let id):
            guard let answer = await source.user(id) else { return .busy }
            guard let view = answer else { return .notFound }
            return .json(DashboardJSON.user(view))
        case .community(let id):
            guard let part = await source.dashboard() else { return .busy }
            return DashboardJSON.community(id, in: part).map(DashboardResponse.json) ?? .notFound
        case .overview:
            guard let part = await source.dashboard() else { return .busy }
            return .json(DashboardJSON.overview(part))
        }
    }
}

extension DashboardResponse {
    /// Sent with every dashboard response: pages of personal data are never cached, framed, or
    /// given away in a Referer (the links carry their signature), and run no script from elsewhere.
    static let securityHeaders = [
        "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    ]

    static func json(_ body: [UInt8]) -> DashboardResponse {
        DashboardResponse(status: 200, headers: ["Content-Type": "application/json"], body: body)
    }

    static let notFound = DashboardResponse(status: 404, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array("not found\n".utf8))

    /// The engine did not answer in time (restoring, waiting for the other shards, or stopping),
    /// or the task that answers is moving between instances.
    static let busy = DashboardResponse(status: 503, headers: ["Content-Type": "text/plain; charset=utf-8", "Retry-After": "1"],
                                        body: Array("the engine is busy; try again in a second\n".utf8))

    /// As Hummingbird sends it, with the security headers.
    var http: Response {
        var fields = HTTPFields()
        for (name, value) in headers.merging(Self.securityHeaders, uniquingKeysWith: { mine, _ in mine }).sorted(by: { $0.key < $1.key }) {
            fields[HTTPField.Name(name)!] = value
        }
        return Response(status: .init(code: status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
