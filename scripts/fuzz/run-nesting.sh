#!/bin/sh
# Runs the grammar-aware nesting fuzzer (fuzz-nesting) for SECONDS (default 1800) on one
# core. Its inputs are recipes, not Python: a crash input replays with
#   .build/fuzz/fuzz-nesting CRASH_FILE
# and scripts/fuzz/nesting-recipe-to-python.sh CRASH_FILE prints the program it builds
# (keep that program under fixtures/python/fuzz/; ParserTests parses every file there).
set -eu
cd "$(dirname "$0")/../.."
out="${FUZZ_OUT:-.build/fuzz}"
seconds="${1:-1800}"
mkdir -p "$out/nesting-corpus" "$out/nesting-artifacts"
# A few seeds: every statement kind with a deep count.
printf '\000\000\001\000\377\003\001\000' > "$out/nesting-corpus/seed-expression"
printf '\000\002\377\005' > "$out/nesting-corpus/seed-blocks"
printf '\000\003\002\000\003\377' > "$out/nesting-corpus/seed-pattern"
printf '\000\004\001\377\000' > "$out/nesting-corpus/seed-target"
printf '\000\005\377\000' > "$out/nesting-corpus/seed-elif"
exec "$out/fuzz-nesting" "$out/nesting-corpus" -max_total_time="$seconds" -max_len=64 -timeout=60 \
    -rss_limit_mb=4096 -artifact_prefix="$out/nesting-artifacts/" -print_final_stats=1
