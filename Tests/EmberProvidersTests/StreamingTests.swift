import Ember
import EmberTestSupport
import Foundation
import Synchronization
import Testing

@Suite struct ServerSentEventParserTests {
    static func parse(_ pieces: [[UInt8]]) -> [ServerSentEvent] {
        var p = ServerSentEventParser()
        var out: [ServerSentEvent] = []
        for piece in pieces { out += p.feed(piece) }
        out += p.finish()
        return out
    }

    static let sample = Array(
        "\u{FEFF}: keep-alive comment\r\nevent: first\r\ndata: one\r\ndata:two\r\n\r\n"
            .appending(":\n\ndata: é漢字🙂\nid: 7\nretry: 1500\n\n")
            .appending("data\rdata: x\r\r")
            .appending("event: ignored-without-data\n\n")
            .appending("data:  two spaces\nunknown: field\n\n")
            .appending("data: unfinished at the end").utf8)

    static let expected = [
        ServerSentEvent(event: "first", data: "one\ntwo"),
        ServerSentEvent(data: "é漢字🙂", id: "7", retry: 1500),
        ServerSentEvent(data: "\nx", id: "7"),
        ServerSentEvent(data: " two spaces", id: "7"),
    ]

    @Test func parsesFieldsCommentsMultiLineDataAndEveryLineEnding() {
        #expect(Self.parse([Self.sample]) == Self.expected)
    }

    /// Byte for byte: the same events however the stream is cut into reads (every single cut,
    /// every pair of cuts, and one byte at a time), through CRLFs and UTF-8 characters.
    @Test func theSameEventsHoweverTheBytesAreSplit() {
        let s = Self.sample
        #expect(Self.parse(s.map { [$0] }) == Self.expected)
        for i in 0...s.count {
            #expect(Self.parse([Array(s[..<i]), Array(s[i...])]) == Self.expected, "cut at \(i)")
        }
        for i in stride(from: 0, through: s.count, by: 3) {
            for j in stride(from: i, through: s.count, by: 5) {
                #expect(Self.parse([Array(s[..<i]), Array(s[i..<j]), Array(s[j...])]) == Self.expected, "cuts at \(i), \(j)")
            }
        }
    }

    @Test func aCRAtTheEndOfAReadThenAnLFIsOneLineEnd() {
        var p = ServerSentEventParser()
        #expect(p.feed(Array("data: a\r".utf8)).isEmpty)
        #expect(p.feed(Array("\n\r".utf8)) == [ServerSentEvent(data: "a")])
        #expect(p.feed(Array("\ndata: b\n\n".utf8)) == [ServerSentEvent(data: "b")], "CR then LF in the next read: one blank line")
    }
}

/// Server-sent event bodies, written as the vendors write them.
enum WireStreams {
    static func openAIChunk(_ content: String?, finish: String? = nil) -> String {
        let delta = content.map { #"{"content":\#(JSONText.quoted($0))}"# } ?? "{}"
        let f = finish.map { #""\#($0)""# } ?? "null"
        return #"data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":\#(delta),"finish_reason":\#(f)}]}"# + "\n\n"
    }

    static let openAIUsage = #"data: {"id":"c1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}"# + "\n\n"
    static let openAIDone = "data: [DONE]\n\n"

    static func anthropic(_ event: String, _ data: String) -> String { "event: \(event)\ndata: \(data)\n\n" }

    static let anthropicStart = anthropic(
        "message_start",
        #"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"usage":{"input_tokens":25,"output_tokens":1}}}"#)
    static func anthropicText(_ t: String, index: Int = 0) -> String {
        anthropic("content_block_delta", #"{"type":"content_block_delta","index":\#(index),"delta":{"type":"text_delta","text":\#(JSONText.quoted(t))}}"#)
    }
    static let anthropicEnd =
        anthropic("content_block_stop", #"{"type":"content_block_stop","index":0}"#)
        + anthropic("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}"#)
        + anthropic("message_stop", #"{"type":"message_stop"}"#)
}

/// Cuts `text` into pieces at the given byte offsets (to split lines, CRLFs and characters).
func pieces(_ text: String, cuts: [Int], delay: Double = 0) -> [BodyPiece] {
    let bytes = Array(text.utf8)
    var out: [BodyPiece] = []
    var start = 0
    for c in cuts.sorted() where c > start && c < bytes.count {
        out.append(BodyPiece(Data(bytes[start..<c]), delay: delay))
        start = c
    }
    out.append(BodyPiece(Data(bytes[start...]), delay: delay))
    return out
}

func collect(_ stream: ProviderStream) async throws -> (deltas: [String], reply: ProviderReply?) {
    var deltas: [String] = []
    var reply: ProviderReply?
    for try await e in stream {
        switch e {
        case .text(let t): deltas.append(t)
        case .completed(let r): reply = r
        }
    }
    return (deltas, reply)
}

@Suite(.onDedicatedThreads) struct ProviderStreamingTests {
    @Test func openAIStreamsDeltasThenUsageFromTheFinalChunk() async throws {
        let body =
            ": keep-alive\n\n" + WireStreams.openAIChunk("") + WireStreams.openAIChunk("Par") + ": ping\r\n\r\n"
            + WireStreams.openAIChunk("is é") + WireStreams.openAIChunk("漢", finish: nil) + WireStreams.openAIChunk(nil, finish: "stop")
            + WireStreams.openAIUsage + WireStreams.openAIDone
        // Cut inside lines, between a CR and its LF, and inside multi-byte characters.
        let crlf = Array(body.utf8).firstIndex(of: 13)!
        let e = Array(body.utf8).firstIndex(of: 0xC3)!
        let server = try LoopbackHTTPServer(responses: [.eventStream(pieces(body, cuts: [3, 17, crlf + 1, e + 1, 200, 201, 333], delay: 0.01))])
        defer { server.stop() }
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog()))
        let (deltas, reply) = try await collect(p.stream(ModelRequest(model: "gpt-4o", prompt: "Capital?", maxTokens: 20)))
        #expect(deltas == ["Par", "is é", "漢"])
        let r = try #require(reply)
        #expect(r.text == "Paris é漢" && r.finishReason == "stop")
        #expect(r.usage == TokenUsage(promptTokens: 9, completionTokens: 4), "usage is the final chunk's")
        let sent = try #require(server.requests.first)
        #expect(sent.headers["accept"] == "text/event-stream")
        let json = try #require(sent.json)
        #expect(json["stream"] as? Bool == true)
        #expect((json["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
    }

    @Test func anthropicStreamsMessageEventsWithUsageFromStartAndLastDelta() async throws {
        let body =
            WireStreams.anthropicStart
            + WireStreams.anthropic("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#)
            + WireStreams.anthropic("ping", #"{"type": "ping"}"#) + WireStreams.anthropicText("Hello") + WireStreams.anthropicText(", world")
            + WireStreams.anthropicEnd
        let server = try LoopbackHTTPServer(responses: [.eventStream(pieces(body, cuts: Array(stride(from: 5, to: 900, by: 61)), delay: 0.005))])
        defer { server.stop() }
        let p = try AnthropicProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog()))
        let (deltas, reply) = try await collect(p.stream(ModelRequest(model: "claude-3-5-sonnet", prompt: "hi")))
        #expect(deltas == ["Hello", ", world"])
        let r = try #require(reply)
        #expect(r.text == "Hello, world" && r.finishReason == "end_turn")
        #expect(r.usage == TokenUsage(promptTokens: 25, completionTokens: 15), "input from message_start, output from the last message_delta")
        #expect(server.requests.first?.json?["stream"] as? Bool == true)
    }

    @Test func errorsBeforeTheStreamAreRetriedLikeAnyCall() async throws {
        let server = try LoopbackHTTPServer(responses: [
            .json(429, #"{"error":{"message":"slow down"}}"#, headers: [("Retry-After", "1")]),
            .eventStream([BodyPiece(WireStreams.openAIChunk("ok") + WireStreams.openAIUsage + WireStreams.openAIDone)]),
        ])
        defer { server.stop() }
        let log = SleepLog()
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(log))
        let (deltas, reply) = try await collect(p.stream(ModelRequest(model: "gpt-4o", prompt: "x")))
        #expect(deltas == ["ok"] && reply?.text == "ok")
        #expect(log.recorded == [1_000_000_000] && server.requests.count == 2)
    }

    @Test func midStreamErrorsSurfaceAsEmberErrors() async throws {
        // Anthropic's error event.
        let overloaded = try LoopbackHTTPServer(responses: [
            .eventStream([
                BodyPiece(WireStreams.anthropicStart + WireStreams.anthropicText("Hel")),
                BodyPiece(WireStreams.anthropic("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#), delay: 0.02),
            ], headers: [("request-id", "req_stream_1")])
        ])
        defer { overloaded.stop() }
        let a = try AnthropicProvider(apiKey: secretKey, baseURL: overloaded.baseURL, options: options(SleepLog()))
        var seen: [String] = []
        do {
            for try await e in a.stream(ModelRequest(model: "c", prompt: "x")) { if let t = e.text { seen.append(t) } }
            Issue.record("the error event must throw")
        } catch let e as EmberError {
            #expect(e == .http(provider: "anthropic", model: "c", status: 529, message: "in the stream: Overloaded (overloaded_error) (request id req_stream_1)"))
            #expect(e.isRetryable)
        }
        #expect(seen == ["Hel"])
        #expect(overloaded.requests.count == 1, "a stream that has begun is not retried")

        // OpenAI's error object in a data line.
        let failing = try LoopbackHTTPServer(responses: [
            .eventStream([BodyPiece(WireStreams.openAIChunk("a") + #"data: {"error":{"message":"The server had an error","type":"server_error"}}"# + "\n\n")])
        ])
        defer { failing.stop() }
        let o = try OpenAIProvider(apiKey: secretKey, baseURL: failing.baseURL, options: options(SleepLog()))
        await #expect(throws: EmberError.http(provider: "openai", model: "m", status: 500, message: "in the stream: The server had an error (server_error)")) {
            _ = try await collect(o.stream(ModelRequest(model: "m", prompt: "x")))
        }

        // A stream cut before its end event.
        let cut = try LoopbackHTTPServer(responses: [.eventStream([BodyPiece(WireStreams.openAIChunk("par"))])])
        defer { cut.stop() }
        let c = try OpenAIProvider(apiKey: secretKey, baseURL: cut.baseURL, options: options(SleepLog()))
        await #expect(throws: EmberError.transport(provider: "openai", model: "m", message: "the stream ended before its [DONE] event")) {
            _ = try await collect(c.stream(ModelRequest(model: "m", prompt: "x")))
        }

        // Silence longer than the idle limit.
        let silent = try LoopbackHTTPServer(responses: [
            .eventStream([BodyPiece(WireStreams.openAIChunk("a")), BodyPiece(WireStreams.openAIDone, delay: 10)])
        ])
        defer { silent.stop() }
        let s = try OpenAIProvider(
            apiKey: secretKey, baseURL: silent.baseURL,
            options: HTTPProviderOptions(timeout: .seconds(10), streamIdleTimeout: .milliseconds(200), retry: .none))
        let t0 = loopbackNow()
        await #expect(throws: EmberError.timeout(module: "openai/m", seconds: 0.2)) {
            _ = try await collect(s.stream(ModelRequest(model: "m", prompt: "x")))
        }
        #expect(Double(loopbackNow() - t0) / 1e9 < 5)
        #expect(await silent.wait(timeout: 5) { $0.inFlight == 0 && $0.closedByClient == 1 })
    }

    /// The server sends one delta, then would wait 10 s: cancelling the consumer closes the
    /// connection; the server sees it within 50 ms.
    @Test func cancellingTheStreamClosesTheConnectionWithinFiftyMilliseconds() async throws {
        let server = try LoopbackHTTPServer(responses: [
            .eventStream([BodyPiece(WireStreams.openAIChunk("first")), BodyPiece(WireStreams.openAIChunk("never"), delay: 10)])
        ])
        defer { server.stop() }
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog()))
        var times: [Double] = []
        for round in 0..<7 {
            let gotFirst = Atomic<Bool>(false)
            let consumer = Task(executorPreference: DedicatedThreadsExecutor.shared) {
                for try await e in p.stream(ModelRequest(model: "m", prompt: "x")) {
                    if e.text == "first" { gotFirst.store(true, ordering: .relaxed) }
                }
            }
            while !gotFirst.load(ordering: .relaxed) { try await Task.sleep(nanoseconds: 200_000) }
            let closesBefore = server.clientCloseTimes.count
            let t0 = loopbackNow()
            consumer.cancel()
            await #expect(throws: CancellationError.self) { try await consumer.value }
            #expect(await server.wait(timeout: 5) { $0.closedByClient >= closesBefore + 1 })
            let closedAt = try #require(server.clientCloseTimes.dropFirst(closesBefore).first)
            times.append(Double(closedAt &- t0) / 1e6)
        }
        let sorted = times.sorted()
        print(
            String(
                format: "stream cancellation: the server saw the connection closed %.2f ms after cancel (median of 7; best %.2f, worst %.2f)",
                sorted[3], sorted[0], sorted[6]))
        // The median: a machine busy with other work may delay one round.
        #expect(sorted[3] < 50)
    }

    @Test func leavingTheLoopEarlyClosesTheConnection() async throws {
        let server = try LoopbackHTTPServer(responses: [
            .eventStream([BodyPiece(WireStreams.openAIChunk("first")), BodyPiece(WireStreams.openAIChunk("later"), delay: 10)])
        ])
        defer { server.stop() }
        let p = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog()))
        let t0 = loopbackNow()
        for try await e in p.stream(ModelRequest(model: "m", prompt: "x")) where e.text == "first" { break }
        #expect(await server.wait(timeout: 5) { $0.closedByClient == 1 })
        let ms = Double((server.clientCloseTimes.first ?? 0) &- t0) / 1e6
        #expect(ms < 20_000)
    }

    @Test func toolCallsStreamForBothProviders() async throws {
        let openAI =
            #"data: {"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}"# + "\n\n"
            + #"data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]}"# + "\n\n"
            + #"data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]}"# + "\n\n"
            + WireStreams.openAIChunk(nil, finish: "tool_calls") + WireStreams.openAIUsage + WireStreams.openAIDone
        let anthropic =
            WireStreams.anthropicStart
            + WireStreams.anthropic(
                "content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}"#)
            + WireStreams.anthropic("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"city\": "}}"#)
            + WireStreams.anthropic("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}"#)
            + WireStreams.anthropic("content_block_stop", #"{"type":"content_block_stop","index":0}"#)
            + WireStreams.anthropic("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":30}}"#)
            + WireStreams.anthropic("message_stop", #"{"type":"message_stop"}"#)
        let server = try LoopbackHTTPServer { request, _ in
            .eventStream([BodyPiece(request.path.contains("messages") ? anthropic : openAI)])
        }
        defer { server.stop() }
        let tool = ToolDefinition(name: "get_weather", description: "Weather in a city", parameters: #"{"type":"object","properties":{"city":{"type":"string"}}}"#)
        let o = try OpenAIProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog()))
        let (_, r1) = try await collect(o.stream(ModelRequest(model: "m", prompt: "weather?", tools: [tool])))
        #expect(r1?.toolCalls == [ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Paris"}"#)])
        #expect(r1?.finishReason == "tool_calls")
        let a = try AnthropicProvider(apiKey: secretKey, baseURL: server.baseURL, options: options(SleepLog()))
        let (_, r2) = try await collect(a.stream(ModelRequest(model: "m", prompt: "weather?", tools: [tool])))
        #expect(r2?.toolCalls == [ToolCall(id: "toolu_1", name: "get_weather", arguments: #"{"city": "Paris"}"#)])
        #expect(r2?.finishReason == "tool_use" && r2?.usage == TokenUsage(promptTokens: 25, completionTokens: 30))
    }

    @Test func modelsStreamPricesTheFinalUsage() async throws {
        let server = try LoopbackHTTPServer(responses: [
            .eventStream([
                BodyPiece(WireStreams.openAIChunk("hel")), BodyPiece(WireStreams.openAIChunk("lo"), delay: 0.01),
                BodyPiece(#"data: {"choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":500}}"# + "\n\n" + WireStreams.openAIDone),
            ])
        ])
        defer { server.stop() }
        let models = Models(settings: settings(server))
        var texts: [String] = []
        var final: ModelResponse?
        for try await e in models.stream("gpt-4", "Say hello") {
            switch e {
            case .text(let t): texts.append(t)
            case .completed(let r): final = r
            }
        }
        let r = try #require(final)
        #expect(texts == ["hel", "lo"] && r.text == "hello")
        #expect(r.usage == TokenUsage(promptTokens: 1000, completionTokens: 500))
        #expect(abs(r.cost - 0.06) < 1e-12 && r.costSource == .pricingTable)
        #expect(r.latency > .zero && r.provider == "openai")
        // The offline provider streams word by word; the completion matches models().
        let offline = Models(settings: ModelSettings(environment: [:]))
        let streamed = try await offline.stream("offline/m", "a prompt").completion()
        let called = try await offline("offline/m", "a prompt")
        #expect(streamed.text == called.text && streamed.usage == called.usage)
        var words = 0
        for try await e in offline.stream("offline/m", "a prompt") where e.text != nil { words += 1 }
        #expect(words == called.usage.completionTokens)
        // Unknown names fail on iteration, before anything is sent.
        await #expect(throws: EmberError.self) { _ = try await offline.stream("nope-model", "x").completion() }
    }
}
