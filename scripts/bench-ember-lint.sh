#!/usr/bin/env bash
# Speed of ember-lint against tach 0.35.3 and import-linter 2.16 (lint-imports) on three
# trees, all tools with equivalent layer rules, whole processes, measured with hyperfine.
#
# Setup (once; everything outside the repository, in $SCRATCH):
#   python3 -m venv $SCRATCH/venv && $SCRATCH/venv/bin/pip install tach==0.35.3 import-linter==2.16 grimp
#   $SCRATCH/venv/bin/pip download --no-deps django==5.2 -d $SCRATCH/dl ; apt-get install -y hyperfine
#   swift build -c release --static-swift-stdlib --product ember-lint
# Usage: scripts/bench-ember-lint.sh SCRATCH   (default /tmp/lintscratch)
#
# Trees: the CPython 3.11 stdlib (Lib/ without site-packages: 1,790 files), Django 5.2
# (the wheel unzipped), and a generated 30k-line Ember-like tree.
# Rules (the same relation in every tool):
#   stdlib: json may not import email or http; email may not import http.
#   django: django.utils may not import django.db or django.contrib; django.db may not import django.contrib.
#   ember-like: the guide's layers (utils < core < execution, providers < api).
# import-linter gets a layers contract; tach gets modules with depends_on.
# ember-lint runs: cold (--no-cache: every file read and tokenized), warm (the default:
# unchanged files come from .ember-lint-cache, filled by hyperfine's warm-up runs), and
# cold on only the folders the rules govern (what tach reads).
set -euo pipefail
SCRATCH=${1:-/tmp/lintscratch}
REPO=$(cd "$(dirname "$0")/.." && pwd)
LINT=${EMBER_LINT:-$REPO/.build/release/ember-lint}
VENV=$SCRATCH/venv/bin
TREES=$SCRATCH/trees
mkdir -p "$TREES"

# --- trees ---
if [ ! -d "$TREES/stdlib" ]; then
    src=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
    cp -r "$src" "$TREES/stdlib"
    rm -rf "$TREES/stdlib/site-packages"
    find "$TREES/stdlib" -name __pycache__ -type d -prune -exec rm -rf {} +
fi
if [ ! -d "$TREES/django" ]; then
    mkdir -p "$TREES/django" && (cd "$TREES/django" && unzip -q "$SCRATCH"/dl/Django-5.2-py3-none-any.whl)
fi
[ -d "$TREES/emberlike" ] || python3 "$REPO/scripts/generate-ember-like-tree.py" "$TREES/emberlike"

# --- equivalent rules ---
layered_config() {  # DIR ROOT_PACKAGES(space separated) TOP MIDDLE BOTTOM
    local dir=$1 roots=$2 top=$3 mid=$4 low=$5
    cat > "$dir/ember-lint.toml" <<TOML
source-roots = ["."]
[[layers]]
name = "low"
modules = ["$low"]
may-import = ["*"]
may-not-import = ["$mid", "$top"]
[[layers]]
name = "mid"
modules = ["$mid"]
may-import = ["*"]
may-not-import = ["$top"]
[[layers]]
name = "top"
modules = ["$top"]
may-import = ["*"]
TOML
    cat > "$dir/tach.toml" <<TOML
source_roots = ["."]
exact = false
forbid_circular_dependencies = false
[[modules]]
path = "$low"
depends_on = []
[[modules]]
path = "$mid"
depends_on = ["$low"]
[[modules]]
path = "$top"
depends_on = ["$mid", "$low"]
TOML
    {
        echo "[importlinter]"
        echo "root_packages ="
        for r in $roots; do echo "    $r"; done
        echo "[importlinter:contract:layers]"
        echo "name = layers"
        echo "type = layers"
        echo "layers ="
        echo "    $top"
        echo "    $mid"
        echo "    $low"
    } > "$dir/.importlinter"
}
stdlib_packages=$(cd "$TREES/stdlib" && for d in */; do d=${d%/}; [ -f "$d/__init__.py" ] && echo "$d"; done | tr '\n' ' ')
layered_config "$TREES/stdlib" "$stdlib_packages" http email json
layered_config "$TREES/django" "django" django.contrib django.db django.utils

# --- measure ---
for tree in stdlib django emberlike; do
    dir=$TREES/$tree
    echo "== $tree: $(find "$dir" -name '*.py' | wc -l) files, $(find "$dir" -name '*.py' -print0 | xargs -0 cat | wc -l) lines"
    # tach reads only the files of its declared modules; ember-lint on just those
    # folders is the like-for-like run (on the whole tree it also checks cycles and
    # every __init__.py).
    governed=.
    [ "$tree" = stdlib ] && governed="json email http"
    [ "$tree" = django ] && governed="django/utils django/db django/contrib"
    (cd "$dir" && hyperfine --warmup 2 --runs ${RUNS:-15} -i -N --export-json "$SCRATCH/bench-$tree.json" \
        "$LINT --no-cache ." "$LINT ." "$LINT --no-cache $governed" \
        "$VENV/tach check" \
        "env PYTHONPATH=$dir/src:$dir $VENV/lint-imports --no-cache" 2>&1 | grep -E "Time|Benchmark" )
    (cd "$dir" && /usr/bin/time -f "   ember-lint --no-cache peak RSS %M KB" "$LINT" --no-cache . > /dev/null) 2>&1 | grep RSS || true
done

# --- medians and ratios (tool median / ember-lint median) ---
python3 - "$SCRATCH" <<'PY'
import json, sys
scratch = sys.argv[1]
for tree in ["stdlib", "django", "emberlike"]:
    results = json.load(open(f"{scratch}/bench-{tree}.json"))["results"]
    med = {r["command"]: r["median"] for r in results}
    names = list(med)
    tach = next(v for k, v in med.items() if "tach" in k)
    lint_imports = next(v for k, v in med.items() if "lint-imports" in k)
    print(f"== {tree}: tach {tach*1000:.0f} ms, lint-imports {lint_imports*1000:.0f} ms (medians)")
    for k in names:
        if "ember-lint" in k:
            label = k.split("ember-lint", 1)[1].strip()
            print(f"   ember-lint {label:<45} {med[k]*1000:7.1f} ms   tach/this {tach/med[k]:5.1f}x   lint-imports/this {lint_imports/med[k]:5.1f}x")
PY
