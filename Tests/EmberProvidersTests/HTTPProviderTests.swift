import Ember
import EmberTestSupport
import Foundation
import Synchronization
import Testing

let secretKey = "sk-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0"

/// Records the delays a provider asked to sleep, and returns at once.
final class SleepLog: Sendable {
    private let delays = Mutex<[UInt64]>([])
    var recorded: [UInt64] { delays.withLock { $0 } }
    var sleeper: @Sendable (UInt64) async throws -> Void {
        { [self] ns in delays.withLock { $0.append(ns) } }
    }
}

func options(_ log: SleepLog, attempts: Int = 3, timeout: Duration = .seconds(10)) -> HTTPProviderOptions {
    HTTPProviderOptions(timeout: timeout, retry: ProviderRetryPolicy(maxAttempts: attempts, sleep: log.sleeper))
}

let openAISuccess = """
    {"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o",
     "choices":[{"index":0,"message":{"role":"assistant","content":"Paris is the capital."},"finish_reason":"stop"}],
     "usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}
    """

let anthropicSuccess = """
    {"id":"msg_1","type":"message","role":"assistant","model":"claude-3-5-sonnet-20241022",
     "content":[{"type":"text","text":"Paris"},{"type":"text","text":" is the capital."}],
     "stop_reason":"end_turn","usage":{"input_tokens":20,"output_tokens":7}}
    """

/// Every error description form a user might print or log.
func renderings(_ error: any Error) -> [String] {
    var dumped = ""
    dump(error, to: &dumped)
    return [String(describing: error), String(reflecting: error), error.localizedDescription, "\(error)", dumped]
}

@Suite(.onDedicatedThreads) struct OpenAIProviderTests {
    @Test func successSendsTheWireFormatAndParsesTextAndUsage() async throws {
        let server = try LoopbackHTTPServer(responses: [.json(200, openAISuccess)])
        defer { server.stop() }
        let log = SleepLog()
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(log))
        let reply = try await p.complete(
            ModelRequest(model: "gpt-4o", prompt: "Capital of France?", system: "Be brief.", temperature: 0.2, maxTokens: 50, stopSequences: ["\n\n"]))
        #expect(reply.text == "Paris is the capital.")
        #expect(reply.usage == TokenUsage(promptTokens: 12, completionTokens: 5))
        #expect(reply.usage.totalTokens == 17)
        let r = try #require(server.requests.first)
        #expect(server.requests.count == 1)
        #expect(r.method == "POST" && r.path == "/v1/chat/completions")
        #expect(r.headers["authorization"] == "Bearer \(secretKey)")
        #expect(r.headers["content-type"] == "application/json")
        let body = try #require(r.json)
        #expect(body["model"] as? String == "gpt-4o")
        #expect(body["max_completion_tokens"] as? Int == 50)
        #expect(body["temperature"] as? Double == 0.2)
        #expect(body["stop"] as? [String] == ["\n\n"])
        let messages = try #require(body["messages"] as? [[String: String]])
        #expect(messages == [["role": "system", "content": "Be brief."], ["role": "user", "content": "Capital of France?"]])
    }

    @Test func absentUsageIsZerosAndUnsetParametersAreOmitted() async throws {
        let server = try LoopbackHTTPServer(responses: [.json(200, #"{"choices":[{"message":{"content":"ok"}}]}"#)])
        defer { server.stop() }
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL + "/v1/", options: options(SleepLog()))
        let reply = try await p.complete(ModelRequest(model: "local-llama", prompt: "hi"))
        #expect(reply.usage == .zero)
        #expect(server.requests.first?.path == "/v1/chat/completions", "a base URL ending in /v1 gets no second /v1")
        let body = try #require(server.requests.first?.json)
        #expect(body["temperature"] == nil && body["max_completion_tokens"] == nil && body["stop"] == nil)
        #expect((body["messages"] as? [[String: String]])?.count == 1)
    }

    @Test func rateLimitHonoursRetryAfterThenSucceeds() async throws {
        let server = try LoopbackHTTPServer(responses: [
            .json(429, #"{"error":{"message":"Rate limit reached","type":"requests"}}"#, headers: [("Retry-After", "7")]),
            .json(200, openAISuccess),
        ])
        defer { server.stop() }
        let log = SleepLog()
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(log))
        let reply = try await p.complete(ModelRequest(model: "gpt-4o", prompt: "x"))
        #expect(reply.text == "Paris is the capital.")
        #expect(server.requests.count == 2)
        #expect(log.recorded == [7_000_000_000], "waited exactly Retry-After (longer than the backoff)")
    }

    @Test func serverErrorIsRetriedThenSucceeds() async throws {
        let server = try LoopbackHTTPServer(responses: [
            .json(500, #"{"error":{"message":"The server had an error"}}"#), .json(200, openAISuccess),
        ])
        defer { server.stop() }
        let log = SleepLog()
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(log))
        _ = try await p.complete(ModelRequest(model: "gpt-4o", prompt: "x"))
        #expect(server.requests.count == 2)
        #expect(log.recorded.count == 1)
        #expect(log.recorded[0] >= 250_000_000 && log.recorded[0] <= 500_000_000, "first backoff is 500 ms with up to 50% jitter")
    }

    @Test func persistentServerErrorGivesUpAfterMaxAttempts() async throws {
        let server = try LoopbackHTTPServer(responses: [.json(503, #"{"error":{"message":"overloaded"}}"#)])
        defer { server.stop() }
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog(), attempts: 3))
        await #expect(throws: EmberError.http(provider: "openai", model: "gpt-4o", status: 503, message: "overloaded")) {
            try await p.complete(ModelRequest(model: "gpt-4o", prompt: "x"))
        }
        #expect(server.requests.count == 3)
    }

    @Test(arguments: [401, 403, 400, 404])
    func clientErrorsAreNotRetried(status: Int) async throws {
        let server = try LoopbackHTTPServer(responses: [
            .json(status, #"{"error":{"message":"Incorrect API key provided: \#(secretKey)","type":"invalid_request_error"}}"#)
        ])
        defer { server.stop() }
        let log = SleepLog()
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(log))
        do {
            _ = try await p.complete(ModelRequest(model: "gpt-4o", prompt: "x"))
            Issue.record("HTTP \(status) must fail")
        } catch let e as EmberError {
            let text = e.description
            #expect(text.contains("openai") && text.contains("gpt-4o") && text.contains("\(status)"))
            #expect(text.contains("Incorrect API key provided"), "the provider's message is kept")
            for r in renderings(e) { #expect(!r.contains(secretKey), "key leaked in: \(r)") }
            if status == 401 || status == 403 {
                guard case .authentication = e else { Issue.record("expected .authentication, got \(e)"); return }
            }
        }
        #expect(server.requests.count == 1, "HTTP \(status) is never retried")
        #expect(log.recorded.isEmpty)
    }

    @Test func malformedBodyIsAClearError() async throws {
        let server = try LoopbackHTTPServer(responses: [.json(200, "<html>gateway</html>")])
        defer { server.stop() }
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog()))
        do {
            _ = try await p.complete(ModelRequest(model: "gpt-4o", prompt: "x"))
            Issue.record("a non-JSON body must fail")
        } catch let e as EmberError {
            guard case .malformedResponse(let provider, let model, let message) = e else { Issue.record("got \(e)"); return }
            #expect(provider == "openai" && model == "gpt-4o")
            #expect(message.contains("not a JSON object") && message.contains("<html>gateway"))
        }
        #expect(server.requests.count == 1, "a malformed answer is not retried")
        let wrongShape = try LoopbackHTTPServer(responses: [.json(200, #"{"choices":[]}"#)])
        defer { wrongShape.stop() }
        let q = try OpenAIProvider(apiKey: secretKey, baseURL: wrongShape.baseURL, options: options(SleepLog()))
        await #expect(throws: EmberError.malformedResponse(provider: "openai", model: "m", message: "no choices[0].message in the answer")) {
            try await q.complete(ModelRequest(model: "m", prompt: "x"))
        }
    }

    @Test func slowResponseTimesOutAndIsRetriedAsTransient() async throws {
        // The server would answer after 30 s; the bounds below are loose on purpose (other
        // tests may load the machine): they tell a working deadline from a missing one.
        let server = try LoopbackHTTPServer(responses: [.json(200, openAISuccess, delay: 30)])
        defer { server.stop() }
        let log = SleepLog()
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(log, attempts: 2, timeout: .milliseconds(300)))
        let start = MonotonicClock.nanoseconds()
        await #expect(throws: EmberError.timeout(module: "openai/gpt-4o", seconds: 0.3)) {
            try await p.complete(ModelRequest(model: "gpt-4o", prompt: "x"))
        }
        // Waited the deadline on each attempt, and not for the server's 30 s answer.
        let elapsed = MonotonicClock.nanoseconds() - start
        #expect(elapsed >= 600_000_000, "two attempts of 300 ms each")
        #expect(elapsed < 20_000_000_000)
        #expect(server.requests.count == 2)
    }

    @Test func cancellingTheCallerStopsAtOnceAndIsNotRetried() async throws {
        let server = try LoopbackHTTPServer(responses: [.json(200, openAISuccess, delay: 30)])
        defer { server.stop() }
        let log = SleepLog()
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(log))
        let call = Task(executorPreference: DedicatedThreadsExecutor.shared) { try await p.complete(ModelRequest(model: "gpt-4o", prompt: "x")) }
        while server.requests.isEmpty { try await Task.sleep(nanoseconds: 1_000_000) }
        let start = MonotonicClock.nanoseconds()
        call.cancel()
        await #expect(throws: CancellationError.self) { try await call.value }
        #expect(MonotonicClock.nanoseconds() - start < 20_000_000_000, "did not wait for the server's 30 s answer")
        #expect(server.requests.count == 1 && log.recorded.isEmpty)
    }

    @Test func retryAfterAcceptsSecondsAndHTTPDates() async throws {
        let later = Date(timeIntervalSinceNow: 55)  // within the 60 s limit
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let server = try LoopbackHTTPServer(responses: [
            .json(429, "{}", headers: [("Retry-After", "1.5")]),
            .json(429, "{}", headers: [("Retry-After", f.string(from: later))]),
            .json(200, openAISuccess),
        ])
        defer { server.stop() }
        let log = SleepLog()
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(log))
        _ = try await p.complete(ModelRequest(model: "gpt-4o", prompt: "x"))
        #expect(log.recorded.count == 2)
        #expect(log.recorded.first == 1_500_000_000)
        let dated = Double(log.recorded.last ?? 0) / 1e9
        // Loose lower bound: the machine may be slow between writing the date and reading it.
        #expect(dated > 10 && dated <= 55, "an HTTP date is a wait until then, got \(dated) s")
    }

    @Test func retryAfterBeyondTheLimitReturnsThe429() async throws {
        let server = try LoopbackHTTPServer(responses: [.json(429, #"{"error":{"message":"quota"}}"#, headers: [("Retry-After", "3600")])])
        defer { server.stop() }
        let log = SleepLog()
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(log))
        await #expect(throws: EmberError.rateLimited(provider: "openai", model: "gpt-4o", retryAfter: 3600, message: "quota")) {
            try await p.complete(ModelRequest(model: "gpt-4o", prompt: "x"))
        }
        #expect(server.requests.count == 1 && log.recorded.isEmpty, "an hour's wait is the caller's decision")
    }

    @Test func connectionRefusedIsATransportError() async throws {
        let refusing = try RefusingLoopbackPort()
        let log = SleepLog()
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: refusing.baseURL, options: options(log, attempts: 2))
        do {
            _ = try await p.complete(ModelRequest(model: "gpt-4o", prompt: "x"))
            Issue.record("a closed port must fail")
        } catch let e as EmberError {
            guard case .transport(let provider, let model, _) = e else { Issue.record("got \(e)"); return }
            #expect(provider == "openai" && model == "gpt-4o")
        }
        #expect(log.recorded.count == 1, "transport failures are retried")
        withExtendedLifetime(refusing) {}
    }

    @Test func missingKeyNamesTheVariableAndSendsNothing() async throws {
        let server = try LoopbackHTTPServer(responses: [.json(200, openAISuccess)])
        defer { server.stop() }
        for env in [[String: String](), ["OPENAI_API_KEY": "  "]] {
            let p = try OpenAIProvider(environment: env.merging(["OPENAI_BASE_URL": server.baseURL]) { a, _ in a })
            await #expect(throws: EmberError.missingAPIKey(provider: "openai", variable: "OPENAI_API_KEY")) {
                try await p.complete(ModelRequest(model: "gpt-4o", prompt: "x"))
            }
        }
        #expect(server.requests.isEmpty)
        #expect(EmberError.missingAPIKey(provider: "openai", variable: "OPENAI_API_KEY").description.contains("set the environment variable OPENAI_API_KEY"))
    }

    @Test func baseURLComesFromTheEnvironmentAndBadOnesAreRejected() throws {
        let p = try OpenAIProvider(environment: ["OPENAI_BASE_URL": "http://localhost:8080"])
        #expect(p.endpoint.absoluteString == "http://localhost:8080/v1/chat/completions")
        let q = try OpenAIProvider(environment: [:])
        #expect(q.endpoint.absoluteString == "https://api.openai.com/v1/chat/completions")
        #expect(throws: EmberError.self) { try OpenAIProvider(environment: ["OPENAI_BASE_URL": "localhost:8080"]) }
        #expect(throws: EmberError.self) { try OpenAIProvider(apiKey: nil, baseURL: "ftp://x") }
    }
}

@Suite(.onDedicatedThreads) struct AnthropicProviderTests {
    @Test func successSendsTheWireFormatAndParsesTextAndUsage() async throws {
        let server = try LoopbackHTTPServer(responses: [.json(200, anthropicSuccess)])
        defer { server.stop() }
        let p = try AnthropicProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog()))
        let reply = try await p.complete(
            ModelRequest(model: "claude-3-5-sonnet-20241022", prompt: "Capital of France?", system: "Be brief.", temperature: 0, stopSequences: ["END"]))
        #expect(reply.text == "Paris is the capital.")
        #expect(reply.usage == TokenUsage(promptTokens: 20, completionTokens: 7))
        let r = try #require(server.requests.first)
        #expect(r.method == "POST" && r.path == "/v1/messages")
        #expect(r.headers["x-api-key"] == secretKey)
        #expect(r.headers["anthropic-version"] == "2023-06-01")
        #expect(r.headers["authorization"] == nil)
        let body = try #require(r.json)
        #expect(body["max_tokens"] as? Int == 1024, "the API requires max_tokens; the default is sent")
        #expect(body["system"] as? String == "Be brief.")
        #expect(body["temperature"] as? Double == 0)
        #expect(body["stop_sequences"] as? [String] == ["END"])
        let messages = try #require(body["messages"] as? [[String: Any]])
        #expect(messages.count == 1 && messages[0]["role"] as? String == "user")
        let blocks = try #require(messages[0]["content"] as? [[String: String]])
        #expect(blocks == [["type": "text", "text": "Capital of France?"]])
    }

    @Test func explicitMaxTokensAndAbsentUsage() async throws {
        let server = try LoopbackHTTPServer(responses: [.json(200, #"{"content":[{"type":"text","text":"ok"}]}"#)])
        defer { server.stop() }
        let p = try AnthropicProvider(environment: ["ANTHROPIC_API_KEY": secretKey, "ANTHROPIC_BASE_URL": server.baseURL], options: options(SleepLog()))
        let reply = try await p.complete(ModelRequest(model: "claude-3-haiku", prompt: "x", maxTokens: 17))
        #expect(reply.usage == .zero && reply.text == "ok")
        #expect(server.requests.first?.json?["max_tokens"] as? Int == 17)
    }

    @Test func rateLimitAndOverloadAreRetried() async throws {
        let server = try LoopbackHTTPServer(responses: [
            .json(429, #"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#, headers: [("retry-after", "2")]),
            .json(529, #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#),
            .json(200, anthropicSuccess),
        ])
        defer { server.stop() }
        let log = SleepLog()
        let p = try AnthropicProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(log))
        _ = try await p.complete(ModelRequest(model: "claude-3-5-sonnet", prompt: "x"))
        #expect(server.requests.count == 3)
        #expect(log.recorded.first == 2_000_000_000)
        #expect(log.recorded.count == 2)
    }

    @Test func unauthorizedIsNotRetriedAndNamesEverything() async throws {
        let server = try LoopbackHTTPServer(responses: [
            .json(401, #"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#)
        ])
        defer { server.stop() }
        let p = try AnthropicProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog()))
        await #expect(throws: EmberError.authentication(provider: "anthropic", model: "claude-3-haiku", status: 401, message: "invalid x-api-key (authentication_error)")) {
            try await p.complete(ModelRequest(model: "claude-3-haiku", prompt: "x"))
        }
        #expect(server.requests.count == 1)
    }

    @Test func malformedAndMissingKey() async throws {
        let server = try LoopbackHTTPServer(responses: [.json(200, #"{"content": "not blocks"}"#)])
        defer { server.stop() }
        let p = try AnthropicProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog()))
        await #expect(throws: EmberError.malformedResponse(provider: "anthropic", model: "c", message: "no content blocks in the answer")) {
            try await p.complete(ModelRequest(model: "c", prompt: "x"))
        }
        let keyless = try AnthropicProvider(environment: ["ANTHROPIC_BASE_URL": server.baseURL])
        await #expect(throws: EmberError.missingAPIKey(provider: "anthropic", variable: "ANTHROPIC_API_KEY")) {
            try await keyless.complete(ModelRequest(model: "c", prompt: "x"))
        }
        #expect(server.requests.count == 1)
    }
}

@Suite(.onDedicatedThreads) struct KeyRedactionTests {
    /// Every failure mode, with a server that echoes the key back in its error bodies: the
    /// key appears in no rendering of any error, nor of the providers themselves.
    @Test func theKeyNeverAppearsInAnyErrorOrDescription() async throws {
        let echo = #"{"error":{"message":"bad key \#(secretKey) (Bearer \#(secretKey))"}}"#
        // The status to answer is the path's second segment: /s/<status>/v1/...
        let server = try LoopbackHTTPServer { request, _ in
            let parts = request.path.split(separator: "/")
            return .json(parts.count > 1 ? Int(parts[1]) ?? 500 : 500, echo)
        }
        defer { server.stop() }
        var errors: [any Error] = []
        for status in [400, 401, 403, 404, 429, 500, 503] {
            for kind in ["openai", "anthropic"] {
                let base = "\(server.baseURL)/s/\(status)"
                let provider: any ModelProvider =
                    kind == "openai"
                    ? try OpenAIProvider(apiKey: secretKey, baseURL: base, options: options(SleepLog(), attempts: 2))
                    : try AnthropicProvider(apiKey: secretKey, baseURL: base, options: options(SleepLog(), attempts: 2))
                do { _ = try await provider.complete(ModelRequest(model: "m", prompt: "p")) } catch { errors.append(error) }
            }
        }
        // A malformed answer that starts with the key, a timeout and a refused connection.
        let malformed = try LoopbackHTTPServer(responses: [.json(200, "\(secretKey) is not JSON")])
        defer { malformed.stop() }
        let slow = try LoopbackHTTPServer(responses: [.json(200, openAISuccess, delay: 3)])
        defer { slow.stop() }
        let closed = try LoopbackHTTPServer(responses: [.json(200, "")])
        closed.stop()
        for (base, timeout) in [(malformed.baseURL, 10.0), (slow.baseURL, 0.2), (closed.baseURL, 10.0)] {
            let p = try OpenAIProvider(apiKey: secretKey, baseURL: base, options: options(SleepLog(), attempts: 1, timeout: .milliseconds(Int64(timeout * 1000))))
            do { _ = try await p.complete(ModelRequest(model: "m", prompt: "p")) } catch { errors.append(error) }
        }
        #expect(errors.count == 17)
        for e in errors {
            for r in renderings(e) { #expect(!r.contains(secretKey), "key leaked: \(r)") }
        }
        #expect(errors.contains { "\($0)".contains("<redacted>") }, "echoed keys are replaced, not dropped silently")

        let providers: [any ModelProvider] = [
            try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL),
            try AnthropicProvider(apiKey: secretKey, baseURL: server.baseURL),
        ]
        for p in providers {
            var dumped = ""
            dump(p, to: &dumped)
            for r in [String(describing: p), String(reflecting: p), dumped] { #expect(!r.contains(secretKey), "key leaked: \(r)") }
        }
        let key = try #require(APIKey(secretKey))
        var dumpedKey = ""
        dump(key, to: &dumpedKey)
        for r in ["\(key)", String(reflecting: key), dumpedKey] { #expect(!r.contains(secretKey)) }
        let registry = ModelRegistry(settings: ModelSettings(environment: ["OPENAI_API_KEY": secretKey]))
        let settingsDump = String(describing: try registry.provider(for: "gpt-4o"))
        #expect(!settingsDump.contains(secretKey))
        // Settings hold the environment, keys included: no printed form shows them.
        let models = Models(registry: registry)
        var dumpedModels = ""
        dump(models, to: &dumpedModels)
        for r in [String(describing: registry.settings), String(reflecting: registry.settings), dumpedModels] {
            #expect(!r.contains(secretKey), "key leaked: \(r)")
        }
        #expect(dumpedModels.contains("OPENAI_API_KEY"), "the variable's name is shown, its value is not")
    }
}
