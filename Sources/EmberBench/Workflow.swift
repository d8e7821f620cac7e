import Foundation

/// The steps behind the commands, kept here (not in the executable) so tests drive them.
public enum Workflow {
    /// Measures the selected registered benchmarks.
    public static func measureSuites(
        _ selected: [(name: String, benchmark: Benchmark)], options: RunnerOptions, progress: ProgressLine
    ) async throws -> [BenchmarkSamples] {
        let runner = BenchmarkRunner(options: options)
        var out: [BenchmarkSamples] = []
        for (i, entry) in selected.enumerated() {
            progress.update(i, of: selected.count, entry.name)
            out.append(try await runner.measure(entry.benchmark, fullName: entry.name))
        }
        progress.finish()
        return out
    }

    /// Compares a candidate against stored baseline samples, then re-measures each
    /// flagged benchmark once with `remeasure` (when given): a flag that does not hold
    /// on the second measurement is reported as "not confirmed" and does not fail.
    public static func gate(
        candidate: [String: BenchmarkSamples], baseline: BaselineResolution, policy: GatePolicy,
        candidateLabel: String, remeasure: ((String) async throws -> BenchmarkSamples?)? = nil
    ) async throws -> ComparisonReport {
        switch baseline {
        case .noBaseline(let why):
            return ComparisonReport(
                baselineLabel: "none", candidateLabel: candidateLabel, policy: policy.summary, comparisons: [],
                problem: why, outcome: .noBaseline)
        case .incomparable(let why):
            return ComparisonReport(
                baselineLabel: "none", candidateLabel: candidateLabel, policy: policy.summary, comparisons: [],
                problem: why, outcome: .incomparable)
        case .found(let samples, let label):
            var report = Gate.compare(
                baseline: samples, candidate: candidate, policy: policy, baselineLabel: label,
                candidateLabel: candidateLabel)
            if let remeasure {
                for (i, row) in report.comparisons.enumerated()
                where row.verdict == .regression || row.verdict == .improvement {
                    guard let again = try await remeasure(row.name) else { continue }
                    let second = Gate.compare(
                        name: row.name, unit: row.unit, direction: row.direction, baseline: samples[row.name]?.samples,
                        candidate: again.samples, policy: policy)
                    var updated = row
                    if second.verdict == row.verdict {
                        updated.confirmed = true
                    } else {
                        updated.confirmed = false
                        updated.verdict = .unchanged
                        updated.note = "flagged \(row.verdict.rawValue) did not hold when measured again (ratio \(ratioText(second.ratio)))"
                    }
                    report.comparisons[i] = updated
                }
                report.outcome = report.comparisons.contains { $0.verdict == .regression } ? .regression : .pass
            }
            return report
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
        let ci = "95% CI of p\(EmberBench.format(percentile * 100)): " + String(format: "[%.3f, %.3f]", ciLower, ciUpper)
        switch format {
        case .table, .markdown:
            var out = format == .markdown ? "### ember-bench JIT acceptance: \(verdict)\n\n" : ""
            out += "baseline:  \(baselineLabel)\ncandidate: \(candidateLabel)\n"
            out += "rule:      p\(EmberBench.format(percentile * 100)) of speedups ≥ \(EmberBench.format(required)) over ≥ \(minimumCases) cases\n"
            out += "result:    \(reason); \(ci)\n\n"
            out += renderTable(["case", "speedup"], speedups.map { [$0.0, String(format: "%.3f×", $0.1)] })
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
