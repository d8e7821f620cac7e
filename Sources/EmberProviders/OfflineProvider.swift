import EmberCore
import EmberUtils
import Foundation

/// What a provider is asked: one prompt, with the parameters every wire format knows.
public struct ModelRequest: Sendable, Equatable {
    public var model: String
    public var prompt: String
    public var system: String?
    public var temperature: Double?
    public var maxTokens: Int?
    public var stopSequences: [String]

    public init(
        model: String, prompt: String, system: String? = nil, temperature: Double? = nil,
        maxTokens: Int? = nil, stopSequences: [String] = []
    ) {
        self.model = model
        self.prompt = prompt
        self.system = system
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.stopSequences = stopSequences
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

    public init(text: String, usage: TokenUsage, reportedCost: Double? = nil) {
        self.text = text
        self.usage = usage
        self.reportedCost = reportedCost
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
public final class OfflineProvider: ModelProvider {
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
        var g = SeededGenerator(seed: h.value)
        let limit = min(request.maxTokens ?? 12, 12)
        let count = max(1, min(limit, 4 + Int(g.next() % 9)))
        var words: [String] = []
        words.reserveCapacity(count)
        for _ in 0..<count { words.append(Self.vocabulary[Int(g.next() % UInt64(Self.vocabulary.count))]) }
        var text = words.joined(separator: " ")
        for stop in request.stopSequences where !stop.isEmpty {
            if let r = text.range(of: stop) { text = String(text[..<r.lowerBound]) }
        }
        let promptTokens = Self.wordCount(request.prompt) + Self.wordCount(request.system ?? "")
        return ProviderReply(
            text: text, usage: TokenUsage(promptTokens: promptTokens, completionTokens: count),
            reportedCost: 0)  // offline calls cost nothing; the provider says so
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
