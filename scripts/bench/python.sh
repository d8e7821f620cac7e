#!/bin/sh
# Speed of EmberPython over a tree (default: the CPython stdlib without site-packages),
# whole-command timings with hyperfine, CPython's tokenize / ast.parse as peers.
# Usage: scripts/bench/python.sh [TREE] [RUNS]
set -eu
cd "$(dirname "$0")/../.."
tree="${1:-$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')}"
runs="${2:-15}"
out=.build/bench
mkdir -p "$out"
swift build -c release --product ember-python-dump >/dev/null
find "$tree" -name '*.py' -not -path '*/site-packages/*' | sort > "$out/files.list"
bytes=$(cat "$out/files.list" | tr '\n' '\0' | xargs -0 cat | wc -c)
dump=.build/release/ember-python-dump
hyperfine -N -w 2 -r "$runs" --export-json "$out/ember.json" \
    "$dump bench-tokenize @$out/files.list" "$dump bench-parse @$out/files.list"
hyperfine -N -w 0 -r 3 --export-json "$out/cpython.json" \
    "python3 scripts/bench/cpython_peer.py tokenize $out/files.list" \
    "python3 scripts/bench/cpython_peer.py parse $out/files.list"
python3 - "$bytes" "$out/ember.json" "$out/cpython.json" <<'PY'
import json, sys
size = int(sys.argv[1])
print(f"{size / 1e6:.1f} MB")
for path in sys.argv[2:]:
    for r in json.load(open(path))["results"]:
        med = r["median"]
        user = r["user"]  # hyperfine exports the mean user CPU time
        print(f"median {med:7.3f} s wall ({size / 1e6 / med:6.1f} MB/s), mean user CPU {user:6.3f} s ({size / 1e6 / user:6.1f} MB/s)  {r['command']}")
PY
