import Ember
import EmberTestSupport
import Foundation
import Synchronization
import Testing

/// Retries the way the vendors' SDKs do them, request ids, User-Agent, redirects.
@Suite(.onDedicatedThreads) struct RetryBehaviourTests {
    func provider(_ server: LoopbackHTTPServer, _ log: SleepLog, attempts: Int = 3, random: (@Sendable () -> Double)? = nil) throws -> OpenAIProvider {
        var policy = ProviderRetryPolicy(maxAttempts: attempts, sleep: log.sleeper)
        if let random { policy.random = random }
        return try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: HTTPProviderOptions(timeout: .seconds(10), retry: policy))
    }

    @Test func retryAfterIsHonouredOnEveryRetriedStatus() async throws {
        for status in [503, 500, 408, 409, 529] {
            let server = try LoopbackHTTPServer(responses: [
                .json(status, #"{"error":{"message":"busy"}}"#, headers: [("Retry-After", "3")]), .json(200, openAISuccess),
            ])
            defer { server.stop() }
            let log = SleepLog()
            _ = try await provider(server, log).complete(ModelRequest(model: "gpt-4o", prompt: "x"))
            #expect(log.recorded == [3_000_000_000], "HTTP \(status) with Retry-After: 3 waits 3 s")
            #expect(server.requests.count == 2)
        }
    }

    @Test func retryAfterMillisecondsWinsAndShortWaitsAreTakenAsGiven() async throws {
        let server = try LoopbackHTTPServer(responses: [
            .json(429, "{}", headers: [("retry-after-ms", "1500"), ("Retry-After", "9")]),
            .json(503, "{}", headers: [("retry-after-ms", "20")]),
            .json(200, openAISuccess),
        ])
        defer { server.stop() }
        let log = SleepLog()
        _ = try await provider(server, log).complete(ModelRequest(model: "gpt-4o", prompt: "x"))
        #expect(log.recorded == [1_500_000_000, 20_000_000])
    }

    @Test func xShouldRetryOverridesTheStatus() async throws {
        let never = try LoopbackHTTPServer(responses: [.json(503, #"{"error":{"message":"down"}}"#, headers: [("x-should-retry", "false")])])
        defer { never.stop() }
        let log = SleepLog()
        await #expect(throws: EmberError.self) { try await provider(never, log).complete(ModelRequest(model: "m", prompt: "x")) }
        #expect(never.requests.count == 1 && log.recorded.isEmpty)

        let always = try LoopbackHTTPServer(responses: [
            .json(400, #"{"error":{"message":"try again"}}"#, headers: [("x-should-retry", "true")]), .json(200, openAISuccess),
        ])
        defer { always.stop() }
        _ = try await provider(always, SleepLog()).complete(ModelRequest(model: "m", prompt: "x"))
        #expect(always.requests.count == 2)
    }

    @Test func jitterComesFromTheInjectedSourceAndDefaultsToTheSystemGenerator() async throws {
        func delays(_ random: @escaping @Sendable () -> Double) async throws -> [UInt64] {
            let server = try LoopbackHTTPServer(responses: [.json(500, "{}"), .json(500, "{}"), .json(200, openAISuccess)])
            defer { server.stop() }
            let log = SleepLog()
            _ = try await provider(server, log, random: random).complete(ModelRequest(model: "m", prompt: "x"))
            return log.recorded
        }
        let a = try await delays(ProviderRetryPolicy.seeded(7))
        let b = try await delays(ProviderRetryPolicy.seeded(7))
        #expect(a == b && a.count == 2, "a seeded source replays")
        #expect(a[0] >= 250_000_000 && a[0] <= 500_000_000 && a[1] >= 500_000_000 && a[1] <= 1_000_000_000)
        let fixed = try await delays({ 0.5 })
        #expect(fixed == [375_000_000, 750_000_000], "500 ms and 1 s, each less 50% × 0.5 jitter")
        // The default source is the system generator: two fresh policies draw differently
        // (the old constant seed drew the same sequence in every process).
        let p = ProviderRetryPolicy(), q = ProviderRetryPolicy()
        let drawsP = (0..<4).map { _ in p.random() }, drawsQ = (0..<4).map { _ in q.random() }
        #expect(drawsP != drawsQ)
    }

    @Test func errorsCarryTheRequestID() async throws {
        let server = try LoopbackHTTPServer(responses: [
            .json(400, #"{"error":{"message":"bad"}}"#, headers: [("x-request-id", "req_abc123")]),
            .json(401, #"{"type":"error","error":{"type":"authentication_error","message":"no"}}"#, headers: [("request-id", "req_011CXYZ")]),
        ])
        defer { server.stop() }
        let o = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog()))
        await #expect(throws: EmberError.http(provider: "openai", model: "m", status: 400, message: "bad (request id req_abc123)")) {
            try await o.complete(ModelRequest(model: "m", prompt: "x"))
        }
        let a = try AnthropicProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog()))
        await #expect(
            throws: EmberError.authentication(provider: "anthropic", model: "m", status: 401, message: "no (authentication_error) (request id req_011CXYZ)")
        ) {
            try await a.complete(ModelRequest(model: "m", prompt: "x"))
        }
    }

    /// FoundationNetworking answers a 401 with `WWW-Authenticate` by asking for credentials
    /// (without a delegate it would wait forever): the call still ends with the 401.
    @Test func unauthorizedWithAChallengeIsAnAuthenticationError() async throws {
        let server = try LoopbackHTTPServer(responses: [
            .json(401, #"{"error":{"message":"invalid key"}}"#, headers: [("WWW-Authenticate", #"Basic realm="api""#)])
        ])
        defer { server.stop() }
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: HTTPProviderOptions(timeout: .seconds(20), retry: .none))
        let t0 = loopbackNow()
        await #expect(throws: EmberError.authentication(provider: "openai", model: "m", status: 401, message: "invalid key")) {
            try await p.complete(ModelRequest(model: "m", prompt: "x"))
        }
        #expect(Double(loopbackNow() - t0) / 1e9 < 10)
        #expect(server.requests.count == 1)
        for _ in 0..<1000 where p.transport.activeRequests > 0 { try await Task.sleep(nanoseconds: 1_000_000) }
    }

    @Test func theUserAgentNamesThisLibraryAndItsVersion() async throws {
        let server = try LoopbackHTTPServer(responses: [.json(200, openAISuccess)])
        defer { server.stop() }
        _ = try await OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL).complete(ModelRequest(model: "m", prompt: "x"))
        let ua = try #require(server.requests.first?.headers["user-agent"])
        #expect(ua.hasPrefix("ember-swift/\(EmberVersion.version)"), "got \(ua)")
        #expect(!ua.contains("curl"))
    }

    @Test func theOverallDeadlineBoundsAttemptsAndWaits() async throws {
        // A slow server: the attempt is cut at the overall deadline, reported as such.
        let slow = try LoopbackHTTPServer(responses: [.json(200, openAISuccess, delay: 5)])
        defer { slow.stop() }
        let p = try OpenAIProvider(
            apiKey: secretKey, baseURL: slow.baseURL,
            options: HTTPProviderOptions(timeout: .seconds(10), deadline: .milliseconds(300), retry: ProviderRetryPolicy(maxAttempts: 5)))
        let t0 = loopbackNow()
        await #expect(throws: EmberError.timeout(module: "openai/m", seconds: 0.3)) { try await p.complete(ModelRequest(model: "m", prompt: "x")) }
        let waited = Double(loopbackNow() - t0) / 1e9
        #expect(waited >= 0.28 && waited < 3, "waited \(waited) s")
        #expect(slow.requests.count == 1)
        // A wait the deadline cannot hold is not made: the error comes back at once.
        let busy = try LoopbackHTTPServer(responses: [.json(503, #"{"error":{"message":"busy"}}"#, headers: [("Retry-After", "5")])])
        defer { busy.stop() }
        let log = SleepLog()
        var policy = ProviderRetryPolicy(maxAttempts: 5, sleep: log.sleeper)
        policy.maxRetryAfter = .seconds(60)
        let q = try OpenAIProvider(
            apiKey: secretKey, baseURL: busy.baseURL, options: HTTPProviderOptions(deadline: .seconds(2), retry: policy))
        await #expect(throws: EmberError.http(provider: "openai", model: "m", status: 503, message: "busy")) {
            try await q.complete(ModelRequest(model: "m", prompt: "x"))
        }
        #expect(busy.requests.count == 1 && log.recorded.isEmpty)
    }
}

@Suite(.onDedicatedThreads) struct RedirectTests {
    @Test(arguments: [307, 308])
    func sameOriginTemporaryAndPermanentRedirectsKeepMethodBodyAndHeaders(status: Int) async throws {
        let server = try LoopbackHTTPServer { request, _ in
            if request.path == "/v1/chat/completions" {
                return ScriptedResponse(status: status, headers: [("Location", "/moved/v1/chat/completions")], body: Data("moved".utf8))
            }
            return .json(200, openAISuccess)
        }
        defer { server.stop() }
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog(), attempts: 1))
        let reply = try await p.complete(ModelRequest(model: "gpt-4o", prompt: "where?"))
        #expect(reply.text == "Paris is the capital.")
        let requests = server.requests
        #expect(requests.count == 2)
        #expect(requests[1].path == "/moved/v1/chat/completions" && requests[1].method == "POST")
        #expect(requests[1].body == requests[0].body && !requests[1].body.isEmpty, "the body is sent again")
        #expect(requests[1].headers["authorization"] == "Bearer \(secretKey)")
    }

    @Test(arguments: [301, 302, 303, 307, 308])
    func redirectsToAnotherOriginAreRefusedAndNothingIsSentThere(status: Int) async throws {
        let elsewhere = try LoopbackHTTPServer(responses: [.json(200, openAISuccess)])
        defer { elsewhere.stop() }
        let server = try LoopbackHTTPServer(responses: [
            ScriptedResponse(status: status, headers: [("Location", "\(elsewhere.baseURL)/steal")])
        ])
        defer { server.stop() }
        for provider in [
            try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog())) as any ModelProvider,
            try AnthropicProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog())),
        ] {
            do {
                _ = try await provider.complete(ModelRequest(model: "m", prompt: "x"))
                Issue.record("a redirect to another origin must fail")
            } catch let e as EmberError {
                guard case .http(_, _, let s, let message) = e else { Issue.record("got \(e)"); continue }
                #expect(s == status && message.contains("another origin"))
                for r in renderings(e) { #expect(!r.contains(secretKey)) }
            }
        }
        #expect(elsewhere.requests.isEmpty, "no credentials (no request at all) went to the other origin")
        #expect(server.requests.count == 2, "not retried")
    }

    @Test func sameOriginRedirectsThatWouldDropTheBodyAreRefused() async throws {
        let server = try LoopbackHTTPServer(responses: [ScriptedResponse(status: 302, headers: [("Location", "/other")])])
        defer { server.stop() }
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog()))
        await #expect(throws: EmberError.self) { try await p.complete(ModelRequest(model: "m", prompt: "x")) }
        #expect(server.requests.count == 1)
    }

    @Test func aRedirectLoopEnds() async throws {
        let server = try LoopbackHTTPServer(responses: [ScriptedResponse(status: 307, headers: [("Location", "/v1/chat/completions")])])
        defer { server.stop() }
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog(), attempts: 1))
        await #expect(throws: EmberError.http(provider: "openai", model: "m", status: 310, message: "more than 5 redirects")) {
            try await p.complete(ModelRequest(model: "m", prompt: "x"))
        }
        #expect(server.requests.count == 5)
    }
}

@Suite(.onDedicatedThreads) struct RedactionPropertyTests {
    static let key = "sk-proj-Q7mZ3xK9pL2vN8cR4tY6wB1dF5hJ0gS"

    /// Every error text a user can print.
    static func texts(_ error: any Error) -> [String] { renderings(error) }

    /// The longest run of consecutive key characters in `text`.
    static func longestKeyRun(_ text: String, key: String = key) -> Int {
        let t = Array(text.utf8), k = Array(key.utf8)
        var best = 0
        for i in 0..<t.count {
            for j in 0..<k.count where t[i] == k[j] {
                var n = 0
                while i + n < t.count, j + n < k.count, t[i + n] == k[j + n] { n += 1 }
                best = max(best, n)
            }
        }
        return best
    }

    /// Bodies that echo the key at every offset (across the 300- and 200-character cuts, as a
    /// JSON message, as raw text, and as a malformed 2xx): no error text holds 8 or more
    /// consecutive characters of the key.
    @Test func noErrorTextHoldsEightConsecutiveKeyCharacters() async throws {
        let filler = String(repeating: "abcdefghij", count: 40)  // 400 characters, no key runs
        let cases = Mutex<[(kind: String, offset: Int)]>([])
        let server = try LoopbackHTTPServer(keepAlive: true, record: false) { request, _ in
            // The path says what to answer: /<kind>/<offset>/v1/...
            let parts = request.path.split(separator: "/")
            let kind = String(parts[0]), offset = Int(parts[1]) ?? 0
            let before = String(filler.prefix(offset)), after = String(filler.prefix(380 - min(offset, 380)))
            switch kind {
            case "json": return .json(400, #"{"error":{"message":"\#(before)\#(Self.key)\#(after)"}}"#)
            case "text": return ScriptedResponse(status: 500, body: Data((before + Self.key + after).utf8))
            case "bearer": return .json(401, #"{"error":{"message":"\#(before)Bearer \#(Self.key)\#(after)"}}"#)
            default: return .json(200, before + Self.key + after)  // not JSON: malformed
            }
        }
        defer { server.stop() }
        var worst = 0
        var checked = 0
        for kind in ["json", "text", "bearer", "malformed"] {
            for offset in 0...340 {
                let base = "\(server.baseURL)/\(kind)/\(offset)"
                let p = try OpenAIProvider(apiKey: Self.key, baseURL: base, options: HTTPProviderOptions(retry: .none))
                do {
                    _ = try await p.complete(ModelRequest(model: "m", prompt: "p"))
                    Issue.record("\(kind) at \(offset) must fail")
                } catch {
                    for t in Self.texts(error) {
                        let run = Self.longestKeyRun(t)
                        worst = max(worst, run)
                        if run >= 8 { cases.withLock { $0.append((kind, offset)) } }
                    }
                    checked += 1
                }
            }
        }
        print("redaction: \(checked) errors from bodies echoing the key at offsets 0-340 (4 forms), longest run of key characters in any rendering: \(worst)")
        #expect(checked == 4 * 341)
        #expect(cases.withLock { $0.isEmpty }, "key runs of 8+ characters in: \(cases.withLock { $0.prefix(10) })")
        #expect(worst < 8, "longest run of key characters in any error text: \(worst)")
    }

    /// The same property on random texts, keys and limits, in process: any text, redacted and
    /// cut, keeps no 8-character run of the key, even when the text holds only parts of it.
    @Test func excerptsOfRandomTextsKeepNoKeyFragment() {
        var g = SeededGenerator(seed: 2024)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
        for _ in 0..<500 {
            let keyLength = 20 + Int(g.next() % 60)
            let key = String((0..<keyLength).map { _ in alphabet[Int(g.next() % UInt64(alphabet.count))] })
            let apiKey = APIKey(key)!
            var text = ""
            for _ in 0..<(1 + Int(g.next() % 6)) {
                text += String(repeating: "·", count: Int(g.next() % 50))
                // A whole key, or a piece of it (cut by some proxy), anywhere.
                let a = Int(g.next() % UInt64(keyLength)), b = a + Int(g.next() % UInt64(keyLength - a + 1))
                text += g.next() % 2 == 0 ? key : String(Array(key)[a..<b])
            }
            let limit = Int(g.next() % 400)
            let out = apiKey.excerpt(text, limit: limit)
            #expect(Self.longestKeyRun(out, key: key) < 8, "key \(key) in \(out)")
            #expect(out.count <= limit + 1)
        }
    }

    @Test func redactionComesBeforeTruncation() {
        let apiKey = APIKey(Self.key)!
        // The key straddles the cut at 300: cut first, 26 of its characters would remain.
        let text = String(repeating: "x", count: 290) + Self.key
        let out = apiKey.excerpt(text, limit: 300)
        #expect(!out.contains("sk-proj"))
        #expect(out.hasPrefix(String(repeating: "x", count: 290) + "<redacted"))
        #expect(apiKey.redact("a \(Self.key.prefix(12)) b") == "a <redacted> b", "a fragment of 8+ characters is the key too")
        #expect(apiKey.redact("sk-proj b") == "sk-proj b", "7 characters say nothing")
    }
}
