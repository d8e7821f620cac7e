#!/bin/sh
# hyperfine --prepare step for the ingest figure in docs/ember-bench.md: removes the two
# stores (with their SQLite companions) or, given FROM_A and FROM_B, puts copies of those
# stores in their place; then syncs, so that a timed run's fsync writes back its own data
# only, not what the previous run or this step left in the page cache.
# Usage: sh scripts/bench/import_prepare.sh STORE_A STORE_B [FROM_A FROM_B]
set -e
for f in "$1" "$2"; do rm -f "$f" "$f-wal" "$f-shm" "$f-journal"; done
if [ $# -ge 4 ]; then
    cp "$3" "$1"
    cp "$4" "$2"
fi
sync
