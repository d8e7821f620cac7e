#!/usr/bin/env bash
# In-process throughput of EmberPython's import skimmer (PythonImportSkimmer.skim with
# ember-lint's filter) over every .py file of a tree, single thread: best and median MB/s
# of several passes, and a fingerprint of the output (same fingerprint: same tokens).
# Usage: scripts/measure-skim.sh [TREE [PASSES]]   (default: /tmp/lintscratch/trees/stdlib, 15)
# Builds the release EmberPython first (swift build -c release --product ember-lint).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
swift build -c release --product ember-lint >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
swiftc -O -module-name SkimThroughput -I .build/release/Modules scripts/skim-throughput.swift \
    .build/release/EmberPython.build/*.o .build/release/EmberUtils.build/*.o -o "$out/skim-throughput"
"$out/skim-throughput" "$@"
