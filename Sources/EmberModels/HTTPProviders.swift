import EmberCore
import EmberProviders
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Connection settings shared by the HTTP providers.
public struct HTTPProviderOptions: Sendable {
    /// Per attempt: a request with no complete answer by then fails with `.timeout`.
    public var timeout: Duration
    public var retry: ProviderRetryPolicy
    public var session: URLSession

    public init(timeout: Duration = .seconds(60), retry: ProviderRetryPolicy = ProviderRetryPolicy(), session: URLSession = sharedProviderSession) {
        self.timeout = timeout
        self.retry = retry
        self.session = session
    }
}

/// One ephemeral session for every provider: no cookies or caches on disk.
public let sharedProviderSession: URLSession = URLSession(configuration: .ephemeral)

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
        let start = key.redact(String(decoding: data.prefix(200), as: UTF8.self))
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

/// OpenAI's chat completions API, and every server that speaks it.
///
/// `POST {base}/v1/chat/completions` with `Authorization: Bearer <key>`; the system prompt
/// and the user prompt as messages; `max_completion_tokens`, `temperature` and `stop` when
/// set. Text from `choices[0].message.content`, usage from `usage.prompt_tokens` and
/// `usage.completion_tokens` (zeros when absent), and `usage.cost` when a server reports it.
public final class OpenAIProvider: ModelProvider, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
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
        client = HTTPModelClient(provider: "openai", endpoint: endpoint, timeout: options.timeout, retry: options.retry, session: options.session)
    }

    /// Key from OPENAI_API_KEY; base URL from `baseURL`, else OPENAI_BASE_URL, else OpenAI's.
    public convenience init(environment: [String: String], baseURL: String? = nil, options: HTTPProviderOptions = HTTPProviderOptions()) throws {
        try self.init(
            apiKey: environment[Self.keyVariable],
            baseURL: baseURL ?? environment[Self.baseURLVariable].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultBaseURL,
            options: options)
    }

    public var hasAPIKey: Bool { key != nil }
    public var description: String { "OpenAIProvider(endpoint: \(endpoint.absoluteString), key: \(key == nil ? "unset" : "<redacted>"))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["endpoint": endpoint, "key": key == nil ? "unset" : "<redacted>"]) }

    public func complete(_ request: ModelRequest) async throws -> ProviderReply {
        let key = try requireKey(key, provider: providerName, variable: Self.keyVariable)
        var messages: [[String: Any]] = []
        if let system = request.system, !system.isEmpty { messages.append(["role": "system", "content": system]) }
        messages.append(["role": "user", "content": request.prompt])
        var body: [String: Any] = ["model": request.model, "messages": messages]
        if let t = request.temperature { body["temperature"] = t }
        if let n = request.maxTokens { body["max_completion_tokens"] = n }
        if !request.stopSequences.isEmpty { body["stop"] = request.stopSequences }
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        let answer = try await client.post(
            model: request.model, body: data, headers: [("Authorization", "Bearer \(key.value)")], key: key)
        let object = try jsonObject(answer.body, provider: providerName, model: request.model, key: key)
        guard let choices = object["choices"] as? [[String: Any]], let first = choices.first,
            let message = first["message"] as? [String: Any]
        else {
            throw EmberError.malformedResponse(
                provider: providerName, model: request.model, message: "no choices[0].message in the answer")
        }
        let text: String
        if let content = message["content"] as? String {
            text = content
        } else if let refusal = message["refusal"] as? String {
            text = refusal
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
            reportedCost: (usage?["cost"] as? Double).flatMap { $0.isFinite && $0 >= 0 ? $0 : nil })
    }
}

/// Anthropic's messages API.
///
/// `POST {base}/v1/messages` with `x-api-key` and `anthropic-version`; the prompt as a user
/// message of text content blocks, `system`, `max_tokens` (default `defaultMaxTokens`, the
/// API requires one), `temperature` and `stop_sequences` when set. Text is the
/// concatenation of the answer's text blocks; usage from `usage.input_tokens` and
/// `usage.output_tokens` (zeros when absent).
public final class AnthropicProvider: ModelProvider, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
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
        client = HTTPModelClient(provider: "anthropic", endpoint: endpoint, timeout: options.timeout, retry: options.retry, session: options.session)
    }

    /// Key from ANTHROPIC_API_KEY; base URL from `baseURL`, else ANTHROPIC_BASE_URL, else Anthropic's.
    public convenience init(environment: [String: String], baseURL: String? = nil, options: HTTPProviderOptions = HTTPProviderOptions()) throws {
        try self.init(
            apiKey: environment[Self.keyVariable],
            baseURL: baseURL ?? environment[Self.baseURLVariable].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultBaseURL,
            options: options)
    }

    public var hasAPIKey: Bool { key != nil }
    public var description: String { "AnthropicProvider(endpoint: \(endpoint.absoluteString), key: \(key == nil ? "unset" : "<redacted>"))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["endpoint": endpoint, "key": key == nil ? "unset" : "<redacted>"]) }

    public func complete(_ request: ModelRequest) async throws -> ProviderReply {
        let key = try requireKey(key, provider: providerName, variable: Self.keyVariable)
        var body: [String: Any] = [
            "model": request.model,
            "max_tokens": request.maxTokens ?? defaultMaxTokens,
            "messages": [["role": "user", "content": [["type": "text", "text": request.prompt]]]],
        ]
        if let system = request.system, !system.isEmpty { body["system"] = system }
        if let t = request.temperature { body["temperature"] = t }
        if !request.stopSequences.isEmpty { body["stop_sequences"] = request.stopSequences }
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        let answer = try await client.post(
            model: request.model, body: data,
            headers: [("x-api-key", key.value), ("anthropic-version", version)], key: key)
        let object = try jsonObject(answer.body, provider: providerName, model: request.model, key: key)
        guard let blocks = object["content"] as? [[String: Any]] else {
            throw EmberError.malformedResponse(provider: providerName, model: request.model, message: "no content blocks in the answer")
        }
        var text = ""
        for block in blocks where (block["type"] as? String) == "text" {
            guard let t = block["text"] as? String else {
                throw EmberError.malformedResponse(provider: providerName, model: request.model, message: "a text block has no text")
            }
            text += t
        }
        let usage = object["usage"] as? [String: Any]
        return ProviderReply(
            text: text,
            usage: TokenUsage(
                promptTokens: intValue(usage?["input_tokens"]) ?? 0,
                completionTokens: intValue(usage?["output_tokens"]) ?? 0))
    }
}
