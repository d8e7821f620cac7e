import EmberBench
import EmberUtils
import Foundation
import Testing

func lognormal(_ n: Int, scale: Double, sigma: Double = 0.05, seed: UInt64) -> [Double] {
    var g = SeededGenerator(seed: seed)
    return (0..<n).map { _ in
        let u1 = max(Double(g.next() >> 11) / Double(1 << 53), 1e-300)
        let u2 = Double(g.next() >> 11) / Double(1 << 53)
        return scale * exp(sigma * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
}

/// One run of `processes` processes, each with its own log-normal offset of σ `between`.
func processRun(
    _ name: String = "b", processes: Int, samples: Int = 30, scale: Double, between: Double, within: Double = 0.05, seed: UInt64
) -> BenchmarkSamples {
    var g = SeededGenerator(seed: seed)
    var out: [Double] = []
    for p in 0..<processes {
        let u1 = max(Double(g.next() >> 11) / Double(1 << 53), 1e-300)
        let u2 = Double(g.next() >> 11) / Double(1 << 53)
        let offset = exp(between * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
        out += lognormal(samples, scale: scale * offset, sigma: within, seed: seed &* 31 &+ UInt64(p))
    }
    return BenchmarkSamples(name: name, samples: out, processSizes: Array(repeating: samples, count: processes))
}

func sameJob(_ base: BenchmarkSamples, _ head: BenchmarkSamples, policy: GatePolicy = GatePolicy()) -> BenchmarkComparison {
    Gate.compare(
        candidate: [head.name: head], baseline: BaselineData(runs: [[base.name: base]], label: "b", sameJob: true), policy: policy,
        candidateLabel: "c"
    ).comparisons[0]
}

@Suite struct GateTests {
    @Test func clearSlowdownAcrossProcessesIsARegression() {
        let base = processRun(processes: 5, scale: 1000, between: 0.03, seed: 1)
        let slow = processRun(processes: 5, scale: 1500, between: 0.03, seed: 2)
        let v = sameJob(base, slow)
        #expect(v.verdict == .regression)
        #expect(v.ratio! > 1.4 && v.ratio! < 1.6)
        #expect(v.ciLower! < v.ratio! && v.ratio! < v.ciUpper!)
        #expect(v.baselineProcesses == 5 && v.candidateProcesses == 5)
        #expect(sameJob(slow, base).verdict == .improvement)
    }

    @Test func aProcessOffsetIsNotARegression() {
        // Within each process the samples are tight (σ 0.02) and 50 of them "prove" a
        // 25% difference to a sample-level test; across 5 processes with a 10% offset
        // each, it is noise.
        var flagged = 0
        for seed in 0..<40 as Range<UInt64> {
            let base = processRun(processes: 5, samples: 50, scale: 1000, between: 0.10, within: 0.02, seed: 100 + seed)
            let head = processRun(processes: 5, samples: 50, scale: 1000, between: 0.10, within: 0.02, seed: 900 + seed)
            if sameJob(base, head).verdict == .regression { flagged += 1 }
        }
        #expect(flagged <= 1, "\(flagged) of 40 unchanged comparisons flagged")
    }

    @Test func aSmallRegressionIsFoundWhenTheDataIsPreciseAndTheThresholdSaysSo() {
        var p = GatePolicy()
        p.threshold = 1.05
        let base = processRun(processes: 6, scale: 1000, between: 0.005, within: 0.01, seed: 5)
        let head = processRun(processes: 6, scale: 1080, between: 0.005, within: 0.01, seed: 6)
        let v = sameJob(base, head, policy: p)
        #expect(v.verdict == .regression, "1.08× with 0.5% process spread, threshold 1.05")
        // The same 1.08× on noisy processes is not claimed.
        let noisyBase = processRun(processes: 6, scale: 1000, between: 0.12, seed: 7)
        let noisyHead = processRun(processes: 6, scale: 1080, between: 0.12, seed: 8)
        #expect(sameJob(noisyBase, noisyHead, policy: p).verdict != .regression)
        // And the default threshold 1.2 does not flag 1.08× even when precise.
        #expect(sameJob(base, head).verdict == .unchanged)
    }

    @Test func higherIsBetterFlipsTheDirection() {
        var base = processRun(processes: 5, scale: 1000, between: 0.02, seed: 1)
        var slow = processRun(processes: 5, scale: 600, between: 0.02, seed: 2)
        base.direction = .higherIsBetter
        slow.direction = .higherIsBetter
        #expect(sameJob(base, slow).verdict == .regression)
        #expect(sameJob(slow, base).verdict == .improvement)
    }

    @Test func perBenchmarkThresholdOverridesTheGlobalOne() {
        var p = GatePolicy()
        p.thresholdOverrides["tolerant"] = 2.0
        let base = processRun("tolerant", processes: 5, scale: 1000, between: 0.02, seed: 1)
        let slow = processRun("tolerant", processes: 5, scale: 1500, between: 0.02, seed: 2)
        #expect(sameJob(base, slow, policy: p).verdict == .unchanged)
        #expect(sameJob(base, slow).verdict == .regression)
    }

    @Test func oneProcessPerSideWithoutHistoryIsInsufficientNotAPass() {
        // Google Benchmark's default: one repetition, one process. 100 ns → 200 ns.
        let b = BenchmarkSamples(name: "gbench/BM", samples: [100])
        let c = BenchmarkSamples(name: "gbench/BM", samples: [200])
        let report = Gate.compare(
            candidate: ["gbench/BM": c], baseline: BaselineData(runs: [["gbench/BM": b]], label: "b"), policy: GatePolicy(),
            candidateLabel: "c")
        #expect(report.comparisons[0].verdict == .insufficient)
        #expect(report.outcome == .insufficient && report.outcome.exitCode == .insufficient)
        var allowed = GatePolicy()
        allowed.allowInsufficient = true
        let ok = Gate.compare(
            candidate: ["gbench/BM": c], baseline: BaselineData(runs: [["gbench/BM": b]], label: "b"), policy: allowed,
            candidateLabel: "c")
        #expect(ok.outcome == .pass)
        // Many samples in one process are still one process.
        let many = BenchmarkSamples(name: "p", samples: lognormal(50, scale: 100, seed: 1))
        let manySlow = BenchmarkSamples(name: "p", samples: lognormal(50, scale: 200, seed: 2))
        let r = Gate.compare(
            candidate: ["p": manySlow], baseline: BaselineData(runs: [["p": many]], label: "b"), policy: GatePolicy(),
            candidateLabel: "c")
        #expect(r.comparisons[0].verdict == .insufficient)
    }

    @Test func storedHistoryGivesOneProcessRunsTheirRunToRunSpread() {
        // Five single-process pytest runs on main, then a 1.5× slower candidate.
        let history = (0..<5).map { i in ["p": BenchmarkSamples(name: "p", samples: lognormal(25, scale: 100 * (1 + 0.02 * Double(i % 3)), seed: UInt64(i)))] }
        let slow = BenchmarkSamples(name: "p", samples: lognormal(25, scale: 150, seed: 77))
        let report = Gate.compare(
            candidate: ["p": slow], baseline: BaselineData(runs: history, label: "branch main"), policy: GatePolicy(),
            candidateLabel: "c")
        #expect(report.comparisons[0].verdict == .regression)
        #expect(report.comparisons[0].spread == "run")
        #expect(report.comparisons[0].baselineRuns == 5)
        // Within the spread: unchanged.
        let same = BenchmarkSamples(name: "p", samples: lognormal(25, scale: 102, seed: 78))
        let quiet = Gate.compare(
            candidate: ["p": same], baseline: BaselineData(runs: history, label: "branch main"), policy: GatePolicy(),
            candidateLabel: "c")
        #expect(quiet.comparisons[0].verdict == .unchanged)
    }

    @Test func aRunLevelOffsetInTheHistoryWidensTheTest() {
        // Each stored run has its own offset (a different CI machine each time): 15%
        // between runs. A candidate 25% slower is within what the history shows.
        var g = SeededGenerator(seed: 4)
        func offset() -> Double { exp(0.15 * (Double(g.next() % 2001) / 1000 - 1) * 1.7) }
        let runs = (0..<6).map { i in ["b": processRun(processes: 5, scale: 1000 * offset(), between: 0.01, seed: 40 + UInt64(i))] }
        let cand = processRun(processes: 5, scale: 1250, between: 0.01, seed: 99)
        let withSpread = Gate.compare(
            candidate: ["b": cand], baseline: BaselineData(runs: runs, label: "h"), policy: GatePolicy(), candidateLabel: "c")
        #expect(withSpread.comparisons[0].verdict != .regression)
        // Against one run alone (and no history) the same data looks decisive.
        let alone = Gate.compare(
            candidate: ["b": cand], baseline: BaselineData(runs: [runs[0]], label: "one"), policy: GatePolicy(), candidateLabel: "c")
        #expect(alone.comparisons[0].spread == "process (run spread unknown)")
    }

    @Test func familyWiseCorrectionAcrossManyBenchmarks() {
        // 200 unchanged benchmarks, 5 processes each side, modest process noise.
        var cand: [String: BenchmarkSamples] = [:]
        var base: [String: BenchmarkSamples] = [:]
        for i in 0..<200 {
            let n = "b\(i)"
            base[n] = processRun(n, processes: 5, samples: 10, scale: 100, between: 0.15, seed: UInt64(i))
            cand[n] = processRun(n, processes: 5, samples: 10, scale: 100, between: 0.15, seed: UInt64(10_000 + i))
        }
        var none = GatePolicy()
        none.correction = .none
        none.threshold = 1.01
        none.alpha = 0.05
        let raw = Gate.compare(candidate: cand, baseline: BaselineData(runs: [base], label: "b", sameJob: true), policy: none, candidateLabel: "c")
        var holm = GatePolicy()
        holm.threshold = 1.01
        holm.alpha = 0.05
        let corrected = Gate.compare(candidate: cand, baseline: BaselineData(runs: [base], label: "b", sameJob: true), policy: holm, candidateLabel: "c")
        #expect(raw.comparisons.filter { $0.verdict != .unchanged }.count >= 3, "uncorrected, 5% of 200 change by chance")
        #expect(corrected.comparisons.allSatisfy { $0.verdict == .unchanged })
        #expect(corrected.comparisons.allSatisfy { ($0.pAdjusted ?? 0) >= ($0.pValue ?? 1) })
    }

    @Test func newMissingAndSingleValues() {
        let p = GatePolicy()
        let r = Gate.compare(
            candidate: [
                "n": BenchmarkSamples(name: "n", samples: [1, 2, 3]),
                "cmd [user]": BenchmarkSamples(name: "cmd [user]", samples: [5]),
            ],
            baseline: BaselineData(
                runs: [["m": BenchmarkSamples(name: "m", samples: [1, 2, 3]), "cmd [user]": BenchmarkSamples(name: "cmd [user]", samples: [4])]],
                label: "b"),
            policy: p, candidateLabel: "c")
        #expect(r.comparisons.map(\.name) == ["m", "n"])
        #expect(r.comparisons.map(\.verdict) == [.missing, .new])
        #expect(r.singleValues.map(\.name) == ["cmd [user]"])
        #expect(r.singleValues[0].ratio == 1.25)
        #expect(r.outcome == .pass)
    }

    @Test func identicalDeterministicProcessesAreExact() {
        let b = BenchmarkSamples(name: "bytes", unit: "B", samples: [100, 100, 100, 100], processSizes: [1, 1, 1, 1])
        let same = sameJob(b, b)
        #expect(same.verdict == .unchanged && same.pValue == 1)
        let more = BenchmarkSamples(name: "bytes", unit: "B", samples: [150, 150, 150, 150], processSizes: [1, 1, 1, 1])
        #expect(sameJob(b, more).verdict == .regression)
    }

    @Test func zerosInASeriesAreHandled() {
        let b = BenchmarkSamples.onePerProcess(name: "c [sys]", samples: [0, 1e6, 0, 2e6, 1e6])
        let c = BenchmarkSamples.onePerProcess(name: "c [sys]", samples: [0, 1e6, 1e6, 0, 2e6])
        let v = sameJob(b, c)
        #expect(v.ratio!.isFinite && v.verdict == .unchanged)
    }

    @Test func reportOutcomeIsRegressionOverInsufficientOverPass() {
        let reg = sameJob(
            processRun(processes: 5, scale: 1000, between: 0.02, seed: 1), processRun(processes: 5, scale: 1500, between: 0.02, seed: 2))
        #expect(reg.verdict == .regression)
        var ins = reg
        ins.verdict = .insufficient
        var ok = reg
        ok.verdict = .unchanged
        #expect(ComparisonReport(baselineLabel: "", candidateLabel: "", policy: "", comparisons: [ins, reg]).outcome == .regression)
        #expect(ComparisonReport(baselineLabel: "", candidateLabel: "", policy: "", comparisons: [ins, ok]).outcome == .insufficient)
        #expect(ComparisonReport(baselineLabel: "", candidateLabel: "", policy: "", comparisons: [ok]).outcome == .pass)
    }

    @Test func exitCodesAreDistinctAndDocumented() {
        let codes = ToolExit.allCases.map(\.rawValue)
        #expect(Set(codes).count == codes.count)
        #expect(codes == [0, 1, 2, 3, 4, 5, 6])
        let bench = [GateOutcome.pass, .regression, .error, .noBaseline, .incomparable, .insufficient].map(\.exitCode.rawValue)
        #expect(bench == [0, 1, 2, 3, 4, 5])
    }

    @Test func noBaselineAndIncomparableAreTheirOwnOutcomes() {
        let c = ["x": BenchmarkSamples(name: "x", samples: [1, 2])]
        #expect(Workflow.gate(candidate: c, baseline: .noBaseline("none"), policy: GatePolicy(), candidateLabel: "c").outcome == .noBaseline)
        #expect(Workflow.gate(candidate: c, baseline: .incomparable("other"), policy: GatePolicy(), candidateLabel: "c").outcome == .incomparable)
    }
}

@Suite struct ChangePointTests {
    @Test func aStepIsFoundWhereItIs() {
        var g = SeededGenerator(seed: 3)
        func noise() -> Double { exp(0.01 * (Double(g.next() % 2001) / 1000 - 1)) }
        let series = (0..<12).map { _ in 100 * noise() } + (0..<10).map { _ in 130 * noise() }
        let steps = ChangePointDetector.detect(series)
        #expect(steps.map(\.index) == [12])
        #expect(abs(steps[0].ratio - 1.3) < 0.02)
    }

    @Test func noiseAloneAndOneOutlierAreNotSteps() {
        var g = SeededGenerator(seed: 5)
        func noise() -> Double { exp(0.05 * (Double(g.next() % 2001) / 1000 - 1)) }
        var series = (0..<30).map { _ in 100 * noise() }
        #expect(ChangePointDetector.detect(series).isEmpty)
        series[14] = 250
        #expect(ChangePointDetector.detect(series).isEmpty, "one odd run is an outlier, not a step")
    }

    @Test func twoStepsUpAndDownAndTheMinimumStep() {
        let series = Array(repeating: 10.0, count: 6) + Array(repeating: 12.0, count: 6) + Array(repeating: 9.0, count: 6)
        let steps = ChangePointDetector.detect(series, runIDs: (1...18).map(Int64.init))
        #expect(steps.map(\.index) == [6, 12])
        #expect(steps.map(\.runID) == [7, 13])
        #expect(ChangePointDetector.detect(series, minimumStep: 1.5).isEmpty)
        #expect(ChangePointDetector.detect([1, 1]).isEmpty)
    }
}

@Suite struct InterferenceTests {
    /// Samples hit by the machine (preempted) are only ever slower: for a time, larger;
    /// for a throughput, smaller. Up to half of a process's samples may be hit.
    @Test func aProcessLocationIgnoresTheSlowHalfInTheRightDirection() {
        let clean = lognormal(40, scale: 100, sigma: 0.01, seed: 3)
        var hitTime = clean
        var hitRate = clean
        for i in stride(from: 0, to: 40, by: 2) {
            hitTime[i] *= 5  // a time: preempted samples are larger
            hitRate[i] /= 5  // a throughput: preempted samples are smaller
        }
        for (values, direction) in [(hitTime, MetricDirection.lowerIsBetter), (hitRate, .higherIsBetter)] {
            let s = BenchmarkSamples(name: "x", direction: direction, samples: values)
            let center = ChangePointDetector.runCenter(s)
            #expect(abs(center / 100 - 1) < 0.02, "\(direction): \(center)")
        }
    }

    @Test func anInterferedProcessIsSetAsideInTheRightDirection() {
        for direction in [MetricDirection.lowerIsBetter, .higherIsBetter] {
            func run(_ seed: UInt64, slowProcess: Bool) -> BenchmarkSamples {
                var r = processRun(processes: 5, scale: 1000, between: 0.02, seed: seed)
                r.direction = direction
                if slowProcess {
                    // The last process ran next to a busy neighbour: 3× slower throughout.
                    for i in (r.samples.count - 30)..<r.samples.count {
                        r.samples[i] = direction == .lowerIsBetter ? r.samples[i] * 3 : r.samples[i] / 3
                    }
                }
                return r
            }
            let v = sameJob(run(1, slowProcess: false), run(2, slowProcess: true))
            #expect(v.verdict == .unchanged, "\(direction)")
            #expect(v.note?.contains("candidate 1, baseline 0") == true, "\(direction): \(v.note ?? "no note")")
            #expect(abs(v.ratio! - 1) < 0.05)
        }
    }
}

@Suite struct MachineProbeTests {
    func runs(scale: Double, probe: Double, seed: UInt64) -> [String: BenchmarkSamples] {
        var b = processRun("b", processes: 5, scale: scale, between: 0.01, seed: seed)
        b.name = "b"
        var p = processRun(BenchmarkRegistry.machineProbeName, processes: 5, scale: probe, between: 0.01, seed: seed &+ 99)
        p.name = BenchmarkRegistry.machineProbeName
        return ["b": b, BenchmarkRegistry.machineProbeName: p]
    }

    @Test func whenTheMachineItselfIsSlowerTheToleranceWidens() {
        let history = (0..<5).map { runs(scale: 1000, probe: 100, seed: UInt64($0)) }
        // Everything 1.3× slower, the probe too: the machine, not the code.
        let loaded = runs(scale: 1300, probe: 130, seed: 50)
        let r = Gate.compare(candidate: loaded, baseline: BaselineData(runs: history, label: "h"), policy: GatePolicy(), candidateLabel: "c")
        #expect(r.comparisons.map(\.name) == ["b"], "the probe is not a verdict row")
        #expect(abs(r.machineRatio! - 1.3) < 0.03)
        #expect(r.comparisons[0].verdict == .unchanged)
        #expect(r.tableText.contains("machine:   probe 30"))
        // The same slowdown with the probe unchanged: the code.
        let slow = runs(scale: 1300, probe: 100, seed: 51)
        let s = Gate.compare(candidate: slow, baseline: BaselineData(runs: history, label: "h"), policy: GatePolicy(), candidateLabel: "c")
        #expect(s.comparisons[0].verdict == .regression)
        // In one job the probe is not used (drift cancels there).
        let same = Gate.compare(
            candidate: loaded, baseline: BaselineData(runs: [history[0]], label: "ab", sameJob: true), policy: GatePolicy(),
            candidateLabel: "c")
        #expect(same.machineRatio == nil)
    }
}
