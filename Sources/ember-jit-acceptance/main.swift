// The guide's JIT acceptance gate, measured: speedup of each strategy over the un-jitted
// program on the offline provider with a realistic latency, over ≥ 25 seeded cases, with
// the 20th-percentile verdict and its bootstrap interval. Build in release:
//
//     swift run -c release ember-jit-acceptance [--cases 25] [--latency-ms 20] [--seed 1] [--json out.json]
//
// Exit codes: 0 both strategies accepted, 1 a strategy rejected, 2 bad arguments or an
// unwritable --json file.
//
// Workloads (fixed before measuring; the seed only draws the cases):
// - basic: a program of 32 sequential model calls (temperature 0) whose prompts come from
//   a pool of P templates, P uniform in 4...16, drawn with Zipf(1) popularity, as an agent
//   loop re-asking the same sub-questions does. Un-jitted: every call goes to the model.
// - advanced: a batch of 2...6 questions, each a prompt plus 2...8 context passages and an
//   optional follow-up, passages drawn from a shared pool of 12 (duplicates across
//   questions), as a retrieval-augmented program has. Un-jitted: `treeMap`, the leaf model
//   on every leaf in order.
// Each case runs on a fresh jit (no memo carried over), baseline and jitted interleaved.
// Informational rows follow: advanced against a concurrent un-jitted peer (what dedup adds
// beyond concurrency), and the same workloads at temperature 0.7 (nondeterministic: no
// replay allowed, so basic gains nothing and advanced only concurrency).
import Ember
import Foundation

func argument(_ name: String, default value: Int) -> Int {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name) else { return value }
    guard i + 1 < args.count, let v = Int(args[i + 1]), v > 0 else {
        FileHandle.standardError.write(Data("ember-jit-acceptance: \(name) needs a positive integer\n".utf8))
        exit(2)
    }
    return v
}

func jsonPath() -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: "--json") else { return nil }
    guard i + 1 < args.count else {
        FileHandle.standardError.write(Data("ember-jit-acceptance: --json needs a file path\n".utf8))
        exit(2)
    }
    return args[i + 1]
}

let caseCount = argument("--cases", default: 25)
let jsonOutput = jsonPath()
let latencyMs = argument("--latency-ms", default: 20)
let seed = UInt64(argument("--seed", default: 1))

struct Question<L: Sendable>: Sendable {
    var prompt: L
    var contexts: [L]
    var followUp: L?
}

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

let models = Models(settings: ModelSettings(environment: [:], offlineLatency: .milliseconds(latencyMs)))

func uniform(_ g: inout SeededGenerator, _ range: ClosedRange<Int>) -> Int {
    range.lowerBound + Int(g.next() % UInt64(range.count))
}

/// Zipf(1) over 0..<n: rank k with weight 1/(k+1).
func zipf(_ g: inout SeededGenerator, _ n: Int) -> Int {
    let total = (1...n).reduce(0.0) { $0 + 1 / Double($1) }
    var u = Double(g.next() >> 11) / Double(1 << 53) * total
    for k in 0..<n {
        u -= 1 / Double(k + 1)
        if u <= 0 { return k }
    }
    return n - 1
}

func basicCase(_ g: inout SeededGenerator) -> [String] {
    let pool = uniform(&g, 4...16)
    return (0..<32).map { _ in "Sub-question template \(zipf(&g, pool)): is the claim supported?" }
}

func advancedCase(_ g: inout SeededGenerator) -> [Question<String>] {
    (0..<uniform(&g, 2...6)).map { q in
        Question(
            prompt: "Question \(q) about topic \(uniform(&g, 0...3))",
            contexts: (0..<uniform(&g, 2...8)).map { _ in "Passage \(uniform(&g, 0...11)) of the shared corpus" },
            followUp: g.next() % 2 == 0 ? "Follow-up: cite passage \(uniform(&g, 0...11))" : nil)
    }
}

func seconds<T>(_ work: () async throws -> T) async throws -> (Double, T) {
    let start = MonotonicClock.nanoseconds()
    let r = try await work()
    return (Double(MonotonicClock.nanoseconds() - start) / 1e9, r)
}

struct Row {
    var label: String
    var speedups: [Double] = []
    var replayedShare: [Double] = []
}

func measure(temperature: Double) async throws -> (basic: Row, advanced: Row, advancedVsConcurrent: Row) {
    let leaf = models.instance("offline/gpt-4o", temperature: temperature, maxTokens: 8).textModule()
    var g = SeededGenerator(seed: seed)
    var basic = Row(label: "basic")
    var advanced = Row(label: "advanced")
    var versusConcurrent = Row(label: "advanced vs concurrent peer")
    let concurrentPeer = vmap(leaf, batchSize: 64)
    for _ in 0..<caseCount {
        let program = basicCase(&g)
        let j = jit(leaf)
        let (tBase, outBase) = try await seconds { var o: [String] = []; for p in program { o.append(try await leaf(p)) }; return o }
        let (tJit, outJit) = try await seconds { var o: [String] = []; for p in program { o.append(try await j(p)) }; return o }
        precondition(outBase == outJit, "jit changed a result")
        basic.speedups.append(tBase / tJit)
        basic.replayedShare.append(Double(j.statistics.replayed) / Double(j.statistics.requests))

        let batch = advancedCase(&g)
        let reference = treeMap(leaf, over: [Question<String>].self, producing: [Question<String>].self)
        let ja = jit(leaf, over: [Question<String>].self, producing: [Question<String>].self)
        precondition(ja.strategy == .advanced)
        let (aBase, rBase) = try await seconds { try await reference(batch) }
        let (aJit, rJit) = try await seconds { try await ja(batch) }
        precondition(rBase.map(\.prompt) == rJit.map(\.prompt) && rBase.map(\.contexts) == rJit.map(\.contexts))
        advanced.speedups.append(aBase / aJit)
        // A stronger peer than treeMap: the same leaves, un-jitted but all in flight at once
        // (vmap over the flattened leaves, duplicates included); rebuilt the same way.
        let ja2 = jit(leaf, over: [Question<String>].self, producing: [Question<String>].self)
        let (cBase, cOut) = try await seconds {
            let (leaves, shape) = batch.flattened()
            return try [Question<String>].rebuild(shape: shape, leaves: try await concurrentPeer(leaves))
        }
        let (cJit, cJitOut) = try await seconds { try await ja2(batch) }
        precondition(cOut.map(\.contexts) == cJitOut.map(\.contexts))
        versusConcurrent.speedups.append(cBase / cJit)
        advanced.replayedShare.append(Double(ja.statistics.replayed) / Double(max(ja.statistics.requests, 1)))
    }
    return (basic, advanced, versusConcurrent)
}

func summary(_ xs: [Double]) -> String {
    let s = xs.sorted()
    return String(format: "min %.2f  p20 %.2f  median %.2f  max %.2f", s.first!, percentileOfSorted(s, 0.2), percentileOfSorted(s, 0.5), s.last!)
}

print("JIT acceptance on the offline provider, \(latencyMs) ms latency, \(caseCount) cases per strategy, seed \(seed)")
let (basic, advanced, versusConcurrent) = try await measure(temperature: 0)
var allAccepted = true
var report: [String: Any] = ["latency_ms": latencyMs, "cases": caseCount, "seed": Int(seed)]
for row in [basic, advanced] {
    let verdict = jitAcceptance(speedups: row.speedups)
    allAccepted = allAccepted && verdict.accepted
    report[row.label] = [
        "speedups": row.speedups, "p20": verdict.observed, "interval95": [verdict.intervalLower, verdict.intervalUpper],
        "accepted": verdict.accepted, "verdict": verdict.description,
    ]
    print("")
    print("\(row.label) (deterministic leaf, temperature 0)")
    print("  speedups: \(summary(row.speedups))")
    print(String(format: "  replayed share of requests: median %.2f", percentileOfSorted(row.replayedShare.sorted(), 0.5)))
    print("  speedups per case: " + row.speedups.map { String(format: "%.2f", $0) }.joined(separator: " "))
    print("  \(verdict)")
}
let (ndBasic, ndAdvanced, _) = try await measure(temperature: 0.7)
print("")
print("informational: advanced against a concurrent un-jitted peer (vmap over the leaves, no dedup)")
print("  speedups: \(summary(versusConcurrent.speedups))")
print("informational: the same workloads at temperature 0.7 (nondeterministic, never replayed)")
print("  basic:    \(summary(ndBasic.speedups))")
print("  advanced: \(summary(ndAdvanced.speedups))  (concurrency only)")
if let path = jsonOutput {
    report["advanced_vs_concurrent_peer"] = ["speedups": versusConcurrent.speedups]
    report["temperature_0_7"] = ["basic": ["speedups": ndBasic.speedups], "advanced": ["speedups": ndAdvanced.speedups]]
    do {
        let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: path))
    } catch {
        FileHandle.standardError.write(Data("ember-jit-acceptance: cannot write \(path): \(error.localizedDescription)\n".utf8))
        exit(2)
    }
}
exit(allAccepted ? 0 : 1)
