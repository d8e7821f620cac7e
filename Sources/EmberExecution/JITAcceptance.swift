import EmberUtils

/// The guide's acceptance rule for a JIT strategy, with the uncertainty it hides.
///
/// A strategy is accepted when it was measured on at least `minimumCases` cases and the
/// `percentile` (0.2) of its speedups is at least `threshold` (2.0). Near the threshold,
/// with few cases, that verdict is close to a coin flip, so the verdict carries a
/// percentile-bootstrap confidence interval of the same percentile (seeded, so the same
/// speedups always give the same interval).
public struct JITAcceptanceVerdict: Sendable, Equatable, CustomStringConvertible {
    public let caseCount: Int
    public let percentile: Double
    public let threshold: Double
    public let minimumCases: Int
    /// The percentile of the measured speedups (linear interpolation, numpy's default).
    public let observed: Double
    public let confidence: Double
    public let intervalLower: Double
    public let intervalUpper: Double
    public let accepted: Bool
    /// Why it was rejected, or empty.
    public let reason: String

    /// The bootstrap interval lies wholly on one side of the threshold.
    public var isClearCut: Bool { intervalLower >= threshold || intervalUpper < threshold }

    public var description: String {
        let p = Int((percentile * 100).rounded())
        let c = Int((confidence * 100).rounded())
        let verdict = accepted ? "ACCEPTED" : "REJECTED"
        var s = "\(verdict): p\(p) speedup \(fmt(observed)) over \(caseCount) cases (threshold \(fmt(threshold)), "
        s += "\(c)% bootstrap interval \(fmt(intervalLower))–\(fmt(intervalUpper))"
        s += isClearCut ? ")" : ", straddles the threshold)"
        if !reason.isEmpty { s += "; \(reason)" }
        return s
    }

    private func fmt(_ x: Double) -> String {
        guard x.isFinite else { return "\(x)" }
        let r = (x * 100).rounded() / 100
        return String(r)
    }
}

/// Applies the acceptance rule to measured speedups (baseline time / jitted time, one per
/// case). Speedups must be finite and positive; any other value rejects with a reason.
public func jitAcceptance(
    speedups: [Double],
    threshold: Double = 2.0,
    percentile p: Double = 0.2,
    minimumCases: Int = 25,
    confidence: Double = 0.95,
    resamples: Int = 10_000,
    seed: UInt64 = 0x5eed_0020
) -> JITAcceptanceVerdict {
    func verdict(_ observed: Double, _ lo: Double, _ hi: Double, _ accepted: Bool, _ reason: String)
        -> JITAcceptanceVerdict
    {
        JITAcceptanceVerdict(
            caseCount: speedups.count, percentile: p, threshold: threshold, minimumCases: minimumCases,
            observed: observed, confidence: confidence, intervalLower: lo, intervalUpper: hi,
            accepted: accepted, reason: reason)
    }
    if let bad = speedups.firstIndex(where: { !$0.isFinite || $0 <= 0 }) {
        return verdict(.nan, .nan, .nan, false, "case \(bad + 1) has speedup \(speedups[bad]), which is not a positive finite number")
    }
    if speedups.isEmpty {
        return verdict(.nan, .nan, .nan, false, "no cases were measured (need at least \(minimumCases))")
    }
    let sorted = speedups.sorted()
    let observed = percentileOfSorted(sorted, p)
    let (lo, hi) = bootstrapPercentileInterval(
        speedups, percentile: p, confidence: confidence, resamples: resamples, seed: seed)
    if speedups.count < minimumCases {
        return verdict(observed, lo, hi, false, "only \(speedups.count) cases; the rule needs at least \(minimumCases)")
    }
    if observed < threshold {
        return verdict(observed, lo, hi, false, "the p\(Int((p * 100).rounded())) speedup is below \(threshold)")
    }
    return verdict(observed, lo, hi, true, "")
}

/// The `p` quantile (0...1) of ascending `sorted` values by linear interpolation between
/// closest ranks (numpy's default, R's type 7): position `p * (n - 1)`.
public func percentileOfSorted(_ sorted: [Double], _ p: Double) -> Double {
    precondition(!sorted.isEmpty, "a percentile of no values is undefined")
    let position = min(max(p, 0), 1) * Double(sorted.count - 1)
    let lower = Int(position.rounded(.down))
    let upper = min(lower + 1, sorted.count - 1)
    let fraction = position - Double(lower)
    return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
}

/// Percentile bootstrap interval of the `percentile` quantile: `resamples` resamples with
/// replacement drawn from a SplitMix64 generator seeded with `seed`.
public func bootstrapPercentileInterval(
    _ values: [Double], percentile p: Double, confidence: Double, resamples: Int, seed: UInt64
) -> (lower: Double, upper: Double) {
    precondition(!values.isEmpty && resamples >= 1)
    var g = SeededGenerator(seed: seed)
    var estimates: [Double] = []
    estimates.reserveCapacity(resamples)
    var sample = [Double](repeating: 0, count: values.count)
    let n = UInt64(values.count)
    for _ in 0..<resamples {
        for i in 0..<values.count {
            // Multiply-shift maps a 64-bit draw onto 0..<n (bias below 2^-32 for small n).
            let draw = g.next()
            let index = Int(draw.multipliedFullWidth(by: n).high)
            sample[i] = values[index]
        }
        sample.sort()
        estimates.append(percentileOfSorted(sample, p))
    }
    estimates.sort()
    let alpha = (1 - confidence) / 2
    return (percentileOfSorted(estimates, alpha), percentileOfSorted(estimates, 1 - alpha))
}
