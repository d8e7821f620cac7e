import EmberCore
import EmberExecution
import EmberProviders

/// Every suite `ember-bench run` knows. Adding a suite is one entry here plus its
/// definition (e.g. `.jit`, `.tokenize`, `.lint`, `.migrate` in their own files).
public enum BenchmarkRegistry {
    /// A fixed workload that does not depend on the code under test (FNV-1a over 8 KiB),
    /// measured in every worker process next to the suites and stored as
    /// `machine/probe`: it shows how much the machine itself moved between runs (see the
    /// gate's machine term). Not in `suites`: never selected, listed or gated.
    public static let machineProbeName = "machine/probe"
    public static let machineProbe = Benchmark("probe") {
        let bytes = (0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        return {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
            if h == 42 { print("") }  // keeps the loop
        }
    }

    public static let suites: [BenchmarkSuite] = [
        .moduleCore,
        .metrics,
        .jit,
        .tools,
    ]
}

extension BenchmarkSuite {
    /// The module core: a model call on the offline provider, composition, execution.
    public static let moduleCore = BenchmarkSuite(
        "core",
        [
            Benchmark("module-call") {
                setMetricsRecording(false)
                let m = module("increment") { (x: Int) in x &+ 1 }
                return { _ = try await m(41) }
            },
            Benchmark("model-call-offline") {
                setMetricsRecording(false)
                let provider = OfflineProvider(latency: .zero)
                let request = ModelRequest(model: "offline-small", prompt: "Is this review positive? The food was good.")
                return { _ = try await provider.complete(request) }
            },
            Benchmark("chain-10") {
                setMetricsRecording(false)
                let stages = (0..<10).map { i in module("stage\(i)") { (x: Int) in x &+ i } }
                let pipeline = chain(stages)
                return { _ = try await pipeline(1) }
            },
            Benchmark("ensemble-5") {
                setMetricsRecording(false)
                let members = (0..<5).map { i in module("member\(i)") { (x: Int) in x &* (i + 1) } }
                let vote = ensemble(operators: members) { outputs in outputs.reduce(0, &+) }
                return { _ = try await vote(3) }
            },
            Benchmark("vmap-100") {
                setMetricsRecording(false)
                let square = module("square") { (x: Int) in x &* x }
                let mapped = vmap(square, batchSize: 16)
                let inputs = Array(0..<100)
                return { _ = try await mapped(inputs) }
            },
            Benchmark("cache-hit") {
                setMetricsRecording(false)
                let slow = module("lookup") { (key: String) in key.utf8.count }
                let cached = cache(slow, maxSize: 64)
                _ = try await cached("warm key")
                return { _ = try await cached("warm key") }
            },
            // The vmap figure: 10,000 calls of a 10 ms module, 100 in flight; the
            // ideal is 1.0 s per operation. Two samples per process: each takes a second.
            Benchmark("vmap-10k-sleep-10ms", iterations: 2) {
                setMetricsRecording(false)
                let nap = module("nap") { (x: Int) -> Int in
                    try await Task.sleep(for: .milliseconds(10))
                    return x
                }
                let mapped = vmap(nap, batchSize: 100)
                let inputs = Array(0..<10_000)
                return { _ = try await mapped(inputs) }
            },
        ])

    /// The core's calls again with metrics recording on: the difference to `core/` is
    /// what recording costs.
    public static let metrics = BenchmarkSuite(
        "metrics",
        [
            Benchmark("module-call") {
                setMetricsRecording(true)
                let m = module("increment") { (x: Int) in x &+ 1 }
                return { _ = try await m(41) }
            },
            Benchmark("cache-hit") {
                setMetricsRecording(true)
                let slow = module("lookup") { (key: String) in key.utf8.count }
                let cached = cache(slow, maxSize: 64)
                _ = try await cached("warm key")
                return { _ = try await cached("warm key") }
            },
        ])

    /// jit on the offline provider: `basic` replaying a deterministic model call, and
    /// `advanced` over a nested batch of prompts with repeated leaves.
    public static let jit = BenchmarkSuite(
        "jit",
        [
            Benchmark("basic-hit") {
                setMetricsRecording(false)
                let provider = OfflineProvider(latency: .zero)
                let ask = module("ask", determinism: .deterministic) { (prompt: String) in
                    try await provider.complete(ModelRequest(model: "offline-small", prompt: prompt, temperature: 0)).text
                }
                let fast = EmberExecution.jit(ask)
                _ = try await fast("Is this review positive?")
                return { _ = try await fast("Is this review positive?") }
            },
            Benchmark("advanced-nested-100") {
                setMetricsRecording(false)
                let provider = OfflineProvider(latency: .zero)
                let ask = module("ask", determinism: .deterministic) { (prompt: String) in
                    try await provider.complete(ModelRequest(model: "offline-small", prompt: prompt, temperature: 0)).text
                }
                // 10 questions x 10 passages drawn from 25 distinct ones: leaves repeat.
                let batch = (0..<10).map { q in (0..<10).map { p in "passage \((q * 7 + p * 3) % 25)" } }
                return {
                    // A fresh jit per operation, so each sample measures flatten, dedupe,
                    // concurrent leaves and rebuild rather than a whole-tree memo hit.
                    let fast = EmberExecution.jit(ask, over: [[String]].self, producing: [[String]].self)
                    _ = try await fast(batch)
                }
            },
        ])
}

/// Benchmarks that measure the core set the process-wide metrics switch in their setup,
/// so the order in which they run does not change what they measure.
private func setMetricsRecording(_ on: Bool) {
    MetricsRecorder.shared.setEnabled(on)
}
