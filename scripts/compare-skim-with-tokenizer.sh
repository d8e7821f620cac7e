#!/usr/bin/env bash
# The skim path must find exactly what the full tokenizer finds: runs ember-lint on a tree
# twice (skimming, the default; and EMBER_LINT_FULL_TOKENIZER=1, every file through
# EmberPython's full tokenizer) and compares the import graph (--graph: every edge with
# path, line, column, kind, TYPE_CHECKING and dynamic marks) and all findings (--format
# json: syntax errors, EL003 __init__ logic, EL006 dynamic imports, suppressions, ...).
# Usage: scripts/compare-skim-with-tokenizer.sh [TREE ...]   (default: the CPython stdlib)
# Exit 0 when every tree agrees; 1 with a diff otherwise.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
LINT=${EMBER_LINT:-$REPO/.build/release/ember-lint}
[ $# -gt 0 ] || set -- "$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for tree in "$@"; do
    for mode in skim full; do
        if [ $mode = full ]; then export EMBER_LINT_FULL_TOKENIZER=1; else unset EMBER_LINT_FULL_TOKENIZER; fi
        (cd "$tree" && "$LINT" --no-cache --graph . > "$work/graph-$mode.json" || true)
        (cd "$tree" && "$LINT" --no-cache --format json . > "$work/findings-$mode.json" || true)
    done
    unset EMBER_LINT_FULL_TOKENIZER
    files=$(find "$tree" -name '*.py' -not -path '*/site-packages/*' | wc -l)
    edges=$(grep -c '"importer"' "$work/graph-skim.json" || true)
    if cmp -s "$work/graph-skim.json" "$work/graph-full.json" && cmp -s "$work/findings-skim.json" "$work/findings-full.json"; then
        echo "$tree: same ($files .py files, $edges edges, $(wc -c < "$work/findings-skim.json") bytes of findings)"
    else
        echo "$tree: DIFFERENT"
        diff "$work/graph-full.json" "$work/graph-skim.json" | head -20 || true
        diff "$work/findings-full.json" "$work/findings-skim.json" | head -20 || true
        status=1
    fi
done
exit $status
