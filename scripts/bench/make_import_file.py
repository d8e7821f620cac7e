#!/usr/bin/env python3
"""Writes a hyperfine-format JSON file with COMMANDS × RUNS times (default 20,000 × 50 =
1,000,000 samples, ~23 MB) for the import speed figure in docs/ember-bench.md. Usage:
    python3 scripts/bench/make_import_file.py OUT.json [COMMANDS] [RUNS]
"""
import json
import random
import sys


def main():
    out = sys.argv[1]
    commands = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    rng = random.Random(2026)
    results = []
    for i in range(commands):
        base = 0.001 + (i % 997) * 1e-5
        times = [base * rng.lognormvariate(0, 0.1) for _ in range(runs)]
        results.append({
            "command": "bench-%d" % i, "mean": sum(times) / runs, "stddev": 0.0, "median": sorted(times)[runs // 2],
            "user": base * 0.8, "system": base * 0.1, "min": min(times), "max": max(times), "times": times,
            "exit_codes": [0] * runs,
        })
    with open(out, "w") as f:
        json.dump({"results": results}, f, indent=2)


if __name__ == "__main__":
    main()
