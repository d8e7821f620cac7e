import EmberCore
import EmberUtils
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a provider is asked: a conversation (or one prompt), with the parameters every
/// wire format knows, and the tools the model may call.
public struct ModelRequest: Sendable, Equatable {
    public var model: String
    /// The turns in order. A one-prompt request is one `user` turn.
    public var messages: [ChatMessage]
    /// Instructions sent before the turns (with any `system` turns of `messages`).
    public var system: String?
    public var temperature: Double?
    public var maxTokens: Int?
    public var stopSequences: [String]
    /// Tools the model may call; its calls come back in `ProviderReply.toolCalls`.
    public var tools: [ToolDefinition]

    public init(
        model: String, prompt: String, system: String? = nil, temperature: Double? = nil,
        maxTokens: Int? = nil, stopSequences: [String] = [], tools: [ToolDefinition] = []
    ) {
        self.init(
            model: model, messages: [ChatMessage(role: .user, content: prompt)], system: system, temperature: temperature,
            maxTokens: maxTokens, stopSequences: stopSequences, tools: tools)
    }

    public init(
        model: String, messages: [ChatMessage], system: String? = nil, temperature: Double? = nil,
        maxTokens: Int? = nil, stopSequences: [String] = [], tools: [ToolDefinition] = []
    ) {
        self.model = model
        self.messages = messages
        self.system = system
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.stopSequences = stopSequences
        self.tools = tools
    }

    /// The last user turn's text ("" when there is none). Setting it replaces the last turn
    /// when that is a user turn, else appends a user turn.
    public var prompt: String {
        get {
            for m in messages.reversed() where m.role == .user { return m.content }
            return ""
        }
        set {
            if let last = messages.indices.last, messages[last].role == .user, messages[last].toolCalls.isEmpty {
                messages[last].content = newValue
            } else {
                messages.append(ChatMessage(role: .user, content: newValue))
            }
        }
    }
}

public struct TokenUsage: Sendable, Equatable, Codable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int { promptTokens + completionTokens }

    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }

    public static let zero = TokenUsage(promptTokens: 0, completionTokens: 0)
}

/// What a provider answers, before pricing.
public struct ProviderReply: Sendable, Equatable {
    public var text: String
    public var usage: TokenUsage
    /// A cost the provider itself reported; it wins over the pricing table.
    public var reportedCost: Double?
    /// The tools the model called, in order (empty when it called none).
    public var toolCalls: [ToolCall]
    /// Why the model stopped, in the provider's words (`stop`, `end_turn`, `tool_calls`,
    /// `tool_use`, `length`, `max_tokens`...), when it says.
    public var finishReason: String?

    public init(
        text: String, usage: TokenUsage, reportedCost: Double? = nil, toolCalls: [ToolCall] = [],
        finishReason: String? = nil
    ) {
        self.text = text
        self.usage = usage
        self.reportedCost = reportedCost
        self.toolCalls = toolCalls
        self.finishReason = finishReason
    }
}

/// A model backend: OpenAI, Anthropic, or the offline one.
public protocol ModelProvider: Sendable {
    var providerName: String { get }
    func complete(_ request: ModelRequest) async throws -> ProviderReply
}

/// A deterministic provider for tests, examples and benchmarks. Its text is derived from
/// a hash of (model, system, prompt), so equal requests get equal answers in every
/// process; token counts are whitespace word counts. Latency and failures are injected
/// on purpose: failures follow a seeded sequence, so a test can replay them.
public final class OfflineProvider: StreamingModelProvider {
    public let providerName = "offline"
    public let latency: Duration
    public let failureRate: Double
    private let failures: SharedRandomSource
    /// Prompt → answer text for scripted conversations; other prompts get hashed text.
    public let scriptedReplies: [String: String]

    public init(
        latency: Duration = .zero, failureRate: Double = 0, seed: UInt64 = 42,
        scriptedReplies: [String: String] = [:]
    ) {
        self.latency = latency
        self.failureRate = min(max(failureRate, 0), 1)
        self.failures = SharedRandomSource(seed: seed)
        self.scriptedReplies = scriptedReplies
    }

    private static let vocabulary = [
        "alpha", "beta", "gamma", "delta", "answer", "because", "therefore", "likely",
        "positive", "negative", "neutral", "yes", "no", "maybe", "first", "second",
    ]

    public func complete(_ request: ModelRequest) async throws -> ProviderReply {
        if latency > .zero { try await Task.sleep(for: latency) }
        if failureRate > 0, failures.nextUnit() < failureRate {
            throw EmberError.transient(module: "offline/\(request.model)", message: "injected failure")
        }
        if let scripted = scriptedReplies[request.prompt] {
            let promptTokens = Self.wordCount(request.prompt) + Self.wordCount(request.system ?? "")
            return ProviderReply(
                text: scripted,
                usage: TokenUsage(promptTokens: promptTokens, completionTokens: Self.wordCount(scripted)),
                reportedCost: 0)
        }
        var h = StableHash()
        h.combine(request.model)
        h.combine(request.system ?? "")
        h.combine(request.prompt)
        if request.messages.count > 1 {
            // Earlier turns change the answer; a one-prompt request hashes as it always did.
            for m in request.messages.dropLast() {
                h.combine(m.role.rawValue)
                h.combine(m.content)
            }
        }
        var g = SeededGenerator(seed: h.value)
        let limit = min(request.maxTokens ?? 12, 12)
        let count = max(1, min(limit, 4 + Int(g.next() % 9)))
        var words: [String] = []
        words.reserveCapacity(count)
        for _ in 0..<count { words.append(Self.vocabulary[Int(g.next() % UInt64(Self.vocabulary.count))]) }
        var text = words.joined(separator: " ")
        for stop in request.stopSequences where !stop.isEmpty {
            if let r = text.firstRange(of: stop) { text = String(text[..<r.lowerBound]) }
        }
        let promptTokens = Self.wordCount(request.prompt) + Self.wordCount(request.system ?? "")
        return ProviderReply(
            text: text, usage: TokenUsage(promptTokens: promptTokens, completionTokens: count),
            reportedCost: 0)  // offline calls cost nothing; the provider says so
    }

    /// The same answer as `complete`, one word at a time (the first after `latency`).
    public func stream(_ request: ModelRequest) -> ProviderStream {
        let provider = self
        return ProviderStream {
            var pending: [String]? = nil
            var reply: ProviderReply? = nil
            var finished = false
            return {
                if finished { return nil }
                if pending == nil {
                    let r = try await provider.complete(request)
                    reply = r
                    var pieces: [String] = []
                    var current = ""
                    for ch in r.text {
                        if ch == " " && !current.isEmpty {
                            pieces.append(current)
                            current = ""
                        }
                        current.append(ch)
                    }
                    if !current.isEmpty { pieces.append(current) }
                    pending = pieces.reversed()
                }
                try Task.checkCancellation()
                if let next = pending?.popLast() { return .text(next) }
                finished = true
                return .completed(reply!)
            }
        }
    }

    static func wordCount(_ s: String) -> Int {
        var n = 0
        var inWord = false
        for b in s.utf8 {
            let space = b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D
            if !space && !inWord { n += 1 }
            inWord = !space
        }
        return n
    }
}
