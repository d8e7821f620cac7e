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
    var samples: [String: [Double]]
    var summaries: [String: SampleStatistics]
    var twoSample: [TwoSample]
    var jit: JIT

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
