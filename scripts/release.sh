#!/usr/bin/env bash
# Builds a release of the three tools and checks it as a user would meet it:
#
#   scripts/release.sh [--out DIR] [--scratch-path DIR] [--runs N] [--skip-build]
#
# 1. ember-lint, ember-migrate and ember-bench in release mode as fully static executables
#    (-static-executable; SQLite from libsqlite3.a through a linker search path that holds
#    only that archive), each checked to have no ELF interpreter, then stripped;
# 2. the wheel ember_tools-VERSION-py3-none-<linux x86-64 tags>.whl (scripts/build-wheel.py),
#    validated with check-wheel-contents and twine check;
# 3. SHA256SUMS over the binaries and the wheel;
# 4. the binaries run with no Swift toolchain on PATH and in an empty root (as root), the
#    wheel installed into a fresh venv and its three tools run on the bundled fixtures;
# 5. sizes and start-up times on an empty input (hyperfine medians) written to
#    DIR/release-figures.md.
#
# Output (default DIR: dist/): the three binaries, the wheel, SHA256SUMS, release-figures.md,
# ember-tools-pre-commit/ (the hooks repository, a git repository tagged vVERSION),
# startup-*.json (hyperfine). Takes minutes (release builds, pip installs from PyPI); CI runs
# it only when asked (scripts/release-check.sh, `EMBER_RELEASE=1 .ci/run`).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

out="$root/dist"
scratch="$root/.build-release"
runs=100
skip_build=0
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        --scratch-path) scratch="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --skip-build) skip_build=1; shift ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "release.sh: error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
mkdir -p "$out"
out="$(cd "$out" && pwd)"
mkdir -p "$scratch"
scratch="$(cd "$scratch" && pwd)"
tools=(ember-lint ember-migrate ember-bench)
# ember-bench starts external commands through this C helper (it measures the command's own
# peak RSS); it ships next to ember-bench, built with the C compiler alone (no Swift runtime).
helper=ember-bench-spawn
shipped=("${tools[@]}" "$helper")
started=$(date +%s)
phase() { echo; echo "== $* ($(( $(date +%s) - started )) s)"; }
die() { echo "release.sh: error: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------
phase "version"
version="$(tr -d ' \n' < VERSION)"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "VERSION holds '$version', not MAJOR.MINOR.PATCH"
grep -q "static let string = \"$version\"" Sources/EmberUtils/Version.swift \
    || die "Sources/EmberUtils/Version.swift does not say $version (VERSION does)"
grep -q "\"ember-tools==$version\"" pre-commit/pyproject.toml && grep -q "^version = \"$version\"" pre-commit/pyproject.toml \
    || die "pre-commit/pyproject.toml (the hooks package) is not version $version pinning ember-tools==$version"
echo "ember-tools $version"

# ---------------------------------------------------------------------------------------
phase "static release builds"
# -static-executable links every library statically, so the linker takes archives only.
# The folder below holds nothing but libsqlite3.a and comes first in the search order, so
# ember-bench's `link "sqlite3"` (Sources/CSQLite) takes that archive whatever else is
# installed; a plain `swift build` is unchanged and links the shared library.
sqlite_a=""
for candidate in "$(cc -print-file-name=libsqlite3.a 2>/dev/null || true)" \
                 /usr/lib/x86_64-linux-gnu/libsqlite3.a /usr/lib64/libsqlite3.a /usr/lib/libsqlite3.a /usr/local/lib/libsqlite3.a; do
    if [ -n "$candidate" ] && [ -f "$candidate" ]; then sqlite_a="$candidate"; break; fi
done
[ -n "$sqlite_a" ] || die "libsqlite3.a not found; install libsqlite3-dev (Debian) or sqlite-static"
mkdir -p "$scratch/static-sqlite"
ln -sf "$sqlite_a" "$scratch/static-sqlite/libsqlite3.a"
echo "SQLite: $sqlite_a"
# Without the PostgreSQL trait: libpq has no static archive with its dependencies on Debian,
# so the static ember-bench keeps the SQLite store only (docs/ember-bench.md, PostgreSQL).
build_flags=(-c release --scratch-path "$scratch" --disable-default-traits -Xswiftc -static-executable -Xlinker -L"$scratch/static-sqlite")
if [ "$skip_build" = 0 ]; then
    for tool in "${tools[@]}"; do
        t0=$(date +%s)
        # glibc's static-link warnings (getpwnam, dlopen in code paths the tools never take)
        # are many; they go to the log.
        if ! swift build "${build_flags[@]}" --product "$tool" >"$scratch/build-$tool.log" 2>&1; then
            tail -40 "$scratch/build-$tool.log" >&2
            die "the release build of $tool failed (log: $scratch/build-$tool.log)"
        fi
        echo "built $tool in $(( $(date +%s) - t0 )) s"
    done
fi
bin_path="$(swift build "${build_flags[@]}" --show-bin-path)"
mkdir -p "$bin_path"
cc -O2 -static -o "$bin_path/$helper" Sources/$helper/main.c || die "the static build of $helper failed"

for tool in "${shipped[@]}"; do
    binary="$bin_path/$tool"
    [ -x "$binary" ] || die "$binary is missing (run without --skip-build)"
    headers="$(readelf -lW "$binary")"
    dynamic="$(readelf -dW "$binary")"
    case "$headers" in *INTERP*) die "$tool has an ELF interpreter: not a static executable" ;; esac
    case "$dynamic" in *NEEDED*) die "$tool needs shared libraries: $dynamic" ;; esac
    strip --strip-all -o "$out/$tool" "$binary"
done
nm "$bin_path/ember-bench" > "$scratch/ember-bench.nm"
grep -q ' T sqlite3_open_v2$' "$scratch/ember-bench.nm" || die "ember-bench does not contain SQLite"
echo "static: no interpreter, no NEEDED entries; SQLite inside ember-bench ($(grep -c ' T sqlite3_' "$scratch/ember-bench.nm") sqlite3_* functions)"

# ---------------------------------------------------------------------------------------
phase "the binaries without a Swift toolchain"
work="$(mktemp -d)"
jail=""
cleanup() {
    # The empty-root check binds /proc inside $work: unmount it before anything is removed.
    if [ -n "$jail" ] && mountpoint -q "$jail/proc" 2>/dev/null; then
        umount "$jail/proc" || { echo "release.sh: cannot unmount $jail/proc; $work left in place" >&2; return; }
    fi
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT
# The empty inputs of the start-up figures: one empty module in the utils layer of the
# built-in rules, one empty Python file, an ember-bench store holding one run.
mkdir -p "$work/empty/lint/ember/utils"
: > "$work/empty/lint/ember/utils/__init__.py"
: > "$work/empty/empty.py"
expect() {  # expect CODE COMMAND...: runs COMMAND with PATH holding no Swift toolchain
    local want="$1"; shift
    local code=0
    env -i PATH="$clean_path" HOME="$work" "$@" >"$work/last.out" 2>&1 || code=$?
    if [ "$code" != "$want" ]; then
        cat "$work/last.out" >&2
        die "'$*' exited $code, expected $want"
    fi
    echo "ok (exit $code): $*"
}
clean_path="/usr/bin:/bin"
if env -i PATH="$clean_path" sh -c 'command -v swift' >/dev/null; then
    die "swift is on $clean_path; this check would prove nothing"
fi
expect 1 "$out/ember-lint" fixtures/lint/layered
expect 1 "$out/ember-migrate" --check fixtures/migrate/programs
expect 0 "$out/ember-migrate" --check "$work/empty/empty.py"
(cd "$work/empty" && expect 0 "$out/ember-lint" lint)
# Read-only commands never create a store: one timed run of a command makes it.
expect 0 "$out/ember-bench" run --db "$work/empty/store.sqlite" --runs 1 --name startup/true --quiet -- true
expect 0 "$out/ember-bench" history --db "$work/empty/store.sqlite"
# ember-bench finds its helper next to itself: a command's peak RSS is the command's own.
env -i PATH="$clean_path" "$out/ember-bench" run --no-store --runs 3 --name cmd/sleep -- sleep 0.01 > "$work/rss.out" 2>&1 \
    || { cat "$work/rss.out" >&2; die "ember-bench run -- sleep 0.01 failed"; }
grep -F "[peak RSS]" "$work/rss.out" | grep -Eq ' [0-9.]+ (KiB|MiB)' || { cat "$work/rss.out" >&2; die "no peak RSS recorded"; }
echo "ok: $(grep -F '[peak RSS]' "$work/rss.out" | tr -s ' ')"

# Nothing from the host but the kernel: a root holding only the binaries, their inputs and
# /proc (the Swift runtime reads /proc/self/exe at start; without /proc it aborts with
# "Unable to obtain Swift runtime path"). No libc, no /etc, no /usr.
chroot_bin="$(command -v chroot || true)"
if [ "$(id -u)" = 0 ] && [ -n "$chroot_bin" ]; then
    jail="$work/jail"
    mkdir -p "$jail/p/ember/utils" "$jail/proc"
    cp "$out"/ember-lint "$out"/ember-migrate "$out"/ember-bench "$out/$helper" "$jail/"
    : > "$jail/p/ember/utils/__init__.py"
    : > "$jail/p/empty.py"
    cp "$work/empty/store.sqlite" "$jail/p/store.sqlite"
    if mount --bind /proc "$jail/proc" 2>/dev/null; then
        expect 0 "$chroot_bin" "$jail" /ember-lint --no-cache /p
        expect 0 "$chroot_bin" "$jail" /ember-migrate --check /p/empty.py
        # (the store is made outside: the root has no /dev/null for a timed command's output)
        expect 0 "$chroot_bin" "$jail" /ember-bench history --db /p/store.sqlite
        umount "$jail/proc"
        echo "the binaries run in a root holding nothing but them, their inputs and /proc"
    else
        echo "(cannot bind-mount /proc here: the empty-root check is skipped)"
    fi
else
    echo "(not root: the empty-root check is skipped)"
fi

# ---------------------------------------------------------------------------------------
phase "wheel"
rm -f "$out"/ember_tools-*.whl
wheel="$(python3 scripts/build-wheel.py --version "$version" --bin-dir "$out" --out "$out" --readme README.md --license LICENSE)"
echo "$wheel"
tools_venv="$scratch/release-tools-venv"
if [ ! -x "$tools_venv/bin/twine" ] || [ ! -x "$tools_venv/bin/check-wheel-contents" ]; then
    python3 -m venv "$tools_venv"
    "$tools_venv/bin/pip" install -q --disable-pip-version-check check-wheel-contents twine
fi
"$tools_venv/bin/check-wheel-contents" "$wheel"
"$tools_venv/bin/twine" check --strict "$wheel"

phase "the wheel in a fresh venv, no Swift toolchain on PATH"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check --no-index "$wheel"
clean_path="$work/venv/bin:/usr/bin:/bin"
for tool in "${shipped[@]}"; do
    found="$(env -i PATH="$clean_path" sh -c "command -v $tool")"
    [ "$found" = "$work/venv/bin/$tool" ] || die "$tool resolves to '$found', not the venv's"
    cmp -s "$found" "$out/$tool" || die "the installed $tool differs from the built one"
done
expect 1 ember-lint fixtures/lint/layered
expect 1 ember-migrate --check fixtures/migrate/programs
expect 0 ember-bench run --db "$work/venv-store.sqlite" --runs 1 --name startup/true --quiet -- true
expect 0 ember-bench history --db "$work/venv-store.sqlite"
expect 0 python3 -c "import ember_tools, os; assert ember_tools.__version__ == '$version'; assert os.access(ember_tools.find_tool('ember-lint'), os.X_OK)"
expect 1 python3 -m ember_tools ember-lint fixtures/lint/layered

# ---------------------------------------------------------------------------------------
phase "pre-commit hooks repository"
# pre-commit installs a `language: python` hook repository with `pip install .` at its root,
# so the hooks live in a repository of their own (as ruff's do), made from pre-commit/.
hooks_repo="$out/ember-tools-pre-commit"
rm -rf "$hooks_repo"
mkdir -p "$hooks_repo"
cp pre-commit/.pre-commit-hooks.yaml pre-commit/pyproject.toml pre-commit/README.md LICENSE "$hooks_repo/"
git -C "$hooks_repo" init -q -b main
git -C "$hooks_repo" add -A
git -C "$hooks_repo" -c user.name="Ember for Swift release" -c user.email="release@ember.invalid" \
    commit -q -m "ember-tools pre-commit hooks $version"
git -C "$hooks_repo" tag "v$version"
echo "$hooks_repo (tag v$version)"

# ---------------------------------------------------------------------------------------
phase "checksums"
(cd "$out" && sha256sum "${shipped[@]}" "$(basename "$wheel")" > SHA256SUMS && sha256sum -c --quiet SHA256SUMS)
cat "$out/SHA256SUMS"

# ---------------------------------------------------------------------------------------
phase "sizes and start-up"
figures="$out/release-figures.md"
{
    echo "# ember-tools $version: release figures"
    echo
    echo "Built by scripts/release.sh on $(uname -sm), $(swift --version 2>/dev/null | head -1)."
    echo
    echo "| binary | size (stripped) | unstripped | start-up median | min | runs |"
    echo "|---|---|---|---|---|---|"
} > "$figures"
if command -v hyperfine >/dev/null; then
    cd "$work/empty"
    "$out/ember-bench" history --db store.sqlite >/dev/null   # made above: one run of one command
    "$out/ember-lint" lint >/dev/null   # the cache the measured runs read
    declare -A startup_cmd=(
        [ember-lint]="$out/ember-lint lint"
        [ember-migrate]="$out/ember-migrate --check empty.py"
        [ember-bench]="$out/ember-bench history --db store.sqlite"
    )
    for tool in "${tools[@]}"; do
        hyperfine -N --warmup 20 --runs "$runs" --export-json "$out/startup-$tool.json" \
            --command-name "$tool" "${startup_cmd[$tool]}" >/dev/null 2>&1 \
            || die "hyperfine failed on '${startup_cmd[$tool]}'"
    done
    cd "$root"
fi
python3 - "$out" "$bin_path" "$figures" "${tools[@]}" <<'PY'
import json, os, sys
out, bin_path, figures, tools = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
rows, verdict = [], []
for tool in tools:
    size = os.path.getsize(os.path.join(out, tool))
    full = os.path.getsize(os.path.join(bin_path, tool))
    median = low = n = None
    path = os.path.join(out, f"startup-{tool}.json")
    if os.path.exists(path):
        r = json.load(open(path))["results"][0]
        median, low, n = r["median"] * 1e3, r["min"] * 1e3, len(r["times"])
    ms = lambda v: "–" if v is None else f"{v:.2f} ms"
    rows.append(f"| {tool} | {size / 1e6:.1f} MB | {full / 1e6:.1f} MB | {ms(median)} | {ms(low)} | {n or '–'} |")
    if size >= 30e6:
        verdict.append(f"{tool}: {size / 1e6:.1f} MB, over the 30 MB target")
    if median is not None and median >= 5:
        verdict.append(f"{tool}: start-up median {median:.2f} ms, over the 5 ms target")
with open(figures, "a") as f:
    f.write("\n".join(rows) + "\n\n")
    f.write("Start-up on an empty input, `hyperfine -N --warmup 20 --runs N` (medians; a shared machine is noisy):\n"
            "`ember-lint lint` (one empty `ember/utils/__init__.py`), `ember-migrate --check empty.py`, "
            "`ember-bench history --db store.sqlite` (a store holding one run).\n\n")
    f.write("Targets (under 30 MB, start-up under 5 ms): " + ("all met.\n" if not verdict else "; ".join(verdict) + ".\n"))
print(open(figures).read())
PY

phase "done"
echo "release $version in $out ($(( $(date +%s) - started )) s)"
