import EmberCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EmberUtils

/// Exponential backoff with jitter: the delay before attempt `k + 1` is
/// `min(maxDelay, initialDelay * multiplier^(k-1))`, scaled by a random factor in
/// `[1 - jitter, 1]` drawn from a seeded generator.
public struct Backoff: Sendable {
    public var initialDelay: Duration
    public var multiplier: Double
    public var maxDelay: Duration
    /// 0 = no jitter, 1 = "full jitter".
    public var jitter: Double
    public var seed: UInt64

    public init(
        initialDelay: Duration = .milliseconds(100), multiplier: Double = 2,
        maxDelay: Duration = .seconds(30), jitter: Double = 0.5, seed: UInt64 = 0x5eed
    ) {
        self.initialDelay = initialDelay
        self.multiplier = multiplier
        self.maxDelay = maxDelay
        self.jitter = min(max(jitter, 0), 1)
        self.seed = seed
    }

    public static let none = Backoff(initialDelay: .zero, jitter: 0)

    /// The delay in nanoseconds before attempt `failedAttempts + 1`, given a unit random draw.
    public func delayNanoseconds(afterFailedAttempts failedAttempts: Int, unitRandom: Double) -> UInt64 {
        let base = Double(initialDelay.nanoseconds) * pow(multiplier, Double(max(failedAttempts - 1, 0)))
        let capped = min(base, Double(maxDelay.nanoseconds))
        let factor = 1 - jitter * unitRandom
        return UInt64(max(capped * factor, 0))
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}

/// How retry waits; tests inject one that returns at once.
public typealias Sleeper = @Sendable (_ nanoseconds: UInt64) async throws -> Void

public let taskSleeper: Sleeper = { ns in try await Task.sleep(nanoseconds: ns) }

/// Calls `m` up to `maxAttempts` times. With k retryable failures and k < maxAttempts the
/// call succeeds after k + 1 calls; otherwise it makes exactly `maxAttempts` calls and
/// rethrows the last error. An error `retryIf` rejects is rethrown at once; cancellation
/// (`CancellationError`, `URLError(.cancelled)`) is never retried whatever `retryIf` says.
/// A `rateLimited` error's `retryAfter` is honoured when longer than the backoff.
public func retry<Input: Sendable, Output: Sendable>(
    _ m: Module<Input, Output>,
    maxAttempts: Int = 3,
    backoff: Backoff = Backoff(),
    retryIf: @escaping @Sendable (any Error) -> Bool = RetryClassification.isRetryable,
    sleep: @escaping Sleeper = taskSleeper
) -> Module<Input, Output> {
    precondition(maxAttempts >= 1, "retry maxAttempts must be at least 1, got \(maxAttempts)")
    let rng = SharedRandomSource(seed: backoff.seed)
    return Module(name: "retry(\(m.name))", documentation: m.documentation) { input in
        var failures = 0
        while true {
            do {
                return try await m(input)
            } catch {
                failures += 1
                if RetryClassification.isCancellation(error) || Task.isCancelled { throw error }
                if failures >= maxAttempts || !retryIf(error) { throw error }
                let draw = rng.nextUnit()
                var delay = backoff.delayNanoseconds(afterFailedAttempts: failures, unitRandom: draw)
                if case .rateLimited(_, _, let after?, _) = error as? EmberError {
                    delay = max(delay, UInt64(after * 1e9))
                }
                if delay > 0 { try await sleep(delay) }
            }
        }
    }
}
