import Ember
import Foundation
import Synchronization
import Testing

@Suite struct RetryTests {
    private func failing(_ error: any Error, calls: Counter) -> Module<Int, Int> {
        module("failing") { (_: Int) -> Int in
            _ = calls.increment()
            throw error
        }
    }

    @Test(arguments: [
        CancellationError() as any Error,
        URLError(.cancelled) as any Error,
    ])
    func cancellationIsNeverRetried(error: any Error) async {
        let calls = Counter()
        let m = retry(failing(error, calls: calls), maxAttempts: 5, retryIf: { _ in true }, sleep: { _ in })
        await #expect(throws: (any Error).self) { try await m(1) }
        #expect(calls.count == 1)
    }

    @Test(arguments: [
        EmberError.authentication(provider: "openai", model: "gpt-4o", status: 401, message: "bad key"),
        EmberError.http(provider: "openai", model: "gpt-4o", status: 400, message: "bad request"),
        EmberError.invalidInput(module: "m", message: "no"),
    ])
    func nonRetryableErrorsAreRethrownAtOnce(error: EmberError) async {
        let calls = Counter()
        let m = retry(failing(error, calls: calls), maxAttempts: 5, sleep: { _ in })
        await #expect(throws: error) { try await m(1) }
        #expect(calls.count == 1)
    }

    @Test func unknownErrorsAreNotRetriedByDefault() async {
        struct Opaque: Error {}
        let calls = Counter()
        await #expect(throws: Opaque.self) {
            try await retry(failing(Opaque(), calls: calls), maxAttempts: 4, sleep: { _ in })(0)
        }
        #expect(calls.count == 1)
    }

    @Test func sleepsFollowTheBackoffAndHonourRetryAfter() async throws {
        let sleeps = Recorded<UInt64>()
        let calls = Counter()
        let m = module("m") { (x: Int) -> Int in
            switch calls.increment() {
            case 1, 2: throw EmberError.transient(module: "m", message: "flap")
            case 3: throw EmberError.rateLimited(provider: "p", model: "x", retryAfter: 7, message: "slow down")
            default: return x
            }
        }
        let r = retry(
            m, maxAttempts: 5, backoff: Backoff(initialDelay: .milliseconds(100), multiplier: 2, jitter: 0),
            sleep: { ns in sleeps.append(ns) })
        #expect(try await r(9) == 9)
        #expect(sleeps.all == [100_000_000, 200_000_000, 7_000_000_000])
    }

    @Test func jitterIsSeededAndReplayable() async throws {
        func delays(seed: UInt64) async throws -> [UInt64] {
            let sleeps = Recorded<UInt64>()
            let calls = Counter()
            let m = module("m") { (x: Int) -> Int in
                if calls.increment() < 5 { throw EmberError.transient(module: "m", message: "flap") }
                return x
            }
            _ = try await retry(
                m, maxAttempts: 5, backoff: Backoff(initialDelay: .milliseconds(10), jitter: 1, seed: seed),
                sleep: { ns in sleeps.append(ns) })(1)
            return sleeps.all
        }
        let a = try await delays(seed: 1)
        #expect(a.count == 4)
        #expect(try await delays(seed: 1) == a)
        #expect(try await delays(seed: 2) != a)
    }

    @Test func cancelledCallerStopsRetrying() async throws {
        let calls = Counter()
        let m = retry(
            module("m") { (_: Int) -> Int in _ = calls.increment(); throw EmberError.transient(module: "m", message: "x") },
            maxAttempts: 1_000, backoff: Backoff(initialDelay: .seconds(600)))
        let run = Task { try await m(1) }
        while calls.count == 0 { await Task.yield() }
        run.cancel()
        _ = await run.result
        #expect(calls.count == 1)
    }
}
