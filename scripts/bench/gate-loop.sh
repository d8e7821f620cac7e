#!/usr/bin/env bash
# The gate on this machine, as the docs report it: a history of runs on main, then N
# consecutive `ember-bench --compare` of the unchanged build, then N with a slowdown
# injected into one benchmark (EMBER_BENCH_SLOWDOWN). Prints one line per compare.
#   scripts/bench/gate-loop.sh EMBER_BENCH STORE [N] [SLOWDOWN] [extra --compare options...]
set -uo pipefail
bin=$1; store=$2; n=${3:-20}; slow=${4:-core/chain-10=1.5}; shift $(( $# < 4 ? $# : 4 ))
cd "$(dirname "$0")/../.."
for i in 1 2 3 4 5; do "$bin" run --db "$store" --branch main --quiet "$@" >/dev/null || exit 1; done
fails=0
for i in $(seq 1 "$n"); do
    start=$(date +%s.%N)
    "$bin" --compare --db "$store" --branch main --quiet --format json "$@" > /tmp/gate-loop-$i.json
    code=$?
    worst=$(python3 -c "import json,sys; d=json.load(open('/tmp/gate-loop-$i.json'))['report']['comparisons']; r=max(d, key=lambda c: c.get('ratio') or 0); print(r['name'], round(r['ratio'], 3), r['verdict'])")
    printf 'unchanged %2d: exit %d (%.0f s), highest ratio %s, load %s\n' "$i" "$code" "$(echo "$(date +%s.%N) - $start" | bc)" "$worst" "$(cut -d' ' -f1 /proc/loadavg)"
    [ "$code" -eq 0 ] || fails=$((fails + 1))
done
caught=0
for i in $(seq 1 "$n"); do
    start=$(date +%s.%N)
    EMBER_BENCH_SLOWDOWN="$slow" "$bin" --compare --db "$store" --branch pr --quiet --format json "$@" > /tmp/gate-loop-s$i.json
    code=$?
    name=${slow%%=*}
    row=$(python3 -c "import json; d=json.load(open('/tmp/gate-loop-s$i.json'))['report']['comparisons']; r=[c for c in d if c['name']=='$name'][0]; print(round(r['ratio'], 3), r['verdict'], r.get('pAdjusted'))")
    printf 'slowed    %2d: exit %d (%.0f s), %s %s, load %s\n' "$i" "$code" "$(echo "$(date +%s.%N) - $start" | bc)" "$name" "$row" "$(cut -d' ' -f1 /proc/loadavg)"
    [ "$code" -eq 1 ] && caught=$((caught + 1))
done
echo "unchanged: $fails of $n compares failed; slowed ($slow): $caught of $n caught"
