#!/usr/bin/env bash
# The PostgreSQL store under concurrent writers and faults, as docs/ember-bench.md reports:
#   1. WRITERS processes × RUNS runs each (`ember-bench synth-store`, one transaction per
#      run) into one store: every run present, none lost, no error.
#   2. The same with kill -9 of random writers at random moments: only whole runs.
#   3. The server restarted mid-import (1,000,000 samples): exit 2, no partial run, the next
#      import works.
# It starts its own server (scripts/bench/pg-server.sh: initdb, Unix socket only) and
# stops it at the end.
#   scripts/bench/pg-concurrency.sh EMBER_BENCH [WRITERS=8] [RUNS=100] [BENCHMARKS=50]
set -uo pipefail
bin=$(realpath "${1:?path to ember-bench}"); writers=${2:-8}; runs=${3:-100}; benchmarks=${4:-50}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/ember-pgc-XXXXXX)
chmod 755 "$dir"
url=$("$here/pg-server.sh" start "$dir/pg") || exit 2
trap '"$here/pg-server.sh" stop "$dir/pg"; rm -rf "$dir"' EXIT
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
sql() { "$pgbin/psql" -X -A -t -h "$dir/pg" -U postgres -d "$1" -c "$2"; }
db() { echo "postgresql:///$1?host=$dir/pg&user=postgres"; }
fail=0
check() { # DB EXPECTED_BENCHMARKS: every run whole
    local runs_n incomplete wrong results
    runs_n=$(sql "$1" "SELECT count(*) FROM runs")
    incomplete=$(sql "$1" "SELECT count(*) FROM runs r WHERE r.benchmark_count != (SELECT count(*) FROM results x WHERE x.run_id = r.id)")
    wrong=$(sql "$1" "SELECT count(*) FROM runs WHERE benchmark_count != $2")
    results=$(sql "$1" "SELECT count(*) FROM results")
    echo "  runs $runs_n, results $results, incomplete runs $incomplete, runs with another benchmark count $wrong"
    [ "$incomplete" = 0 ] && [ "$wrong" = 0 ] || fail=1
    RUNS_PRESENT=$runs_n
}

echo "1. $writers writers × $runs runs ($benchmarks benchmarks × 10 samples each), one store"
sql postgres "CREATE DATABASE conc" >/dev/null
start=$(date +%s.%N)
pids=()
for w in $(seq 1 "$writers"); do
    "$bin" synth-store --db "$(db conc)" --runs "$runs" --benchmarks "$benchmarks" --processes 1 --samples 10 --seed "$w" \
        >"$dir/w$w.out" 2>"$dir/w$w.err" &
    pids+=($!)
done
errors=0
for p in "${pids[@]}"; do wait "$p" || errors=$((errors + 1)); done
printf '  %d writers done in %.1f s, %d exited non-zero\n' "$writers" "$(echo "$(date +%s.%N) - $start" | bc)" "$errors"
check conc "$benchmarks"
[ "$RUNS_PRESENT" = $((writers * runs)) ] && [ "$errors" = 0 ] || { echo "  FAIL: expected $((writers * runs)) runs"; fail=1; }

echo "2. $writers writers × $runs runs (2,000 benchmarks × 10 samples each), kill -9 of random writers"
sql postgres "CREATE DATABASE killed" >/dev/null
pids=()
for w in $(seq 1 "$writers"); do
    "$bin" synth-store --db "$(db killed)" --runs "$runs" --benchmarks 2000 --processes 1 --samples 10 --seed "$w" \
        >/dev/null 2>"$dir/k$w.err" &
    pids+=($!)
done
kills=0
for round in 1 2 3 4 5 6; do
    sleep "$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", 0.3 + rand() * 1.5 }')"
    victim=${pids[$((RANDOM % ${#pids[@]}))]}
    if kill -9 "$victim" 2>/dev/null; then kills=$((kills + 1)); fi
done
for p in "${pids[@]}"; do { wait "$p"; } 2>/dev/null; done
echo "  $kills writers killed with SIGKILL"
check killed 2000
echo "  open transactions left on the server: $(sql postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = 'killed' AND xact_start IS NOT NULL")"

echo "3. server restarted mid-import (1,000,000 samples)"
python3 "$here/make_import_file.py" "$dir/big.json" >/dev/null
sql postgres "CREATE DATABASE restarted" >/dev/null
"$bin" import --db "$(db restarted)" "$dir/big.json" >/dev/null || fail=1
"$bin" import --db "$(db restarted)" "$dir/big.json" >"$dir/imp.out" 2>"$dir/imp.err" &
imp=$!
for _ in $(seq 1 2000); do
    [ "$(sql postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = 'restarted' AND query LIKE 'COPY%'")" = 1 ] && break
    sleep 0.005
done
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_owner "$pgbin/pg_ctl" -D "$dir/pg/data" -m fast -w restart >/dev/null
wait "$imp"; code=$?
echo "  import during the restart: exit $code: $(head -c 300 "$dir/imp.err")"
[ "$code" = 2 ] || fail=1
check restarted 60000
"$bin" import --db "$(db restarted)" "$dir/big.json" >/dev/null && echo "  the next import: exit 0" || fail=1
check restarted 60000

[ "$fail" = 0 ] && echo "PASS" || echo "FAIL"
exit "$fail"
