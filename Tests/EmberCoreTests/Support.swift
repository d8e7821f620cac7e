import Ember
import PropertyBased
import Synchronization
import Testing

/// Counts calls and the peak number running at once, without any clock.
actor ConcurrencyProbe {
    private(set) var calls = 0
    private(set) var inFlight = 0
    private(set) var peak = 0

    func enter() {
        calls += 1
        inFlight += 1
        peak = max(peak, inFlight)
    }

    func leave() { inFlight -= 1 }
}

/// A gate that opens once `count` parties have arrived: members that wait on it can only
/// all finish if they really run at the same time.
actor Rendezvous {
    private let count: Int
    private var arrived = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(count: Int) { self.count = count }

    func arriveAndWait() async {
        arrived += 1
        if arrived >= count {
            for w in waiters { w.resume() }
            waiters.removeAll()
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }
}

/// A thread-safe counter for closures that must stay synchronous.
final class Counter: Sendable {
    private let value = Mutex(0)
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
    var count: Int { value.withLock { $0 } }
}

struct TestFailure: Error, Equatable, RetryableError {
    let attempt: Int
    var isRetryable: Bool { true }
}

/// A thread-safe list that escaping closures can capture (a `Mutex` local cannot be).
final class Recorded<T: Sendable>: Sendable {
    private let items = Mutex<[T]>([])
    func append(_ item: T) { items.withLock { $0.append(item) } }
    var all: [T] { items.withLock { $0 } }
}

/// Runs `body` on `count` values drawn from `generator`, case `i` from a generator seeded
/// with (`seed`, `i`): the same cases on every run (the guide's DeterministicTestCase), and
/// a failing case can be replayed alone from its index.
func checkProperty<Value>(
    count: Int = 100, seed: UInt64 = 0x0e3b_e125, _ generator: Generator<Value, some Sequence>,
    _ body: (Value) async throws -> Void
) async throws {
    for i in 0..<count {
        var rng = Xoshiro(seed: (seed, UInt64(i), 0x9e37_79b9_7f4a_7c15, 0xbf58_476d_1ce4_e5b9))
        let value = generator.run(using: &rng)
        do {
            try await body(value)
        } catch {
            Issue.record("case \(i) (seed \(seed)) on \(value) threw \(error)")
            throw error
        }
    }
}
