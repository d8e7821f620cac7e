#!/usr/bin/env bash
# The release as a team without Swift meets it: scripts/release.sh, then the pre-commit hooks
# installed from the wheel folder alone, in a throwaway git repository of a Python project.
#
#   scripts/release-check.sh [--out DIR] [--skip-release] [release.sh options...]
#
# pre-commit (from PyPI) runs with PATH holding no Swift toolchain and pip reading only
# PIP_FIND_LINKS (the release folder with the ember-tools wheel, and a folder with the
# setuptools build backend fetched once): PIP_NO_INDEX=1, so the hooks can only get their
# tools from the wheel just built. Checked:
#   - the hooks repository (DIR/ember-tools-pre-commit, rev vVERSION): ember-lint and
#     ember-migrate pass on a clean tree; ember-lint fails on a layer violation, also as a
#     real `git commit` through `pre-commit install`; ember-migrate fails on legacy operator
#     code and passes once `ember-migrate --write` has migrated it;
#   - the `repo: local` form (language: python, additional_dependencies: ember-tools==VERSION)
#     fails on the violation and passes without it.
# Takes minutes; CI runs it only when asked: `EMBER_RELEASE=1 .ci/run`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

out="$root/dist"
skip_release=0
release_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        --skip-release) skip_release=1; shift ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) release_args+=("$1"); shift ;;
    esac
done
started=$(date +%s)
phase() { echo; echo "== $* ($(( $(date +%s) - started )) s)"; }
die() { echo "release-check.sh: error: $*" >&2; exit 1; }
passed=0 failed=0
ok() { echo "PASS: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }

if [ "$skip_release" = 0 ]; then
    scripts/release.sh --out "$out" ${release_args[@]+"${release_args[@]}"}
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
version="$(tr -d ' \n' < VERSION)"
wheel="$(ls "$out"/ember_tools-"$version"-*.whl 2>/dev/null | head -1 || true)"
[ -n "$wheel" ] || die "no ember_tools-$version wheel in $out (run without --skip-release)"
hooks_repo="$out/ember-tools-pre-commit"
git -C "$hooks_repo" rev-parse -q --verify "refs/tags/v$version" >/dev/null || die "$hooks_repo has no tag v$version"

phase "pre-commit and the build backend"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/tools"
"$work/tools/bin/pip" install -q --disable-pip-version-check pre-commit
mkdir -p "$work/backend"
"$work/tools/bin/pip" download -q --disable-pip-version-check -d "$work/backend" 'setuptools>=61' wheel
"$work/tools/bin/pre-commit" --version
clean_path="$work/tools/bin:/usr/bin:/bin"
if env -i PATH="$clean_path" sh -c 'command -v swift || command -v ember-lint || command -v ember-migrate' >/dev/null; then
    die "swift or an ember tool is on $clean_path; the check would prove nothing"
fi
# hook: the environment pre-commit (and the pip it runs) sees.
hook() {
    env -i PATH="$clean_path" HOME="$work/home" PRE_COMMIT_HOME="$work/pre-commit-home" \
        PIP_FIND_LINKS="$out $work/backend" PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
        GIT_AUTHOR_NAME=check GIT_AUTHOR_EMAIL=check@example.invalid \
        GIT_COMMITTER_NAME=check GIT_COMMITTER_EMAIL=check@example.invalid \
        "$@"
}
mkdir -p "$work/home"
# expect_run CODE PATTERN DESCRIPTION COMMAND...: in the project, COMMAND exits CODE and its
# output holds PATTERN (a grep -E pattern; "" for none).
expect_run() {
    local want="$1" pattern="$2" what="$3"; shift 3
    local code=0
    (cd "$work/project" && hook "$@") >"$work/last.out" 2>&1 || code=$?
    if [ "$code" = "$want" ] && { [ -z "$pattern" ] || grep -Eq "$pattern" "$work/last.out"; }; then
        ok "$what (exit $code)"
        [ -z "$pattern" ] || grep -Em1 "$pattern" "$work/last.out" | cut -c1-160 | sed 's/^/    | /'
    else
        bad "$what: exit $code, expected $want${pattern:+ with output matching /$pattern/}"
        sed 's/^/    /' "$work/last.out" | tail -40
    fi
}

# also_in_last PATTERN DESCRIPTION: the last command's output holds PATTERN as well.
also_in_last() {
    if grep -Eq "$1" "$work/last.out"; then ok "$2"; grep -Em1 "$1" "$work/last.out" | cut -c1-160 | sed 's/^/    | /'
    else bad "$2: no line matches /$1/"; fi
}

phase "a Python project using the hooks"
p="$work/project"
mkdir -p "$p/shop/domain" "$p/shop/services" "$p/shop/api"
cat > "$p/pyproject.toml" <<'EOF'
[project]
name = "shop"
version = "1.0"

[[tool.ember-lint.layers]]
name = "domain"
modules = ["shop.domain"]
may-import = ["stdlib"]

[[tool.ember-lint.layers]]
name = "services"
modules = ["shop.services"]
may-import = ["stdlib", "shop.domain"]

[[tool.ember-lint.layers]]
name = "api"
modules = ["shop.api"]
may-import = ["stdlib", "shop.*"]
EOF
: > "$p/shop/__init__.py"
: > "$p/shop/domain/__init__.py"
: > "$p/shop/services/__init__.py"
: > "$p/shop/api/__init__.py"
printf 'from dataclasses import dataclass\n\n\n@dataclass\nclass Order:\n    total: int\n' > "$p/shop/domain/order.py"
printf 'from shop.domain.order import Order\n\n\ndef place(total: int) -> Order:\n    return Order(total)\n' > "$p/shop/services/orders.py"
printf 'from shop.services.orders import place\n\n\ndef post_order(body: dict) -> dict:\n    return {"total": place(body["total"]).total}\n' > "$p/shop/api/routes.py"
cat > "$p/.pre-commit-config.yaml" <<EOF
repos:
  - repo: $hooks_repo
    rev: v$version
    hooks:
      - id: ember-lint
      - id: ember-migrate
EOF
cat > "$p/local-hooks.yaml" <<EOF
# The same hook without a hooks repository: pre-commit builds an empty package for a local
# python hook and installs additional_dependencies into its environment.
repos:
  - repo: local
    hooks:
      - id: ember-lint
        name: ember-lint (import layers)
        entry: ember-lint
        language: python
        additional_dependencies: [ember-tools==$version]
        types_or: [python, swift]
        pass_filenames: false
        require_serial: true
EOF
git -C "$p" init -q -b main
(cd "$p" && hook git add -A && hook git commit -q -m "shop: clean layers")

phase "hooks repository: install (pip install of the hooks package, ember-tools from the wheel folder)"
t0=$(date +%s)
expect_run 0 "" "pre-commit install-hooks from $hooks_repo@v$version" "$work/tools/bin/pre-commit" install-hooks
echo "installed in $(( $(date +%s) - t0 )) s"
installed="$(ls -d "$work"/pre-commit-home/repo*/py_env-*/bin 2>/dev/null | head -1 || true)"
if [ -n "$installed" ] && cmp -s "$installed/ember-lint" "$out/ember-lint" && cmp -s "$installed/ember-migrate" "$out/ember-migrate"; then
    ok "the hook environment holds the release's ember-lint and ember-migrate ($installed)"
else
    bad "the hook environment does not hold the release's binaries (${installed:-none found})"
fi

phase "hooks repository: ember-lint and ember-migrate"
expect_run 0 "ember-lint.*Passed" "clean tree: the ember-lint hook passes" "$work/tools/bin/pre-commit" run --all-files
also_in_last "ember-migrate.*Passed" "clean tree: the ember-migrate hook passes"
printf 'from shop.api.routes import post_order  # the domain reaching up into the API\n' >> "$p/shop/domain/order.py"
expect_run 1 "EL001.*shop\.domain\.order imports shop\.api\.routes" "layer violation: the ember-lint hook fails and names it" "$work/tools/bin/pre-commit" run ember-lint --all-files
expect_run 0 "" "pre-commit install (git hook)" "$work/tools/bin/pre-commit" install
expect_run 1 "ember-lint.*Failed" "git commit of the violation is refused by the hook" git commit -a -q -m "domain imports api"
git -C "$p" checkout -q -- shop/domain/order.py
expect_run 0 "ember-lint.*Passed" "violation removed: the ember-lint hook passes" "$work/tools/bin/pre-commit" run ember-lint --all-files

mkdir -p "$p/legacy"
cp fixtures/migrate/programs/p01_spec_dict_inputs.py "$p/legacy/word_count.py"
(cd "$p" && hook git add legacy)
expect_run 1 "would change: \./legacy/word_count\.py|would change: legacy/word_count\.py" "legacy operator code: the ember-migrate hook fails" "$work/tools/bin/pre-commit" run ember-migrate --all-files
expect_run 0 "" "ember-migrate --write legacy/ (the hook environment's binary)" "$installed/ember-migrate" --write legacy/
expect_run 0 "ember-migrate.*Passed" "migrated: the ember-migrate hook passes" "$work/tools/bin/pre-commit" run ember-migrate --all-files
expect_run 0 "ember-lint.*Passed" "git commit of the migrated code: the ember-lint hook passes" git commit -a -q -m "legacy: migrated"
also_in_last "ember-migrate.*Passed" "git commit of the migrated code: the ember-migrate hook passes"
git -C "$p" log --oneline | sed 's/^/    /'

phase "repo: local with additional_dependencies"
printf 'from shop.api.routes import post_order\n' >> "$p/shop/domain/order.py"
expect_run 1 "EL001" "local hook: fails on the violation" "$work/tools/bin/pre-commit" run -c local-hooks.yaml --all-files
git -C "$p" checkout -q -- shop/domain/order.py
expect_run 0 "ember-lint.*Passed" "local hook: passes without it" "$work/tools/bin/pre-commit" run -c local-hooks.yaml --all-files

phase "done"
echo "release-check: $passed passed, $failed failed ($(( $(date +%s) - started )) s)"
[ "$failed" = 0 ]
