import Ember
import Foundation
import Testing

@Suite(.timeLimit(.minutes(1))) struct CacheTests {
    @Test func hundredConcurrentCallersOfOneKeyCauseOneCall() async throws {
        let calls = Counter()
        let gate = Rendezvous(count: 101)
        let slow = module("slow") { (k: String) -> String in
            _ = calls.increment()
            return k.uppercased()
        }
        let cached = cache(slow, maxSize: 8)
        let results = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    await gate.arriveAndWait()
                    return try await cached("key")
                }
            }
            await gate.arriveAndWait()  // release all 100 at once
            var out: [String] = []
            for try await r in group { out.append(r) }
            return out
        }
        #expect(results.count == 100)
        #expect(Set(results) == ["KEY"])
        #expect(calls.count == 1)
    }

    @Test func inFlightCallIsSharedNotRepeated() async throws {
        // The first call is still running when the others arrive: they must wait for it.
        let calls = Counter()
        let release = Rendezvous(count: 2)
        let blocking = module("blocking") { (k: Int) -> Int in
            _ = calls.increment()
            await release.arriveAndWait()
            return k * 2
        }
        let cached = cache(blocking)
        async let first = cached(21)
        async let second = cached(21)
        async let third = cached(21)
        while calls.count == 0 { await Task.yield() }
        await release.arriveAndWait()
        let values = try await [first, second, third]
        #expect(values == [42, 42, 42])
        #expect(calls.count == 1)
    }

    @Test func evictsLeastRecentlyUsed() async throws {
        let calls = Counter()
        let m = cache(module("id") { (k: Int) -> Int in _ = calls.increment(); return k }, maxSize: 2)
        _ = try await m(1)
        _ = try await m(2)
        _ = try await m(1)  // 1 is now most recent
        _ = try await m(3)  // evicts 2
        #expect(calls.count == 3)
        _ = try await m(1)
        #expect(calls.count == 3, "1 must still be cached")
        _ = try await m(2)
        #expect(calls.count == 4, "2 must have been evicted")
    }

    @Test func failuresAreNotCached() async throws {
        let calls = Counter()
        let m = cache(module("flaky") { (k: Int) -> Int in
            if calls.increment() == 1 { throw EmberError.transient(module: "flaky", message: "once") }
            return k
        })
        await #expect(throws: EmberError.self) { try await m(5) }
        #expect(try await m(5) == 5)
        #expect(try await m(5) == 5)
        #expect(calls.count == 2)
    }

    @Test func keyFunctionCachesNonHashableInputs() async throws {
        struct Query: Sendable { let text: String; let scratch: [Double] }
        let calls = Counter()
        let m = cache(module("q") { (q: Query) -> Int in _ = calls.increment(); return q.text.count }, key: { $0.text })
        #expect(try await m(Query(text: "abc", scratch: [1])) == 3)
        #expect(try await m(Query(text: "abc", scratch: [2])) == 3)
        #expect(calls.count == 1)
    }
}

@Suite(.timeLimit(.minutes(1))) struct EnsembleTests {
    @Test func everyMemberOnceConcurrentlyInMemberOrder() async throws {
        let probe = ConcurrencyProbe()
        let members = 8
        // All members must be inside at once before any may leave: a sequential ensemble
        // would never get past the first member (and hit the time limit).
        let gate = Rendezvous(count: members)
        let ops = (0..<members).map { i in
            module("m\(i)") { (x: Int) -> Int in
                await probe.enter()
                await gate.arriveAndWait()
                await probe.leave()
                return x * 100 + i
            }
        }
        let out = try await ensemble(operators: ops)(3)
        #expect(out == (0..<members).map { 300 + $0 })
        #expect(await probe.calls == members)
        #expect(await probe.peak == members)
    }

    @Test func aggregatorSeesResultsInMemberOrder() async throws {
        let ops = ["a", "b", "c"].map { s in module(s) { (x: String) in x + s } }
        let joined = ensemble(operators: ops) { $0.joined(separator: ",") }
        #expect(try await joined(">") == ">a,>b,>c")
        let viaModule = ensemble(operators: ops, aggregator: module("count") { (xs: [String]) in xs.count })
        #expect(try await viaModule("") == 3)
    }

    @Test func firstErrorPropagatesAndCancelsTheRest() async throws {
        let cancelled = Counter()
        let failing = module("failing") { (_: Int) -> Int in throw EmberError.permanent(module: "failing", message: "boom") }
        let hanging = module("hanging") { (_: Int) -> Int in
            do { try await Task.sleep(for: .seconds(600)) } catch { _ = cancelled.increment(); throw error }
            return 0
        }
        await #expect(throws: EmberError.permanent(module: "failing", message: "boom")) {
            try await ensemble(operators: [hanging, failing, hanging])(1)
        }
        #expect(cancelled.count == 2)
    }

    @Test func heterogeneousMembersGiveATypedTuple() async throws {
        let length = module("length") { (s: String) in s.count }
        let upper = module("upper") { (s: String) in s.uppercased() }
        let empty = module("isEmpty") { (s: String) in s.isEmpty }
        let both = ensemble(length, upper, empty)
        let (n, u, e) = try await both("ember")
        #expect(n == 5)
        #expect(u == "EMBER")
        #expect(e == false)
    }

    @Test func emptyEnsembleGivesNoResults() async throws {
        #expect(try await ensemble(operators: [Module<Int, Int>]())(1) == [])
    }
}

@Suite(.timeLimit(.minutes(1))) struct VmapTests {
    @Test func emptyInputGivesEmptyOutput() async throws {
        let calls = Counter()
        let m = vmap(module("m") { (x: Int) -> Int in _ = calls.increment(); return x })
        #expect(try await m([]) == [])
        #expect(calls.count == 0)
    }

    @Test func concurrencyIsBoundedByBatchSize() async throws {
        let probe = ConcurrencyProbe()
        let m = module("m") { (x: Int) -> Int in
            await probe.enter()
            for _ in 0..<10 { await Task.yield() }
            await probe.leave()
            return x
        }
        _ = try await vmap(m, batchSize: 3)(Array(0..<50))
        #expect(await probe.calls == 50)
        #expect(await probe.peak <= 3)
    }

    @Test func batchIsReallyConcurrent() async throws {
        let gate = Rendezvous(count: 4)
        let m = module("m") { (x: Int) -> Int in await gate.arriveAndWait(); return x }
        #expect(try await vmap(m, batchSize: 4)([1, 2, 3, 4]) == [1, 2, 3, 4])
    }

    @Test func firstErrorCancelsTheRest() async throws {
        let started = Counter()
        let m = module("m") { (x: Int) -> Int in
            _ = started.increment()
            if x == 0 { throw EmberError.invalidInput(module: "m", message: "zero") }
            try await Task.sleep(for: .seconds(600))
            return x
        }
        await #expect(throws: EmberError.self) { try await vmap(m, batchSize: 4)(Array(0..<100)) }
        #expect(started.count <= 4, "no new item may start after the failure")
    }

    @Test func cancellingTheCallerStopsRemainingWork() async throws {
        let started = Counter()
        let m = module("m") { (x: Int) -> Int in
            _ = started.increment()
            try await Task.sleep(for: .seconds(600))
            return x
        }
        let run = Task { try await vmap(m, batchSize: 2)(Array(0..<1_000)) }
        while started.count < 2 { await Task.yield() }
        run.cancel()
        let result = await run.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(started.count == 2)
    }
}
