#!/usr/bin/env bash
# Same-job A/B of ember-bench's suites: builds BASE_REF (default: the merge base with
# origin/main, else main) in a temporary worktree and the working tree, then runs
# `ember-bench ab` with both builds. Extra arguments go to `ember-bench ab`.
#   scripts/bench/ab.sh [BASE_REF] [-- ab options...]
set -euo pipefail
cd "$(dirname "$0")/../.."
base_ref="${1:-}"
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
if [ -z "$base_ref" ]; then
    base_ref=$(git merge-base HEAD origin/main 2>/dev/null || git merge-base HEAD main)
fi
work=$(mktemp -d)
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --detach "$work/base" "$base_ref" >/dev/null
(cd "$work/base" && swift build -c release --product ember-bench >/dev/null)
swift build -c release --product ember-bench >/dev/null
swift build -c release --product ember-bench-spawn >/dev/null
head="$(swift build -c release --show-bin-path)/ember-bench"
set +e
"$head" ab --base "$work/base/.build/release/ember-bench" --head "$head" "$@"
exit $?
