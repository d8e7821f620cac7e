import EmberCore
import EmberUtils
import Synchronization

/// Memoizes a module in a bounded LRU. Concurrent callers of one key share a single
/// underlying call; a failed call is not cached (the next caller tries again).
///
/// Only cache modules whose output depends on the input alone: a model call at
/// temperature > 0 is not such a module.
public func cache<Input: Sendable & Hashable, Output: Sendable>(
    _ m: Module<Input, Output>,
    maxSize: Int = 1024
) -> Module<Input, Output> {
    cache(m, maxSize: maxSize, key: { $0 })
}

/// The same for inputs that are not `Hashable`: `key` derives the cache key.
public func cache<Input: Sendable, Output: Sendable, Key: Hashable & Sendable>(
    _ m: Module<Input, Output>,
    maxSize: Int = 1024,
    key: @escaping @Sendable (Input) -> Key
) -> Module<Input, Output> {
    precondition(maxSize >= 1, "cache maxSize must be at least 1, got \(maxSize)")
    let store = LRUCacheStore<Key, Output>(maxSize: maxSize)
    let name = "cache(\(m.name))"
    let inputSize = MetricSize.strategy(for: Input.self)
    let outputSize = MetricSize.strategy(for: Output.self)
    return Module.recordingOwnMetrics(name: name, documentation: m.documentation) { input in
        let recorder = MetricsRecorder.shared
        let recording = recorder.isEnabled
        let start = recording ? MonotonicClock.nanoseconds() : 0
        let (output, hit) = try await store.value(for: key(input)) { try await m(input) }
        if recording {
            let end = MonotonicClock.nanoseconds()
            recorder.record(
                OperatorMetrics(
                    name: name, executionTimeNs: end &- start,
                    inputSizeBytes: inputSize.of(input), outputSizeBytes: outputSize.of(output),
                    cacheHit: hit, jitStrategy: nil, timestampNs: recorder.wallClock(atMonotonic: end)))
        }
        return output
    }
}

/// The state behind `cache`: finished values in LRU order plus the calls in flight.
public final class LRUCacheStore<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct State {
        var values: [Key: Value] = [:]
        var order = LRUList<Key>()
        var inFlight: [Key: Task<Value, any Error>] = [:]
    }

    private enum Lookup {
        case hit(Value)
        case wait(Task<Value, any Error>)
        case started(Task<Value, any Error>)
    }

    public let maxSize: Int
    private let state = Mutex(State())

    public init(maxSize: Int) { self.maxSize = maxSize }

    public var count: Int { state.withLock { $0.values.count } }

    /// The cached value for `key`, or the result of `compute` (run once however many
    /// callers arrive while it runs). `hit` is true when no computation was needed.
    public func value(
        for key: Key, compute: @escaping @Sendable () async throws -> Value
    ) async throws -> (Value, hit: Bool) {
        let lookup: Lookup = state.withLock { s in
            if let v = s.values[key] {
                s.order.touch(key)
                return .hit(v)
            }
            if let t = s.inFlight[key] { return .wait(t) }
            let t = Task { try await compute() }
            s.inFlight[key] = t
            return .started(t)
        }
        switch lookup {
        case .hit(let v):
            return (v, true)
        case .wait(let t):
            return (try await t.value, false)
        case .started(let t):
            do {
                let v = try await t.value
                state.withLock { s in
                    s.inFlight[key] = nil
                    s.values[key] = v
                    s.order.touch(key)
                    while s.values.count > maxSize, let old = s.order.popLeastRecent() {
                        s.values[old] = nil
                    }
                }
                return (v, false)
            } catch {
                state.withLock { s in s.inFlight[key] = nil }
                throw error
            }
        }
    }

    /// Keys from most to least recently used (for tests and debugging).
    public var keysByRecency: [Key] { state.withLock { $0.order.keysByRecency } }
}
