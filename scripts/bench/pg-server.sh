#!/usr/bin/env bash
# A throwaway PostgreSQL server for ember-bench's PostgreSQL store: initdb into DIR and
# listen only on a Unix socket in DIR (no TCP). As root, the server runs as `postgres`.
#   scripts/bench/pg-server.sh start DIR   # prints the --db URL of database `postgres`
#   scripts/bench/pg-server.sh stop DIR
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?folder}
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$bin/initdb" ] || { echo "no PostgreSQL binaries (apt-get install postgresql)" >&2; exit 2; }
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 2; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-k $dir -c listen_addresses='' -c max_connections=100" start >/dev/null
    echo "postgresql:///postgres?host=$dir&user=postgres"
    ;;
stop)
    dir=$(cd "$dir" && pwd)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
