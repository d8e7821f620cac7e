import EmberExecution
import EmberUtils
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Whether a smaller or a larger number is better for a benchmark's metric.
public enum MetricDirection: String, Sendable, Codable, CaseIterable {
    /// Times, bytes: smaller is better.
    case lowerIsBetter = "lower"
    /// Throughput: larger is better.
    case higherIsBetter = "higher"
}

/// How the p-values of one compare are adjusted for testing many benchmarks at once.
public enum MultipleTestingCorrection: String, Sendable, Codable, CaseIterable {
    /// Holm's step-down: the chance that a compare flags any unchanged benchmark stays
    /// below α (family-wise error rate). The default: one false flag fails a build.
    case holm
    /// Benjamini–Hochberg: the expected share of false flags among the flags stays below α.
    case fdr
    /// No adjustment: each benchmark on its own at α.
    case none
}

/// The rule the gate applies to each benchmark.
public struct GatePolicy: Sendable, Codable, Equatable {
    /// A change counts when the estimated ratio (oriented so that > 1 is worse) exceeds this.
    public var threshold: Double = 1.2
    /// Per-benchmark thresholds; the key is the exact benchmark name.
    public var thresholdOverrides: [String: Double] = [:]
    /// The error rate over all benchmarks of one compare (with `correction`).
    public var alpha: Double = 0.01
    public var correction: MultipleTestingCorrection = .holm
    /// Borrow variance across the benchmarks of a compare (empirical-Bayes prior).
    public var moderateVariances = true
    /// Too little data is a pass instead of its own outcome (exit 5).
    public var allowInsufficient = false

    public init() {}

    public func threshold(for name: String) -> Double { thresholdOverrides[name] ?? threshold }

    /// A one-line description for reports.
    public var summary: String {
        let adj: String =
            switch correction {
            case .holm: "Holm-adjusted p < \(format(alpha)) over all benchmarks"
            case .fdr: "Benjamini–Hochberg q < \(format(alpha)) over all benchmarks"
            case .none: "p < \(format(alpha)) per benchmark (no correction)"
            }
        return "ratio > \(format(threshold)) and \(adj) (one-sided t-test on per-process means, run-to-run spread included)"
    }
}

func format(_ x: Double) -> String {
    if x == x.rounded() && abs(x) < 1e15 { return String(Int(x)) }
    var s = String.printf("%.4f", x)
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
    /// Too little data to decide: no estimate of the run-to-run spread (one process per
    /// side and no history), or no samples. Not a pass (exit 5) unless allowed.
    case insufficient
}

/// One benchmark's comparison; the single model every output format renders.
public struct BenchmarkComparison: Sendable, Codable, Equatable {
    public var name: String
    public var unit: String
    public var direction: MetricDirection
    /// Over every raw sample of the side (all baseline runs pooled).
    public var baseline: SampleStatistics?
    public var candidate: SampleStatistics?
    /// Worker processes (or imported files, or command runs) behind each side.
    public var baselineProcesses: Int
    public var candidateProcesses: Int
    /// Stored runs behind the baseline (1 for a run, K for a branch, 1 for same-job A/B).
    public var baselineRuns: Int
    /// The side's centre: the geometric mean of its per-process locations.
    public var baselineCenter: Double?
    public var candidateCenter: Double?
    /// candidateCenter / baselineCenter: the estimate the decision uses.
    public var ratio: Double?
    /// (1 − α) interval of the ratio, not adjusted for the number of benchmarks.
    public var ciLower: Double?
    public var ciUpper: Double?
    /// One-sided p-value in the direction of the observed change ("slower" for a ratio
    /// that is worse, "faster" otherwise) and its adjusted value over the compare.
    public var pValue: Double?
    public var pAdjusted: Double?
    /// Degrees of freedom of the t-test (Satterthwaite; moderated variances).
    public var degreesOfFreedom: Double?
    /// Which variance the test used: "process" (same job), "run" (history spread), or
    /// "process (run spread unknown)".
    public var spread: String?
    public var threshold: Double
    public var verdict: Verdict
    public var note: String?
}

/// A metric with one value per side (hyperfine's mean user time, say): shown for
/// information, never a verdict.
public struct SingleValue: Sendable, Codable, Equatable {
    public var name: String
    public var unit: String
    public var baseline: Double?
    public var candidate: Double?
}

/// What the whole comparison concluded; also the process exit code.
public enum GateOutcome: String, Sendable, Codable {
    case pass, regression, noBaseline = "no-baseline", incomparable, insufficient, error

    public var exitCode: ToolExit {
        switch self {
        case .pass: .success
        case .regression: .failure
        case .noBaseline: .noBaseline
        case .incomparable: .incomparable
        case .insufficient: .insufficient
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
    public var singleValues: [SingleValue]
    /// Candidate over baseline of the machine probe (stored history only): how much the
    /// machine itself moved; every benchmark's tolerance is widened by it.
    public var machineRatio: Double?
    /// Set when there is nothing to compare against or the machines differ.
    public var problem: String?
    public var outcome: GateOutcome

    public init(
        baselineLabel: String, candidateLabel: String, policy: String,
        comparisons: [BenchmarkComparison], singleValues: [SingleValue] = [], problem: String? = nil,
        outcome: GateOutcome? = nil, allowInsufficient: Bool = false
    ) {
        self.baselineLabel = baselineLabel
        self.candidateLabel = candidateLabel
        self.policy = policy
        self.comparisons = comparisons
        self.singleValues = singleValues
        self.machineRatio = nil
        self.problem = problem
        self.outcome = outcome ?? Self.outcome(of: comparisons, allowInsufficient: allowInsufficient)
    }

    static func outcome(of rows: [BenchmarkComparison], allowInsufficient: Bool) -> GateOutcome {
        if rows.contains(where: { $0.verdict == .regression }) { return .regression }
        if !allowInsufficient && rows.contains(where: { $0.verdict == .insufficient }) { return .insufficient }
        return .pass
    }

    public var regressions: [BenchmarkComparison] { comparisons.filter { $0.verdict == .regression } }
    public var improvements: [BenchmarkComparison] { comparisons.filter { $0.verdict == .improvement } }
    public var insufficient: [BenchmarkComparison] { comparisons.filter { $0.verdict == .insufficient } }
}

/// The baseline side of a comparison.
public struct BaselineData: Sendable {
    /// The baseline runs (one for a named run, K for a branch).
    public var runs: [[String: BenchmarkSamples]]
    public var runIDs: [Int64]
    public var label: String
    /// Further runs from the same machine, used only to estimate the run-to-run spread.
    public var spread: [[String: BenchmarkSamples]]
    /// Candidate and baseline were measured in one job with alternating processes: a
    /// per-job offset hits both sides alike and cancels.
    public var sameJob: Bool

    public init(
        runs: [[String: BenchmarkSamples]], runIDs: [Int64] = [], label: String,
        spread: [[String: BenchmarkSamples]] = [], sameJob: Bool = false
    ) {
        self.runs = runs
        self.runIDs = runIDs
        self.label = label
        self.spread = spread
        self.sameJob = sameJob
    }
}

/// A metric derived from a measurement (`name [user]`, `name [peak RSS]`, ...).
func isAuxiliaryMetric(_ name: String) -> Bool { name.hasSuffix("]") && name.contains(" [") }

/// The regression gate: pure functions from samples to verdicts. See docs/ember-bench.md
/// "The gate" for the model and its assumptions.
public enum Gate {
    /// One run of one benchmark reduced to what the test needs: each process's location
    /// on the log scale (`processLocation` of its log samples).
    struct RunLocations {
        /// The locations of the processes kept (the mean is theirs).
        var units: [Double]
        var mean: Double
        /// Sum of squares of *all* processes' locations around their mean: a process set
        /// aside as interfered with still says how widely this benchmark's processes
        /// scatter (an interference-prone benchmark gets a wider tolerance).
        var withinSS: Double
        var allCount: Int
        /// Processes set aside as interfered with (see init).
        var setAside = 0
        var count: Int { units.count }

        init(_ s: BenchmarkSamples, shift: Double) {
            var units: [Double] = []
            units.reserveCapacity(s.processCount)
            var scratch: [Double] = []
            // Oriented so that slower is larger: a throughput (higher is better) is
            // negated, its faster half is its upper half.
            let sign = s.direction == .lowerIsBetter ? 1.0 : -1.0
            for p in s.processes() where !p.isEmpty {
                scratch.removeAll(keepingCapacity: true)
                for x in p { scratch.append(sign * CMath.log(x + shift)) }
                units.append(sign * Gate.processLocation(&scratch))
            }
            // A process far slower than the run's others was interfered with (placed next
            // to a busy neighbour, most of its samples preempted): interference only ever
            // slows. Set aside processes more than 3 spreads above the run's median
            // (spread: 1.4826·MAD of the locations, at least log 1.1): under the noise
            // model that is one process in several hundred; at least half always stay.
            allCount = units.count
            let allMean = units.isEmpty ? .nan : units.reduce(0, +) / Double(units.count)
            var allSS = 0.0
            for u in units { allSS += (u - allMean) * (u - allMean) }
            withinSS = allSS
            if units.count >= 3 {
                let median = Statistics.median(units)
                let mad = Statistics.median(units.map { abs($0 - median) })
                let limit = 3 * max(1.4826 * mad, CMath.log(1.1))
                let kept = units.filter { sign * ($0 - median) <= limit }
                setAside = units.count - kept.count
                units = kept
            }
            self.units = units
            mean = units.isEmpty ? .nan : units.reduce(0, +) / Double(units.count)
        }
    }

    /// A process's location: the mean of its faster half without the fastest tenth (the
    /// 10th to 50th percentile; all values below 4); reorders `values`.
    ///
    /// Why the faster half: each sample is a calibrated batch of many calls, so a change
    /// in the code moves every sample, while what the machine adds (preemption, a
    /// neighbour's burst, an interrupt) only ever makes samples slower. Under a loaded
    /// machine more than a quarter of a process's samples can be hit (an interquartile
    /// mean then moves, the median nearly); the faster half stays put until half are.
    /// The fastest tenth is left out so one lucky sample cannot pull it.
    static func processLocation(_ values: inout [Double]) -> Double {
        let n = values.count
        if n < 4 { return values.reduce(0, +) / Double(n) }
        values.sort()
        let lo = n / 10
        let hi = max(lo + 1, (n + 1) / 2)
        var sum = 0.0
        for i in lo..<hi { sum += values[i] }
        return sum / Double(hi - lo)
    }

    /// Logs need positive values; a series with zeros (a sys time of 0) is shifted by
    /// 1% of its median before taking logs, the same shift on every side.
    static func logShift(_ series: [BenchmarkSamples]) -> Double {
        var minimum = Double.infinity
        for s in series { for x in s.samples where x < minimum { minimum = x } }
        if minimum > 0 { return 0 }
        let positive = series.flatMap { $0.samples.filter { $0 > 0 } }
        return positive.isEmpty ? 1 : 0.01 * Statistics.median(positive)
    }

    /// The per-benchmark pieces before the variances are moderated across benchmarks.
    struct Pending {
        var index: Int
        var difference: Double
        var withinVariance: Double
        var withinDF: Double
        var runVariance: Double
        var runDF: Double
        /// Mean of 1/P over the runs behind `runVariance`.
        var inverseProcesses: Double
        /// Var(difference) = a·τ_run² + b·τ_process².
        var a: Double
        var b: Double
    }

    /// Compares a candidate run with the baseline, benchmark by benchmark, then adjusts
    /// the p-values over all benchmarks of the compare.
    public static func compare(
        candidate: [String: BenchmarkSamples], baseline: BaselineData, policy: GatePolicy, candidateLabel: String
    ) -> ComparisonReport {
        let probe = BenchmarkRegistry.machineProbeName
        let names = Set(baseline.runs.flatMap(\.keys)).union(candidate.keys).filter { $0 != probe }.sorted()
        // The machine term: how far the code-independent probe moved between the
        // baseline runs and the candidate (stored history only: in one job it cancels).
        var machineShift: Double?
        if !baseline.sameJob, let c = candidate[probe], c.processCount >= 2 {
            let b = baseline.runs.compactMap { $0[probe] }.filter { $0.processCount >= 2 }
            if !b.isEmpty {
                let cm = RunLocations(c, shift: 0).mean
                let bm = b.reduce(0) { $0 + RunLocations($1, shift: 0).mean } / Double(b.count)
                if cm.isFinite && bm.isFinite { machineShift = cm - bm }
            }
        }
        var rows: [BenchmarkComparison] = []
        var singles: [SingleValue] = []
        var pending: [Pending] = []
        for name in names {
            let c = candidate[name]
            let bRuns = baseline.runs.compactMap { $0[name] }
            let meta = c ?? bRuns[0]
            if isAuxiliaryMetric(name), (c?.samples.count ?? 0) <= 1, bRuns.count <= 1, bRuns.allSatisfy({ $0.samples.count <= 1 }) {
                singles.append(
                    SingleValue(name: name, unit: meta.unit, baseline: bRuns.first?.samples.first, candidate: c?.samples.first))
                continue
            }
            let pooledBaseline = bRuns.count == 1 ? bRuns[0].samples : bRuns.flatMap(\.samples)
            var row = BenchmarkComparison(
                name: name, unit: meta.unit, direction: meta.direction,
                baseline: bRuns.isEmpty ? nil : SampleStatistics(samples: pooledBaseline),
                candidate: c.map { SampleStatistics(samples: $0.samples) },
                baselineProcesses: bRuns.reduce(0) { $0 + $1.processCount }, candidateProcesses: c?.processCount ?? 0,
                baselineRuns: bRuns.count, baselineCenter: nil, candidateCenter: nil, ratio: nil, ciLower: nil,
                ciUpper: nil, pValue: nil, pAdjusted: nil, degreesOfFreedom: nil, spread: nil,
                threshold: policy.threshold(for: name), verdict: .unchanged, note: nil)
            guard let c, !c.samples.isEmpty else {
                row.verdict = .missing
                rows.append(row)
                continue
            }
            if bRuns.isEmpty || pooledBaseline.isEmpty {
                row.verdict = .new
                rows.append(row)
                continue
            }
            let spreadRuns = baseline.sameJob ? [] : baseline.spread.compactMap { $0[name] }.filter { !$0.samples.isEmpty }
            let shift = logShift([c] + bRuns + spreadRuns)
            let cl = RunLocations(c, shift: shift)
            let bl = bRuns.map { RunLocations($0, shift: shift) }
            let sl = spreadRuns.map { RunLocations($0, shift: shift) }
            let baselineMean = bl.reduce(0) { $0 + $1.mean } / Double(bl.count)
            let asideC = cl.setAside
            let asideB = bl.reduce(0) { $0 + $1.setAside }
            if asideC + asideB > 0 {
                row.note =
                    "processes set aside as interfered with (far slower than the rest of their run): "
                    + "candidate \(asideC), baseline \(asideB)"
            }
            row.baselineCenter = CMath.exp(baselineMean) - shift
            row.candidateCenter = CMath.exp(cl.mean) - shift
            row.ratio = CMath.exp(cl.mean - baselineMean)
            // Within-run spread of process locations, pooled over every run at hand.
            var withinSS = cl.withinSS
            var withinDF = Double(cl.allCount - 1)
            for r in bl + sl {
                withinSS += r.withinSS
                withinDF += Double(r.allCount - 1)
            }
            // Run-to-run spread of run means: the baseline runs and the history behind them.
            var runVariance = 0.0
            var runDF = 0.0
            var inverseProcesses = 0.0
            if !baseline.sameJob {
                let others = bl + sl
                if others.count >= 2 {
                    let means = others.map(\.mean)
                    let m = means.reduce(0, +) / Double(means.count)
                    runVariance = means.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(means.count - 1)
                    runDF = Double(means.count - 1)
                    inverseProcesses = others.reduce(0) { $0 + 1 / Double($1.count) } / Double(others.count)
                }
            }
            let k = Double(bl.count)
            let a = baseline.sameJob ? 0 : 1 + 1 / k
            let b = 1 / Double(cl.count) + bl.reduce(0) { $0 + 1 / Double($1.count) } / (k * k)
            if withinDF < 1 && runDF < 1 {
                row.verdict = .insufficient
                row.note =
                    "one process per side and no stored history: the run-to-run spread is unknown; "
                    + "measure with --processes, import several files as one run, or keep more runs"
                rows.append(row)
                continue
            }
            pending.append(
                Pending(
                    index: rows.count, difference: cl.mean - baselineMean,
                    withinVariance: withinDF >= 1 ? withinSS / withinDF : 0, withinDF: max(withinDF, 0),
                    runVariance: runVariance, runDF: runDF, inverseProcesses: inverseProcesses, a: a, b: b))
            rows.append(row)
        }
        decide(&rows, pending, policy: policy, sameJob: baseline.sameJob, machineVariance: machineShift.map { $0 * $0 } ?? 0)
        var report = ComparisonReport(
            baselineLabel: baseline.label, candidateLabel: candidateLabel, policy: policy.summary, comparisons: rows,
            singleValues: singles, allowInsufficient: policy.allowInsufficient)
        report.machineRatio = machineShift.map { CMath.exp($0) }
        return report
    }

    /// Moderates the variances across benchmarks, runs the t-tests, adjusts the p-values
    /// and sets the verdicts.
    static func decide(
        _ rows: inout [BenchmarkComparison], _ pending: [Pending], policy: GatePolicy, sameJob: Bool, machineVariance: Double = 0
    ) {
        let withinPrior =
            policy.moderateVariances
            ? Distributions.fitVariancePrior(pending.map(\.withinVariance), df: pending.map(\.withinDF)) : .none
        let runPrior =
            policy.moderateVariances
            ? Distributions.fitVariancePrior(pending.map(\.runVariance), df: pending.map(\.runDF)) : .none
        let withinCap = pending.reduce(0) { $0 + $1.withinDF }
        let runCap = pending.reduce(0) { $0 + $1.runDF }
        // One-sided p-values: only a regression fails a build, so the family-wise error
        // that matters is over "slower" claims; improvements are adjusted on their own.
        var pWorse: [Double] = []
        var pBetter: [Double] = []
        var tested: [(Pending, Double, Double)] = []  // pending, standard error, df
        for p in pending {
            var (vp, dfp) = (p.withinVariance, p.withinDF)
            if dfp >= 1 {
                (vp, dfp) = withinPrior.moderateUnlessOutlying(vp, df: dfp, dfCap: withinCap)
            } else {
                (vp, dfp) = (0, 0)
            }
            var se2: Double
            var df: Double
            var spread: String
            if sameJob {
                se2 = p.b * vp
                df = dfp
                spread = "process"
            } else if p.runDF >= 1 {
                let (vm, dfm) = runPrior.moderateUnlessOutlying(p.runVariance, df: p.runDF, dfCap: runCap)
                // τ_run² = Var(run mean) − τ_process² · mean(1/P); never below zero.
                let tau2 = vm - p.inverseProcesses * vp
                if tau2 > 0 {
                    let c1 = p.a * vm
                    let c2 = (p.b - p.a * p.inverseProcesses) * vp
                    se2 = c1 + c2
                    let denominator = c1 * c1 / dfm + (dfp >= 1 ? c2 * c2 / dfp : 0)
                    df = denominator > 0 ? se2 * se2 / denominator : dfm
                } else {
                    se2 = p.b * vp
                    df = dfp
                }
                spread = "run"
            } else {
                se2 = p.b * vp
                df = dfp
                spread = "process (run spread unknown)"
            }
            // The machine moved by as much as the probe did: any benchmark may have too.
            se2 += machineVariance
            rows[p.index].spread = spread
            let worseDifference = rows[p.index].direction == .lowerIsBetter ? p.difference : -p.difference
            guard se2 > 0, se2.isFinite, df >= 1 else {
                if se2 == 0 && df >= 1 {
                    // Identical processes on each side (a deterministic count): the change is exact.
                    pWorse.append(worseDifference > 0 ? 0 : 1)
                    pBetter.append(worseDifference < 0 ? 0 : 1)
                    tested.append((p, 0, df))
                    continue
                }
                rows[p.index].verdict = .insufficient
                rows[p.index].note = "no spread to test against (fewer than two processes and no history)"
                continue
            }
            let se = se2.squareRoot()
            let worse = Distributions.studentTSurvival(worseDifference / se, df: df)
            pWorse.append(worse)
            pBetter.append(1 - worse)
            tested.append((p, se, df))
        }
        func adjust(_ p: [Double]) -> [Double] {
            switch policy.correction {
            case .holm: Distributions.holm(p)
            case .fdr: Distributions.benjaminiHochberg(p)
            case .none: p
            }
        }
        let worseAdjusted = adjust(pWorse)
        let betterAdjusted = adjust(pBetter)
        // Many rows share a df (moderated and capped): one quantile each.
        var quantiles: [UInt64: Double] = [:]
        for (k, (p, se, df)) in tested.enumerated() {
            var row = rows[p.index]
            let worse = row.direction == .lowerIsBetter ? p.difference : -p.difference
            row.pValue = worse >= 0 ? pWorse[k] : pBetter[k]
            row.pAdjusted = worse >= 0 ? worseAdjusted[k] : betterAdjusted[k]
            row.degreesOfFreedom = df.isFinite ? df : nil
            let q: Double
            if let cached = quantiles[df.bitPattern] {
                q = cached
            } else {
                q = Distributions.studentTQuantileUpper(policy.alpha / 2, df: df)
                quantiles[df.bitPattern] = q
            }
            row.ciLower = CMath.exp(p.difference - q * se)
            row.ciUpper = CMath.exp(p.difference + q * se)
            let limit = CMath.log(row.threshold)
            if worseAdjusted[k] < policy.alpha && worse > limit {
                row.verdict = .regression
            } else if betterAdjusted[k] < policy.alpha && worse < -limit {
                row.verdict = .improvement
            }
            rows[p.index] = row
        }
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
    /// Samples per worker process, in order (their sum is `samples.count`). Empty: all
    /// samples come from one process.
    public var processSizes: [Int]

    public init(
        name: String, unit: String = "ns", direction: MetricDirection = .lowerIsBetter, samples: [Double], batch: Int = 1,
        processSizes: [Int] = []
    ) {
        self.name = name
        self.unit = unit
        self.direction = direction
        self.samples = samples
        self.batch = batch
        self.processSizes = processSizes
    }

    enum CodingKeys: String, CodingKey { case name, unit, direction, samples, batch, processSizes }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        unit = try c.decodeIfPresent(String.self, forKey: .unit) ?? "ns"
        direction = try c.decodeIfPresent(MetricDirection.self, forKey: .direction) ?? .lowerIsBetter
        samples = try c.decode([Double].self, forKey: .samples)
        batch = try c.decodeIfPresent(Int.self, forKey: .batch) ?? 1
        processSizes = try c.decodeIfPresent([Int].self, forKey: .processSizes) ?? []
    }

    /// Worker processes behind the samples (0 with no samples).
    public var processCount: Int { processSizes.isEmpty ? (samples.isEmpty ? 0 : 1) : processSizes.count }

    /// The samples of each process, in order.
    public func processes() -> [ArraySlice<Double>] {
        if processSizes.isEmpty { return samples.isEmpty ? [] : [samples[...]] }
        var out: [ArraySlice<Double>] = []
        var start = 0
        for size in processSizes {
            let end = min(samples.count, start + size)
            out.append(samples[start..<end])
            start = end
        }
        return out
    }

    /// Appends the samples of one more process.
    public mutating func appendProcess(_ more: [Double]) {
        if processSizes.isEmpty && !samples.isEmpty { processSizes = [samples.count] }
        samples += more
        processSizes.append(more.count)
    }

    /// Every sample its own process (each run of an external command is a fresh process).
    public static func onePerProcess(
        name: String, unit: String = "ns", direction: MetricDirection = .lowerIsBetter, samples: [Double]
    ) -> BenchmarkSamples {
        BenchmarkSamples(
            name: name, unit: unit, direction: direction, samples: samples, batch: 1,
            processSizes: samples.count > 1 ? Array(repeating: 1, count: samples.count) : [])
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
