import EmberCore
import EmberProviders
import EmberUtils
import Foundation
import Synchronization

/// How `models(...)` finds providers, keys and prices.
public struct ModelSettings: Sendable {
    /// Where API keys and base URLs are read (`OPENAI_API_KEY`, `OPENAI_BASE_URL`,
    /// `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`). Defaults to the process environment.
    public var environment: [String: String]
    /// Overrides `OPENAI_BASE_URL`.
    public var openAIBaseURL: String?
    /// Overrides `ANTHROPIC_BASE_URL`.
    public var anthropicBaseURL: String?
    public var http: HTTPProviderOptions
    /// Latency of the `offline/...` models.
    public var offlineLatency: Duration
    /// Scripted answers of the `offline/...` models (prompt → text).
    public var offlineScript: [String: String] = [:]
    public var pricing: PricingTable
    /// Strict (the default): a model with no price and no provider-reported cost is an
    /// error, raised before the request is sent. Non-strict: its cost is 0, marked `.unpriced`.
    public var strictPricing: Bool

    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        openAIBaseURL: String? = nil, anthropicBaseURL: String? = nil,
        http: HTTPProviderOptions = HTTPProviderOptions(), offlineLatency: Duration = .zero,
        pricing: PricingTable = .builtIn, strictPricing: Bool = true
    ) {
        self.environment = environment
        self.openAIBaseURL = openAIBaseURL
        self.anthropicBaseURL = anthropicBaseURL
        self.http = http
        self.offlineLatency = offlineLatency
        self.pricing = pricing
        self.strictPricing = strictPricing
    }
}

/// A model name resolved to its provider.
public struct ResolvedModel: Sendable, Equatable, Hashable {
    /// `"openai"`, `"anthropic"`, `"offline"` or a registered provider.
    public var provider: String
    /// The name the provider is sent (prefix removed, alias kept as written).
    public var model: String
    /// `provider/model`: the registry's key.
    public var id: String { "\(provider)/\(model)" }

    public init(provider: String, model: String) {
        self.provider = provider
        self.model = model
    }
}

/// Routes model names to providers and keeps one provider instance per model.
///
/// Routing: `openai/<m>`, `anthropic/<m>` and `offline/<m>` go to that provider; a
/// registered prefix to its factory; a bare name to the provider the pricing table lists
/// for it (names and aliases in rules/model-pricing.toml). Anything else is `unknownModel`.
public final class ModelRegistry: Sendable {
    public typealias Factory = @Sendable (_ model: String, _ settings: ModelSettings) throws -> any ModelProvider

    public let settings: ModelSettings
    private let instances = Mutex<[String: any ModelProvider]>([:])
    private let factories = Mutex<[String: Factory]>([:])
    private let creations = Atomic<Int>(0)

    public static let builtInPrefixes = ["openai", "anthropic", "offline"]

    public init(settings: ModelSettings = ModelSettings()) {
        self.settings = settings
    }

    /// Adds a provider prefix (`"local"` routes `local/<m>`); replaces an earlier one.
    public func register(prefix: String, factory: @escaping Factory) {
        factories.withLock { $0[prefix] = factory }
        routes.withLock { $0 = RouteTable() }  // a new prefix may change how names route
    }

    /// Everything a call needs about a model name, resolved once per name: routing,
    /// parsing and pricing are off the per-call path.
    struct Route: Sendable {
        let resolved: ResolvedModel
        let provider: any ModelProvider
        let price: ModelPrice?
        let selfPricing: Bool
    }
    /// The routes by name, and the last one used: a program calling one model over and over
    /// (the common case) compares two short strings instead of hashing one.
    private struct RouteTable {
        var byName: [String: Route] = [:]
        var lastName = ""
        var last: Route?
    }
    private let routes = Mutex(RouteTable())

    func route(for name: String) throws -> Route {
        if let r = routes.withLock({ t -> Route? in
            if let last = t.last, t.lastName == name { return last }
            guard let r = t.byName[name] else { return nil }
            t.lastName = name
            t.last = r
            return r
        }) { return r }
        let resolved = try resolve(name)
        let provider = try provider(for: resolved)
        let r = Route(resolved: resolved, provider: provider, price: price(for: resolved), selfPricing: provider is any SelfPricingProvider)
        routes.withLock { $0.byName[name] = r }
        return r
    }

    /// Which provider and model name a name means.
    public func resolve(_ name: String) throws -> ResolvedModel {
        let trimmed = name.trimmingASCIIWhitespace()
        if let slash = trimmed.firstIndex(of: "/") {
            let prefix = String(trimmed[..<slash])
            let model = String(trimmed[trimmed.index(after: slash)...])
            let known = Self.builtInPrefixes.contains(prefix) || factories.withLock { $0[prefix] != nil }
            if known {
                guard !model.isEmpty else {
                    throw EmberError.unknownModel(name: name, hint: "give a model after the prefix, like \(prefix)/<model>")
                }
                return ResolvedModel(provider: prefix, model: model)
            }
        }
        if let price = settings.pricing.price(for: trimmed) {
            return ResolvedModel(provider: price.provider, model: trimmed)
        }
        let prefixes = (Self.builtInPrefixes + factories.withLock { Array($0.keys) }).sorted()
        let examples = settings.pricing.entries.prefix(4).map(\.name).joined(separator: ", ")
        throw EmberError.unknownModel(
            name: name,
            hint: "not in the model registry; use a provider prefix (\(prefixes.map { "\($0)/" }.joined(separator: ", "))) "
                + "or a known name such as \(examples) (see rules/model-pricing.toml)")
    }

    /// The provider for a model: created on first use, then the same instance for every
    /// caller, however many ask at once.
    public func provider(for name: String) throws -> any ModelProvider {
        try provider(for: try resolve(name))
    }

    public func provider(for resolved: ResolvedModel) throws -> any ModelProvider {
        let id = resolved.id
        if let p = instances.withLock({ $0[id] }) { return p }
        // Built outside the lock (a factory may be slow); the first one stored wins, so
        // concurrent first callers still all get one instance.
        let made = try makeProvider(resolved)
        return instances.withLock { table in
            if let p = table[id] { return p }
            table[id] = made
            creations.add(1, ordering: .relaxed)
            return made
        }
    }

    /// Provider instances kept so far (one per model).
    public var instanceCount: Int { creations.load(ordering: .relaxed) }

    private func makeProvider(_ r: ResolvedModel) throws -> any ModelProvider {
        switch r.provider {
        case "openai":
            return try OpenAIProvider(environment: settings.environment, baseURL: settings.openAIBaseURL, options: settings.http)
        case "anthropic":
            return try AnthropicProvider(environment: settings.environment, baseURL: settings.anthropicBaseURL, options: settings.http)
        case "offline":
            return OfflineProvider(latency: settings.offlineLatency, scriptedReplies: settings.offlineScript)
        default:
            guard let f = factories.withLock({ $0[r.provider] }) else {
                throw EmberError.unknownModel(name: r.id, hint: "no provider is registered for prefix '\(r.provider)'")
            }
            return try f(r.model, settings)
        }
    }

    /// The price for a resolved model, or why there is none.
    func price(for r: ResolvedModel) -> ModelPrice? {
        guard let p = settings.pricing.price(for: r.model), p.provider == r.provider else { return nil }
        return p
    }
}

/// Call parameters; `nil` means "the instance's default, else the provider's".
public struct ModelParameters: Sendable, Equatable {
    public var system: String?
    public var temperature: Double?
    public var maxTokens: Int?
    public var stop: [String]?
    /// Tools the model may call.
    public var tools: [ToolDefinition]?

    public init(
        system: String? = nil, temperature: Double? = nil, maxTokens: Int? = nil, stop: [String]? = nil,
        tools: [ToolDefinition]? = nil
    ) {
        self.system = system
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.stop = stop
        self.tools = tools
    }

    /// `overrides`' set values over these.
    public func merged(with overrides: ModelParameters) -> ModelParameters {
        ModelParameters(
            system: overrides.system ?? system, temperature: overrides.temperature ?? temperature,
            maxTokens: overrides.maxTokens ?? maxTokens, stop: overrides.stop ?? stop, tools: overrides.tools ?? tools)
    }

    /// Deterministic only at temperature exactly 0: unset means the provider's default
    /// (1.0 for OpenAI and Anthropic), which samples.
    public var determinism: Determinism { temperature == 0 ? .deterministic : .nondeterministic }
}

/// `models("gpt-4o", "prompt")`: one call to any model by name.
public final class Models: Sendable {
    public let registry: ModelRegistry

    public init(registry: ModelRegistry = ModelRegistry()) {
        self.registry = registry
    }

    public convenience init(settings: ModelSettings) {
        self.init(registry: ModelRegistry(settings: settings))
    }

    public func callAsFunction(
        _ model: String, _ prompt: String, temperature: Double? = nil, system: String? = nil,
        maxTokens: Int? = nil, stop: [String]? = nil, tools: [ToolDefinition]? = nil
    ) async throws -> ModelResponse {
        try await call(
            model, prompt,
            ModelParameters(system: system, temperature: temperature, maxTokens: maxTokens, stop: stop, tools: tools))
    }

    /// A conversation: system, user, assistant and tool turns, in order.
    public func callAsFunction(
        _ model: String, messages: [ChatMessage], temperature: Double? = nil, system: String? = nil,
        maxTokens: Int? = nil, stop: [String]? = nil, tools: [ToolDefinition]? = nil
    ) async throws -> ModelResponse {
        try await call(
            model, messages: messages,
            ModelParameters(system: system, temperature: temperature, maxTokens: maxTokens, stop: stop, tools: tools))
    }

    /// The answer as it is written: `.text` deltas, then `.completed` with the whole
    /// `ModelResponse` (usage, cost, latency). The request is sent when iteration starts;
    /// cancelling the iterating task, or leaving the loop early, closes the connection.
    /// Providers that cannot stream answer with one delta.
    public func stream(
        _ model: String, _ prompt: String, temperature: Double? = nil, system: String? = nil,
        maxTokens: Int? = nil, stop: [String]? = nil, tools: [ToolDefinition]? = nil
    ) -> ModelResponseStream {
        stream(
            model, messages: [.user(prompt)],
            ModelParameters(system: system, temperature: temperature, maxTokens: maxTokens, stop: stop, tools: tools))
    }

    /// A conversation, streamed.
    public func stream(
        _ model: String, messages: [ChatMessage], temperature: Double? = nil, system: String? = nil,
        maxTokens: Int? = nil, stop: [String]? = nil, tools: [ToolDefinition]? = nil
    ) -> ModelResponseStream {
        stream(
            model, messages: messages,
            ModelParameters(system: system, temperature: temperature, maxTokens: maxTokens, stop: stop, tools: tools))
    }

    /// A model with bound defaults; call-time parameters override them.
    public func instance(
        _ model: String, temperature: Double? = nil, system: String? = nil, maxTokens: Int? = nil,
        stop: [String]? = nil, tools: [ToolDefinition]? = nil
    ) -> ModelInstance {
        ModelInstance(
            models: self, model: model,
            defaults: ModelParameters(system: system, temperature: temperature, maxTokens: maxTokens, stop: stop, tools: tools))
    }

    /// The route for a name, with the strict-pricing check done before anything is sent.
    @inline(__always)
    private func checkedRoute(_ model: String) throws -> ModelRegistry.Route {
        let route = try registry.route(for: model)
        if route.price == nil, registry.settings.strictPricing, !route.selfPricing {
            throw EmberError.unknownModel(
                name: model,
                hint: "no price for \(route.resolved.id) in the pricing table; add it to rules/model-pricing.toml "
                    + "(and regenerate), or use ModelSettings(strictPricing: false) to record its cost as 0")
        }
        return route
    }

    func call(_ model: String, _ prompt: String, _ p: ModelParameters) async throws -> ModelResponse {
        let route = try checkedRoute(model)
        let request = ModelRequest(
            model: route.resolved.model, prompt: prompt, system: p.system, temperature: p.temperature,
            maxTokens: p.maxTokens, stopSequences: p.stop ?? [], tools: p.tools ?? [])
        let start = MonotonicClock.nanoseconds()
        let reply = try await route.provider.complete(request)
        return Self.response(reply, route: route, start: start)
    }

    func call(_ model: String, messages: [ChatMessage], _ p: ModelParameters) async throws -> ModelResponse {
        let route = try checkedRoute(model)
        let request = ModelRequest(
            model: route.resolved.model, messages: messages, system: p.system, temperature: p.temperature,
            maxTokens: p.maxTokens, stopSequences: p.stop ?? [], tools: p.tools ?? [])
        let start = MonotonicClock.nanoseconds()
        let reply = try await route.provider.complete(request)
        return Self.response(reply, route: route, start: start)
    }

    func stream(_ model: String, messages: [ChatMessage], _ p: ModelParameters) -> ModelResponseStream {
        let models = self
        return ModelResponseStream {
            var inner: ProviderStream.AsyncIterator?
            var route: ModelRegistry.Route?
            var start: UInt64 = 0
            return {
                if inner == nil {
                    let r = try models.checkedRoute(model)
                    let request = ModelRequest(
                        model: r.resolved.model, messages: messages, system: p.system, temperature: p.temperature,
                        maxTokens: p.maxTokens, stopSequences: p.stop ?? [], tools: p.tools ?? [])
                    route = r
                    start = MonotonicClock.nanoseconds()
                    inner = r.provider.streamed(request).makeAsyncIterator()
                }
                switch try await inner!.next() {
                case .text(let t)?: return .text(t)
                case .completed(let reply)?: return .completed(Self.response(reply, route: route!, start: start))
                case nil: return nil
                }
            }
        }
    }

    /// The reply priced: a cost the provider reports wins, else the table, else 0 (`.unpriced`).
    @inline(__always)
    static func response(_ reply: ProviderReply, route: ModelRegistry.Route, start: UInt64) -> ModelResponse {
        let latency = Duration.nanoseconds(Int64(MonotonicClock.nanoseconds() &- start))
        let cost: Double
        let source: CostSource
        if let reported = reply.reportedCost {
            (cost, source) = (reported, .provider)
        } else if let price = route.price {
            (cost, source) = (price.cost(of: reply.usage), .pricingTable)
        } else {
            (cost, source) = (0, .unpriced)
        }
        return ModelResponse(
            text: reply.text, usage: reply.usage, cost: cost, costSource: source, latency: latency,
            model: route.resolved.model, provider: route.resolved.provider, toolCalls: reply.toolCalls,
            finishReason: reply.finishReason)
    }
}

/// `models.instance("gpt-4o", temperature: 0.7, system: "...")`.
public struct ModelInstance: Sendable {
    public let models: Models
    public let model: String
    public let defaults: ModelParameters

    public func callAsFunction(
        _ prompt: String, temperature: Double? = nil, system: String? = nil, maxTokens: Int? = nil,
        stop: [String]? = nil, tools: [ToolDefinition]? = nil
    ) async throws -> ModelResponse {
        try await models.call(
            model, prompt,
            defaults.merged(
                with: ModelParameters(system: system, temperature: temperature, maxTokens: maxTokens, stop: stop, tools: tools)))
    }

    /// A conversation with the instance's defaults.
    public func callAsFunction(
        messages: [ChatMessage], temperature: Double? = nil, system: String? = nil, maxTokens: Int? = nil,
        stop: [String]? = nil, tools: [ToolDefinition]? = nil
    ) async throws -> ModelResponse {
        try await models.call(
            model, messages: messages,
            defaults.merged(
                with: ModelParameters(system: system, temperature: temperature, maxTokens: maxTokens, stop: stop, tools: tools)))
    }

    /// The answer streamed (see `Models.stream`).
    public func stream(
        _ prompt: String, temperature: Double? = nil, system: String? = nil, maxTokens: Int? = nil,
        stop: [String]? = nil, tools: [ToolDefinition]? = nil
    ) -> ModelResponseStream {
        stream(messages: [.user(prompt)], temperature: temperature, system: system, maxTokens: maxTokens, stop: stop, tools: tools)
    }

    /// A conversation streamed.
    public func stream(
        messages: [ChatMessage], temperature: Double? = nil, system: String? = nil, maxTokens: Int? = nil,
        stop: [String]? = nil, tools: [ToolDefinition]? = nil
    ) -> ModelResponseStream {
        models.stream(
            model, messages: messages,
            defaults.merged(
                with: ModelParameters(system: system, temperature: temperature, maxTokens: maxTokens, stop: stop, tools: tools)))
    }

    /// `.deterministic` only at temperature 0 (see `ModelParameters.determinism`).
    public var determinism: Determinism { defaults.determinism }

    /// This instance as a module over prompts, marked with its determinism so `jit` never
    /// replays a sampled answer.
    public func module(name: String? = nil) -> Module<String, ModelResponse> {
        let call = self
        return Module(
            name: name ?? "models(\(model))",
            documentation: "Calls \(model) with the instance's defaults.",
            determinism: determinism
        ) { prompt in try await call(prompt) }
    }

    /// The same as a module over prompts that answers the text only.
    public func textModule(name: String? = nil) -> Module<String, String> {
        let call = self
        return Module(
            name: name ?? "models(\(model)).text",
            documentation: "Calls \(model) with the instance's defaults; answers the text.",
            determinism: determinism
        ) { prompt in try await call(prompt).text }
    }
}

/// Settings carry the environment, and so the API keys: every printed or dumped form shows
/// the variable names only.
extension ModelSettings: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private var redactedEnvironment: String {
        "[" + environment.keys.sorted().map { "\($0): <redacted>" }.joined(separator: ", ") + "]"
    }
    public var description: String {
        "ModelSettings(environment: \(redactedEnvironment), openAIBaseURL: \(openAIBaseURL ?? "from environment"), "
            + "anthropicBaseURL: \(anthropicBaseURL ?? "from environment"), strictPricing: \(strictPricing))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "environment": redactedEnvironment, "openAIBaseURL": openAIBaseURL as Any,
                "anthropicBaseURL": anthropicBaseURL as Any, "offlineLatency": offlineLatency,
                "strictPricing": strictPricing,
            ], displayStyle: .struct)
    }
}
