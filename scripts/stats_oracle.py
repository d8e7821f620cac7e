#!/usr/bin/env python3
"""Independent oracle for EmberBench.Statistics: numpy/scipy compute the expected values.

Writes fixtures/bench/stats_expected.json; Tests/EmberBenchTests/StatisticsTests.swift
checks the Swift implementation against it. Re-run after changing the cases:
    python3 scripts/stats_oracle.py
The bootstrap is replayed with the same SplitMix64 stream as the Swift code (index =
next() % n, baseline indices then candidate indices per resample), but medians and
percentiles come from numpy, so only the resampling order is shared.
"""
import json
import os

import numpy as np
from scipy import stats

MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def summary(x):
    x = np.asarray(x, dtype=float)
    q1, q3 = np.percentile(x, [25, 75])
    iqr = q3 - q1
    if len(x) >= 4:
        kept = x[(x >= q1 - 1.5 * iqr) & (x <= q3 + 1.5 * iqr)]
    else:
        kept = x
    return {
        "count": int(len(x)),
        "min": float(x.min()),
        "max": float(x.max()),
        "mean": float(np.mean(x)),
        "median": float(np.median(x)),
        "stdev": float(np.std(x, ddof=1)) if len(x) > 1 else 0.0,
        "p95": float(np.percentile(x, 95)),
        "p99": float(np.percentile(x, 99)),
        "q1": float(q1),
        "q3": float(q3),
        "outlierCount": int(len(x) - len(kept)),
        "filteredMean": float(np.mean(kept)),
        "filteredStdev": float(np.std(kept, ddof=1)) if len(kept) > 1 else 0.0,
    }


def bootstrap_median_ratio(b, c, confidence, resamples, seed):
    g = SplitMix64(seed)
    b = np.asarray(b, dtype=float)
    c = np.asarray(c, dtype=float)
    ratios = []
    for _ in range(resamples):
        bi = [g.next() % len(b) for _ in range(len(b))]
        ci = [g.next() % len(c) for _ in range(len(c))]
        ratios.append(np.median(c[ci]) / np.median(b[bi]))
    alpha = 1 - confidence
    lo, hi = np.percentile(ratios, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)


def two_sample(b, c, seed):
    b = np.asarray(b, dtype=float)
    c = np.asarray(c, dtype=float)
    greater = stats.mannwhitneyu(c, b, alternative="greater", method="asymptotic", use_continuity=True)
    less = stats.mannwhitneyu(c, b, alternative="less", method="asymptotic", use_continuity=True)
    hl = float(np.exp(np.median(np.subtract.outer(np.log(c), np.log(b)))))
    lo, hi = bootstrap_median_ratio(b, c, 0.99, 500, seed)
    return {
        "medianRatio": float(np.median(c) / np.median(b)),
        "hodgesLehmannRatio": hl,
        "mannWhitneyU": float(greater.statistic),
        "pGreater": float(greater.pvalue),
        "pLess": float(less.pvalue),
        "bootstrapSeed": seed,
        "bootstrapResamples": 500,
        "bootstrapLower": lo,
        "bootstrapUpper": hi,
    }


def iqm_log(x):
    """A process's location as the gate takes it: the mean of the 10th to 50th percentile
    of log(x) (all of them below 4 values)."""
    v = np.sort(np.log(np.asarray(x, dtype=float)))
    n = len(v)
    if n < 4:
        return float(np.mean(v))
    lo = n // 10
    hi = max(lo + 1, (n + 1) // 2)
    return float(np.mean(v[lo:hi]))


def holm(p):
    p = np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    m = len(p)
    out = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return [float(v) for v in out]


def fit_f_dist(s2, df):
    """limma's fitFDist (moment estimation on log s^2), without covariates."""
    from scipy.special import digamma, polygamma
    s2 = np.asarray(s2, dtype=float)
    df = np.asarray(df, dtype=float)
    z = np.log(s2)
    e = z - digamma(df / 2) + np.log(df / 2)
    emean = np.mean(e)
    evar = np.sum((e - emean) ** 2) / (len(e) - 1) - np.mean(polygamma(1, df / 2))
    if evar <= 0:
        return {"priorVariance": float(np.exp(emean)), "priorDF": "inf"}
    # trigamma inverse by bracketing root search (independent of the Swift Newton steps)
    from scipy.optimize import brentq
    x = brentq(lambda t: polygamma(1, t) - evar, 1e-8, 1e8)
    d0 = 2 * x
    return {"priorVariance": float(np.exp(emean + digamma(d0 / 2) - np.log(d0 / 2))), "priorDF": float(d0)}


def distributions(rng):
    from scipy.special import digamma, polygamma
    t_cases = []
    for t, df in [(0.0, 3), (1.5, 2), (2.2, 8), (-1.3, 5), (3.9, 23.7), (6.0, 4), (2.5, 1000), (4.5, 1.5), (10.0, 60)]:
        t_cases.append({"t": t, "df": df, "survival": float(stats.t.sf(t, df))})
    gamma_cases = []
    for x in [0.05, 0.5, 1.0, 2.5, 7.0, 40.0, 1234.5]:
        gamma_cases.append({"x": x, "digamma": float(digamma(x)), "trigamma": float(polygamma(1, x)),
                            "tetragamma": float(polygamma(2, x))})
    p = [float(v) for v in np.round(rng.uniform(0, 0.2, 12) ** 2, 6)]
    p[3] = 0.0001
    bh = [float(v) for v in stats.false_discovery_control(p, method="bh")]
    # A moderate spread of variances: prior df finite.
    s2 = [float(v) for v in np.round(0.01 * rng.chisquare(6, 40) / 6 * np.exp(rng.normal(0, 0.5, 40)), 8)]
    df = [float(d) for d in rng.integers(3, 12, size=40)]
    # Equal true variances: the moment estimate says the prior is (nearly) exact.
    s2_equal = [float(v) for v in np.round(0.02 * rng.chisquare(8, 60) / 8, 8)]
    df_equal = [8.0] * 60
    # A same-job comparison with the prior off equals scipy's pooled two-sample t-test on
    # per-process interquartile means of log samples.
    procs_b = [list(np.round(np.exp(rng.normal(0.02 * k, 0.01)) * rng.lognormal(np.log(100), 0.1, 20), 4)) for k in range(5)]
    procs_c = [list(np.round(1.08 * np.exp(rng.normal(0, 0.01)) * rng.lognormal(np.log(100), 0.1, 20), 4)) for _ in range(4)]
    ub = [iqm_log(x) for x in procs_b]
    uc = [iqm_log(x) for x in procs_c]
    # One-sided, in the direction of the observed change, as the gate reports it.
    tt = stats.ttest_ind(uc, ub, equal_var=True, alternative="greater" if np.mean(uc) > np.mean(ub) else "less")
    f_cases = [{"f": f, "d1": a, "d2": b, "survival": float(stats.f.sf(f, a, b))}
               for f, a, b in [(1.0, 4, 30), (3.5, 8, 12), (10.0, 2, 50), (0.3, 20, 20), (6.0, 40, 10000)]]
    return {
        "fDist": f_cases,
        "studentT": t_cases,
        "gamma": gamma_cases,
        "pValues": p,
        "holm": holm(p),
        "bh": bh,
        "prior": {"s2": s2, "df": df, **fit_f_dist(s2, df)},
        "priorEqual": {"s2": s2_equal, "df": df_equal, **fit_f_dist(s2_equal, df_equal)},
        "sameJob": {
            "baseline": [[float(v) for v in x] for x in procs_b],
            "candidate": [[float(v) for v in x] for x in procs_c],
            "ratio": float(np.exp(np.mean(uc) - np.mean(ub))),
            "pValue": float(tt.pvalue),
            "df": len(ub) + len(uc) - 2,
        },
    }


def main():
    rng = np.random.default_rng(20261126)
    samples = {
        "single": [42.0],
        "two": [3.0, 1.0],
        "three": [5.0, 1.0, 3.0],
        "four_with_tail": [1.0, 2.0, 3.0, 100.0],
        "ties_integers": [float(v) for v in rng.integers(10, 20, size=37)],
        "lognormal_50": list(np.round(rng.lognormal(np.log(1000), 0.1, size=50), 3)),
        "lognormal_outliers_101": list(
            np.round(np.concatenate([rng.lognormal(np.log(5e4), 0.05, 96), 5e4 * rng.uniform(1.5, 3, 5)]), 2)
        ),
        "bimodal_60": list(
            np.round(np.where(rng.random(60) < 0.5, 1.0, 1.5) * rng.lognormal(np.log(200), 0.03, 60), 4)
        ),
        "constant": [7.0] * 10,
    }
    summaries = {name: summary(x) for name, x in samples.items()}

    pairs = []
    base = rng.lognormal(np.log(1000), 0.1, 50)
    pairs.append(("aa_lognormal", base, rng.lognormal(np.log(1000), 0.1, 50)))
    pairs.append(("slower_1_3", base, 1.3 * rng.lognormal(np.log(1000), 0.1, 50)))
    pairs.append(("faster_0_7", base, 0.7 * rng.lognormal(np.log(1000), 0.1, 40)))
    bim = lambda n, k: k * np.where(rng.random(n) < 0.5, 1.0, 1.5) * rng.lognormal(np.log(200), 0.03, n)
    pairs.append(("bimodal_slower", bim(50, 1.0), bim(50, 1.3)))
    ties_b = [float(v) for v in rng.integers(10, 14, size=30)]
    ties_c = [float(v) for v in rng.integers(11, 15, size=25)]
    pairs.append(("ties", ties_b, ties_c))
    two = []
    for i, (name, b, c) in enumerate(pairs):
        b = [float(v) for v in np.round(b, 3)]
        c = [float(v) for v in np.round(c, 3)]
        entry = {"name": name, "baseline": b, "candidate": c}
        entry.update(two_sample(b, c, seed=1000 + i))
        two.append(entry)

    speedups = list(np.round(rng.lognormal(np.log(2.6), 0.35, 30), 4))
    g = SplitMix64(77)
    est = []
    for _ in range(500):
        draw = [speedups[g.next() % len(speedups)] for _ in range(len(speedups))]
        est.append(np.percentile(draw, 20))
    lo, hi = np.percentile(est, [2.5, 97.5])
    jit = {
        "speedups": [float(s) for s in speedups],
        "p20": float(np.percentile(speedups, 20)),
        "seed": 77,
        "resamples": 500,
        "lower": float(lo),
        "upper": float(hi),
    }

    out_dist = distributions(rng)
    out = {
        "distributions": out_dist,
        "generator": "scripts/stats_oracle.py (numpy %s, scipy %s)" % (np.__version__, __import__("scipy").__version__),
        "samples": {k: [float(v) for v in x] for k, x in samples.items()},
        "summaries": summaries,
        "twoSample": two,
        "jit": jit,
    }
    path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "bench", "stats_expected.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
