#!/bin/sh
# Runs the fuzzer for SECONDS (default 1800) on one core, seeded with fixtures/python.
# Crashes land in .build/fuzz/artifacts/; copy each into fixtures/python/fuzz/ once fixed.
set -eu
cd "$(dirname "$0")/../.."
seconds="${1:-1800}"
mkdir -p .build/fuzz/corpus .build/fuzz/artifacts
cp -n fixtures/python/*.py fixtures/python/*/*.py .build/fuzz/corpus/ 2>/dev/null || true
exec .build/fuzz/fuzz-python .build/fuzz/corpus -max_total_time="$seconds" -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix=.build/fuzz/artifacts/ -print_final_stats=1
