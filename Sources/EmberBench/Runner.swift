import EmberUtils
import Foundation

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

/// How the runner measures.
public struct RunnerOptions: Sendable {
    /// Timed samples per benchmark.
    public var iterations: Int = 50
    /// Untimed calls first (after calibration, which also warms).
    public var warmup: Int = 5
    /// Bodies faster than this are batched in an inner loop until one sample takes at
    /// least this long, so clock overhead (~20–30 ns) stays below 1%.
    public var minimumSampleNs: UInt64 = 10_000
    public var maximumBatch: Int = 1 << 20

    public init(iterations: Int = 50, warmup: Int = 5) {
        self.iterations = iterations
        self.warmup = warmup
    }
}

/// Runs benchmarks and returns every raw sample (ns per operation).
public struct BenchmarkRunner: Sendable {
    public var options: RunnerOptions

    public init(options: RunnerOptions = RunnerOptions()) { self.options = options }

    /// Measures one benchmark under `fullName`.
    public func measure(_ benchmark: Benchmark, fullName: String) async throws -> BenchmarkSamples {
        let operation = try await benchmark.make()
        let batch = try await calibrate(operation)
        let iterations = min(benchmark.iterations ?? options.iterations, options.iterations)
        for _ in 0..<min(options.warmup, iterations) { try await operation() }
        var samples = [Double]()
        samples.reserveCapacity(iterations)
        for _ in 0..<iterations {
            let start = MonotonicClock.nanoseconds()
            for _ in 0..<batch { try await operation() }
            let elapsed = MonotonicClock.nanoseconds() &- start
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

    /// The inner-loop count: doubled until one batch takes `minimumSampleNs`.
    func calibrate(_ operation: @Sendable () async throws -> Void) async throws -> Int {
        var batch = 1
        while batch < options.maximumBatch {
            let start = MonotonicClock.nanoseconds()
            for _ in 0..<batch { try await operation() }
            if MonotonicClock.nanoseconds() &- start >= options.minimumSampleNs { break }
            batch *= 2
        }
        return batch
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

/// A progress line on a terminal; silent when stderr is not a TTY or CI is set.
public struct ProgressLine: Sendable {
    public let enabled: Bool

    public init(enabled: Bool? = nil) {
        self.enabled =
            enabled ?? (isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["CI"] == nil)
    }

    public func update(_ index: Int, of total: Int, _ name: String) {
        guard enabled else { return }
        let width = 24
        let filled = total == 0 ? width : width * index / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(bar) \(index)/\(total) \(name)".utf8))
    }

    public func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}
