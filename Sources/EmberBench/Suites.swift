import Ember

/// Every suite `ember-bench run` knows. Adding a suite is one entry here plus its
/// definition (e.g. `.jit`, `.tokenize`, `.lint`, `.migrate` in their own files).
public enum BenchmarkRegistry {
    public static let suites: [BenchmarkSuite] = [
        .moduleCore,
    ]
}

extension BenchmarkSuite {
    /// The module core: a model call on the offline provider, composition, execution.
    public static let moduleCore = BenchmarkSuite(
        "core",
        [
            Benchmark("module-call") {
                let m = module("increment") { (x: Int) in x &+ 1 }
                return { _ = try await m(41) }
            },
            Benchmark("model-call-offline") {
                let provider = OfflineProvider(latency: .zero)
                let request = ModelRequest(model: "offline-small", prompt: "Is this review positive? The food was good.")
                return { _ = try await provider.complete(request) }
            },
            Benchmark("chain-10") {
                let stages = (0..<10).map { i in module("stage\(i)") { (x: Int) in x &+ i } }
                let pipeline = chain(stages)
                return { _ = try await pipeline(1) }
            },
            Benchmark("ensemble-5") {
                let members = (0..<5).map { i in module("member\(i)") { (x: Int) in x &* (i + 1) } }
                let vote = ensemble(operators: members) { outputs in outputs.reduce(0, &+) }
                return { _ = try await vote(3) }
            },
            Benchmark("vmap-100") {
                let square = module("square") { (x: Int) in x &* x }
                let mapped = vmap(square, batchSize: 16)
                let inputs = Array(0..<100)
                return { _ = try await mapped(inputs) }
            },
            Benchmark("cache-hit") {
                let slow = module("lookup") { (key: String) in key.utf8.count }
                let cached = cache(slow, maxSize: 64)
                _ = try await cached("warm key")
                return { _ = try await cached("warm key") }
            },
        ])
}
