import EmberUtils
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The steps behind the commands, kept here (not in the executable) so tests drive them.
public enum Workflow {
    /// Compares a candidate with a resolved baseline. There is no re-measure step: the
    /// evidence is the processes and the history, decided once.
    public static func gate(
        candidate: [String: BenchmarkSamples], baseline: BaselineResolution, policy: GatePolicy, candidateLabel: String
    ) -> ComparisonReport {
        switch baseline {
        case .noBaseline(let why):
            return ComparisonReport(
                baselineLabel: "none", candidateLabel: candidateLabel, policy: policy.summary, comparisons: [],
                problem: why, outcome: .noBaseline)
        case .incomparable(let why):
            return ComparisonReport(
                baselineLabel: "none", candidateLabel: candidateLabel, policy: policy.summary, comparisons: [],
                problem: why, outcome: .incomparable)
        case .found(let data):
            return Gate.compare(candidate: candidate, baseline: data, policy: policy, candidateLabel: candidateLabel)
        }
    }

    /// A synthetic run for scale measurements: log-normal samples around a per-benchmark
    /// level, each process with its own small offset.
    public static func syntheticRun(benchmarks: Int, processes: Int, samplesPerProcess: Int, seed: UInt64) -> [BenchmarkSamples] {
        var g = SeededGenerator(seed: seed)
        return (0..<benchmarks).map { i in
            let level = 1_000 + Double(i % 997) * 10
            var samples: [Double] = []
            samples.reserveCapacity(processes * samplesPerProcess)
            for _ in 0..<processes {
                let offset = CMath.exp(0.03 * normal(&g))
                for _ in 0..<samplesPerProcess { samples.append(level * offset * CMath.exp(0.1 * normal(&g))) }
            }
            return BenchmarkSamples(
                name: "synthetic/benchmark-\(i)", samples: samples,
                processSizes: processes > 1 ? Array(repeating: samplesPerProcess, count: processes) : [])
        }
    }

    /// Speedups (baseline median / candidate median) of the benchmarks both sides
    /// have, for the JIT acceptance rule.
    public static func speedups(baseline: [String: BenchmarkSamples], candidate: [String: BenchmarkSamples]) -> [(String, Double)] {
        candidate.keys.sorted().compactMap { name in
            guard let b = baseline[name], let c = candidate[name] else { return nil }
            let mb = Statistics.median(b.samples)
            let mc = Statistics.median(c.samples)
            let s = c.direction == .lowerIsBetter ? mb / mc : mc / mb
            return (name, s)
        }
    }
}

extension JITAcceptance {
    public func render(_ format: OutputFormat, speedups: [(String, Double)], baselineLabel: String, candidateLabel: String) -> String {
        let verdict = accepted ? "ACCEPTED" : "REJECTED"
        let exit = accepted ? 0 : 1
        let ci = "95% CI of p\(EmberBench.format(percentile * 100)): " + String.printf("[%.3f, %.3f]", ciLower, ciUpper)
        switch format {
        case .table, .markdown:
            var out = format == .markdown ? "### ember-bench JIT acceptance: \(verdict)\n\n" : ""
            out += "baseline:  \(baselineLabel)\ncandidate: \(candidateLabel)\n"
            out += "rule:      p\(EmberBench.format(percentile * 100)) of speedups ≥ \(EmberBench.format(required)) over ≥ \(minimumCases) cases\n"
            out += "result:    \(reason); \(ci)\n\n"
            out += renderTable(["case", "speedup"], speedups.map { [$0.0, String.printf("%.3f×", $0.1)] })
            out += "\n\(verdict) (exit \(exit))\n"
            return out
        case .json:
            struct Doc: Encodable {
                var exitCode: Int
                var rule: JITAcceptance
                var speedups: [String: Double]
            }
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            let doc = Doc(exitCode: exit, rule: self, speedups: Dictionary(speedups, uniquingKeysWith: { a, _ in a }))
            return String(decoding: try! enc.encode(doc), as: UTF8.self) + "\n"
        case .junit:
            var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            out += "<testsuites name=\"ember-bench\" tests=\"1\" failures=\"\(accepted ? 0 : 1)\">\n"
            out += "  <testsuite name=\"jit-acceptance\" tests=\"1\" failures=\"\(accepted ? 0 : 1)\">\n"
            out += "    <testcase classname=\"jit\" name=\"acceptance\">\n"
            if accepted {
                out += "      <system-out>\(xml(reason + "; " + ci))</system-out>\n"
            } else {
                out += "      <failure message=\"\(xml(reason))\">\(xml(reason + "; " + ci))</failure>\n"
            }
            out += "    </testcase>\n  </testsuite>\n</testsuites>\n"
            return out
        }
    }
}
