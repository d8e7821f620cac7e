import EmberUtils
import Foundation

/// Gate-quality simulation: how often each rule flags a regression on synthetic noisy
/// timings, with no change (A/A: false positives) and with a true 1.3× slowdown
/// (detection). Deterministic for a seed.
public enum GateSimulation {
    /// A synthetic timing distribution (unit median ≈ 1).
    public struct NoiseModel: Sendable {
        public var name: String
        /// Log-normal body σ.
        public var sigma: Double
        /// Second mode's factor, taken with probability 1/2 (1 = unimodal).
        public var secondMode: Double
        /// Fraction of samples multiplied by U(1.5, 3).
        public var outlierRate: Double

        public static let noisy = NoiseModel(name: "noisy (log-normal σ 0.15, 5% outliers ×1.5–3)", sigma: 0.15, secondMode: 1, outlierRate: 0.05)
        public static let veryNoisy = NoiseModel(name: "very noisy (log-normal σ 0.20, 5% outliers ×1.5–3)", sigma: 0.20, secondMode: 1, outlierRate: 0.05)
        public static let bimodal = NoiseModel(name: "bimodal (modes 1.0 / 1.3 at ½ each, σ 0.05, 5% outliers)", sigma: 0.05, secondMode: 1.3, outlierRate: 0.05)

        func sample(_ n: Int, scale: Double, _ g: inout SeededGenerator) -> [Double] {
            (0..<n).map { _ in
                var x = Foundation.exp(sigma * normal(&g))
                if secondMode != 1 && unit(&g) < 0.5 { x *= secondMode }
                if unit(&g) < outlierRate { x *= 1.5 + 1.5 * unit(&g) }
                return scale * x
            }
        }
    }

    /// A decision rule under test: true when it would fail the build.
    public struct Rule: Sendable {
        public var name: String
        public var flags: @Sendable (_ baseline: [Double], _ candidate: [Double], _ seed: UInt64) -> Bool
    }

    public static func rules(resamples: Int) -> [Rule] {
        func policy(_ e: RatioEstimator, _ t: SignificanceTest) -> GatePolicy {
            var p = GatePolicy()
            p.estimator = e
            p.test = t
            p.bootstrapResamples = resamples
            return p
        }
        let medianBoot = policy(.median, .bootstrap)
        let medianMW = policy(.median, .mannWhitney)
        let hlMW = policy(.hodgesLehmann, .mannWhitney)
        let hlBoot = policy(.hodgesLehmann, .bootstrap)
        func gate(_ p: GatePolicy) -> @Sendable ([Double], [Double], UInt64) -> Bool {
            { b, c, seed in
                Gate.compare(name: "sim", unit: "ns", direction: .lowerIsBetter, baseline: b, candidate: c, policy: p, seed: seed)
                    .verdict == .regression
            }
        }
        return [
            Rule(name: "guide's bare rule: IQR filter, median ratio > 1.2") { b, c, _ in
                Statistics.median(Statistics.iqrFiltered(c)) / Statistics.median(Statistics.iqrFiltered(b)) > 1.2
            },
            Rule(name: "median ratio > 1.2 and 99% bootstrap LB > 1", flags: gate(medianBoot)),
            Rule(name: "median ratio > 1.2 and Mann–Whitney p < 0.01", flags: gate(medianMW)),
            Rule(name: "HL ratio > 1.2 and 99% bootstrap LB > 1", flags: gate(hlBoot)),
            Rule(name: "HL ratio > 1.2 and Mann–Whitney p < 0.01 (default)", flags: gate(hlMW)),
        ]
    }

    public struct Cell: Sendable {
        public var model: String
        public var samplesPerSide: Int
        public var trueRatio: Double
        /// Flag rate per rule, then the default rule with re-run-to-confirm.
        public var rates: [Double]
    }

    public struct Table: Sendable {
        public var ruleNames: [String]
        public var cells: [Cell]
        public var trials: Int

        public var markdown: String {
            var out = "Gate-quality simulation: \(trials) trials per cell; flag rate per rule.\n"
            out += "A/A rows are false-positive rates (target ≤ 0.5%); 1.3× rows are detection rates (target ≥ 95% noisy, ≥ 90% bimodal).\n\n"
            out += "| model | N | true ratio | " + ruleNames.joined(separator: " | ") + " |\n"
            out += "|---|---:|---:|" + String(repeating: "---:|", count: ruleNames.count) + "\n"
            for c in cells {
                out += "| \(c.model) | \(c.samplesPerSide) | \(c.trueRatio == 1 ? "1.0 (A/A)" : String(format: "%.1f×", c.trueRatio)) | "
                out += c.rates.map { String(format: "%.2f%%", $0 * 100) }.joined(separator: " | ") + " |\n"
            }
            return out
        }
    }

    /// Runs every (model, N, ratio) cell the issue names, plus the guide's N = 20 A/A cell.
    public static func run(
        trials: Int = 2000, samplesPerSide: Int = 50, resamples: Int = 1000, seed: UInt64 = 2026, defaultRuleOnly: Bool = false
    ) -> Table {
        let all = rules(resamples: resamples)
        let rules = defaultRuleOnly ? [all.last!] : all
        let confirmRule = rules.last!
        var cells: [Cell] = []
        let plan: [(NoiseModel, Int, Double)] = [
            (.noisy, samplesPerSide, 1.0), (.noisy, samplesPerSide, 1.3),
            (.veryNoisy, samplesPerSide, 1.0), (.veryNoisy, samplesPerSide, 1.3),
            (.bimodal, 20, 1.0), (.bimodal, samplesPerSide, 1.0), (.bimodal, samplesPerSide, 1.3),
        ]
        for (index, (model, n, ratio)) in plan.enumerated() {
            var counts = [Int](repeating: 0, count: rules.count + 1)
            var g = SeededGenerator(seed: seed &+ UInt64(index) &* 0x9E37)
            for t in 0..<trials {
                let b = model.sample(n, scale: 1, &g)
                let c = model.sample(n, scale: ratio, &g)
                let trialSeed = seed ^ UInt64(t) &* 0x5851_F42D
                for (i, rule) in rules.enumerated() where rule.flags(b, c, trialSeed) { counts[i] += 1 }
                // Re-run-to-confirm: a flag must hold on a fresh candidate measurement.
                if confirmRule.flags(b, c, trialSeed) {
                    let again = model.sample(n, scale: ratio, &g)
                    if confirmRule.flags(b, again, trialSeed &+ 1) { counts[rules.count] += 1 }
                }
            }
            cells.append(
                Cell(model: model.name, samplesPerSide: n, trueRatio: ratio, rates: counts.map { Double($0) / Double(trials) }))
        }
        return Table(ruleNames: rules.map(\.name) + ["default + re-run to confirm"], cells: cells, trials: trials)
    }
}

@inline(__always) func unit(_ g: inout SeededGenerator) -> Double { Double(g.next() >> 11) / Double(1 << 53) }

/// A standard normal draw (Box–Muller; one of the pair is discarded for simplicity).
@inline(__always) func normal(_ g: inout SeededGenerator) -> Double {
    let u1 = max(unit(&g), 1e-300)
    let u2 = unit(&g)
    return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
}
