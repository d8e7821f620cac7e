#!/bin/sh
# Runs the fuzzer for SECONDS (default 1800) on one core, seeded with fixtures/python.
# Crashes land in .build/fuzz/artifacts/; copy each into fixtures/python/fuzz/ once fixed.
set -eu
cd "$(dirname "$0")/../.."
seconds="${1:-1800}"
mkdir -p .build/fuzz/corpus .build/fuzz/artifacts
cp -n fixtures/python/*.py fixtures/python/*/*.py fixtures/python/versions/*/*/*.py .build/fuzz/corpus/ 2>/dev/null || true
# Seed with small real files from the CPython stdlib when python3 is there (first run only).
if [ "$(ls .build/fuzz/corpus | wc -l)" -lt 200 ] && command -v python3 >/dev/null; then
    stdlib="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')"
    find "$stdlib" -name '*.py' -size -4k -not -path '*site-packages*' | head -300 | while read -r f; do
        cp "$f" ".build/fuzz/corpus/$(echo "$f" | cksum | cut -d' ' -f1).py"
    done
fi
exec .build/fuzz/fuzz-python .build/fuzz/corpus -max_total_time="$seconds" -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix=.build/fuzz/artifacts/ -print_final_stats=1
