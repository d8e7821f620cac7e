#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The distribution functions the gate needs: Student's t, the digamma and trigamma
/// functions (for the empirical-Bayes variance prior), and multiple-testing corrections.
/// Checked against scipy in `DistributionTests` (scripts/stats_oracle.py).
public enum Distributions {
    // MARK: Student's t

    /// P(T > t) for Student's t with `df` degrees of freedom (df may be fractional, as a
    /// Satterthwaite df is). Infinite df is the normal distribution.
    public static func studentTSurvival(_ t: Double, df: Double) -> Double {
        if t.isNaN || df.isNaN || !(df > 0) { return .nan }
        if df.isInfinite || df > 1e7 { return Statistics.normalSurvival(t) }
        let x = df / (df + t * t)
        let tail = 0.5 * regularizedIncompleteBeta(a: df / 2, b: 0.5, x: x)
        return t >= 0 ? tail : 1 - tail
    }

    /// The t value with P(T > t) = p (0 < p < 1): Newton's method from the normal
    /// quantile, bisection when a step leaves the bracket.
    public static func studentTQuantileUpper(_ p: Double, df: Double) -> Double {
        if !(p > 0 && p < 1) || !(df > 0) { return .nan }
        var lo = -1e4
        var hi = 1e4
        // Start: the normal quantile (by bisection on erfc, cheap).
        var zlo = -40.0
        var zhi = 40.0
        for _ in 0..<80 {
            let mid = (zlo + zhi) / 2
            if Statistics.normalSurvival(mid) > p { zlo = mid } else { zhi = mid }
        }
        var t = (zlo + zhi) / 2
        if df.isInfinite || df > 1e7 { return t }
        let logNorm = lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * log(df * Double.pi)
        for _ in 0..<100 {
            let f = studentTSurvival(t, df: df) - p
            if f > 0 { lo = max(lo, t) } else { hi = min(hi, t) }
            if abs(f) < 1e-15 * max(p, 1e-300) || hi - lo < 1e-13 * max(1, abs(t)) { break }
            let density = exp(logNorm - (df + 1) / 2 * log1p(t * t / df))
            var next = t + f / density
            if !(next > lo && next < hi) || !next.isFinite { next = (lo + hi) / 2 }
            if abs(next - t) < 1e-14 * max(1, abs(t)) {
                t = next
                break
            }
            t = next
        }
        return t
    }

    /// I_x(a, b), the regularized incomplete beta function (Lentz's continued fraction).
    public static func regularizedIncompleteBeta(a: Double, b: Double, x: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let lnFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
        if x < (a + 1) / (a + b + 2) {
            return exp(lnFront) * betaContinuedFraction(a: a, b: b, x: x) / a
        }
        return 1 - exp(lnFront) * betaContinuedFraction(a: b, b: a, x: 1 - x) / b
    }

    static func betaContinuedFraction(a: Double, b: Double, x: Double) -> Double {
        let tiny = 1e-300
        let qab = a + b
        let qap = a + 1
        let qam = a - 1
        var c = 1.0
        var d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...10_000 {
            let m2 = Double(2 * m)
            let md = Double(m)
            var aa = md * (b - md) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + md) * (qab + md) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return h
    }

    /// P(F > f) for an F distribution with d1 and d2 degrees of freedom.
    public static func fSurvival(_ f: Double, d1: Double, d2: Double) -> Double {
        if !(f > 0) { return 1 }
        let x = d2 / (d2 + d1 * f)
        return regularizedIncompleteBeta(a: d2 / 2, b: d1 / 2, x: x)
    }

    /// The f with P(F > f) = p, by bisection on the log scale.
    public static func fQuantileUpper(_ p: Double, d1: Double, d2: Double) -> Double {
        var lo = -20.0
        var hi = 20.0
        for _ in 0..<100 {
            let mid = (lo + hi) / 2
            if fSurvival(CMath.exp(mid), d1: d1, d2: d2) > p { lo = mid } else { hi = mid }
        }
        return CMath.exp((lo + hi) / 2)
    }

    // MARK: digamma, trigamma

    /// ψ(x), x > 0: recurrence up to x ≥ 10, then the asymptotic series.
    public static func digamma(_ x: Double) -> Double {
        var x = x
        var result = 0.0
        while x < 10 {
            result -= 1 / x
            x += 1
        }
        let f = 1 / (x * x)
        let series = f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (-1.0 / 132)))))
        return result + log(x) - 0.5 / x + series
    }

    /// ψ′(x), x > 0.
    public static func trigamma(_ x: Double) -> Double {
        var x = x
        var result = 0.0
        while x < 10 {
            result += 1 / (x * x)
            x += 1
        }
        let f = 1 / (x * x)
        // 1/x + 1/(2x²) + 1/(6x³) − 1/(30x⁵) + 1/(42x⁷) − 1/(30x⁹)
        let series = 1 / x + f / 2 + (1 / (x * x * x)) * (1.0 / 6 + f * (-1.0 / 30 + f * (1.0 / 42 + f * (-1.0 / 30))))
        return result + series
    }

    /// The x > 0 with ψ′(x) = y (Newton's method as in limma's trigammaInverse).
    public static func trigammaInverse(_ y: Double) -> Double {
        if !(y > 0) { return .infinity }
        if y > 1e7 { return 1 / y.squareRoot() }
        if y < 1e-6 { return 1 / y }
        var x = 0.5 + 1 / y
        for _ in 0..<50 {
            let tri = trigamma(x)
            // d/dx ψ′(x) = ψ″(x); limma's step: dif = tri * (1 - tri/y) / psigamma(x, 2)
            let dif = tri * (1 - tri / y) / tetragamma(x)
            x += dif
            if -dif / x < 1e-8 { break }
        }
        return x
    }

    /// ψ″(x), x > 0.
    static func tetragamma(_ x: Double) -> Double {
        var x = x
        var result = 0.0
        while x < 10 {
            result -= 2 / (x * x * x)
            x += 1
        }
        let f = 1 / (x * x)
        // −1/x² − 1/x³ − 1/(2x⁴) + 1/(6x⁶) − 1/(6x⁸) + 3/(10x¹⁰)
        let series = -f - f / x - f * f / 2 + f * f * f * (1.0 / 6 + f * (-1.0 / 6 + f * (3.0 / 10)))
        return result + series
    }

    // MARK: multiple testing

    /// Holm's step-down adjustment: controls the family-wise error rate under any
    /// dependence. NaN p-values stay NaN and do not count.
    public static func holm(_ p: [Double]) -> [Double] {
        let order = p.indices.filter { !p[$0].isNaN }.sorted { p[$0] < p[$1] }
        let m = Double(order.count)
        var out = [Double](repeating: .nan, count: p.count)
        var running = 0.0
        for (rank, i) in order.enumerated() {
            running = max(running, min(1, (m - Double(rank)) * p[i]))
            out[i] = running
        }
        return out
    }

    /// Benjamini–Hochberg step-up adjustment: controls the false-discovery rate for
    /// independent or positively dependent tests.
    public static func benjaminiHochberg(_ p: [Double]) -> [Double] {
        let order = p.indices.filter { !p[$0].isNaN }.sorted { p[$0] < p[$1] }
        let m = Double(order.count)
        var out = [Double](repeating: .nan, count: p.count)
        var running = 1.0
        for (rank, i) in order.enumerated().reversed() {
            running = min(running, min(1, m / Double(rank + 1) * p[i]))
            out[i] = running
        }
        return out
    }

    // MARK: empirical-Bayes variance prior

    /// A scaled inverse-χ² prior for the variances of many benchmarks: the prior
    /// variance `s0²` carries the weight of `d0` degrees of freedom.
    public struct VariancePrior: Sendable, Equatable, Codable {
        public var variance: Double
        public var degreesOfFreedom: Double

        public static let none = VariancePrior(variance: 0, degreesOfFreedom: 0)

        /// (d0·s0² + d·s²) / (d0 + d) and its degrees of freedom d0 + d, capped at
        /// `dfCap` (the pooled df of all benchmarks, as limma caps it).
        /// `moderate`, except for a variance far above the prior (beyond its 99.9th
        /// percentile under the prior: F test with df and d0 degrees of freedom), which
        /// stands on its own: a benchmark much noisier than the others is not made to
        /// look as quiet as they are (in the spirit of limma's robust option).
        public func moderateUnlessOutlying(_ s2: Double, df: Double, dfCap: Double) -> (variance: Double, df: Double) {
            if degreesOfFreedom > 0 && variance > 0 && df >= 1 && s2 > variance {
                let d0 = min(degreesOfFreedom, 1e4)
                if Distributions.fSurvival(s2 / variance, d1: df, d2: d0) < 0.001 { return (s2, df) }
            }
            return moderate(s2, df: df, dfCap: dfCap)
        }

        public func moderate(_ s2: Double, df: Double, dfCap: Double) -> (variance: Double, df: Double) {
            if degreesOfFreedom <= 0 || !(variance > 0) { return (s2, df) }
            if degreesOfFreedom.isInfinite { return (variance, max(df, dfCap)) }
            let v = (degreesOfFreedom * variance + df * s2) / (degreesOfFreedom + df)
            return (v, min(degreesOfFreedom + df, max(df, dfCap)))
        }
    }

    /// Fits the prior to sample variances `s2` with degrees of freedom `df` by moments
    /// of log s² (Smyth 2004, limma's fitFDist): with G benchmarks of similar relative
    /// spread d0 is large and every benchmark borrows the others' precision; with very
    /// different spreads d0 is small and each benchmark stands on its own. Needs at
    /// least three positive variances, otherwise no prior.
    public static func fitVariancePrior(_ s2: [Double], df: [Double]) -> VariancePrior {
        var e: [Double] = []
        var tri: [Double] = []
        for (v, d) in zip(s2, df) where v > 0 && v.isFinite && d > 0 {
            e.append(log(v) - digamma(d / 2) + log(d / 2))
            tri.append(trigamma(d / 2))
        }
        let g = Double(e.count)
        if e.count < 3 { return .none }
        let mean = e.reduce(0, +) / g
        var ss = 0.0
        for x in e { ss += (x - mean) * (x - mean) }
        let evar = ss / (g - 1) - tri.reduce(0, +) / g
        if evar <= 0 { return VariancePrior(variance: exp(mean), degreesOfFreedom: .infinity) }
        let d0 = 2 * trigammaInverse(evar)
        return VariancePrior(variance: exp(mean + digamma(d0 / 2) - log(d0 / 2)), degreesOfFreedom: d0)
    }
}
