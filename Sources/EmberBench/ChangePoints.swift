#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A step in a benchmark's history: from `index` on (the first run of the new level)
/// the series sits at another level.
public struct ChangePoint: Sendable, Codable, Equatable {
    /// Position in the series (0-based) of the first run after the step.
    public var index: Int
    public var runID: Int64?
    /// Levels (geometric means of the run centres) of the segments before and after.
    public var before: Double
    public var after: Double
    public var ratio: Double { after / before }
}

/// Change-point detection over a history of run-level values, the way asv and Bencher
/// mark steps in a trend: the series is split into constant segments by optimal
/// partitioning (least squares on log values, a penalty per extra segment), then steps
/// smaller than `minimumStep` are merged away.
///
/// - The penalty is `penaltyFactor · σ² · log n` (twice the BIC penalty: a step must be
///   clearly more than noise) with σ the noise of the series, estimated robustly from
///   successive differences (MAD / (0.6745·√2)), so a noisy benchmark needs a bigger step
///   than a quiet one.
/// - A run far (> 4σ) from the running median of its five neighbours is an outlier and
///   is replaced by that median before the segmentation.
/// - Segments have at least `minimumSegment` runs: one odd run is an outlier, not a step.
public enum ChangePointDetector {
    public static func detect(
        _ values: [Double], runIDs: [Int64]? = nil, minimumSegment: Int = 2, minimumStep: Double = 1.02,
        penaltyFactor: Double = 6
    ) -> [ChangePoint] {
        let n = values.count
        guard n >= 2 * minimumSegment, values.allSatisfy({ $0 > 0 && $0.isFinite }) else { return [] }
        let raw = values.map { CMath.log($0) }
        let sigma = robustNoise(raw)
        let floor = CMath.log(minimumStep) / 4
        let noise = max(sigma, floor, 1e-9)
        // One or two odd runs are outliers, not steps: a value far from the running
        // median of its neighbourhood (5 runs) is replaced by that median. A real step
        // moves the running median along with it, so it stays.
        var y = raw
        for i in 0..<n {
            let window = Array(raw[max(0, i - 2)..<min(n, i + 3)])
            let m = Statistics.median(window)
            if abs(raw[i] - m) > max(4 * noise, CMath.log(minimumStep)) { y[i] = m }
        }
        let penalty = penaltyFactor * noise * noise * CMath.log(Double(n))
        // Prefix sums for O(1) segment costs.
        var s1 = [Double](repeating: 0, count: n + 1)
        var s2 = [Double](repeating: 0, count: n + 1)
        for i in 0..<n {
            s1[i + 1] = s1[i] + y[i]
            s2[i + 1] = s2[i] + y[i] * y[i]
        }
        func cost(_ a: Int, _ b: Int) -> Double {  // segment a..<b
            let len = Double(b - a)
            let sum = s1[b] - s1[a]
            return (s2[b] - s2[a]) - sum * sum / len
        }
        // best[t]: minimal cost of y[0..<t]; last[t]: start of its last segment.
        var best = [Double](repeating: .infinity, count: n + 1)
        var last = [Int](repeating: 0, count: n + 1)
        best[0] = -penalty
        for t in stride(from: minimumSegment, through: n, by: 1) {
            var s = 0
            while s <= t - minimumSegment {
                if best[s].isFinite {
                    let c = best[s] + cost(s, t) + penalty
                    if c < best[t] {
                        best[t] = c
                        last[t] = s
                    }
                }
                s += s == 0 ? minimumSegment : 1
            }
        }
        var starts: [Int] = []
        var t = n
        while t > 0 {
            let s = last[t]
            starts.append(s)
            t = s
        }
        starts.reverse()  // segment starts, the first is 0
        var bounds = starts + [n]
        // Merge steps below the minimum (the smallest first), recomputing the levels.
        let limit = CMath.log(minimumStep)
        while bounds.count > 2 {
            var smallest = Double.infinity
            var at = -1
            for k in 1..<(bounds.count - 1) {
                let left = (s1[bounds[k]] - s1[bounds[k - 1]]) / Double(bounds[k] - bounds[k - 1])
                let right = (s1[bounds[k + 1]] - s1[bounds[k]]) / Double(bounds[k + 1] - bounds[k])
                let step = abs(right - left)
                if step < smallest {
                    smallest = step
                    at = k
                }
            }
            if smallest >= limit { break }
            bounds.remove(at: at)
        }
        var out: [ChangePoint] = []
        for k in 1..<(bounds.count - 1) {
            let left = (s1[bounds[k]] - s1[bounds[k - 1]]) / Double(bounds[k] - bounds[k - 1])
            let right = (s1[bounds[k + 1]] - s1[bounds[k]]) / Double(bounds[k + 1] - bounds[k])
            out.append(
                ChangePoint(
                    index: bounds[k], runID: runIDs?[bounds[k]], before: CMath.exp(left), after: CMath.exp(right)))
        }
        return out
    }

    /// σ of a series with steps: MAD of successive differences / (0.6745 · √2).
    static func robustNoise(_ y: [Double]) -> Double {
        guard y.count >= 3 else { return 0 }
        var d = (1..<y.count).map { abs(y[$0] - y[$0 - 1]) }
        let mad = d.withUnsafeMutableBufferPointer { Statistics.medianInPlace($0) }
        return mad / (0.6745 * 2.0.squareRoot())
    }

    /// The centre of one run of one benchmark (geometric mean of its per-process
    /// locations), the value the history and its change points use.
    public static func runCenter(_ s: BenchmarkSamples) -> Double {
        guard !s.samples.isEmpty, s.samples.allSatisfy({ $0 > 0 }) else { return Statistics.median(s.samples) }
        return CMath.exp(Gate.RunLocations(s, shift: 0).mean)
    }
}
