import EmberCore

/// What `models(...)` answers (and, streamed, the last event of `models.stream(...)`).
public struct ModelResponse: Sendable, Equatable {
    public var text: String
    /// Prompt, completion and total tokens; zeros when the provider reported none.
    public var usage: TokenUsage
    /// US dollars.
    public var cost: Double
    /// Where `cost` came from.
    public var costSource: CostSource
    /// From the request leaving to the answer parsed, retries included.
    public var latency: Duration
    /// The model name sent to the provider (without a routing prefix).
    public var model: String
    /// `"openai"`, `"anthropic"`, `"offline"`, or a registered provider's name.
    public var provider: String
    /// The tools the model called, in order (empty when it called none).
    public var toolCalls: [ToolCall]
    /// Why the model stopped, in the provider's words, when it says.
    public var finishReason: String?

    public init(
        text: String, usage: TokenUsage, cost: Double, costSource: CostSource, latency: Duration,
        model: String, provider: String, toolCalls: [ToolCall] = [], finishReason: String? = nil
    ) {
        self.text = text
        self.usage = usage
        self.cost = cost
        self.costSource = costSource
        self.latency = latency
        self.model = model
        self.provider = provider
        self.toolCalls = toolCalls
        self.finishReason = finishReason
    }
}

public enum CostSource: String, Sendable, Equatable, Codable {
    /// The provider reported the cost in its answer (it wins over the table).
    case provider
    /// Computed from the pricing table.
    case pricingTable
    /// No price known and pricing is not strict: `cost` is 0.
    case unpriced
}

/// A provider whose answers carry their own cost (`ProviderReply.reportedCost`), so the
/// pricing table need not know its models.
public protocol SelfPricingProvider: ModelProvider {}

extension OfflineProvider: SelfPricingProvider {}

/// What `models.stream(...)` yields: text deltas, then the `ModelResponse` with usage and cost.
public typealias ModelResponseStream = ModelEventStream<ModelResponse>
