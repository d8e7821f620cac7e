import EmberUtils
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Summary statistics of one benchmark's raw samples.
///
/// Percentiles, median, min and max are computed on the raw samples; the guide's IQR
/// filter (q1 − 1.5·IQR … q3 + 1.5·IQR) is applied to `filteredMean` and
/// `filteredStdev` only, because a filtered p99 would hide exactly the tail a
/// regression shows.
public struct SampleStatistics: Sendable, Equatable, Codable {
    public var count: Int
    public var min: Double
    public var max: Double
    public var mean: Double
    public var median: Double
    /// Sample standard deviation (n − 1 in the denominator); 0 for fewer than 2 samples.
    public var stdev: Double
    public var p95: Double
    public var p99: Double
    public var q1: Double
    public var q3: Double
    /// Samples outside q1 − 1.5·IQR … q3 + 1.5·IQR.
    public var outlierCount: Int
    public var filteredMean: Double
    public var filteredStdev: Double

    public init(samples: [Double]) {
        let sorted = samples.sorted()
        self.init(sorted: sorted)
    }

    public init(sorted: [Double]) {
        count = sorted.count
        guard !sorted.isEmpty else {
            min = .nan; max = .nan; mean = .nan; median = .nan; stdev = .nan
            p95 = .nan; p99 = .nan; q1 = .nan; q3 = .nan; outlierCount = 0
            filteredMean = .nan; filteredStdev = .nan
            return
        }
        min = sorted[0]
        max = sorted[sorted.count - 1]
        (mean, stdev) = Statistics.meanAndStdev(sorted[...])
        median = Statistics.percentile(sorted: sorted, 0.5)
        p95 = Statistics.percentile(sorted: sorted, 0.95)
        p99 = Statistics.percentile(sorted: sorted, 0.99)
        q1 = Statistics.percentile(sorted: sorted, 0.25)
        q3 = Statistics.percentile(sorted: sorted, 0.75)
        let kept = Statistics.iqrKeptRange(sorted: sorted)
        outlierCount = sorted.count - kept.count
        (filteredMean, filteredStdev) = Statistics.meanAndStdev(sorted[kept])
    }
}

/// Result of a one-sided Mann–Whitney U test (normal approximation with tie and
/// continuity correction, as scipy's `method="asymptotic"`).
public struct MannWhitneyResult: Sendable, Equatable, Codable {
    /// U of the candidate sample: the number of (candidate, baseline) pairs where the
    /// candidate is larger, ties counting one half.
    public var u: Double
    /// P-value of "the candidate is stochastically greater" (slower, for a time).
    public var pGreater: Double
    /// P-value of "the candidate is stochastically smaller" (faster, for a time).
    public var pLess: Double
}

/// The statistics the store, the gate and the reports use. Everything here is
/// deterministic: random resampling takes an explicit seed.
public enum Statistics {
    /// Percentile by linear interpolation between closest ranks (numpy's default
    /// "linear" method): h = (n − 1)·p.
    public static func percentile(sorted: [Double], _ p: Double) -> Double {
        sorted.withUnsafeBufferPointer { percentile(sortedBuffer: $0, p) }
    }

    @inline(__always)
    static func percentile(sortedBuffer s: UnsafeBufferPointer<Double>, _ p: Double) -> Double {
        let n = s.count
        if n == 0 { return .nan }
        if n == 1 { return s[0] }
        let h = Double(n - 1) * Swift.min(Swift.max(p, 0), 1)
        let lo = Int(h.rounded(.down))
        let hi = Swift.min(lo + 1, n - 1)
        let frac = h - Double(lo)
        return s[lo] + (s[hi] - s[lo]) * frac
    }

    public static func median(_ values: [Double]) -> Double {
        var copy = values
        return copy.withUnsafeMutableBufferPointer { medianInPlace($0) }
    }

    /// Mean and sample standard deviation, two-pass for accuracy.
    static func meanAndStdev(_ values: ArraySlice<Double>) -> (Double, Double) {
        if values.isEmpty { return (.nan, .nan) }
        var sum = 0.0
        for v in values { sum += v }
        let mean = sum / Double(values.count)
        if values.count < 2 { return (mean, 0) }
        var ss = 0.0
        for v in values {
            let d = v - mean
            ss += d * d
        }
        return (mean, (ss / Double(values.count - 1)).squareRoot())
    }

    /// The index range of `sorted` inside the IQR fences.
    static func iqrKeptRange(sorted: [Double]) -> Range<Int> {
        if sorted.count < 4 { return 0..<sorted.count }
        let q1 = percentile(sorted: sorted, 0.25)
        let q3 = percentile(sorted: sorted, 0.75)
        let iqr = q3 - q1
        let lowFence = q1 - 1.5 * iqr
        let highFence = q3 + 1.5 * iqr
        var lo = 0
        while lo < sorted.count && sorted[lo] < lowFence { lo += 1 }
        var hi = sorted.count
        while hi > lo && sorted[hi - 1] > highFence { hi -= 1 }
        return lo..<hi
    }

    /// Samples inside the IQR fences (the guide's outlier filter).
    public static func iqrFiltered(_ values: [Double]) -> [Double] {
        let sorted = values.sorted()
        return Array(sorted[iqrKeptRange(sorted: sorted)])
    }

    // MARK: selection

    /// The median of a buffer, reordering it (quickselect; no full sort).
    @inline(__always)
    static func medianInPlace(_ a: UnsafeMutableBufferPointer<Double>) -> Double {
        let n = a.count
        if n == 0 { return .nan }
        let k = n / 2
        let upper = select(a, k)
        if n % 2 == 1 { return upper }
        // After selecting k, everything before k is <= a[k]: the lower middle is their max.
        var lower = a[0]
        for i in 1..<k { if a[i] > lower { lower = a[i] } }
        return (lower + upper) / 2
    }

    /// The k-th smallest element (0-based), Hoare partitioning with a median-of-three
    /// pivot; afterwards a[..<k] <= a[k] <= a[(k+1)...].
    static func select(_ a: UnsafeMutableBufferPointer<Double>, _ k: Int) -> Double {
        var lo = 0
        var hi = a.count - 1
        while hi > lo {
            if hi - lo < 16 {
                // Insertion sort for short ranges.
                var i = lo + 1
                while i <= hi {
                    let x = a[i]
                    var j = i - 1
                    while j >= lo && a[j] > x {
                        a[j + 1] = a[j]
                        j -= 1
                    }
                    a[j + 1] = x
                    i += 1
                }
                return a[k]
            }
            let mid = lo + (hi - lo) / 2
            if a[mid] < a[lo] { a.swapAt(mid, lo) }
            if a[hi] < a[lo] { a.swapAt(hi, lo) }
            if a[hi] < a[mid] { a.swapAt(hi, mid) }
            let pivot = a[mid]
            var i = lo
            var j = hi
            while i <= j {
                while a[i] < pivot { i += 1 }
                while a[j] > pivot { j -= 1 }
                if i <= j {
                    a.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j {
                hi = j
            } else if k >= i {
                lo = i
            } else {
                return a[k]
            }
        }
        return a[k]
    }

    // MARK: two-sample estimators and tests

    /// Ratio of medians, candidate over baseline.
    public static func medianRatio(baseline: [Double], candidate: [Double]) -> Double {
        median(candidate) / median(baseline)
    }

    /// The Hodges–Lehmann ratio: exp of the median of all pairwise differences
    /// log(candidate_i) − log(baseline_j). It estimates the multiplicative shift and,
    /// unlike the ratio of medians, does not jump between the modes of a bimodal
    /// timing distribution. Non-positive samples make it NaN.
    public static func hodgesLehmannRatio(baseline: [Double], candidate: [Double]) -> Double {
        hodgesLehmannRatio(sortedBaseline: baseline.sorted(), sortedCandidate: candidate.sorted())
    }

    /// The same for ascending inputs (the gate sorts each side once for everything).
    public static func hodgesLehmannRatio(sortedBaseline: [Double], sortedCandidate: [Double]) -> Double {
        guard let b0 = sortedBaseline.first, let c0 = sortedCandidate.first else { return .nan }
        if !(b0 > 0) || !(c0 > 0) || sortedBaseline.last!.isNaN || sortedCandidate.last!.isNaN { return .nan }
        // Rows: candidate logs ascending; columns: negated baseline logs ascending, so
        // row i, column j holds log(c_i) − log(b_j) and every row ascends.
        let rows = sortedCandidate.map { CMath.log($0) }
        let cols = sortedBaseline.reversed().map { -CMath.log($0) }
        let total = rows.count * cols.count
        return rows.withUnsafeBufferPointer { a in
            cols.withUnsafeBufferPointer { c in
                if total % 2 == 1 { return CMath.exp(kthPairSums(a, c, total / 2).kth) }
                let (lower, upper) = kthPairSums(a, c, total / 2 - 1)
                return CMath.exp((lower + upper) / 2)
            }
        }
    }

    /// The k-th and (k+1)-th smallest (0-based) of all a[i] + c[j], for ascending `a`
    /// and `c`, without forming the n·m sums: pivot on a random live sum, count sums
    /// below it per row with a two-pointer sweep, and narrow each row's live column
    /// range (Monahan's selection in X + Y). The live sums always hold exactly the
    /// ranks below + 0 ..< live. Expected O((n + m) log(n·m)); deterministic seed.
    static func kthPairSums(
        _ a: UnsafeBufferPointer<Double>, _ c: UnsafeBufferPointer<Double>, _ k: Int
    ) -> (kth: Double, next: Double) {
        let n = a.count
        let m = c.count
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 4 * n) { buffer in
            let lo = UnsafeMutableBufferPointer(rebasing: buffer[0..<n])  // columns < lo[i]: rank below
            let hi = UnsafeMutableBufferPointer(rebasing: buffer[n..<(2 * n)])  // columns >= hi[i]: rank above
            let less = UnsafeMutableBufferPointer(rebasing: buffer[(2 * n)..<(3 * n)])
            let lessOrEqual = UnsafeMutableBufferPointer(rebasing: buffer[(3 * n)..<(4 * n)])
            for i in 0..<n {
                lo[i] = 0
                hi[i] = m
            }
            /// The smallest sum at or beyond `bound[i]` in each row (m means none).
            func minimumFrom(_ bound: UnsafeMutableBufferPointer<Int>) -> Double {
                var best = Double.infinity
                for i in 0..<n where bound[i] < m { best = Swift.min(best, a[i] + c[bound[i]]) }
                return best
            }
            var g = SeededGenerator(seed: 0x4c48_5345_4c45_4354)
            while true {
                var live = 0
                var below = 0
                for i in 0..<n {
                    live += hi[i] - lo[i]
                    below += lo[i]
                }
                if live <= 2 * (n + m) {
                    var rest = [Double]()
                    rest.reserveCapacity(live)
                    for i in 0..<n where lo[i] < hi[i] { for j in lo[i]..<hi[i] { rest.append(a[i] + c[j]) } }
                    return rest.withUnsafeMutableBufferPointer { r in
                        let index = k - below
                        let kth = select(r, index)
                        if index + 1 < r.count {
                            var next = r[index + 1]
                            for t in (index + 1)..<r.count where r[t] < next { next = r[t] }
                            return (kth, next)
                        }
                        return (kth, minimumFrom(hi))
                    }
                }
                var r = Int(g.next() % UInt64(live))
                var pivot = 0.0
                for i in 0..<n {
                    let width = hi[i] - lo[i]
                    if r < width {
                        pivot = a[i] + c[lo[i] + r]
                        break
                    }
                    r -= width
                }
                // Rows ascend in i, so the per-row counts only shrink: one sweep each.
                var j = m
                var countLess = 0
                for i in 0..<n {
                    while j > 0 && a[i] + c[j - 1] >= pivot { j -= 1 }
                    less[i] = j
                    countLess += j
                }
                j = m
                var countLessOrEqual = 0
                for i in 0..<n {
                    while j > 0 && a[i] + c[j - 1] > pivot { j -= 1 }
                    lessOrEqual[i] = j
                    countLessOrEqual += j
                }
                if k < countLess {
                    for i in 0..<n where less[i] < hi[i] { hi[i] = less[i] }
                } else if k < countLessOrEqual {
                    return (pivot, k + 1 < countLessOrEqual ? pivot : minimumFrom(lessOrEqual))
                } else {
                    for i in 0..<n where lessOrEqual[i] > lo[i] { lo[i] = lessOrEqual[i] }
                }
            }
        }
    }

    /// One-sided Mann–Whitney U tests of candidate against baseline.
    public static func mannWhitney(baseline: [Double], candidate: [Double]) -> MannWhitneyResult {
        mannWhitney(sortedBaseline: baseline.sorted(), sortedCandidate: candidate.sorted())
    }

    /// The same for ascending inputs: one merge walk assigns average ranks to ties.
    public static func mannWhitney(sortedBaseline b: [Double], sortedCandidate c: [Double]) -> MannWhitneyResult {
        let n1 = c.count
        let n2 = b.count
        if n1 == 0 || n2 == 0 { return MannWhitneyResult(u: .nan, pGreater: 1, pLess: 1) }
        var rankSumCandidate = 0.0
        var tieTerm = 0.0
        var i = 0  // into c
        var j = 0  // into b
        var position = 0  // values ranked so far
        while i < n1 || j < n2 {
            let v = i < n1 && (j >= n2 || c[i] <= b[j]) ? c[i] : b[j]
            var inCandidate = 0
            var inBaseline = 0
            while i < n1 && c[i] == v {
                inCandidate += 1
                i += 1
            }
            while j < n2 && b[j] == v {
                inBaseline += 1
                j += 1
            }
            let t = inCandidate + inBaseline
            if t == 0 { break }  // NaN: no progress possible
            let averageRank = Double(2 * position + t + 1) / 2  // ranks position+1 ... position+t
            rankSumCandidate += Double(inCandidate) * averageRank
            if t > 1 { tieTerm += Double(t) * Double(t) * Double(t) - Double(t) }
            position += t
        }
        let u = rankSumCandidate - Double(n1 * (n1 + 1)) / 2
        let mu = Double(n1 * n2) / 2
        let nd = Double(n1 + n2)
        let variance = Double(n1 * n2) / 12 * ((nd + 1) - tieTerm / (nd * (nd - 1)))
        if !(variance > 0) { return MannWhitneyResult(u: u, pGreater: 1, pLess: 1) }
        let sigma = variance.squareRoot()
        let zGreater = (u - mu - 0.5) / sigma
        let zLess = (u - mu + 0.5) / sigma
        return MannWhitneyResult(u: u, pGreater: normalSurvival(zGreater), pLess: normalCDF(zLess))
    }

    @inline(__always) static func normalSurvival(_ z: Double) -> Double { 0.5 * erfc(z / 2.0.squareRoot()) }
    @inline(__always) static func normalCDF(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }

    /// A deterministic percentile-bootstrap confidence interval of the ratio of medians
    /// (candidate over baseline). Each resample draws baseline then candidate indices
    /// from SplitMix64 (`next() % n`), so scripts/stats_oracle.py replays it exactly.
    public static func bootstrapMedianRatioCI(
        baseline: [Double], candidate: [Double], confidence: Double = 0.99,
        resamples: Int = 2000, seed: UInt64
    ) -> (lower: Double, upper: Double) {
        let nb = baseline.count
        let nc = candidate.count
        if nb == 0 || nc == 0 || resamples < 1 { return (.nan, .nan) }
        var g = SeededGenerator(seed: seed)
        var ratios = [Double](repeating: 0, count: resamples)
        var bs = [Double](repeating: 0, count: nb)
        var cs = [Double](repeating: 0, count: nc)
        baseline.withUnsafeBufferPointer { b in
            candidate.withUnsafeBufferPointer { c in
                bs.withUnsafeMutableBufferPointer { bsp in
                    cs.withUnsafeMutableBufferPointer { csp in
                        for r in 0..<resamples {
                            for i in 0..<nb { bsp[i] = b[Int(g.next() % UInt64(nb))] }
                            for i in 0..<nc { csp[i] = c[Int(g.next() % UInt64(nc))] }
                            ratios[r] = medianInPlace(csp) / medianInPlace(bsp)
                        }
                    }
                }
            }
        }
        ratios.sort()
        let alpha = 1 - confidence
        return (percentile(sorted: ratios, alpha / 2), percentile(sorted: ratios, 1 - alpha / 2))
    }

    /// A deterministic percentile-bootstrap confidence interval of the p-th percentile
    /// of `values` (used for the JIT acceptance rule's p20 of speedups).
    public static func bootstrapPercentileCI(
        _ values: [Double], percentile p: Double, confidence: Double = 0.95,
        resamples: Int = 2000, seed: UInt64
    ) -> (lower: Double, upper: Double) {
        let n = values.count
        if n == 0 || resamples < 1 { return (.nan, .nan) }
        var g = SeededGenerator(seed: seed)
        var estimates = [Double](repeating: 0, count: resamples)
        var draw = [Double](repeating: 0, count: n)
        for r in 0..<resamples {
            for i in 0..<n { draw[i] = values[Int(g.next() % UInt64(n))] }
            draw.sort()
            estimates[r] = percentile(sorted: draw, p)
        }
        estimates.sort()
        let alpha = 1 - confidence
        return (percentile(sorted: estimates, alpha / 2), percentile(sorted: estimates, 1 - alpha / 2))
    }
}
