import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import TestServers
import Testing

/// The browser plumbing of the dashboard tests, on its own: headless Chromium, over WebDriver, reads
/// a page served over HTTP that changes itself through server-sent events, without a reload.
@Suite struct WebDriverTests {
    @Test(.timeLimit(.minutes(1))) func readsAPageThatServerSentEventsChangeWithoutAReload() async throws {
        let port = try LoopbackPort.free()
        let server = ServiceGroup(configuration: ServiceGroupConfiguration(services: [TickingPage.application(port: port)],
                                                                           logger: Logger(label: "test")))
        let serving = Task { try await server.run() }
        defer { serving.cancel() }
        _ = try await HTTP.waitForResponse(port: port, path: "/") { $0.status == 200 }

        let pictures = try Fixtures.temporaryDirectory("webdriver")
        try await WebDriver.withSession { browser in
            let address = "http://127.0.0.1:\(port)/"
            try await browser.navigate(to: address)
            #expect(try await browser.currentURL == address)
            let tick = try #require(try await browser.findElements(css: "#tick").first)
            let firstText = try await browser.text(of: tick)
            #expect(try await browser.attribute("data-version", of: tick) != nil)

            try await browser.executeScript("window.__noReload = arguments[0]", args: [1])
            let laterText = try await Self.text(of: tick, in: browser, changedFrom: firstText, within: .seconds(10))
            let tickNumber = try #require(laterText.firstMatch(of: /^tick (\d+)$/).flatMap { Int($0.1) }, "text: \(laterText)")
            // A later tick may land between the two reads: the version only grows.
            let version = try await browser.attribute("data-version", of: tick).flatMap { Int($0) }
            #expect(version.map { $0 >= tickNumber } == true, "data-version \(String(describing: version)) after \(laterText)")
            #expect(try await browser.executeScript("return window.__noReload") as? Int == 1, "the page was reloaded")

            let png = try await browser.screenshot()
            try png.write(to: pictures.appendingPathComponent("ticking-page.png"))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "not a PNG: \(png.prefix(8).map { $0 })")
        }
        await server.triggerGracefulShutdown()
        try await serving.value
    }

    /// The element's text once it is no longer `old`; throws when that takes longer than `timeout`.
    static func text(of element: WebDriver.ElementID, in browser: WebDriver, changedFrom old: String,
                     within timeout: Duration) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let text = try await browser.text(of: element)
            if text != old { return text }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("the text stayed \"\(old)\" for \(timeout): no server-sent event changed the page")
    }
}

/// A page whose `#tick` shows the latest of the ticks `/events` sends every 500 ms, its number in
/// `data-version`; `/app.js` (a script of its own, as the dashboard's are) opens the stream.
private enum TickingPage {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head><meta charset="utf-8"><title>Ticks</title><script src="/app.js" defer></script></head>
        <body><h1>Ticks 刻度</h1><p id="tick" data-version="0">waiting</p></body>
        </html>
        """
    static let script = """
        const tick = document.getElementById("tick");
        new EventSource("/events").onmessage = (event) => {
          tick.textContent = event.data;
          tick.dataset.version = event.lastEventId;
        };
        """

    static func application(port: Int) -> some Service {
        let router = Router()
        router.get("/") { _, _ in text(html, type: "text/html; charset=utf-8") }
        router.get("app.js") { _, _ in text(script, type: "text/javascript; charset=utf-8") }
        router.get("events") { _, _ in
            // Until the browser goes away: a write to a closed connection throws.
            Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: ResponseBody { writer in
                for tick in 1... {
                    try await writer.write(ByteBuffer(string: "id: \(tick)\ndata: tick \(tick)\n\n"))
                    try await Task.sleep(for: .milliseconds(500))
                }
            })
        }
        return Application(router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port)),
                           logger: Logger(label: "test"))
    }

    private static func text(_ body: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
