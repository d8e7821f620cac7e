import Ember
import Foundation
import PropertyBased
import Synchronization
import EmberTestSupport
import Testing

/// A record of leaves, generic over its leaf so prompts and answers share the structure.
struct Question<L: Sendable>: Sendable {
    var prompt: L
    var contexts: [L]
    var followUp: L?
}

extension Question: Equatable where L: Equatable {}

extension Question: TreeFlattenable where L: TreeLeaf {
    func flattenTree(into leaves: inout [L]) -> TreeShape {
        .record("Question", [prompt.flattenTree(into: &leaves), contexts.flattenTree(into: &leaves), followUp.flattenTree(into: &leaves)])
    }
}

extension Question: TreeRebuildable where L: TreeRebuildableLeaf {
    init(rebuildingShape shape: TreeShape, leaves: inout TreeLeafCursor<L>) throws {
        let f = try shape.recordFields("Question", count: 3)
        self.init(
            prompt: try L(rebuildingShape: f[0], leaves: &leaves),
            contexts: try [L](rebuildingShape: f[1], leaves: &leaves),
            followUp: try L?(rebuildingShape: f[2], leaves: &leaves))
    }
}

/// A pure leaf function with a visible side effect (a counter), so tests can count runs.
final class CountingLeaf: Sendable {
    let runs = Atomic<Int>(0)
    let name: String
    init(_ name: String) { self.name = name }
    func module(_ determinism: Determinism) -> Module<String, Int> {
        Module(name: name, determinism: determinism) { [self] s in
            runs.add(1, ordering: .relaxed)
            return StableHash.of(s).hashValue & 0xffff
        }
    }
}

@Suite struct JITBasicTests {
    @Test func deterministicModuleRunsOncePerDistinctInput() async throws {
        let leaf = CountingLeaf("len")
        let j = jit(leaf.module(.deterministic))
        #expect(j.strategy == .basic)
        #expect(j.replaysResults)
        let plain = leaf.module(.deterministic)
        for s in ["a", "b", "a", "a", "c", "b"] {
            #expect(try await j(s) == (try await plain(s)))
        }
        // 6 plain calls plus 3 distinct jitted executions.
        #expect(leaf.runs.load(ordering: .relaxed) == 9)
        #expect(j.statistics.calls == 6)
        #expect(j.statistics.executions == 3)
        #expect(j.statistics.replayed == 3)
    }

    @Test func identicalCallsInFlightShareOneExecution() async throws {
        let started = Atomic<Int>(0)
        let gate = Gate()
        let slow = Module<String, String>(name: "slow", determinism: .deterministic) { s in
            started.add(1, ordering: .relaxed)
            await gate.wait()
            return s.uppercased()
        }
        let j = jit(slow)
        let results = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await j("hello") } }
            // All 20 callers are inside the jitted module before the one execution may finish.
            while j.statistics.calls < 20 { await Task.yield() }
            gate.open()
            var out: [String] = []
            for try await r in group { out.append(r) }
            return out
        }
        #expect(results == Array(repeating: "HELLO", count: 20))
        #expect(started.load(ordering: .relaxed) == 1)
        #expect(j.statistics.executions == 1)
    }

    @Test func waitersOfAFailedExecutionAllGetItsErrorAndTheNextCallRetries() async throws {
        let runs = Atomic<Int>(0)
        let gate = Gate()
        let failing = Module<String, String>(name: "fails-once", determinism: .deterministic) { s in
            let n = runs.add(1, ordering: .relaxed).newValue
            await gate.wait()
            if n == 1 { throw EmberError.transient(module: "fails-once", message: "boom") }
            return s
        }
        let j = jit(failing)
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<10 { group.addTask { (try? await j("k")) != nil } }
            while j.statistics.calls < 10 { await Task.yield() }
            gate.open()
            var ok: [Bool] = []
            for await o in group { ok.append(o) }
            return ok
        }
        // The first execution failed and its waiters got that error rather than a run each
        // (without coalescing all 10 would run; a caller still between entering and joining
        // when the failure lands may start one more run, never one per caller).
        #expect(outcomes.contains(false))
        #expect(runs.load(ordering: .relaxed) < 10)
        let before = runs.load(ordering: .relaxed)
        #expect(try await j("k") == "k", "a failure is not memoized: the next call runs again")
        #expect(runs.load(ordering: .relaxed) <= before + 1)
    }

    @Test func failuresAreNotMemoized() async throws {
        let attempts = Atomic<Int>(0)
        let flaky = Module<Int, Int>(name: "flaky", determinism: .deterministic) { n in
            if attempts.add(1, ordering: .relaxed).newValue == 1 { throw EmberError.transient(module: "flaky", message: "first") }
            return n * 2
        }
        let j = jit(flaky)
        await #expect(throws: EmberError.self) { try await j(4) }
        #expect(try await j(4) == 8)
        #expect(try await j(4) == 8)
        #expect(attempts.load(ordering: .relaxed) == 2)
    }

    @Test func nondeterministicAndUndeclaredModulesRunEveryCall() async throws {
        for d in [Determinism.nondeterministic, .undeclared] {
            let leaf = CountingLeaf("side-effect")
            let j = jit(leaf.module(d))
            #expect(!j.replaysResults)
            for _ in 0..<5 { _ = try await j("same") }
            #expect(leaf.runs.load(ordering: .relaxed) == 5, "side effects of a \(d) module run on every call")
            // A jit-level declaration overrides the module's.
            let declared = jit(leaf.module(d), determinism: .deterministic)
            for _ in 0..<5 { _ = try await declared("same") }
            #expect(leaf.runs.load(ordering: .relaxed) == 6)
        }
    }

    @Test func modelAtNonzeroTemperatureIsNeverReplayed() async throws {
        let models = Models(settings: ModelSettings(environment: [:]))
        let sampled = jit(models.instance("offline/m", temperature: 0.7).module())
        let greedy = jit(models.instance("offline/m", temperature: 0).module())
        #expect(sampled.determinism == .nondeterministic)
        #expect(greedy.determinism == .deterministic)
        for _ in 0..<4 {
            _ = try await sampled("same prompt")
            _ = try await greedy("same prompt")
        }
        #expect(sampled.statistics.executions == 4)
        #expect(greedy.statistics.executions == 1)
        // Unset temperature means the provider's default, which samples.
        #expect(models.instance("offline/m").determinism == .nondeterministic)
    }

    @Test func strategyIsRecordedInMetrics() async throws {
        let leaf = Module<String, Int>(name: "metrics-leaf-\(UInt64.random(in: 0...UInt64.max))", determinism: .deterministic) { $0.count }
        let basic = jit(leaf)
        let advanced = jit(leaf, over: [String].self, producing: [Int].self)
        try await ExclusiveMetrics.with(enabled: true) {
            _ = try await basic("abc")
            _ = try await basic("abc")
            _ = try await advanced(["x", "yy", "x"])
            _ = try await advanced(["yy", "x"])
        }
        let mine = MetricsRecorder.shared.snapshot().filter { $0.name == "jit(\(leaf.name))" }
        #expect(mine.count == 4)
        #expect(mine.map(\.jitStrategy) == ["basic", "basic", "advanced", "advanced"])
        #expect(mine.map(\.cacheHit) == [false, true, false, true])
    }
}

@Suite struct JITAdvancedTests {
    @Test func heuristicPicksAdvancedForNestedInputs() {
        let leaf = Module<String, Int>(name: "n") { $0.count }
        #expect(jit(leaf).strategy == .basic)
        #expect(jit(leaf, over: String.self, producing: Int.self).strategy == .basic)
        #expect(jit(leaf, over: [String].self, producing: [Int].self).strategy == .advanced)
        #expect(jit(leaf, over: [String: String].self, producing: [String: Int].self).strategy == .advanced)
        #expect(jit(leaf, over: String?.self, producing: Int?.self).strategy == .advanced)
        #expect(jit(leaf, over: Question<String>.self, producing: Question<Int>.self).strategy == .advanced)
        #expect(jit(leaf, over: [String].self, producing: [Int].self, strategy: .basic).strategy == .basic)
        #expect(JITStrategy.heuristic(forInput: [[String]].self) == .advanced)
        #expect(JITStrategy.heuristic(forInput: Int.self) == .basic)
    }

    @Test func duplicateLeavesAreComputedOnceAndStructureIsRebuilt() async throws {
        let leaf = CountingLeaf("q")
        let j = jit(leaf.module(.deterministic), over: Question<String>.self, producing: Question<Int>.self)
        let q = Question(prompt: "p", contexts: ["a", "b", "a", "p"], followUp: "b")
        let expected = try await treeMap(leaf.module(.deterministic), over: Question<String>.self, producing: Question<Int>.self)(q)
        let before = leaf.runs.load(ordering: .relaxed)
        let got = try await j(q)
        #expect(got == expected)
        #expect(leaf.runs.load(ordering: .relaxed) - before == 3)  // p, a, b
        _ = try await j(Question(prompt: "a", contexts: [], followUp: nil))
        #expect(leaf.runs.load(ordering: .relaxed) - before == 3, "leaves are memoized across calls")
    }

    @Test func distinctLeavesRunConcurrently() async throws {
        let barrier = Barrier(parties: 6)
        let leaf = Module<String, String>(name: "concurrent", determinism: .deterministic) { s in
            // Returns only once all 6 leaves are running at the same time; sequential
            // execution would never get there and fails the test after the timeout.
            let allArrived = await barrier.arriveAndWait(timeoutNanoseconds: 5_000_000_000)
            return allArrived ? s + "!" : "sequential"
        }
        let j = jit(leaf, over: [String].self, producing: [String].self)
        let out = try await j(["a", "b", "c", "a", "d", "e", "f", "b"])
        #expect(out == ["a!", "b!", "c!", "a!", "d!", "e!", "f!", "b!"])
    }

    @Test func leafConcurrencyIsBounded() async throws {
        let inFlight = Atomic<Int>(0)
        let peak = Atomic<Int>(0)
        let leaf = Module<Int, Int>(name: "bounded", determinism: .nondeterministic) { n in
            let now = inFlight.add(1, ordering: .relaxed).newValue
            var seen = peak.load(ordering: .relaxed)
            while now > seen {
                let (exchanged, current) = peak.compareExchange(expected: seen, desired: now, ordering: .relaxed)
                if exchanged { break }
                seen = current
            }
            try await Task.sleep(nanoseconds: 2_000_000)
            inFlight.subtract(1, ordering: .relaxed)
            return n * n
        }
        let j = jit(leaf, over: [Int].self, producing: [Int].self, maxConcurrency: 3)
        #expect(try await j(Array(0..<20)) == (0..<20).map { $0 * $0 })
        #expect(peak.load(ordering: .relaxed) <= 3)
        #expect(peak.load(ordering: .relaxed) >= 1)
    }

    @Test func nondeterministicLeavesAreAllComputed() async throws {
        let leaf = CountingLeaf("nd")
        let j = jit(leaf.module(.nondeterministic), over: [String].self, producing: [Int].self)
        #expect(j.strategy == .advanced)
        _ = try await j(["x", "x", "x", "y"])
        _ = try await j(["x"])
        #expect(leaf.runs.load(ordering: .relaxed) == 5)
    }

    @Test func firstLeafFailureIsRethrown() async throws {
        let leaf = Module<String, String>(name: "fails-on-bad", determinism: .deterministic) { s in
            if s == "bad" { throw EmberError.invalidInput(module: "fails-on-bad", message: "bad leaf") }
            return s
        }
        let j = jit(leaf, over: [String].self, producing: [String].self)
        await #expect(throws: EmberError.invalidInput(module: "fails-on-bad", message: "bad leaf")) {
            try await j(["ok", "bad", "fine"])
        }
    }

    @Test func dictionariesAndOptionalsRoundTrip() async throws {
        let leaf = Module<String, Int>(name: "count", determinism: .deterministic) { $0.count }
        let j = jit(leaf, over: [String: [String?]].self, producing: [String: [Int?]].self)
        let input: [String: [String?]] = ["a": ["x", nil, "yyy"], "b": [], "c": [nil]]
        #expect(try await j(input) == ["a": [1, nil, 3], "b": [], "c": [nil]])
    }

    @Test func mismatchedRebuildSaysWhatToCheck() {
        var cursor = TreeLeafCursor<Int>([1])
        #expect(throws: TreeShapeMismatch.self) {
            _ = try [Int](rebuildingShape: .record("Question", [.leaf]), leaves: &cursor)
        }
        var one = TreeLeafCursor<Int>([1])
        do {
            _ = try [Int](rebuildingShape: .leaf, leaves: &one)
            Issue.record("rebuilding an array from a leaf shape must fail")
        } catch {
            #expect("\(error)".contains("expected array, found leaf"))
        }
    }

    /// The jitted module's results equal the un-jitted module's (treeMap) for random nested
    /// inputs with many duplicate leaves, for both strategies and every determinism.
    @Test func jitEqualsUnjittedOnRandomNestedInputs() async throws {
        let word = Gen.letterOrNumber.string(of: 0...2)  // a small alphabet: many duplicates
        let questions = zip(word, word.array(of: 0...6), word.optional).map { p, c, f in
            Question(prompt: p, contexts: c, followUp: f)
        }.array(of: 0...4)
        let dicts = zip(word, word.array(of: 0...3)).dictionary(ofAtMost: 0...3)
        var rng = Xoshiro(seed: (0x9e37_79b9, 0x7f4a_7c15, 0xbf58_476d, 0x94d0_49bb))
        for d in Determinism.allCases {
            let leaf = CountingLeaf("prop")
            let reference = treeMap(leaf.module(d), over: [Question<String>].self, producing: [Question<Int>].self)
            let refDict = treeMap(leaf.module(d), over: [String: [String]].self, producing: [String: [Int]].self)
            for strategy in JITStrategy.allCases {
                let j = jit(leaf.module(d), over: [Question<String>].self, producing: [Question<Int>].self, strategy: strategy)
                let jd = jit(leaf.module(d), over: [String: [String]].self, producing: [String: [Int]].self, strategy: strategy)
                let single = jit(leaf.module(d), strategy: strategy)
                for _ in 0..<60 {
                    let q = questions.run(using: &rng)
                    #expect(try await j(q) == (try await reference(q)), "\(strategy) \(d) on \(q)")
                    let m = dicts.run(using: &rng)
                    #expect(try await jd(m) == (try await refDict(m)), "\(strategy) \(d) on \(m)")
                    let w = word.run(using: &rng)
                    #expect(try await single(w) == (try await leaf.module(d)(w)))
                }
            }
        }
    }
}

@Suite struct JITAcceptanceTests {
    @Test func percentileIsLinearBetweenClosestRanks() {
        // numpy.percentile([1..10], 20) == 2.8; [3, 1, 2] at 50% == 2.
        #expect(abs(percentileOfSorted((1...10).map(Double.init), 0.2) - 2.8) < 1e-12)
        #expect(percentileOfSorted([1, 2, 3], 0.5) == 2)
        #expect(percentileOfSorted([5], 0.2) == 5)
    }

    /// Python's statistics.quantiles(method="inclusive") is the same linear rule: an oracle.
    @Test func percentileAgreesWithPythonOnRandomSamples() throws {
        var g = SeededGenerator(seed: 2026)
        var samples: [[Double]] = []
        for n in [2, 3, 7, 25, 26, 40, 101] {
            samples.append((0..<n).map { _ in Double(g.next() % 100_000) / 1000 })
        }
        let script = "import json,sys,statistics\nfor xs in json.load(sys.stdin): print(repr(statistics.quantiles(xs, n=5, method='inclusive')[0]))"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        let input = Pipe()
        let output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = Pipe()
        try p.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: samples))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if p.terminationStatus == 127 { return }  // no python3 on PATH: nothing to compare with
        let expected = text.split(separator: "\n").compactMap { Double($0) }
        #expect(expected.count == samples.count)
        for (xs, want) in zip(samples, expected) {
            #expect(abs(percentileOfSorted(xs.sorted(), 0.2) - want) < 1e-9, "n=\(xs.count)")
        }
    }

    @Test func acceptsAtOrAboveTwoAtThePercentile() {
        let v = jitAcceptance(speedups: Array(repeating: 3.0, count: 25))
        #expect(v.accepted)
        #expect(v.observed == 3 && v.intervalLower == 3 && v.intervalUpper == 3)
        #expect(v.description.hasPrefix("ACCEPTED: p20 speedup 3.0 over 25 cases"))
        // Exactly the threshold passes (≥).
        #expect(jitAcceptance(speedups: Array(repeating: 2.0, count: 25)).accepted)
    }

    @Test func rejectsFewCasesLowPercentileAndBadValues() {
        let few = jitAcceptance(speedups: Array(repeating: 10.0, count: 24))
        #expect(!few.accepted && few.reason.contains("only 24 cases"))
        // 6 of 25 cases at 1.0: the 20th percentile (position 4.8) is 1.0.
        let slow = jitAcceptance(speedups: Array(repeating: 1.0, count: 6) + Array(repeating: 5.0, count: 19))
        #expect(!slow.accepted && slow.observed == 1.0)
        // 5 of 25 at 1.0: position 4.8 interpolates between 1.0 and 5.0.
        let edge = jitAcceptance(speedups: Array(repeating: 1.0, count: 5) + Array(repeating: 5.0, count: 20))
        #expect(abs(edge.observed - 4.2) < 1e-12 && edge.accepted)
        #expect(!edge.isClearCut, "with 5 slow cases of 25 the interval reaches below 2")
        let nan = jitAcceptance(speedups: Array(repeating: 3.0, count: 24) + [.nan])
        #expect(!nan.accepted && nan.reason.contains("case 25"))
        #expect(!jitAcceptance(speedups: []).accepted)
    }

    @Test func bootstrapIntervalIsDeterministicAndBracketsTheEstimate() {
        var g = SeededGenerator(seed: 7)
        let speedups = (0..<40).map { _ in 1.0 + Double(g.next() % 1000) / 250 }
        let a = jitAcceptance(speedups: speedups)
        let b = jitAcceptance(speedups: speedups)
        #expect(a == b)
        #expect(a.intervalLower <= a.observed && a.observed <= a.intervalUpper)
        #expect(a.intervalLower < a.intervalUpper)
        let otherSeed = jitAcceptance(speedups: speedups, seed: 99)
        #expect(otherSeed.observed == a.observed)
    }
}

/// Opens once; waiters before and after pass.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    func wait() async {
        await withCheckedContinuation { c in
            let pass = state.withLock { s in
                if s.open { return true }
                s.waiters.append(c)
                return false
            }
            if pass { c.resume() }
        }
    }
    func open() {
        let waiters = state.withLock { s in
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }
        waiters.forEach { $0.resume() }
    }
}

/// Waits until `parties` callers have arrived, or the timeout passes.
final class Barrier: Sendable {
    private let arrived = Atomic<Int>(0)
    let parties: Int
    init(parties: Int) { self.parties = parties }
    func arriveAndWait(timeoutNanoseconds: UInt64) async -> Bool {
        arrived.add(1, ordering: .relaxed)
        let deadline = MonotonicClock.nanoseconds() + timeoutNanoseconds
        while arrived.load(ordering: .relaxed) < parties {
            if MonotonicClock.nanoseconds() > deadline { return false }
            try? await Task.sleep(nanoseconds: 1_000_000)
        }
        return true
    }
}
