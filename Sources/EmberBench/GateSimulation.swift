import EmberUtils
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Gate-quality simulation at the level CI sees it: one compare over many benchmarks,
/// each measured in several processes, each process with its own offset (frequency,
/// neighbours, layout), a compare failing when any benchmark is flagged. Measures how
/// often an unchanged build fails (A/A) and how often a slowed benchmark is caught.
/// Deterministic for a seed; runs the real `Gate.compare` on raw samples.
public enum GateSimulation {
    /// A synthetic timing distribution inside one process (unit median ≈ 1).
    public struct Body: Sendable {
        public var name: String
        /// Log-normal body σ.
        public var sigma: Double
        /// Second mode's factor, taken with probability 1/2 (1 = unimodal).
        public var secondMode: Double
        /// Fraction of samples multiplied by U(1.5, 3).
        public var outlierRate: Double

        public static let noisy = Body(name: "noisy (log-normal σ 0.15, 5% outliers ×1.5–3)", sigma: 0.15, secondMode: 1, outlierRate: 0.05)
        public static let bimodal = Body(name: "bimodal (modes 1.0 / 1.3 at ½, σ 0.05, 5% outliers)", sigma: 0.05, secondMode: 1.3, outlierRate: 0.05)

        func sample(_ n: Int, scale: Double, into out: inout [Double], _ g: inout SeededGenerator) {
            for _ in 0..<n {
                var x = CMath.exp(sigma * normal(&g))
                if secondMode != 1 && unit(&g) < 0.5 { x *= secondMode }
                if unit(&g) < outlierRate { x *= 1.5 + 1.5 * unit(&g) }
                out.append(scale * x)
            }
        }
    }

    /// How the baseline is obtained.
    public enum Mode: Sendable, Equatable {
        /// `--compare` against stored history: the candidate's processes against the
        /// last `runs` stored runs of the baseline branch (each with as many processes).
        case stored(runs: Int)
        /// `ember-bench ab`: base and head processes alternate in one job.
        case sameJob

        public var label: String {
            switch self {
            case .stored(let k): "stored history (last \(k) runs)"
            case .sameJob: "same-job A/B"
            }
        }
    }

    public struct Setting: Sendable {
        public var body: Body
        public var mode: Mode
        /// σ of the per-process log-normal offset.
        public var between: Double
        public var benchmarks = 200
        public var samplesPerProcess = 50
        public var processes = 5

        public init(body: Body, mode: Mode, between: Double, benchmarks: Int = 200, samplesPerProcess: Int = 50, processes: Int = 5) {
            self.body = body
            self.mode = mode
            self.between = between
            self.benchmarks = benchmarks
            self.samplesPerProcess = samplesPerProcess
            self.processes = processes
        }
    }

    /// One compare call: benchmark 0 is slowed by `ratio` (1 = A/A). Returns whether the
    /// compare failed (any regression) and whether benchmark 0 was flagged.
    public static func compareCall(
        _ s: Setting, ratio: Double, policy: GatePolicy, names: [String], _ g: inout SeededGenerator
    ) -> (failed: Bool, caught: Bool) {
        func run(slowdown: Double) -> [String: BenchmarkSamples] {
            var out: [String: BenchmarkSamples] = [:]
            out.reserveCapacity(s.benchmarks)
            for i in 0..<s.benchmarks {
                var samples: [Double] = []
                samples.reserveCapacity(s.samplesPerProcess * s.processes)
                for _ in 0..<s.processes {
                    let offset = CMath.exp(s.between * normal(&g))
                    s.body.sample(s.samplesPerProcess, scale: offset * (i == 0 ? slowdown : 1), into: &samples, &g)
                }
                out[names[i]] = BenchmarkSamples(
                    name: names[i], samples: samples, processSizes: Array(repeating: s.samplesPerProcess, count: s.processes))
            }
            return out
        }
        let baselineRuns: [[String: BenchmarkSamples]]
        switch s.mode {
        case .stored(let k): baselineRuns = (0..<k).map { _ in run(slowdown: 1) }
        case .sameJob: baselineRuns = [run(slowdown: 1)]
        }
        let candidate = run(slowdown: ratio)
        let report = Gate.compare(
            candidate: candidate, baseline: BaselineData(runs: baselineRuns, label: "sim", sameJob: s.mode == .sameJob),
            policy: policy, candidateLabel: "sim")
        let failed = report.outcome == .regression
        let caught = report.comparisons.first { $0.name == names[0] }?.verdict == .regression
        return (failed, caught)
    }

    public struct Row: Sendable {
        public var setting: Setting
        /// Share of A/A compares that failed.
        public var aaFailureRate: Double
        /// Per slowdown: share of compares that flagged the slowed benchmark.
        public var detection: [(ratio: Double, rate: Double)]
    }

    public struct Table: Sendable {
        public var rows: [Row]
        public var aaTrials: Int
        public var detectionTrials: Int
        public var policy: GatePolicy

        public var markdown: String {
            let ratios = rows.first?.detection.map(\.ratio) ?? []
            var out = "Gate simulation: \(rows.first?.setting.benchmarks ?? 0) benchmarks per compare, "
            out += "\(rows.first?.setting.samplesPerProcess ?? 0) samples per process; "
            out += "\(aaTrials) A/A compares and \(detectionTrials) compares per slowdown (one benchmark slowed) per row.\n"
            out += "Rule: \(policy.summary).\n\n"
            out += "| body | baseline | processes per run | between-process σ | A/A: compares failed | "
            out += ratios.map { String.printf("%.1f× caught", $0) }.joined(separator: " | ") + " |\n"
            out += "|---|---|---:|---:|---:|" + String(repeating: "---:|", count: ratios.count) + "\n"
            for r in rows {
                out += "| \(r.setting.body.name) | \(r.setting.mode.label) | \(r.setting.processes) | \(String.printf("%.2f", r.setting.between)) | "
                out += String.printf("%.1f%%", r.aaFailureRate * 100) + " | "
                out += r.detection.map { String.printf("%.1f%%", $0.rate * 100) }.joined(separator: " | ") + " |\n"
            }
            return out
        }
    }

    public static func evaluate(
        _ s: Setting, aaTrials: Int, detectionTrials: Int, ratios: [Double], policy: GatePolicy, seed: UInt64
    ) -> Row {
        let names = (0..<s.benchmarks).map { String.printf("sim/b%03d", $0) }
        var g = SeededGenerator(seed: seed)
        var failures = 0
        for _ in 0..<aaTrials where compareCall(s, ratio: 1, policy: policy, names: names, &g).failed { failures += 1 }
        var detection: [(Double, Double)] = []
        for r in ratios {
            var caught = 0
            for _ in 0..<detectionTrials where compareCall(s, ratio: r, policy: policy, names: names, &g).caught { caught += 1 }
            detection.append((r, Double(caught) / Double(max(detectionTrials, 1))))
        }
        return Row(setting: s, aaFailureRate: Double(failures) / Double(max(aaTrials, 1)), detection: detection)
    }

    /// The issue's grid: noisy and bimodal bodies, between-process σ 0.05 and 0.10,
    /// stored history (5 runs) and same-job A/B, 5 processes of 50 samples per run (and
    /// same-job A/B with 10, ab's default).
    public static func run(
        aaTrials: Int = 500, detectionTrials: Int = 300, ratios: [Double] = [1.1, 1.2, 1.3], benchmarks: Int = 200,
        samplesPerProcess: Int = 50, processes: Int = 5, policy: GatePolicy = GatePolicy(), seed: UInt64 = 2026,
        progress: ((String) -> Void)? = nil
    ) -> Table {
        var rows: [Row] = []
        var index: UInt64 = 0
        // The gate against stored history, and same-job A/B with as many processes per
        // side and with twice as many (ab's default).
        for (mode, count) in [(Mode.stored(runs: 5), processes), (.sameJob, processes), (.sameJob, 2 * processes)] {
            for body in [Body.noisy, .bimodal] {
                for between in [0.05, 0.10] {
                    index += 1
                    let s = Setting(
                        body: body, mode: mode, between: between, benchmarks: benchmarks, samplesPerProcess: samplesPerProcess,
                        processes: count)
                    progress?("\(mode.label), \(body.name), σ \(between)")
                    rows.append(
                        evaluate(
                            s, aaTrials: aaTrials, detectionTrials: detectionTrials, ratios: ratios, policy: policy,
                            seed: seed &+ index &* 0x9E37_79B9))
                }
            }
        }
        return Table(rows: rows, aaTrials: aaTrials, detectionTrials: detectionTrials, policy: policy)
    }
}

@inline(__always) func unit(_ g: inout SeededGenerator) -> Double { Double(g.next() >> 11) / Double(1 << 53) }

/// A standard normal draw (Box–Muller; one of the pair is discarded for simplicity).
@inline(__always) func normal(_ g: inout SeededGenerator) -> Double {
    let u1 = max(unit(&g), 1e-300)
    let u2 = unit(&g)
    return (-2 * CMath.log(u1)).squareRoot() * CMath.cos(2 * Double.pi * u2)
}
