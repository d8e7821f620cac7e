import EmberExecution
import EmberUtils
import Foundation

/// Whether a smaller or a larger number is better for a benchmark's metric.
public enum MetricDirection: String, Sendable, Codable, CaseIterable {
    /// Times, bytes: smaller is better.
    case lowerIsBetter = "lower"
    /// Throughput: larger is better.
    case higherIsBetter = "higher"
}

/// The significance test that must agree with the ratio before the gate acts.
public enum SignificanceTest: String, Sendable, Codable, CaseIterable {
    /// One-sided Mann–Whitney U, p < 1 − confidence (fast; the default).
    case mannWhitney = "mann-whitney"
    /// Deterministic percentile bootstrap of the median ratio: the confidence
    /// interval must exclude 1.0 on the side of the change.
    case bootstrap
}

/// How the size of a change is estimated from the two sample sets.
public enum RatioEstimator: String, Sendable, Codable, CaseIterable {
    /// exp(median of pairwise log differences): stable on bimodal timings (default).
    case hodgesLehmann = "hodges-lehmann"
    /// Ratio of the two medians (the guide's rule).
    case median
}

/// The rule the gate applies to each benchmark.
public struct GatePolicy: Sendable, Codable, Equatable {
    /// A change counts when the estimated ratio (oriented so that > 1 is worse) exceeds this.
    public var threshold: Double = 1.2
    /// Per-benchmark thresholds; the key is the exact benchmark name.
    public var thresholdOverrides: [String: Double] = [:]
    public var estimator: RatioEstimator = .hodgesLehmann
    public var test: SignificanceTest = .mannWhitney
    /// 0.99: p < 0.01 for Mann–Whitney, a 99% interval for the bootstrap.
    public var confidence: Double = 0.99
    public var bootstrapResamples: Int = 2000
    /// Fewer samples than this on either side: no verdict ("too few samples").
    public var minimumSamples: Int = 5

    public init() {}

    public func threshold(for name: String) -> Double { thresholdOverrides[name] ?? threshold }

    /// A one-line description for reports.
    public var summary: String {
        let est = estimator == .hodgesLehmann ? "Hodges–Lehmann ratio" : "median ratio"
        let sig =
            test == .mannWhitney
            ? "Mann–Whitney U p < \(format(1 - confidence))"
            : "\(format(confidence * 100))% bootstrap CI of the median ratio excludes 1.0"
        return "\(est) > \(format(threshold)) and \(sig)"
    }
}

func format(_ x: Double) -> String {
    if x == x.rounded() && abs(x) < 1e15 { return String(Int(x)) }
    var s = String(format: "%.4f", x)
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s
}

/// The gate's decision for one benchmark.
public enum Verdict: String, Sendable, Codable, CaseIterable {
    case unchanged
    case regression
    case improvement
    /// The benchmark exists only in the candidate.
    case new
    /// The benchmark exists only in the baseline.
    case missing
    /// Too few samples on one side to decide.
    case insufficient
}

/// One benchmark's comparison; the single model every output format renders.
public struct BenchmarkComparison: Sendable, Codable, Equatable {
    public var name: String
    public var unit: String
    public var direction: MetricDirection
    public var baseline: SampleStatistics?
    public var candidate: SampleStatistics?
    /// candidate median / baseline median.
    public var medianRatio: Double?
    /// Hodges–Lehmann ratio, candidate over baseline.
    public var hodgesLehmannRatio: Double?
    /// The ratio the decision used, candidate over baseline.
    public var ratio: Double?
    public var threshold: Double
    public var test: SignificanceTest
    /// Mann–Whitney p-value in the direction of the observed change.
    public var pValue: Double?
    /// Bootstrap interval of the median ratio (bootstrap test only).
    public var ciLower: Double?
    public var ciUpper: Double?
    public var verdict: Verdict
    /// The flagged benchmark was measured again and the verdict held.
    public var confirmed: Bool?
    public var note: String?
}

/// What the whole comparison concluded; also the process exit code.
public enum GateOutcome: String, Sendable, Codable {
    case pass, regression, noBaseline = "no-baseline", incomparable, error

    public var exitCode: BenchExitCode {
        switch self {
        case .pass: .pass
        case .regression: .regression
        case .noBaseline: .noBaseline
        case .incomparable: .incomparable
        case .error: .error
        }
    }
}

/// The result of `compare` / `--compare`: what was compared, the rule, every benchmark.
public struct ComparisonReport: Sendable, Codable, Equatable {
    public var baselineLabel: String
    public var candidateLabel: String
    public var policy: String
    public var comparisons: [BenchmarkComparison]
    /// Set when there is nothing to compare against or the machines differ.
    public var problem: String?
    public var outcome: GateOutcome

    public init(
        baselineLabel: String, candidateLabel: String, policy: String,
        comparisons: [BenchmarkComparison], problem: String? = nil, outcome: GateOutcome? = nil
    ) {
        self.baselineLabel = baselineLabel
        self.candidateLabel = candidateLabel
        self.policy = policy
        self.comparisons = comparisons
        self.problem = problem
        self.outcome =
            outcome ?? (comparisons.contains { $0.verdict == .regression } ? .regression : .pass)
    }

    public var regressions: [BenchmarkComparison] { comparisons.filter { $0.verdict == .regression } }
    public var improvements: [BenchmarkComparison] { comparisons.filter { $0.verdict == .improvement } }
}

/// The regression gate: pure functions from samples to verdicts.
public enum Gate {
    /// Compares one benchmark. `seed` makes the bootstrap reproducible; by default it
    /// is derived from the benchmark name.
    public static func compare(
        name: String, unit: String, direction: MetricDirection,
        baseline: [Double]?, candidate: [Double]?, policy: GatePolicy, seed: UInt64? = nil
    ) -> BenchmarkComparison {
        let threshold = policy.threshold(for: name)
        // Sort each side once; statistics, Mann–Whitney and Hodges–Lehmann all use it.
        let sortedBaseline = baseline?.sorted()
        let sortedCandidate = candidate?.sorted()
        var result = BenchmarkComparison(
            name: name, unit: unit, direction: direction,
            baseline: sortedBaseline.map { SampleStatistics(sorted: $0) },
            candidate: sortedCandidate.map { SampleStatistics(sorted: $0) },
            medianRatio: nil, hodgesLehmannRatio: nil, ratio: nil, threshold: threshold,
            test: policy.test, pValue: nil, ciLower: nil, ciUpper: nil, verdict: .unchanged,
            confirmed: nil, note: nil)
        guard let b = baseline, !b.isEmpty else {
            result.verdict = .new
            return result
        }
        guard let c = candidate, !c.isEmpty else {
            result.verdict = .missing
            return result
        }
        result.medianRatio = result.candidate!.median / result.baseline!.median
        let hl = Statistics.hodgesLehmannRatio(sortedBaseline: sortedBaseline!, sortedCandidate: sortedCandidate!)
        result.hodgesLehmannRatio = hl.isFinite ? hl : nil
        let ratio = policy.estimator == .hodgesLehmann && hl.isFinite ? hl : result.medianRatio!
        result.ratio = ratio
        if b.count < policy.minimumSamples || c.count < policy.minimumSamples {
            result.verdict = .insufficient
            result.note = "fewer than \(policy.minimumSamples) samples on one side"
            return result
        }
        // Orient so that "worse" is > 1 whatever the metric's direction.
        let worse = direction == .lowerIsBetter ? ratio : 1 / ratio
        let alpha = 1 - policy.confidence
        var significantlyWorse = false
        var significantlyBetter = false
        switch policy.test {
        case .mannWhitney:
            let mw = Statistics.mannWhitney(sortedBaseline: sortedBaseline!, sortedCandidate: sortedCandidate!)
            let pWorse = direction == .lowerIsBetter ? mw.pGreater : mw.pLess
            let pBetter = direction == .lowerIsBetter ? mw.pLess : mw.pGreater
            significantlyWorse = pWorse < alpha
            significantlyBetter = pBetter < alpha
            result.pValue = worse >= 1 ? pWorse : pBetter
        case .bootstrap:
            let ci = Statistics.bootstrapMedianRatioCI(
                baseline: b, candidate: c, confidence: policy.confidence,
                resamples: policy.bootstrapResamples, seed: seed ?? StableHash.of(name))
            result.ciLower = ci.lower
            result.ciUpper = ci.upper
            let (worseLow, worseHigh) =
                direction == .lowerIsBetter ? (ci.lower, ci.upper) : (1 / ci.upper, 1 / ci.lower)
            significantlyWorse = worseLow > 1
            significantlyBetter = worseHigh < 1
        }
        if worse > threshold && significantlyWorse {
            result.verdict = .regression
        } else if worse < 1 / threshold && significantlyBetter {
            result.verdict = .improvement
        }
        return result
    }

    /// Compares every benchmark present on either side, sorted by name.
    public static func compare(
        baseline: [String: BenchmarkSamples], candidate: [String: BenchmarkSamples], policy: GatePolicy,
        baselineLabel: String, candidateLabel: String
    ) -> ComparisonReport {
        let names = Set(baseline.keys).union(candidate.keys).sorted()
        let rows = names.map { name -> BenchmarkComparison in
            let c = candidate[name]
            let b = baseline[name]
            let meta = c ?? b!
            return compare(
                name: name, unit: meta.unit, direction: meta.direction, baseline: b?.samples,
                candidate: c?.samples, policy: policy)
        }
        return ComparisonReport(
            baselineLabel: baselineLabel, candidateLabel: candidateLabel, policy: policy.summary,
            comparisons: rows)
    }
}

/// The raw samples of one benchmark in one run.
public struct BenchmarkSamples: Sendable, Equatable, Codable {
    public var name: String
    public var unit: String
    public var direction: MetricDirection
    public var samples: [Double]
    /// Inner-loop iterations per sample (each sample is already divided by it).
    public var batch: Int

    public init(name: String, unit: String = "ns", direction: MetricDirection = .lowerIsBetter, samples: [Double], batch: Int = 1) {
        self.name = name
        self.unit = unit
        self.direction = direction
        self.samples = samples
        self.batch = batch
    }
}

/// The guide's JIT acceptance rule as a plain function: over at least `minimumCases`
/// cases, the 20th percentile of the speedups (baseline time / JIT time) must be ≥ 2.0.
public struct JITAcceptance: Sendable, Codable, Equatable {
    public var cases: Int
    public var percentile: Double
    public var required: Double
    public var minimumCases: Int
    /// The observed percentile of the speedups.
    public var observed: Double
    /// A 95% bootstrap interval of that percentile, to show how firm the verdict is.
    public var ciLower: Double
    public var ciUpper: Double
    public var accepted: Bool
    public var reason: String

    /// The rule itself is `EmberExecution.jitAcceptance` (one implementation for the jit
    /// tooling and the gate); this records its verdict in the gate's reportable form.
    public static func evaluate(
        speedups: [Double], minimumCases: Int = 25, percentile: Double = 0.2, required: Double = 2.0,
        seed: UInt64 = 0x6a17, resamples: Int = 2000
    ) -> JITAcceptance {
        let v = jitAcceptance(
            speedups: speedups, threshold: required, percentile: percentile, minimumCases: minimumCases,
            confidence: 0.95, resamples: resamples, seed: seed)
        let pct = "p\(format(percentile * 100))"
        let comparison = v.accepted ? "≥" : "<"
        let reason =
            v.observed.isFinite && speedups.count >= minimumCases
            ? "\(pct) speedup \(format(v.observed)) \(comparison) \(format(required)) over \(speedups.count) cases"
            : v.reason
        return JITAcceptance(
            cases: v.caseCount, percentile: v.percentile, required: v.threshold, minimumCases: v.minimumCases,
            observed: v.observed, ciLower: v.intervalLower, ciUpper: v.intervalUpper, accepted: v.accepted,
            reason: reason)
    }
}
