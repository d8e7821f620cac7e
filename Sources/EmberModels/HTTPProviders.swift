import EmberCore
import EmberProviders
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Connection settings shared by the HTTP providers.
public struct HTTPProviderOptions: Sendable {
    /// The vendors' Python SDKs allow 1,000 connections; so does this.
    public static let defaultMaxConnectionsPerHost = 1_000

    /// Per attempt, from the moment its request is started (time spent waiting for a free
    /// connection is not counted): no complete answer by then is `.timeout`, and the request
    /// is cancelled. Streaming: the time to the answer's head.
    public var timeout: Duration
    /// Across all attempts, retry waits and connection waits included (nil: no limit). At
    /// the deadline the call fails with `.timeout`; a retry whose wait would end past it is
    /// not made (the last error is returned).
    public var deadline: Duration?
    /// Streaming: the longest silence allowed after the head (nil: `timeout`).
    public var streamIdleTimeout: Duration?
    public var retry: ProviderRetryPolicy
    /// Requests in flight per origin; more calls wait in line for a connection.
    public var maxConnectionsPerHost: Int
    public var userAgent: String
    /// The connection pool; nil: the process-wide one for `maxConnectionsPerHost`.
    public var transport: HTTPTransport?

    public init(
        timeout: Duration = .seconds(60), deadline: Duration? = nil, streamIdleTimeout: Duration? = nil,
        retry: ProviderRetryPolicy = ProviderRetryPolicy(),
        maxConnectionsPerHost: Int = HTTPProviderOptions.defaultMaxConnectionsPerHost,
        userAgent: String = EmberVersion.userAgent, transport: HTTPTransport? = nil
    ) {
        precondition(maxConnectionsPerHost >= 1, "maxConnectionsPerHost must be at least 1, got \(maxConnectionsPerHost)")
        self.timeout = timeout
        self.deadline = deadline
        self.streamIdleTimeout = streamIdleTimeout
        self.retry = retry
        self.maxConnectionsPerHost = transport?.maxConnectionsPerHost ?? maxConnectionsPerHost
        self.userAgent = userAgent
        self.transport = transport
    }
}

/// `{base}` + `path`, where a base that already ends in `/v1` (as OpenAI-compatible
/// servers' base URLs often do) does not get a second `/v1`.
func endpoint(base: String, variable: String, path: String) throws -> URL {
    var b = base.trimmingASCIIWhitespace()
    while b.hasSuffix("/") { b.removeLast() }
    guard let url = URL(string: b), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
        url.host != nil
    else {
        throw EmberError.invalidConfiguration(
            key: variable, message: "'\(base)' is not an http(s) URL; set it like https://api.example.com")
    }
    let full = b.hasSuffix("/v1") ? b + path.dropFirst(3) : b + path
    guard let e = URL(string: full) else {
        throw EmberError.invalidConfiguration(key: variable, message: "'\(base)' does not form a URL with \(path)")
    }
    return e
}

func requireKey(_ key: APIKey?, provider: String, variable: String) throws -> APIKey {
    guard let key else { throw EmberError.missingAPIKey(provider: provider, variable: variable) }
    return key
}

/// Reads a JSON answer body, or says what is wrong with it.
func jsonObject(_ data: Data, provider: String, model: String, key: APIKey) throws -> [String: Any] {
    guard let o = try? JSONSerialization.jsonObject(with: data), let object = o as? [String: Any] else {
        let start = key.excerpt(data, limit: 200)
        throw EmberError.malformedResponse(
            provider: provider, model: model, message: "the body is not a JSON object (starts with: \(start.debugDescription))")
    }
    return object
}

func intValue(_ any: Any?) -> Int? {
    if let i = any as? Int { return i }
    if let d = any as? Double, d.isFinite, d >= 0, d == d.rounded() { return Int(d) }
    return nil
}

func jsonText(_ object: Any) -> String {
    guard JSONSerialization.isValidJSONObject(object),
        let d = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    else { return "{}" }
    return String(decoding: d, as: UTF8.self)
}

/// A tool call's arguments as an object (Anthropic sends them as one); `{}` when empty.
func argumentsObject(_ text: String, module: String, tool: String) throws -> Any {
    if text.trimmingASCIIWhitespace().isEmpty { return [String: Any]() }
    guard let o = try? JSONSerialization.jsonObject(with: Data(text.utf8)), o is [String: Any] else {
        throw EmberError.invalidInput(module: module, message: "the arguments of the call of tool '\(tool)' are not a JSON object")
    }
    return o
}

/// An error event inside a stream, by its `type`, as the error its HTTP status would give.
func streamError(provider: String, model: String, object: [String: Any], requestID: String?, key: APIKey) -> EmberError {
    let error = object["error"] as? [String: Any]
    let type = (error?["type"] as? String) ?? (error?["code"] as? String) ?? ""
    let status: Int
    switch type {
    case "invalid_request_error": status = 400
    case "authentication_error", "invalid_api_key": status = 401
    case "permission_error": status = 403
    case "not_found_error": status = 404
    case "request_too_large": status = 413
    case "rate_limit_error", "rate_limit_exceeded", "insufficient_quota", "tokens": status = 429
    case "overloaded_error": status = 529
    default: status = 500
    }
    let text = HTTPModelClient.errorMessage(fromObject: object) ?? "an error event without a message"
    var message = "in the stream: " + key.excerpt(text, limit: 300)
    if let requestID, !requestID.isEmpty { message += " (request id \(key.excerpt(requestID, limit: 100)))" }
    return HTTPModelClient.error(status: status, provider: provider, model: model, message: message, retryAfter: nil)
}

/// What a provider's stream decoder makes of the events.
protocol StreamDecoder: AnyObject {
    /// Text deltas (and nothing else: the completion is asked for once `isDone`).
    func decode(_ event: ServerSentEvent) throws -> [String]
    /// The stream's end event was seen.
    var isDone: Bool { get }
    /// The reply, once done; at the end of the body without the end event, an error.
    func reply(atEndOfBody: Bool) throws -> ProviderReply
}

/// Drives one streamed request: opens it (with retries) on the first event asked for, feeds
/// the body to the SSE parser and the decoder, yields deltas then the completion.
final class SSEStreamDriver {
    private let open: () async throws -> OpenedStream
    private let decoder: any StreamDecoder
    private var opened: OpenedStream?
    private var parser = ServerSentEventParser()
    private var queue: [String] = []
    private var queueHead = 0
    private var completed = false
    private var finished = false

    init(decoder: any StreamDecoder, open: @escaping () async throws -> OpenedStream) {
        self.decoder = decoder
        self.open = open
    }

    func next() async throws -> ProviderStreamEvent? {
        do {
            return try await step()
        } catch {
            finished = true
            opened?.close()  // an error or a cancellation closes the connection
            opened = nil
            throw error
        }
    }

    private func step() async throws -> ProviderStreamEvent? {
        if finished { return nil }
        try Task.checkCancellation()
        if queueHead < queue.count {
            let t = queue[queueHead]
            queueHead += 1
            if queueHead == queue.count {
                queue.removeAll(keepingCapacity: true)
                queueHead = 0
            }
            return .text(t)
        }
        if completed {
            // Read to the end of the body so the connection can be reused, then stop.
            finished = true
            if let o = opened {
                while try await o.nextChunk() != nil {}
            }
            opened = nil
            return nil
        }
        if decoder.isDone {
            completed = true
            return .completed(try decoder.reply(atEndOfBody: false))
        }
        let stream: OpenedStream
        if let o = opened {
            stream = o
        } else {
            stream = try await open()
            opened = stream
        }
        while true {
            guard let chunk = try await stream.nextChunk() else {
                _ = parser.finish()
                completed = true
                finished = true
                opened = nil
                return .completed(try decoder.reply(atEndOfBody: true))
            }
            for event in parser.feed(chunk) {
                for t in try decoder.decode(event) where !t.isEmpty { queue.append(t) }
                if decoder.isDone { break }
            }
            if queueHead < queue.count || decoder.isDone { return try await step() }
        }
    }
}

/// OpenAI's chat completions API, and every server that speaks it.
///
/// `POST {base}/v1/chat/completions` with `Authorization: Bearer <key>`; the system prompt and
/// the turns as messages (`system`, `user`, `assistant` with its `tool_calls`, `tool` with its
/// `tool_call_id`); `tools` as functions; `max_completion_tokens`, `temperature` and `stop`
/// when set. Text from `choices[0].message.content`, tool calls from its `tool_calls`, usage
/// from `usage.prompt_tokens` and `usage.completion_tokens` (zeros when absent), and
/// `usage.cost` when a server reports it. Streaming: `stream: true` with
/// `stream_options.include_usage`, deltas from `choices[0].delta`, usage from the last chunk,
/// the end at `data: [DONE]`.
public final class OpenAIProvider: StreamingModelProvider, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public static let keyVariable = "OPENAI_API_KEY"
    public static let baseURLVariable = "OPENAI_BASE_URL"
    public static let defaultBaseURL = "https://api.openai.com"

    public let providerName = "openai"
    public let endpoint: URL
    private let key: APIKey?
    private let client: HTTPModelClient

    /// `apiKey` nil or empty: calls fail with `missingAPIKey` naming OPENAI_API_KEY.
    public init(apiKey: String?, baseURL: String = OpenAIProvider.defaultBaseURL, options: HTTPProviderOptions = HTTPProviderOptions()) throws {
        key = APIKey(apiKey)
        endpoint = try EmberModels.endpoint(base: baseURL, variable: Self.baseURLVariable, path: "/v1/chat/completions")
        client = HTTPModelClient(provider: "openai", endpoint: endpoint, options: options)
    }

    /// Key from OPENAI_API_KEY; base URL from `baseURL`, else OPENAI_BASE_URL, else OpenAI's.
    public convenience init(environment: [String: String], baseURL: String? = nil, options: HTTPProviderOptions = HTTPProviderOptions()) throws {
        try self.init(
            apiKey: environment[Self.keyVariable],
            baseURL: baseURL ?? environment[Self.baseURLVariable].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultBaseURL,
            options: options)
    }

    public var hasAPIKey: Bool { key != nil }
    /// The connection pool this provider uses.
    public var transport: HTTPTransport { client.transport }
    public var description: String { "OpenAIProvider(endpoint: \(endpoint.absoluteString), key: \(key == nil ? "unset" : "<redacted>"))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["endpoint": endpoint, "key": key == nil ? "unset" : "<redacted>"]) }

    func body(_ request: ModelRequest, stream: Bool) throws -> Data {
        let module = "\(providerName)/\(request.model)"
        var messages: [[String: Any]] = []
        if let system = request.system, !system.isEmpty { messages.append(["role": "system", "content": system]) }
        for m in request.messages {
            switch m.role {
            case .system, .user:
                messages.append(["role": m.role.rawValue, "content": m.content])
            case .assistant:
                var o: [String: Any] = ["role": "assistant"]
                o["content"] = m.content.isEmpty && !m.toolCalls.isEmpty ? NSNull() : m.content
                if !m.toolCalls.isEmpty {
                    o["tool_calls"] = m.toolCalls.map { c -> [String: Any] in
                        ["id": c.id, "type": "function", "function": ["name": c.name, "arguments": c.arguments]]
                    }
                }
                messages.append(o)
            case .tool:
                messages.append(["role": "tool", "tool_call_id": m.toolCallID ?? "", "content": m.content])
            }
        }
        var body: [String: Any] = ["model": request.model, "messages": messages]
        if let t = request.temperature { body["temperature"] = t }
        if let n = request.maxTokens { body["max_completion_tokens"] = n }
        if !request.stopSequences.isEmpty { body["stop"] = request.stopSequences }
        if !request.tools.isEmpty {
            body["tools"] = try request.tools.map { t -> [String: Any] in
                ["type": "function", "function": ["name": t.name, "description": t.description, "parameters": try t.parametersObject(module: module)]]
            }
        }
        if stream {
            body["stream"] = true
            body["stream_options"] = ["include_usage": true]
        }
        return try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
    }

    private func headers(_ key: APIKey) -> [(String, String)] { [("Authorization", "Bearer \(key.value)")] }

    public func complete(_ request: ModelRequest) async throws -> ProviderReply {
        let key = try requireKey(key, provider: providerName, variable: Self.keyVariable)
        let data = try body(request, stream: false)
        let answer = try await client.post(model: request.model, body: data, headers: headers(key), key: key)
        let object = try jsonObject(answer.body, provider: providerName, model: request.model, key: key)
        guard let choices = object["choices"] as? [[String: Any]], let first = choices.first,
            let message = first["message"] as? [String: Any]
        else {
            throw EmberError.malformedResponse(
                provider: providerName, model: request.model, message: "no choices[0].message in the answer")
        }
        var toolCalls: [ToolCall] = []
        if let calls = message["tool_calls"] as? [[String: Any]] {
            for c in calls {
                let f = c["function"] as? [String: Any]
                guard let name = f?["name"] as? String else {
                    throw EmberError.malformedResponse(provider: providerName, model: request.model, message: "a tool call has no function name")
                }
                toolCalls.append(ToolCall(id: c["id"] as? String ?? "", name: name, arguments: f?["arguments"] as? String ?? "{}"))
            }
        }
        let text: String
        if let content = message["content"] as? String {
            text = content
        } else if let refusal = message["refusal"] as? String {
            text = refusal
        } else if !toolCalls.isEmpty {
            text = ""
        } else {
            throw EmberError.malformedResponse(
                provider: providerName, model: request.model, message: "choices[0].message.content is not a string")
        }
        let usage = object["usage"] as? [String: Any]
        return ProviderReply(
            text: text,
            usage: TokenUsage(
                promptTokens: intValue(usage?["prompt_tokens"]) ?? 0,
                completionTokens: intValue(usage?["completion_tokens"]) ?? 0),
            reportedCost: (usage?["cost"] as? Double).flatMap { $0.isFinite && $0 >= 0 ? $0 : nil },
            toolCalls: toolCalls, finishReason: first["finish_reason"] as? String)
    }

    public func stream(_ request: ModelRequest) -> ProviderStream {
        let provider = self
        return ProviderStream {
            var driver: SSEStreamDriver?
            return {
                if driver == nil {
                    let key = try requireKey(provider.key, provider: provider.providerName, variable: Self.keyVariable)
                    let data = try provider.body(request, stream: true)
                    let decoder = OpenAIStreamDecoder(model: request.model, key: key)
                    driver = SSEStreamDriver(decoder: decoder) {
                        let opened = try await provider.client.openStream(
                            model: request.model, body: data, headers: provider.headers(key), key: key)
                        decoder.requestID = opened.requestID
                        return opened
                    }
                }
                return try await driver!.next()
            }
        }
    }
}

final class OpenAIStreamDecoder: StreamDecoder {
    let model: String
    let key: APIKey
    var requestID: String?
    private var text = ""
    private var usage: TokenUsage?
    private var cost: Double?
    private var finishReason: String?
    private var calls: [Int: (id: String, name: String, arguments: String)] = [:]
    private(set) var isDone = false

    init(model: String, key: APIKey) {
        self.model = model
        self.key = key
    }

    func decode(_ event: ServerSentEvent) throws -> [String] {
        let data = event.data
        if data.trimmingASCIIWhitespace() == "[DONE]" {
            isDone = true
            return []
        }
        guard let o = try? JSONSerialization.jsonObject(with: Data(data.utf8)), let object = o as? [String: Any] else {
            throw EmberError.malformedResponse(
                provider: "openai", model: model, message: "a stream event is not JSON (starts with: \(key.excerpt(data, limit: 200).debugDescription))")
        }
        if object["error"] != nil || event.event == "error" {
            throw streamError(provider: "openai", model: model, object: object, requestID: requestID, key: key)
        }
        if let u = object["usage"] as? [String: Any] {
            usage = TokenUsage(promptTokens: intValue(u["prompt_tokens"]) ?? 0, completionTokens: intValue(u["completion_tokens"]) ?? 0)
            if let c = u["cost"] as? Double, c.isFinite, c >= 0 { cost = c }
        }
        var out: [String] = []
        for choice in object["choices"] as? [[String: Any]] ?? [] where intValue(choice["index"]) ?? 0 == 0 {
            if let r = choice["finish_reason"] as? String { finishReason = r }
            guard let delta = choice["delta"] as? [String: Any] else { continue }
            if let t = delta["content"] as? String, !t.isEmpty {
                text += t
                out.append(t)
            } else if let t = delta["refusal"] as? String, !t.isEmpty {
                text += t
                out.append(t)
            }
            for c in delta["tool_calls"] as? [[String: Any]] ?? [] {
                let i = intValue(c["index"]) ?? 0
                var call = calls[i] ?? (id: "", name: "", arguments: "")
                if let id = c["id"] as? String { call.id = id }
                let f = c["function"] as? [String: Any]
                if let n = f?["name"] as? String { call.name += n }
                if let a = f?["arguments"] as? String { call.arguments += a }
                calls[i] = call
            }
        }
        return out
    }

    func reply(atEndOfBody: Bool) throws -> ProviderReply {
        if !isDone {
            throw EmberError.transport(
                provider: "openai", model: model,
                message: "the stream ended before its [DONE] event" + (requestID.map { " (request id \(key.excerpt($0, limit: 100)))" } ?? ""))
        }
        let toolCalls = calls.keys.sorted().map { i -> ToolCall in
            let c = calls[i]!
            return ToolCall(id: c.id, name: c.name, arguments: c.arguments.isEmpty ? "{}" : c.arguments)
        }
        return ProviderReply(text: text, usage: usage ?? .zero, reportedCost: cost, toolCalls: toolCalls, finishReason: finishReason)
    }
}

/// Anthropic's messages API.
///
/// `POST {base}/v1/messages` with `x-api-key` and `anthropic-version`; the turns as messages
/// of content blocks (`text`; an assistant's `tool_use`; a tool result as a user turn's
/// `tool_result`; consecutive turns of one role merged), the system prompt and `system` turns
/// as `system`, `tools` with their `input_schema`, `max_tokens` (default `defaultMaxTokens`,
/// the API requires one), `temperature` and `stop_sequences` when set. Text is the
/// concatenation of the answer's text blocks, tool calls its `tool_use` blocks; usage from
/// `usage.input_tokens` and `usage.output_tokens` (zeros when absent). Streaming: message
/// events, text from `text_delta`s, tool arguments from `input_json_delta`s, usage from
/// `message_start` and the last `message_delta`, the end at `message_stop`.
public final class AnthropicProvider: StreamingModelProvider, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public static let keyVariable = "ANTHROPIC_API_KEY"
    public static let baseURLVariable = "ANTHROPIC_BASE_URL"
    public static let defaultBaseURL = "https://api.anthropic.com"
    public static let defaultVersion = "2023-06-01"

    public let providerName = "anthropic"
    public let endpoint: URL
    public let version: String
    public let defaultMaxTokens: Int
    private let key: APIKey?
    private let client: HTTPModelClient

    public init(
        apiKey: String?, baseURL: String = AnthropicProvider.defaultBaseURL, version: String = AnthropicProvider.defaultVersion,
        defaultMaxTokens: Int = 1024, options: HTTPProviderOptions = HTTPProviderOptions()
    ) throws {
        key = APIKey(apiKey)
        self.version = version
        self.defaultMaxTokens = defaultMaxTokens
        endpoint = try EmberModels.endpoint(base: baseURL, variable: Self.baseURLVariable, path: "/v1/messages")
        client = HTTPModelClient(provider: "anthropic", endpoint: endpoint, options: options)
    }

    /// Key from ANTHROPIC_API_KEY; base URL from `baseURL`, else ANTHROPIC_BASE_URL, else Anthropic's.
    public convenience init(environment: [String: String], baseURL: String? = nil, options: HTTPProviderOptions = HTTPProviderOptions()) throws {
        try self.init(
            apiKey: environment[Self.keyVariable],
            baseURL: baseURL ?? environment[Self.baseURLVariable].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultBaseURL,
            options: options)
    }

    public var hasAPIKey: Bool { key != nil }
    /// The connection pool this provider uses.
    public var transport: HTTPTransport { client.transport }
    public var description: String { "AnthropicProvider(endpoint: \(endpoint.absoluteString), key: \(key == nil ? "unset" : "<redacted>"))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["endpoint": endpoint, "key": key == nil ? "unset" : "<redacted>"]) }

    func body(_ request: ModelRequest, stream: Bool) throws -> Data {
        let module = "\(providerName)/\(request.model)"
        var systemParts: [String] = []
        if let s = request.system, !s.isEmpty { systemParts.append(s) }
        var messages: [[String: Any]] = []
        var role = ""
        var blocks: [[String: Any]] = []
        func flush() {
            if !blocks.isEmpty { messages.append(["role": role, "content": blocks]) }
            blocks = []
        }
        for m in request.messages {
            let wireRole: String
            var add: [[String: Any]] = []
            switch m.role {
            case .system:
                if !m.content.isEmpty { systemParts.append(m.content) }
                continue
            case .user:
                wireRole = "user"
                add.append(["type": "text", "text": m.content])
            case .assistant:
                wireRole = "assistant"
                if !m.content.isEmpty || m.toolCalls.isEmpty { add.append(["type": "text", "text": m.content]) }
                for c in m.toolCalls {
                    add.append(["type": "tool_use", "id": c.id, "name": c.name, "input": try argumentsObject(c.arguments, module: module, tool: c.name)])
                }
            case .tool:
                wireRole = "user"
                add.append(["type": "tool_result", "tool_use_id": m.toolCallID ?? "", "content": m.content])
            }
            if wireRole != role { flush() }
            role = wireRole
            blocks += add
        }
        flush()
        var body: [String: Any] = [
            "model": request.model,
            "max_tokens": request.maxTokens ?? defaultMaxTokens,
            "messages": messages,
        ]
        if !systemParts.isEmpty { body["system"] = systemParts.joined(separator: "\n\n") }
        if let t = request.temperature { body["temperature"] = t }
        if !request.stopSequences.isEmpty { body["stop_sequences"] = request.stopSequences }
        if !request.tools.isEmpty {
            body["tools"] = try request.tools.map { t -> [String: Any] in
                ["name": t.name, "description": t.description, "input_schema": try t.parametersObject(module: module)]
            }
        }
        if stream { body["stream"] = true }
        return try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
    }

    private func headers(_ key: APIKey) -> [(String, String)] { [("x-api-key", key.value), ("anthropic-version", version)] }

    public func complete(_ request: ModelRequest) async throws -> ProviderReply {
        let key = try requireKey(key, provider: providerName, variable: Self.keyVariable)
        let data = try body(request, stream: false)
        let answer = try await client.post(model: request.model, body: data, headers: headers(key), key: key)
        let object = try jsonObject(answer.body, provider: providerName, model: request.model, key: key)
        guard let blocks = object["content"] as? [[String: Any]] else {
            throw EmberError.malformedResponse(provider: providerName, model: request.model, message: "no content blocks in the answer")
        }
        var text = ""
        var toolCalls: [ToolCall] = []
        for block in blocks {
            switch block["type"] as? String {
            case "text":
                guard let t = block["text"] as? String else {
                    throw EmberError.malformedResponse(provider: providerName, model: request.model, message: "a text block has no text")
                }
                text += t
            case "tool_use":
                guard let name = block["name"] as? String else {
                    throw EmberError.malformedResponse(provider: providerName, model: request.model, message: "a tool_use block has no name")
                }
                toolCalls.append(ToolCall(id: block["id"] as? String ?? "", name: name, arguments: jsonText(block["input"] ?? [String: Any]())))
            default:
                continue
            }
        }
        let usage = object["usage"] as? [String: Any]
        return ProviderReply(
            text: text,
            usage: TokenUsage(
                promptTokens: intValue(usage?["input_tokens"]) ?? 0,
                completionTokens: intValue(usage?["output_tokens"]) ?? 0),
            toolCalls: toolCalls, finishReason: object["stop_reason"] as? String)
    }

    public func stream(_ request: ModelRequest) -> ProviderStream {
        let provider = self
        return ProviderStream {
            var driver: SSEStreamDriver?
            return {
                if driver == nil {
                    let key = try requireKey(provider.key, provider: provider.providerName, variable: Self.keyVariable)
                    let data = try provider.body(request, stream: true)
                    let decoder = AnthropicStreamDecoder(model: request.model, key: key)
                    driver = SSEStreamDriver(decoder: decoder) {
                        let opened = try await provider.client.openStream(
                            model: request.model, body: data, headers: provider.headers(key), key: key)
                        decoder.requestID = opened.requestID
                        return opened
                    }
                }
                return try await driver!.next()
            }
        }
    }
}

final class AnthropicStreamDecoder: StreamDecoder {
    let model: String
    let key: APIKey
    var requestID: String?
    private var text = ""
    private var inputTokens = 0
    private var outputTokens = 0
    private var stopReason: String?
    private var tools: [Int: (id: String, name: String, json: String, initial: String)] = [:]
    private var finishedCalls: [(index: Int, call: ToolCall)] = []
    private(set) var isDone = false

    init(model: String, key: APIKey) {
        self.model = model
        self.key = key
    }

    func decode(_ event: ServerSentEvent) throws -> [String] {
        if event.event == "ping" { return [] }
        guard let o = try? JSONSerialization.jsonObject(with: Data(event.data.utf8)), let object = o as? [String: Any] else {
            throw EmberError.malformedResponse(
                provider: "anthropic", model: model,
                message: "a stream event is not JSON (starts with: \(key.excerpt(event.data, limit: 200).debugDescription))")
        }
        let type = object["type"] as? String ?? event.event
        switch type {
        case "error":
            throw streamError(provider: "anthropic", model: model, object: object, requestID: requestID, key: key)
        case "message_start":
            if let u = (object["message"] as? [String: Any])?["usage"] as? [String: Any] {
                inputTokens = intValue(u["input_tokens"]) ?? inputTokens
                outputTokens = intValue(u["output_tokens"]) ?? outputTokens
            }
        case "content_block_start":
            if let block = object["content_block"] as? [String: Any], let index = intValue(object["index"]) {
                if block["type"] as? String == "tool_use" {
                    let initial = (block["input"] as? [String: Any]).flatMap { $0.isEmpty ? nil : jsonText($0) } ?? ""
                    tools[index] = (id: block["id"] as? String ?? "", name: block["name"] as? String ?? "", json: "", initial: initial)
                } else if block["type"] as? String == "text", let t = block["text"] as? String, !t.isEmpty {
                    text += t
                    return [t]
                }
            }
        case "content_block_delta":
            guard let delta = object["delta"] as? [String: Any] else { return [] }
            switch delta["type"] as? String {
            case "text_delta":
                if let t = delta["text"] as? String {
                    text += t
                    return [t]
                }
            case "input_json_delta":
                if let index = intValue(object["index"]), let part = delta["partial_json"] as? String {
                    tools[index]?.json += part
                }
            default:
                break
            }
        case "content_block_stop":
            if let index = intValue(object["index"]), let t = tools.removeValue(forKey: index) {
                let args = t.json.isEmpty ? (t.initial.isEmpty ? "{}" : t.initial) : t.json
                finishedCalls.append((index, ToolCall(id: t.id, name: t.name, arguments: args)))
            }
        case "message_delta":
            if let r = (object["delta"] as? [String: Any])?["stop_reason"] as? String { stopReason = r }
            if let u = object["usage"] as? [String: Any] {
                outputTokens = intValue(u["output_tokens"]) ?? outputTokens
                inputTokens = intValue(u["input_tokens"]) ?? inputTokens
            }
        case "message_stop":
            isDone = true
        default:
            break  // ping, and event types added later
        }
        return []
    }

    func reply(atEndOfBody: Bool) throws -> ProviderReply {
        if !isDone {
            throw EmberError.transport(
                provider: "anthropic", model: model,
                message: "the stream ended before its message_stop event" + (requestID.map { " (request id \(key.excerpt($0, limit: 100)))" } ?? ""))
        }
        return ProviderReply(
            text: text, usage: TokenUsage(promptTokens: inputTokens, completionTokens: outputTokens),
            toolCalls: finishedCalls.sorted { $0.index < $1.index }.map(\.call), finishReason: stopReason)
    }
}

extension ToolDefinition {
    /// The parameters schema parsed for a request body, or an `invalidInput` error naming
    /// the tool.
    func parametersObject(module: String) throws -> [String: Any] {
        guard let o = try? JSONSerialization.jsonObject(with: Data(parameters.utf8)), let object = o as? [String: Any] else {
            throw EmberError.invalidInput(
                module: module, message: "the parameters of tool '\(name)' are not a JSON object (a JSON Schema is expected)")
        }
        return object
    }
}
