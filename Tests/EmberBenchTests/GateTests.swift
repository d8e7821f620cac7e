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

@Suite struct GateTests {
    let base = lognormal(50, scale: 1000, seed: 1)

    func verdict(_ candidate: [Double], direction: MetricDirection = .lowerIsBetter, policy: GatePolicy = GatePolicy(), name: String = "b") -> BenchmarkComparison {
        Gate.compare(name: name, unit: "ns", direction: direction, baseline: base, candidate: candidate, policy: policy)
    }

    @Test func clearSlowdownIsARegressionUnderEveryEstimatorAndTest() {
        let slow = lognormal(50, scale: 1500, seed: 2)
        for e in RatioEstimator.allCases {
            for t in SignificanceTest.allCases {
                var p = GatePolicy()
                p.estimator = e
                p.test = t
                p.bootstrapResamples = 500
                let v = verdict(slow, policy: p)
                #expect(v.verdict == .regression, "\(e) \(t)")
                #expect(v.ratio! > 1.4 && v.ratio! < 1.6)
            }
        }
    }

    @Test func sameDistributionIsUnchanged() {
        let v = verdict(lognormal(50, scale: 1000, seed: 3))
        #expect(v.verdict == .unchanged)
        #expect(v.pValue! > 0.01)
    }

    @Test func smallButSignificantChangeBelowThresholdIsUnchanged() {
        // 10% slower with tiny noise: significant, but under the 1.2 threshold.
        let v = verdict(lognormal(50, scale: 1100, sigma: 0.01, seed: 4))
        #expect(v.pValue! < 0.01)
        #expect(v.verdict == .unchanged)
    }

    @Test func largeRatioWithoutSignificanceIsNotARegression() {
        // Three wild samples: the ratio may move but the test cannot agree on 5 vs 5.
        var p = GatePolicy()
        p.minimumSamples = 3
        let b = [100.0, 101, 102, 103, 104]
        let c = [100.0, 101, 300, 310, 320]
        let v = Gate.compare(name: "x", unit: "ns", direction: .lowerIsBetter, baseline: b, candidate: c, policy: p)
        #expect(v.ratio! > 1.2)
        #expect(v.verdict == .unchanged)
    }

    @Test func speedupIsAnImprovement() {
        #expect(verdict(lognormal(50, scale: 600, seed: 5)).verdict == .improvement)
    }

    @Test func higherIsBetterFlipsTheDirection() {
        #expect(verdict(lognormal(50, scale: 600, seed: 5), direction: .higherIsBetter).verdict == .regression)
        #expect(verdict(lognormal(50, scale: 1500, seed: 2), direction: .higherIsBetter).verdict == .improvement)
    }

    @Test func perBenchmarkThresholdOverridesTheGlobalOne() {
        var p = GatePolicy()
        p.thresholdOverrides["tolerant"] = 2.0
        let slow = lognormal(50, scale: 1500, seed: 2)
        #expect(verdict(slow, policy: p, name: "tolerant").verdict == .unchanged)
        #expect(verdict(slow, policy: p, name: "strict").verdict == .regression)
    }

    @Test func newMissingAndTooFewSamples() {
        let p = GatePolicy()
        #expect(Gate.compare(name: "n", unit: "ns", direction: .lowerIsBetter, baseline: nil, candidate: [1, 2, 3], policy: p).verdict == .new)
        #expect(Gate.compare(name: "m", unit: "ns", direction: .lowerIsBetter, baseline: [1, 2, 3], candidate: nil, policy: p).verdict == .missing)
        #expect(Gate.compare(name: "f", unit: "ns", direction: .lowerIsBetter, baseline: [1, 2], candidate: [9, 9], policy: p).verdict == .insufficient)
    }

    @Test func bootstrapIsDeterministicForAName() {
        var p = GatePolicy()
        p.test = .bootstrap
        p.bootstrapResamples = 300
        let c = lognormal(50, scale: 1100, seed: 6)
        let a = verdict(c, policy: p)
        let b = verdict(c, policy: p)
        #expect(a.ciLower == b.ciLower && a.ciUpper == b.ciUpper)
        #expect(a.ciLower! < a.medianRatio! && a.medianRatio! < a.ciUpper!)
    }

    @Test func reportOutcomeIsRegressionOnlyWithARegression() {
        let ok = ComparisonReport(baselineLabel: "b", candidateLabel: "c", policy: "", comparisons: [verdict(base)])
        #expect(ok.outcome == .pass && ok.outcome.exitCode == .pass)
        let bad = ComparisonReport(baselineLabel: "b", candidateLabel: "c", policy: "", comparisons: [verdict(lognormal(50, scale: 1500, seed: 2))])
        #expect(bad.outcome == .regression && bad.outcome.exitCode == .regression)
    }

    @Test func exitCodesAreDistinctAndDocumented() {
        let codes = BenchExitCode.allCases.map(\.rawValue)
        #expect(Set(codes).count == codes.count)
        #expect(BenchExitCode.pass.rawValue == 0)
        #expect(GateOutcome.noBaseline.exitCode != GateOutcome.incomparable.exitCode)
        #expect(Set([GateOutcome.pass, .regression, .error, .noBaseline, .incomparable].map(\.exitCode)).count == 5)
    }

    @Test func flaggedRegressionThatDoesNotHoldOnRemeasureDoesNotFail() async throws {
        let slow = BenchmarkSamples(name: "x", samples: lognormal(50, scale: 1500, seed: 2))
        let baseline = BaselineResolution.found(samples: ["x": BenchmarkSamples(name: "x", samples: base)], label: "b")
        let notConfirmed = try await Workflow.gate(
            candidate: ["x": slow], baseline: baseline, policy: GatePolicy(), candidateLabel: "c",
            remeasure: { _ in BenchmarkSamples(name: "x", samples: lognormal(50, scale: 1000, seed: 9)) })
        #expect(notConfirmed.outcome == .pass)
        #expect(notConfirmed.comparisons[0].confirmed == false)
        let confirmed = try await Workflow.gate(
            candidate: ["x": slow], baseline: baseline, policy: GatePolicy(), candidateLabel: "c",
            remeasure: { _ in BenchmarkSamples(name: "x", samples: lognormal(50, scale: 1520, seed: 10)) })
        #expect(confirmed.outcome == .regression)
        #expect(confirmed.comparisons[0].confirmed == true)
    }

    @Test func noBaselineAndIncomparableAreTheirOwnOutcomes() async throws {
        let c = ["x": BenchmarkSamples(name: "x", samples: base)]
        #expect(try await Workflow.gate(candidate: c, baseline: .noBaseline("none"), policy: GatePolicy(), candidateLabel: "c").outcome == .noBaseline)
        #expect(try await Workflow.gate(candidate: c, baseline: .incomparable("other"), policy: GatePolicy(), candidateLabel: "c").outcome == .incomparable)
    }
}

@Suite struct JITAcceptanceTests {
    @Test func acceptsWhenP20ReachesTwo() {
        // 30 cases: the lowest 6 are 1.5 (20%), then 2.0 and up; p20 interpolates at h = 5.8.
        let speedups = Array(repeating: 1.5, count: 5) + Array(repeating: 2.0, count: 1) + (0..<24).map { 2.5 + Double($0) * 0.1 }
        let r = JITAcceptance.evaluate(speedups: speedups)
        // h = 29 * 0.2 = 5.8 → between sorted[5] = 2.0 and sorted[6] = 2.5 → 2.4
        #expect(abs(r.observed - 2.4) < 1e-12)
        #expect(r.accepted)
    }

    @Test func rejectsBelowTwoAndWithTooFewCases() {
        let low = JITAcceptance.evaluate(speedups: Array(repeating: 1.9, count: 30))
        #expect(!low.accepted && low.reason.contains("< 2"))
        let few = JITAcceptance.evaluate(speedups: Array(repeating: 5.0, count: 24))
        #expect(!few.accepted && few.reason.contains("at least 25"))
        let bad = JITAcceptance.evaluate(speedups: Array(repeating: 5.0, count: 29) + [.nan])
        #expect(!bad.accepted)
    }

    @Test func speedupsFromTwoRunsRespectDirection() {
        let b = ["t": BenchmarkSamples(name: "t", samples: [100, 100, 100]), "q": BenchmarkSamples(name: "q", direction: .higherIsBetter, samples: [10, 10, 10])]
        let c = ["t": BenchmarkSamples(name: "t", samples: [25, 25, 25]), "q": BenchmarkSamples(name: "q", direction: .higherIsBetter, samples: [30, 30, 30])]
        let s = Dictionary(uniqueKeysWithValues: Workflow.speedups(baseline: b, candidate: c))
        #expect(s["t"] == 4 && s["q"] == 3)
    }
}
