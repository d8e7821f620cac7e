import Synchronization
import EmberUtils
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// One benchmark: a named operation the runner times. `make` runs once, untimed, and
/// returns the operation (so setup such as building a chain or filling a cache is not
/// measured).
public struct Benchmark: Sendable {
    public let name: String
    public let unit: String
    public let direction: MetricDirection
    /// Set for throughput benchmarks (tokenize, lint, migrate on fixtures): each sample
    /// is then reported in MB/s (higher is better) instead of ns per operation.
    public let bytesPerOperation: Int?
    public let make: @Sendable () async throws -> @Sendable () async throws -> Void
    /// At most this many timed samples, for an operation too slow for the runner's count
    /// (a one-second vmap, say); nil takes `RunnerOptions.iterations`.
    public let iterations: Int?

    /// A latency benchmark: samples in ns per operation, lower is better.
    public init(
        _ name: String, iterations: Int? = nil,
        make: @escaping @Sendable () async throws -> @Sendable () async throws -> Void
    ) {
        self.name = name
        self.unit = "ns"
        self.direction = .lowerIsBetter
        self.bytesPerOperation = nil
        self.iterations = iterations
        self.make = make
    }

    /// A throughput benchmark: one operation processes `bytesPerOperation` bytes;
    /// samples in MB/s (10^6 bytes per second), higher is better.
    public init(
        _ name: String, bytesPerOperation: Int,
        make: @escaping @Sendable () async throws -> @Sendable () async throws -> Void
    ) {
        precondition(bytesPerOperation > 0, "a throughput benchmark processes at least one byte")
        self.name = name
        self.unit = "MB/s"
        self.direction = .higherIsBetter
        self.bytesPerOperation = bytesPerOperation
        self.iterations = nil
        self.make = make
    }
}

/// A group of benchmarks; names are "suite/benchmark".
public struct BenchmarkSuite: Sendable {
    public let name: String
    public let benchmarks: [Benchmark]

    public init(_ name: String, _ benchmarks: [Benchmark]) {
        self.name = name
        self.benchmarks = benchmarks
    }
}

/// How the runner measures one benchmark inside one process.
public struct RunnerOptions: Sendable, Codable, Equatable {
    /// Timed samples per benchmark per process (at most; see `maximumProcessNs`).
    public var iterations: Int = 50
    /// Untimed samples first (after calibration, which also warms).
    public var warmup: Int = 1
    /// Each sample runs the body in an inner loop until it takes at least this long, so
    /// neither the clock's resolution nor one preemption dominates a sample.
    public var minimumSampleNs: UInt64 = 1_000_000
    /// Time budget for the timed samples of one benchmark in one process; a slow body
    /// gets fewer samples (never fewer than `minimumIterations`).
    public var maximumProcessNs: UInt64 = 300_000_000
    public var minimumIterations: Int = 5
    public var maximumBatch: Int = 1 << 24

    public init(iterations: Int = 50, warmup: Int = 1) {
        self.iterations = iterations
        self.warmup = warmup
    }
}

/// Runs benchmarks in this process and returns every raw sample (ns per operation, or
/// MB/s for throughput benchmarks). The gate runs it in fresh worker processes
/// (`WorkerPool`); in-process use is for tests and `worker` itself.
public struct BenchmarkRunner: Sendable {
    public var options: RunnerOptions
    /// Benchmark name → factor > 1: the operation runs that many times more often
    /// (1.5: once, twice, once, twice, …). Set from `$EMBER_BENCH_SLOWDOWN`
    /// ("core/chain-10=1.5,other=2"), to test that the gate catches a known slowdown.
    public var slowdowns: [String: Double]

    public init(options: RunnerOptions = RunnerOptions(), slowdowns: [String: Double] = [:]) {
        self.options = options
        self.slowdowns = slowdowns
    }

    /// Parses `$EMBER_BENCH_SLOWDOWN`; a malformed value is an error naming it.
    public static func slowdownsFromEnvironment() throws -> [String: Double] {
        guard let text = ProcessInfo.processInfo.environment["EMBER_BENCH_SLOWDOWN"], !text.isEmpty else { return [:] }
        var out: [String: Double] = [:]
        for item in text.split(separator: ",") {
            guard let eq = item.lastIndex(of: "="), let f = Double(item[item.index(after: eq)...]), f >= 1, f <= 100 else {
                throw BenchError("EMBER_BENCH_SLOWDOWN \"\(text)\": expected NAME=FACTOR[,NAME=FACTOR] with FACTOR from 1 to 100")
            }
            out[String(item[..<eq])] = f
        }
        return out
    }

    /// Measures one benchmark under `fullName`; `batch` reuses an earlier calibration
    /// (every process of a comparison then times the same inner loop).
    public func measure(_ benchmark: Benchmark, fullName: String, batch fixedBatch: Int? = nil) async throws -> BenchmarkSamples {
        let body = try await benchmark.make()
        let operation = Self.slowed(body, factor: slowdowns[fullName] ?? 1)
        let batch: Int
        if let fixedBatch { batch = fixedBatch } else { batch = try await calibrate(operation) }
        let cap = min(benchmark.iterations ?? options.iterations, options.iterations)
        // A body slower than a sample was already run once by the calibration: that was
        // its warm-up (a one-second benchmark does not spend another second on it).
        let warmup = fixedBatch == nil && batch == 1 ? max(0, options.warmup - 1) : options.warmup
        for _ in 0..<min(warmup, cap) {
            for _ in 0..<batch { try await operation() }
        }
        var samples = [Double]()
        samples.reserveCapacity(cap)
        var spent: UInt64 = 0
        let floor = min(options.minimumIterations, cap)
        while samples.count < cap {
            if samples.count >= floor && spent >= options.maximumProcessNs { break }
            let start = MonotonicClock.nanoseconds()
            for _ in 0..<batch { try await operation() }
            let elapsed = MonotonicClock.nanoseconds() &- start
            spent &+= elapsed
            let nsPerOperation = Double(max(elapsed, 1)) / Double(batch)
            if let bytes = benchmark.bytesPerOperation {
                samples.append(Double(bytes) / nsPerOperation * 1_000)  // bytes/ns = GB/s
            } else {
                samples.append(nsPerOperation)
            }
        }
        return BenchmarkSamples(
            name: fullName, unit: benchmark.unit, direction: benchmark.direction, samples: samples, batch: batch)
    }

    /// The body run `factor` times per call on average (deterministic pattern).
    static func slowed(
        _ body: @escaping @Sendable () async throws -> Void, factor: Double
    ) -> @Sendable () async throws -> Void {
        guard factor > 1 else { return body }
        let counter = SlowdownCounter(factor: factor)
        return {
            for _ in 0..<counter.next() { try await body() }
        }
    }

    /// The inner-loop count: doubled until one batch takes `minimumSampleNs`, then
    /// scaled to it.
    func calibrate(_ operation: @Sendable () async throws -> Void) async throws -> Int {
        var batch = 1
        while batch < options.maximumBatch {
            let start = MonotonicClock.nanoseconds()
            for _ in 0..<batch { try await operation() }
            let elapsed = MonotonicClock.nanoseconds() &- start
            if elapsed >= options.minimumSampleNs { break }
            if elapsed * 8 >= options.minimumSampleNs {
                // Close: scale once rather than doubling past it.
                let scaled = Int((Double(batch) * Double(options.minimumSampleNs) / Double(max(elapsed, 1)) * 1.1).rounded(.up))
                return min(max(scaled, batch + 1), options.maximumBatch)
            }
            batch *= 2
        }
        return batch
    }
}

/// Calls per operation for an injected slowdown: the running total of `factor` rounded.
final class SlowdownCounter: @unchecked Sendable {
    private let factor: Double
    private let owed = Mutex(0.0)

    init(factor: Double) { self.factor = factor }

    func next() -> Int {
        owed.withLock { owed in
            owed += factor
            let whole = owed.rounded(.down)
            owed -= whole
            return Int(whole)
        }
    }
}

/// The registered suites, filtered by name.
public enum BenchmarkSelection {
    /// Every (full name, benchmark) whose full name contains one of `filters` (all when empty).
    public static func select(
        _ suites: [BenchmarkSuite], filters: [String]
    ) -> [(name: String, benchmark: Benchmark)] {
        var out: [(String, Benchmark)] = []
        for suite in suites {
            for b in suite.benchmarks {
                let full = "\(suite.name)/\(b.name)"
                if filters.isEmpty || filters.contains(where: { full.contains($0) }) { out.append((full, b)) }
            }
        }
        return out
    }
}

