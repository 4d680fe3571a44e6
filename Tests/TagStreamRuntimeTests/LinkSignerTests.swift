import Foundation
import Testing
@testable import TagStreamRuntime

/// Signed dashboard links, the access they give, and the secrets behind them.
@Suite struct LinkSignerTests {
    let signer = LinkSigner(secret: Array("0123456789abcdef0123456789abcdef".utf8))
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    var expiry: Date { now.addingTimeInterval(3600) }

    /// The path and query items of a signed link.
    func parts(of link: String) throws -> (path: String, query: [URLQueryItem]) {
        let components = try #require(URLComponents(string: link))
        return (components.percentEncodedPath, components.queryItems ?? [])
    }

    /// The scope `link`'s query gives at `path`, at `now`.
    func scope(of link: String, at path: String, by signer: LinkSigner? = nil, now: Date? = nil) throws -> DashboardScope? {
        try (signer ?? self.signer).verify(path: path, query: parts(of: link).query, now: now ?? self.now)
    }

    @Test func aLinkRoundTripsWithItsExpiryAndSignature() throws {
        let link = signer.sign(path: "/communities/c001", expires: expiry)
        #expect(link.wholeMatch(of: /\/communities\/c001\?exp=1800003600&sig=[A-Za-z0-9_-]{43}/) != nil, "\(link)")
        let (path, query) = try parts(of: link)
        #expect(signer.verify(path: path, query: query, now: now) == .leader(community: "c001"))
        let id = "社区 1/b"
        let odd = signer.sign(path: DashboardScope.leader(community: id).pagePath, expires: expiry)
        #expect(try scope(of: odd, at: parts(of: odd).path) == .leader(community: id))
    }

    @Test(arguments: [
        "/communities/c002", "/communities/c00", "/communities/c001/", "/communities//c001", "//communities/c001",
        "/communities/C001", "/Communities/c001", "/communities/c%30%301", "/communities%2Fc001", "/communities/c001%2F",
        "/communities/./c001", "/communities/x/../c001", "/communities/c001/..", "communities/c001", "/communities/c001?",
        "/api/v1/communities/c001/", "/api/v1/Communities/c001", "/api/v1/communities/c002/events", "/api/v2/communities/c001",
        "/communities/c001/events",
    ])
    func anotherSpellingOrPlaceIsDenied(path: String) throws {
        let link = signer.sign(path: "/communities/c001", expires: expiry)
        #expect(try scope(of: link, at: path) == nil)
    }

    @Test func anEncodedIdVerifiesOnlyInItsCanonicalSpelling() throws {
        let path = DashboardScope.leader(community: "a b").pagePath
        #expect(path == "/communities/a%20b")
        let link = signer.sign(path: path, expires: expiry)
        #expect(try scope(of: link, at: "/communities/a%20b") == .leader(community: "a b"))
        for variant in ["/communities/a%2520b", "/communities/a+b", "/communities/a b", "/communities/%61%20b"] {
            #expect(try scope(of: link, at: variant) == nil, "\(variant)")
        }
        let lowercaseHex = signer.sign(path: DashboardScope.leader(community: "a/b").pagePath, expires: expiry)
        #expect(try scope(of: lowercaseHex, at: "/communities/a%2Fb") == .leader(community: "a/b"))
        #expect(try scope(of: lowercaseHex, at: "/communities/a%2fb") == nil)
    }

    @Test func anotherKeyIsDenied() throws {
        let link = signer.sign(path: "/communities/c001", expires: expiry)
        let other = LinkSigner(secret: Array("0123456789abcdef0123456789abcdeF".utf8))
        #expect(try scope(of: link, at: "/communities/c001", by: other) == nil)
    }

    @Test func aLinkOpensUntilJustBeforeItsExpiry() throws {
        let link = signer.sign(path: "/communities/c001", expires: expiry)
        #expect(try scope(of: link, at: "/communities/c001", now: expiry.addingTimeInterval(-0.001)) == .leader(community: "c001"))
        #expect(try scope(of: link, at: "/communities/c001", now: expiry) == nil)
        #expect(try scope(of: link, at: "/communities/c001", now: expiry.addingTimeInterval(1)) == nil)
    }

    @Test func malformedMissingOrDuplicatedExpOrSigIsDenied() throws {
        let (path, query) = try parts(of: signer.sign(path: "/communities/c001", expires: expiry))
        let exp = try #require(query.first { $0.name == "exp" }), sig = try #require(query.first { $0.name == "sig" })
        #expect(signer.verify(path: path, query: [URLQueryItem(name: "lang", value: "en"), sig, exp], now: now) == .leader(community: "c001"))
        let wrong: [[URLQueryItem]] = [
            [], [exp], [sig], [exp, sig, sig], [exp, exp, sig], [exp, sig, URLQueryItem(name: "sig", value: "x")],
            [URLQueryItem(name: "exp", value: nil), sig], [exp, URLQueryItem(name: "sig", value: nil)],
            [URLQueryItem(name: "exp", value: "+1800003600"), sig], [URLQueryItem(name: "exp", value: "01800003600"), sig],
            [URLQueryItem(name: "exp", value: "1800003600.0"), sig], [URLQueryItem(name: "exp", value: "1800007200"), sig],
            [URLQueryItem(name: "exp", value: "99999999999999999999"), sig],
            [exp, URLQueryItem(name: "sig", value: String(sig.value!.dropLast()))],
            [exp, URLQueryItem(name: "sig", value: sig.value! + "A")], [exp, URLQueryItem(name: "sig", value: sig.value! + "=")],
            [exp, URLQueryItem(name: "sig", value: sig.value!.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/"))],
            [exp, URLQueryItem(name: "SIG", value: sig.value)],
        ]
        for query in wrong {
            #expect(signer.verify(path: path, query: query, now: now) == nil, "\(query)")
        }
    }

    @Test func aLeaderLinkOpensItsCommunitysPageApiAndEventsOnly() throws {
        let link = signer.sign(path: "/communities/c001", expires: expiry)
        for path in ["/communities/c001", "/api/v1/communities/c001", "/api/v1/communities/c001/events"] {
            #expect(try scope(of: link, at: path) == .leader(community: "c001"), "\(path)")
        }
        for path in ["/communities", "/api/v1/communities", "/communities/c002", "/api/v1/communities/c002",
                     "/api/v1/users/u1", "/api/v1/users/c001", "/metrics", "/"] {
            #expect(try scope(of: link, at: path) == nil, "\(path)")
        }
    }

    @Test func anOperatorLinkOpensEveryResource() throws {
        let link = signer.sign(path: DashboardScope.operator.pagePath, expires: expiry)
        #expect(link.hasPrefix("/communities?exp="))
        for path in ["/communities", "/api/v1/communities", "/communities/c001", "/api/v1/communities/c002",
                     "/api/v1/communities/c003/events", "/api/v1/users/u1"] {
            #expect(try scope(of: link, at: path) == .operator, "\(path)")
        }
        for path in ["/communities/", "/Communities", "/api/v1/users", "/api/v1/users/u1/", "/metrics"] {
            #expect(try scope(of: link, at: path) == nil, "\(path)")
        }
    }

    // MARK: Access policy

    let token = Array("operator-token-0123456789abcdef0123".utf8)
    var policy: AccessPolicy { AccessPolicy(signer: signer, operatorToken: token) }

    @Test func anOperatorBearerTokenIsAcceptedAndAnyOtherRefused() throws {
        let bearer = "Bearer " + String(decoding: token, as: UTF8.self)
        for path in ["/api/v1/users/u1", "/communities", "/api/v1/communities/c001/events"] {
            #expect(policy.access(path: path, query: [], authorization: bearer, now: now) == .operator, "\(path)")
        }
        #expect(policy.access(path: "/communities", query: [], authorization: "bearer " + String(decoding: token, as: UTF8.self), now: now) == .operator)
        for header in [bearer + "x", String(bearer.dropLast()), "Bearer ", "Bearer", "Basic " + String(decoding: token, as: UTF8.self),
                       String(decoding: token, as: UTF8.self), "Bearer  " + String(decoding: token, as: UTF8.self)] {
            #expect(policy.access(path: "/communities", query: [], authorization: header, now: now) == .denied, "\(header)")
        }
        #expect(policy.access(path: "/communities/", query: [], authorization: bearer, now: now) == .denied)
        let noTokens = AccessPolicy(signer: signer, operatorToken: nil)
        #expect(noTokens.access(path: "/communities", query: [], authorization: bearer, now: now) == .denied)
    }

    @Test func aLinkGivesItsScopeUnlessAWrongTokenComesWithIt() throws {
        let (_, query) = try parts(of: signer.sign(path: "/communities/c001", expires: expiry))
        #expect(policy.access(path: "/api/v1/communities/c001", query: query, authorization: nil, now: now) == .leader(community: "c001"))
        #expect(policy.access(path: "/api/v1/users/u1", query: query, authorization: nil, now: now) == .denied)
        #expect(policy.access(path: "/api/v1/communities/c001", query: query, authorization: "Bearer nope", now: now) == .denied)
        #expect(policy.access(path: "/api/v1/communities/c001", query: [], authorization: nil, now: now) == .denied)
    }

    @Test func theForbiddenResponseIsTheSameForAnExistingAndAMissingCommunity() throws {
        // The policy never looks communities up: c001 stands for one that exists, zz-none for one that does not.
        let (_, otherLink) = try parts(of: signer.sign(path: "/communities/c002", expires: expiry))
        let responses = ["/api/v1/communities/c001", "/api/v1/communities/zz-none"].map { path in
            let access = policy.access(path: path, query: otherLink, authorization: nil, now: now)
            return access == .denied ? AccessPolicy.forbidden() : nil
        }
        let forbidden = try #require(responses[0])
        #expect(responses[1] == forbidden)
        #expect(forbidden.status == 403)
        #expect(forbidden.headers == ["Content-Type": "text/plain; charset=utf-8"])
        let body = String(decoding: forbidden.body, as: UTF8.self)
        #expect(!body.contains("c001") && !body.contains("zz-none") && !body.isEmpty)
    }

    // MARK: Constant-time comparison

    @Test(arguments: [
        ([UInt8](), [UInt8](), true), ([1, 2, 3], [1, 2, 3], true), ([9, 2, 3], [1, 2, 3], false), ([1, 2, 3], [1, 2, 9], false),
        ([1, 2, 3], [1, 2], false), ([1, 2], [1, 2, 3], false), ([1, 2, 3], [], false), ([0], [], false), ([], [0, 0], false),
    ] as [([UInt8], [UInt8], Bool)])
    func constantTimeEqualityVisitsEveryByteOfTheLongerInput(a: [UInt8], b: [UInt8], equal: Bool) {
        let result = ConstantTime.compare(a, b)
        #expect(result.equal == equal)
        #expect(ConstantTime.equal(a, b) == equal)
        #expect(result.visited == max(a.count, b.count))
    }

    @Test func constantTimeEqualityVisitsEveryByteOfLongInputsThatDifferEarly() {
        let long = [UInt8](repeating: 7, count: 4096)
        var first = long
        first[0] = 8
        #expect(ConstantTime.compare(first, long) == (false, 4096))
        #expect(ConstantTime.compare(long.prefix(1), long) == (false, 4096))
        #expect(ConstantTime.compare("same".utf8, Array("same".utf8)) == (true, 4))
    }

    // MARK: Secret files

    /// A file holding `content` with `permissions`.
    func secretFile(_ content: String, permissions: Int = 0o600) throws -> String {
        let path = try Fixtures.temporaryDirectory("secret").appendingPathComponent("secret").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data(content.utf8), attributes: [.posixPermissions: permissions]))
        return path
    }

    @Test func aSecretFileShorterThan32BytesIsRefusedWithoutShowingIt() throws {
        let content = "Sh0rtSecretValue-1234567890abcd"  // 31 bytes
        for text in [content, content + "\n", content + "\r\n"] {
            let path = try secretFile(text)
            let error = try #require(throws: SecretFileError.self) { try LinkSigner.readSecret(file: path) }
            #expect(error.description.contains(path) && error.description.contains("at least 32 bytes"), "\(error)")
            #expect(!error.description.contains(content) && !error.description.contains("Sh0rt"))
        }
        let missing = try Fixtures.temporaryDirectory("secret").appendingPathComponent("none").path
        let error = try #require(throws: SecretFileError.self) { try SecretFile.read(missing) }
        #expect(error.description.contains(missing))
    }

    @Test func aSecretFileOf32BytesSignsAsItsBytesWithoutTheFinalNewline() throws {
        var warnings: [String] = []
        let secret = "0123456789abcdef0123456789abcdef"
        let read = try LinkSigner.readSecret(file: try secretFile(secret + "\n")) { warnings.append($0) }
        #expect(read.sign(path: "/communities", expires: expiry) == signer.sign(path: "/communities", expires: expiry))
        #expect(warnings.isEmpty)
    }

    @Test func aSecretFileOthersMayReadGivesAWarningWithoutItsContent() throws {
        let secret = "0123456789abcdef0123456789abcdef-readable"
        for permissions in [0o640, 0o604] {
            var warnings: [String] = []
            let path = try secretFile(secret, permissions: permissions)
            #expect(try SecretFile.read(path) { warnings.append($0) } == Array(secret.utf8))
            #expect(warnings.count == 1 && warnings[0].contains(path) && !warnings[0].contains(secret), "\(warnings)")
        }
    }
}
