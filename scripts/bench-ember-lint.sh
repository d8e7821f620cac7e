#!/usr/bin/env bash
# Speed of ember-lint against tach 0.35.3 and import-linter 2.16 (lint-imports) on three
# trees, all tools with equivalent layer rules, whole processes, measured with hyperfine.
#
# Setup (once; everything outside the repository, in $SCRATCH):
#   python3 -m venv $SCRATCH/venv && $SCRATCH/venv/bin/pip install tach==0.35.3 import-linter==2.16 grimp
#   $SCRATCH/venv/bin/pip download --no-deps django==5.2 -d $SCRATCH/dl ; apt-get install -y hyperfine
# Usage: [RUNS=20] [EMBER_LINT=binary] scripts/bench-ember-lint.sh SCRATCH   (default /tmp/lintscratch)
# Without EMBER_LINT it builds the measured binary: a fully static release build
#   swift build -c release -Xswiftc -static-executable --scratch-path SCRATCH/static-build --product ember-lint
# (no shared library to load at start: 1.8 ms for an empty folder against 3-5 ms dynamic).
#
# Trees: the CPython 3.11 stdlib (Lib/ without site-packages: 1,790 files), Django 5.2
# (the wheel unzipped), and a generated 30k-line Ember-like tree.
# Rules (the same relation in every tool):
#   stdlib: json may not import email or http; email may not import http.
#   django: django.utils may not import django.db or django.contrib; django.db may not import django.contrib.
#   ember-like: the guide's layers (utils < core < execution, providers < api).
# import-linter gets a layers contract; tach gets modules with depends_on, and a second
# tach run (stdlib, Django) declares every top-level module so that it checks every file.
# ember-lint runs: cold (--no-cache: every file read and tokenized), warm (the default:
# unchanged files come from .ember-lint-cache, filled by hyperfine's warm-up runs), and
# cold on only the folders the rules govern (what tach reads).
set -euo pipefail
SCRATCH=${1:-/tmp/lintscratch}
REPO=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${EMBER_LINT:-}" ]; then
    (cd "$REPO" && swift build -c release -Xswiftc -static-executable --scratch-path "$SCRATCH/static-build" --product ember-lint >/dev/null)
fi
LINT=${EMBER_LINT:-$SCRATCH/static-build/release/ember-lint}
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

# tach with only the three layered modules declared opens every file but checks only the
# imports of those modules' files. A second configuration declares every top-level module
# of the tree (the layered ones keep their relation as `cannot_depend_on`), so that tach
# checks every file's imports, as ember-lint does. It lives in a hard-linked copy of the
# tree (same files, same page cache), since tach reads tach.toml from the project root.
every_module_config() {  # TREE_DIR COPY_DIR PARENT_PACKAGE(or "") LOW MID TOP
    local dir=$1 copy=$2 parent=$3 low=$4 mid=$5 top=$6
    [ -d "$copy" ] || cp -al "$dir" "$copy"
    rm -f "$copy/tach.toml" && cp "$dir/tach.toml" "$copy/tach.toml.layered"
    python3 - "$copy" "$parent" "$low" "$mid" "$top" > "$copy/tach.toml.new" <<'PY'
import os, sys
root, parent, low, mid, top = sys.argv[1:]
base = os.path.join(root, parent.replace(".", "/")) if parent else root
def has_python(path):
    return any(f.endswith(".py") for _, _, files in os.walk(path) for f in files)
names = []
for entry in sorted(os.listdir(base)):
    full = os.path.join(base, entry)
    if entry.endswith(".py") and entry != "__init__.py":
        names.append(entry[:-3])
    elif os.path.isdir(full) and not entry.startswith((".", "__pycache__")) and "-" not in entry and has_python(full):
        names.append(entry)
forbidden = {low: [mid, top], mid: [top]}
print('source_roots = ["."]\nexact = false\nforbid_circular_dependencies = false')
for name in names:
    path = f"{parent}.{name}" if parent else name
    print(f'[[modules]]\npath = "{path}"')
    if path in forbidden:
        print("cannot_depend_on = [" + ", ".join(f'"{m}"' for m in forbidden[path]) + "]")
PY
    mv "$copy/tach.toml.new" "$copy/tach.toml" && rm -f "$copy/tach.toml.layered"
}
every_module_config "$TREES/stdlib" "$TREES/stdlib-tach-every-module" "" json email http
every_module_config "$TREES/django" "$TREES/django-tach-every-module" django django.utils django.db django.contrib

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
    every=()
    [ -d "$TREES/$tree-tach-every-module" ] && every=("env -C $TREES/$tree-tach-every-module $VENV/tach check")
    (cd "$dir" && hyperfine --warmup 2 --runs ${RUNS:-15} -i -N --export-json "$SCRATCH/bench-$tree.json" \
        "$LINT --no-cache ." "$LINT ." "$LINT --no-cache $governed" \
        "$VENV/tach check" \
        "${every[@]}" \
        "env PYTHONPATH=$dir/src:$dir $VENV/lint-imports --no-cache" 2>&1 | grep -E "Time|Benchmark" )
    (cd "$dir" && /usr/bin/time -f "   ember-lint --no-cache peak RSS %M KB" "$LINT" --no-cache . > /dev/null) 2>&1 | grep RSS || true
done

# --- medians and ratios (peer median / ember-lint median) ---
python3 - "$SCRATCH" <<'PY'
import json, sys
scratch = sys.argv[1]
for tree in ["stdlib", "django", "emberlike"]:
    results = json.load(open(f"{scratch}/bench-{tree}.json"))["results"]
    med = {r["command"]: r["median"] for r in results}
    peers = {}
    for k, v in med.items():
        if "tach-every-module" in k: peers["tach (every module)"] = v
        elif "tach" in k: peers["tach (layered modules)"] = v
        elif "lint-imports" in k: peers["lint-imports"] = v
    print(f"== {tree}: " + ", ".join(f"{p} {v*1000:.0f} ms" for p, v in peers.items()) + " (medians)")
    for k, v in med.items():
        if "ember-lint" in k:
            label = k.split("ember-lint", 1)[1].strip()
            ratios = "   ".join(f"{p}/this {pv/v:5.1f}x" for p, pv in peers.items())
            print(f"   ember-lint {label:<40} {v*1000:7.1f} ms   {ratios}")
PY
