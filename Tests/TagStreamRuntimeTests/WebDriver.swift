import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import TestServers

/// A headless Chromium driven over W3C WebDriver (HTTP + JSON) through a `chromedriver` of its own:
/// how tests read what a page shows as it changes. `deinit` (or the end of `withSession`) kills
/// whatever is left; both keep their temporary files in a directory removed with them.
final class WebDriver {
    /// An element of the current page, as the driver refers to it.
    struct ElementID: Hashable, Sendable {
        let rawValue: String
    }

    /// An error the driver answered a command with (`{"value":{"error":…,"message":…}}`).
    struct CommandError: Error, CustomStringConvertible {
        let command: String
        let error: String
        let message: String
        // chromedriver's messages start with the error already.
        var description: String { "WebDriver \(command): " + (message.hasPrefix(error) ? message : "\(error): \(message)") }
    }

    static let chromium = "/usr/bin/chromium"
    static let chromedriver = "/usr/bin/chromedriver"
    static let browserArguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1800"]
    /// The key of an element reference in WebDriver's JSON.
    private static let elementKey = "element-6066-11e4-a52e-4f735466cecf"

    let port: Int
    private let directory: URL
    private let driver = Process()
    private var sessionID: String?
    /// Chromium's main process: it outlives a killed `chromedriver`, its other processes do not outlive it.
    private var browserProcessID: pid_t?

    /// Starts `chromedriver` on a free loopback port and waits until it is ready for a session.
    init() async throws {
        for (binary, package) in [(Self.chromium, "chromium"), (Self.chromedriver, "chromium-driver")]
        where !FileManager.default.isExecutableFile(atPath: binary) {
            throw TestFailure("\(binary) is not installed: run scripts/install-deps.sh (Debian package \(package))")
        }
        port = try LoopbackPort.free()
        // A short name: Chromium's socket in it must fit a Unix socket path (108 bytes).
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tagstream-chromium-\(port)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        driver.executableURL = URL(fileURLWithPath: Self.chromedriver)
        driver.arguments = ["--port=\(port)"]
        // Chromium's profile and sockets go to the driver's temporary directory, so they go with it.
        driver.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": directory.path]) { $1 }
        driver.standardOutput = FileHandle.nullDevice
        driver.standardError = FileHandle.nullDevice
        try driver.run()
        let deadline = Date().addingTimeInterval(10)
        var last = "none"
        while true {
            do {
                let status = try await send("GET", "/status")
                if (status as? [String: Any])?["ready"] as? Bool == true { break }
                last = "\(status)"
            } catch {
                last = "\(error)"
            }
            guard Date() < deadline, driver.isRunning else {
                throw TestFailure("chromedriver on port \(port) did not become ready; last status: \(last)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    deinit {
        stop()
    }

    /// Starts a driver and a browser session, runs `body` with them and stops both, whatever `body` does.
    static func withSession<Result>(_ body: (WebDriver) async throws -> Result) async throws -> Result {
        let browser = try await WebDriver()
        defer { browser.stop() }  // after an error, this kills Chromium too
        try await browser.newSession()
        let result = try await body(browser)
        try await browser.deleteSession()
        return result
    }

    /// Opens the browser: headless Chromium with a 1280×1800 window. A page load or a script that
    /// takes longer than 20 s fails its command (WebDriver's defaults are 300 s and 30 s).
    func newSession() async throws {
        guard sessionID == nil else { throw TestFailure("a WebDriver session is open already") }
        let capabilities: [String: Any] = [
            "goog:chromeOptions": ["binary": Self.chromium, "args": Self.browserArguments],
            "timeouts": ["pageLoad": 20_000, "script": 20_000],
        ]
        let value = try await send("POST", "/session", ["capabilities": ["alwaysMatch": capabilities]])
        guard let session = value as? [String: Any], let id = session["sessionId"] as? String else {
            throw TestFailure("no session id in chromedriver's answer: \(value)")
        }
        sessionID = id
        browserProcessID = ((session["capabilities"] as? [String: Any])?["goog:processID"] as? Int).map { pid_t($0) }
    }

    /// Closes the browser, which quits Chromium and removes its profile.
    func deleteSession() async throws {
        guard let sessionID else { return }
        try await send("DELETE", "/session/\(sessionID)")
        self.sessionID = nil
        browserProcessID = nil
    }

    /// Loads `url` and waits until the page has loaded.
    func navigate(to url: String) async throws {
        _ = try await sessionCommand("POST", "/url", ["url": url], returning: Any.self)
    }

    var currentURL: String {
        get async throws { try await sessionCommand("GET", "/url", returning: String.self) }
    }

    func findElements(css selector: String) async throws -> [ElementID] {
        let references = try await sessionCommand("POST", "/elements", ["using": "css selector", "value": selector],
                                                  returning: [[String: Any]].self)
        return try references.map { reference in
            guard let id = reference[Self.elementKey] as? String else { throw TestFailure("not an element reference: \(reference)") }
            return ElementID(rawValue: id)
        }
    }

    /// The element's attribute `name`; nil when it has none.
    func attribute(_ name: String, of element: ElementID) async throws -> String? {
        try await sessionCommand("GET", "/element/\(element.rawValue)/attribute/\(name)", returning: Any.self) as? String
    }

    /// The element's rendered text.
    func text(of element: ElementID) async throws -> String {
        try await sessionCommand("GET", "/element/\(element.rawValue)/text", returning: String.self)
    }

    /// Runs `script` as the body of a function called with `args`; returns what it returns (nil for `undefined` or `null`).
    @discardableResult
    func executeScript(_ script: String, args: [Any] = []) async throws -> Any? {
        let value = try await sessionCommand("POST", "/execute/sync", ["script": script, "args": args], returning: Any.self)
        return value is NSNull ? nil : value
    }

    /// The page's viewport as a PNG image.
    func screenshot() async throws -> Data {
        let base64 = try await sessionCommand("GET", "/screenshot", returning: String.self)
        guard let png = Data(base64Encoded: base64) else { throw TestFailure("the screenshot is not base64") }
        return png
    }

    /// Sends a command of the open session and returns its value as a `Value`.
    private func sessionCommand<Value>(_ method: String, _ path: String, _ body: [String: Any]? = nil,
                                       returning: Value.Type) async throws -> Value {
        guard let sessionID else { throw TestFailure("no WebDriver session: call newSession() first") }
        let value = try await send(method, "/session/\(sessionID)\(path)", body)
        guard let typed = value as? Value else { throw TestFailure("WebDriver \(method) \(path) answered \(value), not a \(Value.self)") }
        return typed
    }

    /// Sends a command to `chromedriver` and returns the `value` of its answer; an error answer is thrown.
    @discardableResult
    private func send(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any {
        let json = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let answer = try await Self.exchange(port: port, method: method, path: path, body: json)
        let value = (try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])?["value"] ?? NSNull()
        if answer.status >= 400 {
            let error = value as? [String: Any]
            throw CommandError(command: "\(method) \(path)", error: error?["error"] as? String ?? "HTTP \(answer.status)",
                               message: error?["message"] as? String ?? String(decoding: answer.body, as: UTF8.self))
        }
        return value
    }

    /// One HTTP/1.1 request over a connection of its own. (Not URLSession: on Linux it rejects
    /// chromedriver's answers, whose headers have no space after the colon; swift-corelibs-foundation#4965.)
    private static func exchange(port: Int, method: String, path: String, body: Data?) async throws -> (status: Int, body: Data) {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
            }
        }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
            head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
            head.headers.add(name: "Content-Length", value: "\(body?.count ?? 0)")
            if body != nil { head.headers.add(name: "Content-Type", value: "application/json; charset=utf-8") }
            try await outbound.write(.head(head))
            if let body { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            try await outbound.write(.end(nil))
            var status = 0
            var answer = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let head): status = Int(head.status.code)
                case .body(var chunk): answer.writeBuffer(&chunk)
                case .end: return (status, Data(answer.readableBytesView))
                }
            }
            throw TestFailure("chromedriver closed the connection before answering \(method) \(path)")
        }
    }

    /// Kills Chromium, if a session is still open, and `chromedriver`, and removes their files.
    /// (SIGKILL: a child of a test runner inherits its blocked signals.)
    private func stop() {
        if let browserProcessID { kill(browserProcessID, SIGKILL) }
        browserProcessID = nil
        sessionID = nil
        if driver.isRunning {
            kill(driver.processIdentifier, SIGKILL)
            driver.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
