@testable import EmberBench
import EmberUtils
import Foundation
import Testing


/// Expected numbers come from numpy/scipy: scripts/stats_oracle.py wrote
/// fixtures/bench/stats_expected.json.
struct Oracle: Decodable {
    struct TwoSample: Decodable {
        var name: String
        var baseline: [Double]
        var candidate: [Double]
        var medianRatio: Double
        var hodgesLehmannRatio: Double
        var mannWhitneyU: Double
        var pGreater: Double
        var pLess: Double
        var bootstrapSeed: UInt64
        var bootstrapResamples: Int
        var bootstrapLower: Double
        var bootstrapUpper: Double
    }
    struct JIT: Decodable {
        var speedups: [Double]
        var p20: Double
        var seed: UInt64
        var resamples: Int
        var lower: Double
        var upper: Double
    }
    struct Dist: Decodable {
        struct TCase: Decodable { var t: Double; var df: Double; var survival: Double }
        struct FCase: Decodable { var f: Double; var d1: Double; var d2: Double; var survival: Double }
        struct GammaCase: Decodable { var x: Double; var digamma: Double; var trigamma: Double; var tetragamma: Double }
        struct Prior: Decodable {
            var s2: [Double]
            var df: [Double]
            var priorVariance: Double
            /// A number, or the string "inf".
            var priorDF: Double

            enum CodingKeys: String, CodingKey { case s2, df, priorVariance, priorDF }
            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                s2 = try c.decode([Double].self, forKey: .s2)
                df = try c.decode([Double].self, forKey: .df)
                priorVariance = try c.decode(Double.self, forKey: .priorVariance)
                priorDF = (try? c.decode(Double.self, forKey: .priorDF)) ?? .infinity
            }
        }
        struct SameJob: Decodable {
            var baseline: [[Double]]
            var candidate: [[Double]]
            var ratio: Double
            var pValue: Double
            var df: Double
        }
        var fDist: [FCase]
        var studentT: [TCase]
        var gamma: [GammaCase]
        var pValues: [Double]
        var holm: [Double]
        var bh: [Double]
        var prior: Prior
        var priorEqual: Prior
        var sameJob: SameJob
    }
    var samples: [String: [Double]]
    var summaries: [String: SampleStatistics]
    var twoSample: [TwoSample]
    var jit: JIT
    var distributions: Dist

    static let loaded: Oracle = {
        let data = try! Data(contentsOf: fixture("stats_expected.json"))
        return try! JSONDecoder().decode(Oracle.self, from: data)
    }()
}

@Suite struct StatisticsTests {
    @Test(arguments: Oracle.loaded.samples.keys.sorted())
    func summaryMatchesNumpy(_ name: String) {
        let samples = Oracle.loaded.samples[name]!
        let expected = Oracle.loaded.summaries[name]!
        let got = SampleStatistics(samples: samples)
        #expect(got.count == expected.count)
        #expect(got.outlierCount == expected.outlierCount, "\(name) outliers")
        let pairs: [(String, Double, Double)] = [
            ("min", got.min, expected.min), ("max", got.max, expected.max), ("mean", got.mean, expected.mean),
            ("median", got.median, expected.median), ("stdev", got.stdev, expected.stdev),
            ("p95", got.p95, expected.p95), ("p99", got.p99, expected.p99), ("q1", got.q1, expected.q1),
            ("q3", got.q3, expected.q3), ("filteredMean", got.filteredMean, expected.filteredMean),
            ("filteredStdev", got.filteredStdev, expected.filteredStdev),
        ]
        for (field, a, b) in pairs {
            #expect(close(a, b, 1e-9), "\(name).\(field): \(a) vs numpy \(b)")
        }
    }

    @Test(arguments: Oracle.loaded.twoSample.map(\.name))
    func twoSampleMatchesScipy(_ name: String) {
        let c = Oracle.loaded.twoSample.first { $0.name == name }!
        #expect(close(Statistics.medianRatio(baseline: c.baseline, candidate: c.candidate), c.medianRatio))
        #expect(close(Statistics.hodgesLehmannRatio(baseline: c.baseline, candidate: c.candidate), c.hodgesLehmannRatio, 1e-9))
        let mw = Statistics.mannWhitney(baseline: c.baseline, candidate: c.candidate)
        #expect(mw.u == c.mannWhitneyU)
        #expect(close(mw.pGreater, c.pGreater, 1e-7), "pGreater \(mw.pGreater) vs scipy \(c.pGreater)")
        #expect(close(mw.pLess, c.pLess, 1e-7), "pLess \(mw.pLess) vs scipy \(c.pLess)")
        let ci = Statistics.bootstrapMedianRatioCI(
            baseline: c.baseline, candidate: c.candidate, confidence: 0.99, resamples: c.bootstrapResamples,
            seed: c.bootstrapSeed)
        #expect(close(ci.lower, c.bootstrapLower, 1e-9), "bootstrap lower \(ci.lower) vs \(c.bootstrapLower)")
        #expect(close(ci.upper, c.bootstrapUpper, 1e-9), "bootstrap upper \(ci.upper) vs \(c.bootstrapUpper)")
    }

    @Test func jitPercentileAndBootstrapMatchNumpy() {
        let j = Oracle.loaded.jit
        let rule = JITAcceptance.evaluate(speedups: j.speedups, seed: j.seed, resamples: j.resamples)
        #expect(close(rule.observed, j.p20))
        #expect(close(rule.ciLower, j.lower))
        #expect(close(rule.ciUpper, j.upper))
        #expect(rule.accepted == (j.p20 >= 2.0))
    }

    @Test func medianSelectionAgreesWithSortingOnManyShapes() {
        var g = SeededGenerator(seed: 9)
        for n in 1...200 {
            var values = (0..<n).map { _ in Double(g.next() % 37) }  // many ties
            if n % 3 == 0 { values.sort() }
            if n % 5 == 0 { values.sort(by: >) }
            let sorted = values.sorted()
            let expected = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
            #expect(Statistics.median(values) == expected, "n = \(n)")
        }
    }

    @Test func hodgesLehmannSelectionAgreesWithBruteForce() {
        var g = SeededGenerator(seed: 11)
        for trial in 0..<300 {
            let n = 1 + Int(g.next() % 40)
            let m = 1 + Int(g.next() % 40)
            // Few distinct values in some trials: many tied pairwise differences.
            let levels = trial % 3 == 0 ? 4 : 1000
            let b = (0..<n).map { _ in 1 + Double(g.next() % UInt64(levels)) }
            let c = (0..<m).map { _ in 1 + Double(g.next() % UInt64(levels)) }
            var diffs: [Double] = []
            for x in c { for y in b { diffs.append(log(x) - log(y)) } }
            diffs.sort()
            let k = diffs.count
            let expected = exp(k % 2 == 1 ? diffs[k / 2] : (diffs[k / 2 - 1] + diffs[k / 2]) / 2)
            let got = Statistics.hodgesLehmannRatio(baseline: b, candidate: c)
            #expect(close(got, expected, 1e-12), "trial \(trial): \(got) vs \(expected)")
            // U by definition: pairs where the candidate is larger, ties counting one half.
            var u = 0.0
            for x in c { for y in b { u += x > y ? 1 : x == y ? 0.5 : 0 } }
            #expect(Statistics.mannWhitney(baseline: b, candidate: c).u == u, "trial \(trial)")
        }
    }

    @Test func emptyAndDegenerateInputsDoNotCrash() {
        let empty = SampleStatistics(samples: [])
        #expect(empty.count == 0 && empty.median.isNaN)
        #expect(Statistics.hodgesLehmannRatio(baseline: [1, 0], candidate: [1]).isNaN)
        let mw = Statistics.mannWhitney(baseline: [5, 5, 5], candidate: [5, 5])
        #expect(mw.pGreater == 1 && mw.pLess == 1)
    }
}

@Suite struct FormattingTests {
    @Test func fixedAndSignificantMatchPrintf() {
        var g = SeededGenerator(seed: 3)
        for _ in 0..<2000 {
            let magnitude = pow(10, Double(Int(g.next() % 12)) - 6)
            let x = magnitude * Double(g.next() % 100_000) / 10_000 * (g.next() % 4 == 0 ? -1 : 1)
            for d in 0...4 {
                // Exact ties (…5 at the cut) may round differently; skip them.
                let scaled = abs(x) * pow(10, Double(d))
                if abs(scaled - scaled.rounded(.down) - 0.5) < 1e-6 { continue }
                var printf = String(format: "%.\(d)f", x)
                // printf keeps the sign of a value that rounds to zero ("-0.0"); we drop it.
                if printf.hasPrefix("-") && printf.allSatisfy({ "-0.".contains($0) }) { printf.removeFirst() }
                #expect(fixed(x, d) == printf, "\(x) \(d)")
            }
        }
        #expect(sig(0.5) == "0.5")
        #expect(sig(0.0123) == "0.0123")
        #expect(sig(123.4) == "123")
        #expect(sig(12.34) == "12.3")
        #expect(sig(1.234) == "1.23")
        #expect(sig(0) == "0")
    }
}

/// The gate's distribution functions against scipy (scripts/stats_oracle.py).
@Suite struct DistributionTests {
    let d = Oracle.loaded.distributions

    @Test func studentTSurvivalMatchesScipy() {
        for c in d.studentT {
            let got = Distributions.studentTSurvival(c.t, df: c.df)
            #expect(close(got, c.survival, 1e-9), "t \(c.t) df \(c.df): \(got) vs \(c.survival)")
        }
        // The quantile inverts the survival function.
        for (p, df) in [(0.025, 4.0), (0.00025, 60), (0.1, 1.5)] {
            let q = Distributions.studentTQuantileUpper(p, df: df)
            #expect(close(Distributions.studentTSurvival(q, df: df), p, 1e-8))
        }
    }

    @Test func fSurvivalMatchesScipy() {
        for c in d.fDist {
            #expect(close(Distributions.fSurvival(c.f, d1: c.d1, d2: c.d2), c.survival, 1e-8), "F(\(c.d1), \(c.d2)) at \(c.f)")
            let q = Distributions.fQuantileUpper(c.survival, d1: c.d1, d2: c.d2)
            #expect(close(q, c.f, 1e-6))
        }
    }

    @Test func aVarianceFarAboveThePriorIsNotModerated() {
        let prior = Distributions.VariancePrior(variance: 0.01, degreesOfFreedom: 50)
        #expect(prior.moderateUnlessOutlying(0.012, df: 8, dfCap: 500).variance < 0.012)
        #expect(prior.moderateUnlessOutlying(0.2, df: 8, dfCap: 500) == (0.2, 8))
    }

    @Test func polygammaMatchesScipy() {
        for c in d.gamma {
            #expect(close(Distributions.digamma(c.x), c.digamma, 1e-10), "ψ(\(c.x))")
            #expect(close(Distributions.trigamma(c.x), c.trigamma, 1e-10), "ψ′(\(c.x))")
            #expect(close(Distributions.tetragamma(c.x), c.tetragamma, 1e-9), "ψ″(\(c.x))")
            #expect(close(Distributions.trigammaInverse(c.trigamma), c.x, 1e-7), "ψ′⁻¹ at \(c.x)")
        }
    }

    @Test func multipleTestingAdjustmentsMatch() {
        let holm = Distributions.holm(d.pValues)
        let bh = Distributions.benjaminiHochberg(d.pValues)
        for i in d.pValues.indices {
            #expect(close(holm[i], d.holm[i], 1e-12), "Holm \(i)")
            #expect(close(bh[i], d.bh[i], 1e-12), "BH \(i) vs scipy.stats.false_discovery_control")
        }
    }

    @Test func variancePriorMatchesLimmasMomentFit() {
        let fit = Distributions.fitVariancePrior(d.prior.s2, df: d.prior.df)
        #expect(close(fit.degreesOfFreedom, d.prior.priorDF, 1e-6), "d0 \(fit.degreesOfFreedom) vs \(d.prior.priorDF)")
        #expect(close(fit.variance, d.prior.priorVariance, 1e-6))
        let equal = Distributions.fitVariancePrior(d.priorEqual.s2, df: d.priorEqual.df)
        #expect(equal.degreesOfFreedom == d.priorEqual.priorDF)
        #expect(close(equal.variance, d.priorEqual.priorVariance, 1e-9))
        // Too few variances: no prior.
        #expect(Distributions.fitVariancePrior([0.1, 0.2], df: [4, 4]) == .none)
    }

    @Test func sameJobTestWithoutThePriorIsScipysPooledTTestOnProcessMeans() {
        let sj = d.sameJob
        func run(_ processes: [[Double]]) -> BenchmarkSamples {
            BenchmarkSamples(name: "x", samples: processes.flatMap { $0 }, processSizes: processes.map(\.count))
        }
        var policy = GatePolicy()
        policy.moderateVariances = false
        let report = Gate.compare(
            candidate: ["x": run(sj.candidate)], baseline: BaselineData(runs: [["x": run(sj.baseline)]], label: "b", sameJob: true),
            policy: policy, candidateLabel: "c")
        let row = report.comparisons[0]
        #expect(close(row.ratio!, sj.ratio, 1e-12))
        #expect(close(row.pValue!, sj.pValue, 1e-9), "\(row.pValue!) vs scipy \(sj.pValue)")
        #expect(row.degreesOfFreedom == sj.df)
        #expect(row.spread == "process")
    }
}
