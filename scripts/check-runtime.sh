#!/usr/bin/env bash
# The Python runtime's tests (python/tests) with every Python 3.9+ found here: one
# interpreter per minor version, from PATH (python3, python3.N) and from pyenv's
# installed versions. Python 3.11 is required; the others run when present.
# Exits non-zero if 3.11 is missing or any run fails.
set -uo pipefail
cd "$(dirname "$0")/.."

export PYTHONDONTWRITEBYTECODE=1

candidates=()
for name in python3 python3.{9..20}; do
    if path=$(command -v "$name" 2>/dev/null); then
        candidates+=("$path")
    fi
done
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
for path in "$pyenv_root"/versions/3.*/bin/python3; do
    [ -x "$path" ] && candidates+=("$path")
done

declare -A chosen=()
versions=()
for path in "${candidates[@]}"; do
    # pyenv shims of versions that are not active fail here, and are skipped.
    version=$("$path" -c 'import sys; print("%d.%d" % sys.version_info[:2]) if sys.version_info >= (3, 9) else None' 2>/dev/null) || continue
    [ -n "$version" ] && [ "$version" != "None" ] || continue
    if [ -z "${chosen[$version]:-}" ]; then
        chosen[$version]="$path"
        versions+=("$version")
    fi
done

if [ -z "${chosen[3.11]:-}" ]; then
    echo "check-runtime: Python 3.11 is required and was not found" >&2
    exit 1
fi

mapfile -t versions < <(printf '%s\n' "${versions[@]}" | sort -t. -k1,1n -k2,2n)
failed=()
for version in "${versions[@]}"; do
    python="${chosen[$version]}"
    echo "+ $python -m unittest discover -s python/tests -t python   # Python $version"
    if ! "$python" -m unittest discover -s python/tests -t python; then
        failed+=("$version")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "check-runtime: failed on Python ${failed[*]} (ran ${versions[*]})" >&2
    exit 1
fi
echo "check-runtime: the runtime tests pass on Python ${versions[*]}"
