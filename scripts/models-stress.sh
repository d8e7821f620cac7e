#!/usr/bin/env bash
# The proofs behind the figures in docs/jit-and-models.md, against the loopback server:
#   1. ROUNDS rounds (default 1000) of vmap over 40 calls where one call is refused (401)
#      while the other 39 are in flight, and every 4th round with 0-5 ms timeouts: no hang
#      (each round under a 30 s watchdog), every in-flight request closed by the client.
#   2. CALLS calls (default 10000) on 64 connections to a keep-alive server: throughput and
#      p50/p99 latency.
#   3. 200 concurrent 1-second calls with the default pool; stream cancellation latency.
# The whole run is also under `timeout`, so a hang cannot outlive it.
# Usage: scripts/models-stress.sh [release]
set -euo pipefail
cd "$(dirname "$0")/.."
config=()
if [[ "${1:-}" == "release" ]]; then config=(-c release -Xswiftc -enable-testing); fi
scratch="${SCRATCH:-.build-models}"
swift build "${config[@]}" --scratch-path "$scratch" --build-tests >/dev/null
export EMBER_STRESS_ROUNDS="${ROUNDS:-1000}" EMBER_LOAD_CALLS="${CALLS:-10000}"
# One at a time: run together they would measure each other.
for t in firstErrorCancelsTheRestWithoutHangsAndClosesEveryRequest throughputAndLatencyWithSixtyFourConnections \
    twoHundredConcurrentOneSecondCalls cancellingTheStreamClosesTheConnection; do
    timeout 1800 swift test "${config[@]}" --scratch-path "$scratch" --skip-build --filter "$t" 2>&1 |
        grep -E '^(cancellation stress|load:|pool:|stream cancellation)|✘|Test run with'
done
