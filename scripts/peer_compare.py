#!/usr/bin/env python3
"""Python peer for `ember-bench compare` timing: reads the same store (BLOB samples) with
sqlite3 + numpy and computes per-benchmark medians and their ratio (no significance test),
i.e. the issue's reference "compare with in-app medians". Usage:
    python3 scripts/peer_compare.py STORE BASELINE_RUN CANDIDATE_RUN
"""
import sqlite3
import sys

import numpy as np


def load(db, run_id):
    rows = db.execute(
        "SELECT b.name, r.samples FROM results r JOIN benchmarks b ON b.id = r.benchmark_id WHERE r.run_id = ?",
        (run_id,),
    )
    return {name: np.frombuffer(blob, dtype="<f8") for name, blob in rows}


def main():
    db = sqlite3.connect(sys.argv[1])
    base = load(db, int(sys.argv[2]))
    cand = load(db, int(sys.argv[3]))
    flagged = 0
    for name, c in cand.items():
        b = base.get(name)
        if b is None:
            continue
        if np.median(c) / np.median(b) > 1.2:
            flagged += 1
    print(f"{len(cand)} benchmarks, {flagged} with median ratio > 1.2")


if __name__ == "__main__":
    main()
