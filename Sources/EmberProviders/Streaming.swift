import EmberCore

/// One event of a streamed model answer: a piece of text as it arrives, then, last, the
/// whole answer (text, usage, tool calls; for `models.stream`, cost and latency too).
public enum StreamEvent<Completion: Sendable>: Sendable {
    /// The next piece of the answer's text.
    case text(String)
    /// The answer, complete. Always the last event of a stream that did not fail.
    case completed(Completion)

    public var text: String? {
        if case .text(let t) = self { return t }
        return nil
    }

    public var completion: Completion? {
        if case .completed(let c) = self { return c }
        return nil
    }
}

extension StreamEvent: Equatable where Completion: Equatable {}

/// A streamed model answer: `.text` deltas, then one `.completed`.
///
/// Each iteration is one request: the request is sent when the first event is asked for.
/// Cancelling the task that iterates, or dropping the iterator before the end, closes the
/// connection. Errors (before or during the stream) are thrown as `EmberError`s;
/// cancellation as `CancellationError`.
public struct ModelEventStream<Completion: Sendable>: AsyncSequence, Sendable {
    public typealias Element = StreamEvent<Completion>
    public typealias Next = () async throws -> StreamEvent<Completion>?

    private let open: @Sendable () -> Next

    /// `open` is called once per iteration and returns the function that yields the events
    /// in order, then nil.
    public init(_ open: @escaping @Sendable () -> Next) {
        self.open = open
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(next: open()) }

    public struct AsyncIterator: AsyncIteratorProtocol {
        private var nextEvent: Next?

        init(next: @escaping Next) { nextEvent = next }

        public mutating func next() async throws -> StreamEvent<Completion>? {
            guard let n = nextEvent else { return nil }
            do {
                if let e = try await n() { return e }
            } catch {
                nextEvent = nil
                throw error
            }
            nextEvent = nil
            return nil
        }
    }

    /// The same stream with the completion transformed (the text deltas pass through).
    public func mapCompletion<Other: Sendable>(
        _ transform: @escaping @Sendable (Completion) throws -> Other
    ) -> ModelEventStream<Other> {
        let base = self
        return ModelEventStream<Other> {
            var it = base.makeAsyncIterator()
            return {
                switch try await it.next() {
                case .text(let t)?: return .text(t)
                case .completed(let c)?: return .completed(try transform(c))
                case nil: return nil
                }
            }
        }
    }

    /// Reads the stream to its end and answers the completion.
    public func completion() async throws -> Completion {
        for try await e in self {
            if case .completed(let c) = e { return c }
        }
        throw EmberError.permanent(module: "stream", message: "the stream ended without its completed event")
    }
}

/// What a provider streams: text deltas, then the `ProviderReply`.
public typealias ProviderStream = ModelEventStream<ProviderReply>
public typealias ProviderStreamEvent = StreamEvent<ProviderReply>

/// A provider that can stream its answers.
public protocol StreamingModelProvider: ModelProvider {
    func stream(_ request: ModelRequest) -> ProviderStream
}

extension ModelProvider {
    /// The provider's stream when it has one; else one `.text` with the whole answer, then
    /// `.completed`.
    public func streamed(_ request: ModelRequest) -> ProviderStream {
        if let s = self as? any StreamingModelProvider { return s.stream(request) }
        let provider = self
        return ProviderStream {
            var reply: ProviderReply?
            var done = false
            return {
                if done { return nil }
                if let r = reply {
                    done = true
                    return .completed(r)
                }
                let r = try await provider.complete(request)
                reply = r
                if r.text.isEmpty {
                    done = true
                    return .completed(r)
                }
                return .text(r.text)
            }
        }
    }
}
