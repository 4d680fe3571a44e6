import Foundation
import Hummingbird

/// The dashboard's pages: `/communities/{id}` (a leader's), `/communities` (the operators'
/// overview) and the event stream that keeps a leader's page current. A page is a shell that
/// `dashboard.js` fills from the API with the same link, so that it shows exactly the API's
/// figures; nothing comes from elsewhere, and the page works offline.
struct DashboardPages: Sendable {
    let routes: DashboardRoutes
    /// How often the stream looks for a newer dashboard, and how long it may stay silent.
    var checkEvery: Duration = .seconds(1)
    var pingEvery: Duration = .seconds(15)
    /// A stream ends after this; the browser's EventSource opens a new one (with a link still valid).
    var streamFor: Duration = .seconds(300)

    func register(on router: Router<BasicRequestContext>) {
        for path in ["communities", "communities/:id"] {
            router.get(RouterPath(path)) { request, _ in
                guard let resource = routes.allowed(request) else { return AccessPolicy.forbidden().http }
                if let elsewhere = await routes.redirect(request, for: resource) { return elsewhere.http }
                let page: String
                switch resource {
                case .community(let id): page = Self.shell(page: "community", community: id)
                default: page = Self.shell(page: "overview", community: nil)
                }
                return DashboardResponse(status: 200, headers: ["Content-Type": "text/html; charset=utf-8"], body: Array(page.utf8)).http
            }
        }
        router.get("api/v1/communities/:id/events") { request, _ in
            guard case .community(let id)? = routes.allowed(request) else { return AccessPolicy.forbidden().http }
            if let elsewhere = await routes.redirect(request, for: .community(id)) { return elsewhere.http }
            return stream(community: id)
        }
        for (name, type, bytes) in [("dashboard.js", "text/javascript; charset=utf-8", PackageResources.dashboard_js),
                                    ("dashboard.css", "text/css; charset=utf-8", PackageResources.dashboard_css)] {
            router.get(RouterPath("assets/\(name)")) { _, _ in DashboardResponse(status: 200, headers: ["Content-Type": type], body: bytes).http }
        }
    }

    /// The page before the script fills it; `lang` is the script's to choose (`?lang=en`).
    static func shell(page: String, community: String?) -> String {
        let attributes = community.map { " data-community=\"\(escaped($0))\"" } ?? ""
        return """
        <!doctype html>
        <html lang="zh">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>TagStream</title>
        <link rel="stylesheet" href="/assets/dashboard.css">
        <script src="/assets/dashboard.js" defer></script>
        </head>
        <body data-page="\(page)"\(attributes)>
        <main id="app" aria-live="polite"></main>
        </body>
        </html>

        """
    }

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Server-sent events: `update` with the community's document whenever it changes, a comment
    /// now and then so that proxies keep the connection, until the run stops, the community moves
    /// to another instance, or `streamFor` passes.
    private func stream(community id: String) -> Response {
        let source = routes.source, checkEvery = self.checkEvery, pingEvery = self.pingEvery, streamFor = self.streamFor
        var headers = DashboardResponse.securityHeaders
        headers["Content-Type"] = "text/event-stream"
        let body = ResponseBody { writer in
            let clock = ContinuousClock(), end = clock.now + streamFor
            var sent: [UInt8]?, lastWrite = clock.now
            while clock.now < end, !source.isClosed, !Task.isCancelled, await source.locate(.community(id)) == .here {
                if let part = await source.dashboard(), let document = DashboardJSON.community(id, in: part), document != sent {
                    try await writer.write(ByteBuffer(bytes: Array("event: update\ndata: ".utf8) + document + Array("\n\n".utf8)))
                    (sent, lastWrite) = (document, clock.now)
                } else if clock.now - lastWrite >= pingEvery {
                    try await writer.write(ByteBuffer(string: ": ping\n\n"))
                    lastWrite = clock.now
                }
                try? await Task.sleep(for: checkEvery)
            }
            try await writer.finish(nil)
        }
        var fields = DashboardResponse(status: 200, headers: headers, body: []).http.headers
        fields[.contentLength] = nil
        return Response(status: .ok, headers: fields, body: body)
    }
}
