#!/usr/bin/env bash
# ember-migrate on a legacy snapshot, checked the way the issue asks:
#   scripts/migrate-snapshot-check.sh BIN SNAPSHOT   (a folder, or a .tar.gz of one)
# 1. share of Operator subclasses converted (the tool's JSON report, and an independent
#    count with Python's ast of the classes whose bases lead to an `Operator` import);
# 2. every output file parses with CPython 3.11 and (if present) 3.12;
# 3. a second run changes nothing;
# 4. no new ruff F821/F811/F822/F401 finding (ruff from PATH; skipped if absent);
# 5. no import that resolved before and fails after (scripts/migrate-check-imports.py).
# Exits 1 if a check fails.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$1"; snapshot="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ -d "$snapshot" ]; then
    cp -r "$snapshot" "$work/before"
else
    mkdir "$work/unpack" && tar -xzf "$snapshot" -C "$work/unpack"
    mv "$work/unpack"/* "$work/before"
fi
cp -r "$work/before" "$work/after"
failed=0

"$bin" --write --isolated --format json "$work/after" > "$work/report.json" 2>/dev/null
"$bin" --emit-runtime "$work/after/ember_runtime.py" >/dev/null
python3 - "$work/report.json" "$work/before" <<'PY'
import ast, json, os, sys
report = json.load(open(sys.argv[1]))
s = report["summary"]
classes = report["classes"]
by = {}
for c in classes:
    by.setdefault(c["outcome"], 0)
    by[c["outcome"]] += 1
legacy = sum(1 for c in classes if c.get("reason") == "legacy-framework")
print(f"tool: {len(classes)} legacy operator classes: {s['classesConverted']} converted, "
      f"{s['classesAdapted']} adapted, {s['classesKept']} kept ({legacy} of them the legacy framework's own)")
if classes:
    print(f"  converted share: {100 * s['classesConverted'] / len(classes):.1f}% of all, "
          f"{100 * s['classesConverted'] / max(1, len(classes) - legacy):.1f}% outside the legacy framework")
reasons = {}
for c in classes:
    if c["outcome"] != "converted":
        reasons[c.get("reason")] = reasons.get(c.get("reason"), 0) + 1
print("  not converted, by reason:", ", ".join(f"{k}: {v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])))
# Independent count with ast: classes whose base resolves (through imports, module-level
# or in enclosing functions, and classes of the same file) to Operator from an `ember`
# module, directly or through another such class. Module names come from the path below
# the snapshot root, with a leading `src.` dropped (both spellings are accepted).
root = sys.argv[2]
classes = {}   # (module, name) -> list of (file module, ClassDef, imports)
def module_of(path):
    rel = os.path.relpath(path, root)[:-3].split(os.sep)
    if rel[-1] == "__init__":
        rel = rel[:-1]
    if rel and rel[0] == "src":
        rel = rel[1:]
    return ".".join(rel)
def canon(m):
    return m[4:] if m.startswith("src.") else m
entries = []
for folder, dirs, files in os.walk(root):
    for f in files:
        if not f.endswith(".py"):
            continue
        p = os.path.join(folder, f)
        try:
            tree = ast.parse(open(p, "rb").read())
        except SyntaxError:
            continue
        mod = module_of(p)
        is_pkg = f == "__init__.py"
        def absolute(node):
            if not node.level:
                return canon(node.module or "")
            base = mod.split(".") if mod else []
            if not is_pkg and base:
                base = base[:-1]
            if node.level > 1:
                base = base[: len(base) - (node.level - 1)]
            return ".".join(base + ([node.module] if node.module else []))
        imports = {}
        for n in ast.walk(tree):
            if isinstance(n, ast.ImportFrom):
                for a in n.names:
                    imports[a.asname or a.name] = (absolute(n), a.name)
        for n in ast.walk(tree):
            if isinstance(n, ast.ClassDef):
                entries.append((mod, n, imports))
                classes.setdefault((mod, n.name), []).append(n)
def base_target(mod, b, imports):
    if isinstance(b, ast.Subscript):
        b = b.value
    if isinstance(b, ast.Name):
        if b.id in imports:
            return imports[b.id]
        return (mod, b.id)
    if isinstance(b, ast.Attribute):
        return (None, b.attr)
    return None
counted = set()
def is_legacy_base(target):
    m, n = target
    return n == "Operator" and m is not None and m.startswith("ember.")
changed = True
while changed:
    changed = False
    for mod, c, imports in entries:
        key = (mod, c.name)
        if key in counted:
            continue
        for b in c.bases:
            t = base_target(mod, b, imports)
            if t and (is_legacy_base(t) or t in counted):
                counted.add(key)
                changed = True
                break
n = sum(1 for mod, c, _ in entries if (mod, c.name) in counted)
print(f"ast: {n} classes whose bases lead to the legacy Operator (independent count)")
PY

parse_fail=0
for py in python3 "$HOME"/.pyenv/versions/3.12*/bin/python; do
    [ -x "$(command -v "$py")" ] || continue
    out=$("$py" - "$work/after" <<'PY'
import ast, os, sys
bad = 0; n = 0
for folder, dirs, files in os.walk(sys.argv[1]):
    for f in files:
        if f.endswith(".py"):
            n += 1
            try:
                ast.parse(open(os.path.join(folder, f), "rb").read())
            except SyntaxError as e:
                bad += 1
                print("  does not parse:", os.path.join(folder, f), e)
print(f"parse: {sys.version.split()[0]}: {n} files, {bad} failing")
sys.exit(1 if bad else 0)
PY
) || parse_fail=1
    echo "$out"
done
[ "$parse_fail" = 0 ] || failed=1

if "$bin" --check --isolated "$work/after" >/dev/null 2>&1; then
    echo "second run: nothing to change"
else
    echo "second run: CHANGES (or errors)"; failed=1
fi

if command -v ruff >/dev/null; then
    rules="F821,F811,F822,F401"
    (cd "$work/before" && ruff check --no-cache --isolated --select "$rules" --output-format concise . 2>/dev/null | grep -E '^[^ ].*:[0-9]+:[0-9]+:' | sed -E 's/:[0-9]+:[0-9]+:/:/' | sort) > "$work/ruff-before.txt"
    (cd "$work/after" && ruff check --no-cache --isolated --select "$rules" --output-format concise . 2>/dev/null | grep -E '^[^ ].*:[0-9]+:[0-9]+:' | grep -v '^ember_runtime.py' | sed -E 's/:[0-9]+:[0-9]+:/:/' | sort) > "$work/ruff-after.txt"
    new=$(comm -13 "$work/ruff-before.txt" "$work/ruff-after.txt")
    echo "ruff $rules: $(wc -l < "$work/ruff-before.txt") findings before, $(wc -l < "$work/ruff-after.txt") after, $(printf '%s' "$new" | grep -c . ) new"
    [ -z "$new" ] || { printf '%s\n' "$new" | sed 's/^/  new: /'; failed=1; }
else
    echo "ruff: not installed, skipped"
fi

python3 "$here/migrate-check-imports.py" "$work/before" "$work/after" | tail -1 || failed=1
exit "$failed"
