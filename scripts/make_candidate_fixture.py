#!/usr/bin/env python3
"""Derives fixtures/bench/pytest-benchmark-candidate.json from the real pytest-benchmark
file: test_fib_15 1.5x slower, test_sorted_1000 0.6x (faster), test_join_strings unchanged
but for a deterministic 1% wobble. The golden CLI tests compare the two files.
    python3 scripts/make_candidate_fixture.py
"""
import json
import os

here = os.path.join(os.path.dirname(__file__), "..", "fixtures", "bench")
with open(os.path.join(here, "pytest-benchmark.json")) as f:
    doc = json.load(f)
factors = {"test_fib_15": 1.5, "test_sorted_1000": 0.6, "test_join_strings": 1.0}
for b in doc["benchmarks"]:
    k = factors[b["name"]]
    data = b["stats"]["data"]
    b["stats"]["data"] = [round(x * k * (1.01 if i % 2 else 0.99), 12) for i, x in enumerate(data)]
doc["commit_info"]["id"] = "bbbb2222bbbb2222bbbb2222bbbb2222bbbb2222"
doc["commit_info"]["branch"] = "feature"
with open(os.path.join(here, "pytest-benchmark-candidate.json"), "w") as f:
    json.dump(doc, f, indent=4)
    f.write("\n")
print("wrote pytest-benchmark-candidate.json")

# Repetitions: the same job run five times (five pytest processes), for `import --one-run`.
# Each file gets its own deterministic per-process offset (-2% .. +2%), the kind of
# run-to-run spread the gate models; base from the real file, candidate from the derived one.
os.makedirs(os.path.join(here, "pytest-reps"), exist_ok=True)
offsets = [1.0, 1.02, 0.985, 1.01, 0.98]
for prefix, source in [("base", "pytest-benchmark.json"), ("candidate", "pytest-benchmark-candidate.json")]:
    for k, off in enumerate(offsets, start=1):
        with open(os.path.join(here, source)) as f:
            rep = json.load(f)
        for b in rep["benchmarks"]:
            b["stats"]["data"] = [round(x * off, 12) for x in b["stats"]["data"]]
        with open(os.path.join(here, "pytest-reps", "%s-%d.json" % (prefix, k)), "w") as f:
            json.dump(rep, f, indent=1)
            f.write("\n")
print("wrote pytest-reps/{base,candidate}-{1..5}.json")
