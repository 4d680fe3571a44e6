import ArgumentParser
import Foundation
import TagStreamCore
import TagStreamRuntime

struct LeaderLink: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leader-link",
        abstract: "Print a signed dashboard link: a community leader's page, or with --operator the overview of every community.")

    @Option(help: "The community whose page the link opens.")
    var community: String?

    @Option(help: "The file with the dashboard's secret (at least \(SecretFile.minimumBytes) bytes), as the server reads it.")
    var secretFile: String

    @Option(name: .customLong("base-url"), help: "Where the dashboard is served.")
    var baseURL = "http://127.0.0.1:8080"

    @Option(help: "How long the link opens the page (e.g. 12h, 30d).")
    var expires = TimeSpan(milliseconds: 30 * EventTime.day)

    @Flag(help: "Link to the overview, with operator access to everything.")
    var `operator` = false

    func validate() throws {
        guard (community == nil) == `operator` else { throw ValidationError("Give --community ID or --operator, not both.") }
        if let community, !DashboardPath.isValidSegment(community) { throw ValidationError("'\(community)' is not a community id.") }
        guard expires.milliseconds > 0 else { throw ValidationError("--expires must be positive.") }
        guard baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://") else {
            throw ValidationError("--base-url must start with http:// or https://.")
        }
    }

    func run() throws {
        let signer: LinkSigner
        do {
            signer = try LinkSigner.readSecret(file: secretFile)
        } catch let error as SecretFileError {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
        let scope: DashboardScope = community.map { .leader(community: $0) } ?? .operator
        let expiry = Date().addingTimeInterval(Double(expires.milliseconds) / 1000)
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        print(base + signer.sign(path: scope.pagePath, expires: expiry))
    }
}
