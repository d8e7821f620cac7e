import EmberUtils

/// A named, typed, `Sendable` async function: the one unit of composition in Ember.
///
/// ```swift
/// let sentiment = module("sentiment_classifier", doc: "Labels a text.") { (text: String) in
///     text.contains("good") ? "positive" : "negative"
/// }
/// let label = try await sentiment("a good day")
/// ```
public struct Module<Input: Sendable, Output: Sendable>: Sendable {
    public let name: String
    public let documentation: String
    @usableFromInline let body: @Sendable (Input) async throws -> Output
    /// Wrappers that know more than the generic record (a cache hit, a JIT strategy)
    /// record their own metrics; then the call site records nothing.
    @usableFromInline let recordsOwnMetrics: Bool
    /// How to size inputs and outputs for metrics, decided once here, not per call.
    @usableFromInline let inputSize: MetricSize
    @usableFromInline let outputSize: MetricSize
    /// Whether `jit` may replay this module's results (see `Determinism`).
    public let determinism: Determinism

    public init(
        name: String,
        documentation: String = "",
        determinism: Determinism = .undeclared,
        _ body: @escaping @Sendable (Input) async throws -> Output
    ) {
        self.name = name
        self.documentation = documentation
        self.body = body
        self.recordsOwnMetrics = false
        self.inputSize = .strategy(for: Input.self)
        self.outputSize = .strategy(for: Output.self)
        self.determinism = determinism
    }

    private init(
        name: String, documentation: String, recordsOwnMetrics: Bool,
        determinism: Determinism = .undeclared,
        body: @escaping @Sendable (Input) async throws -> Output
    ) {
        self.name = name
        self.documentation = documentation
        self.body = body
        self.recordsOwnMetrics = recordsOwnMetrics
        self.inputSize = .strategy(for: Input.self)
        self.outputSize = .strategy(for: Output.self)
        self.determinism = determinism
    }

    /// For wrappers such as `cache` and `jit`, which call `MetricsRecorder.record`
    /// themselves because they know what the generic record does not (hit, strategy).
    public static func recordingOwnMetrics(
        name: String, documentation: String = "", determinism: Determinism = .undeclared,
        _ body: @escaping @Sendable (Input) async throws -> Output
    ) -> Module {
        Module(
            name: name, documentation: documentation, recordsOwnMetrics: true,
            determinism: determinism, body: body)
    }

    @inlinable
    public func callAsFunction(_ input: Input) async throws -> Output {
        if recordsOwnMetrics || !MetricsRecorder.shared.isEnabled {
            return try await body(input)
        }
        return try await callRecordingMetrics(input)
    }

    @inlinable
    func callRecordingMetrics(_ input: Input) async throws -> Output {
        let start = MonotonicClock.nanoseconds()
        let output = try await body(input)
        let end = MonotonicClock.nanoseconds()
        let recorder = MetricsRecorder.shared
        recorder.record(
            OperatorMetrics(
                name: name,
                executionTimeNs: end &- start,
                inputSizeBytes: inputSize.of(input),
                outputSizeBytes: outputSize.of(output),
                cacheHit: false,
                jitStrategy: nil,
                timestampNs: recorder.wallClock(atMonotonic: end)
            ))
        return output
    }

    /// The same function under another name or documentation.
    public func named(_ name: String, documentation: String? = nil) -> Module {
        Module(
            name: name, documentation: documentation ?? self.documentation,
            recordsOwnMetrics: false, determinism: determinism, body: body)
    }

    /// The same module declaring whether its results may be replayed by `jit`.
    public func declaring(_ determinism: Determinism) -> Module {
        Module(
            name: name, documentation: documentation, recordsOwnMetrics: recordsOwnMetrics,
            determinism: determinism, body: body)
    }

    /// This module with its output type erased, for heterogeneous collections.
    public func erased() -> Module<Input, any Sendable> {
        let call = self
        return Module<Input, any Sendable>(name: name, documentation: documentation) { input in
            try await call(input)
        }
    }
}

/// Defines a module, the Swift form of the guide's `@module def name(...)`.
public func module<Input: Sendable, Output: Sendable>(
    _ name: String,
    doc: String = "",
    determinism: Determinism = .undeclared,
    _ body: @escaping @Sendable (Input) async throws -> Output
) -> Module<Input, Output> {
    Module(name: name, documentation: doc, determinism: determinism, body)
}

/// The identity module: what an empty chain is.
public func identity<T: Sendable>(_ type: T.Type = T.self) -> Module<T, T> {
    Module(name: "identity", documentation: "Returns its input unchanged.", determinism: .deterministic) { $0 }
}
