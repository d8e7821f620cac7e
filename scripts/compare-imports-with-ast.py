#!/usr/bin/env python3
"""Import-extraction oracle: ember-lint's edges against Python's own `ast`, file by file.

For every .py file of TREE that CPython 3.11 can decode and parse, the expected edges are
computed from ast.parse with ember-lint's documented resolution (docs/ember-lint.md):
`import a.b` -> a.b; `from x import y` -> x.y when that is a module or package of the
tree, else x; `from x import *` -> x; relative imports against the importing module's
package; `importlib.import_module("lit")` / `__import__("lit")` -> lit (also through the
file's aliases of importlib and import_module, and with `name=`; `import_module(".x",
__package__)` is relative, `import_module(".x", "a.b")` is a.b.x); `pkg.__init__` -> pkg. Source root: TREE. Compared as sets of (importer, imported, line of the
statement) after mapping ember-lint's lines to the statement's first line.
Files CPython cannot decode or parse are left out (ember-lint reports them instead).
Usage: python3 scripts/compare-imports-with-ast.py TREE [--ember-lint BINARY | --graph-json FILE]
(EmberLintTests.AstOracleTests runs it on the fixtures.)
"""
import argparse
import ast
import json
import os
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
parser = argparse.ArgumentParser()
parser.add_argument("tree")
parser.add_argument("--ember-lint", default=os.path.join(ROOT, ".build", "release", "ember-lint"))
parser.add_argument("--graph-json", help="read ember-lint's --graph output from this file instead of running it")
args = parser.parse_args()
tree = os.path.abspath(args.tree)

files = {}
modules = set()
for dirpath, dirnames, filenames in os.walk(tree):
    dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in ("__pycache__", "site-packages", "node_modules"))
    for name in filenames:
        if not name.endswith(".py"):
            continue
        path = os.path.join(dirpath, name)
        if not os.path.isfile(path):
            continue
        rel = os.path.relpath(path, tree)[:-3].split(os.sep)
        is_package = rel[-1] == "__init__"
        if is_package:
            rel = rel[:-1]
        if not rel:
            continue
        module = ".".join(rel)
        files[path] = (module, is_package)
        parts = module.split(".")
        for i in range(1, len(parts) + 1):
            modules.add(".".join(parts[:i]))

expected = set()
statement_line = {}  # (path, line of a name) -> line of its statement
skipped = 0
for path, (module, is_package) in files.items():
    try:
        with open(path, "rb") as f:
            source = f.read()
        node = ast.parse(source, filename=path)
    except (SyntaxError, ValueError, UnicodeDecodeError):
        skipped += 1
        continue
    def add(target, stmt):
        if target.endswith(".__init__"):
            target = target[: -len(".__init__")]
        expected.add((module, target, stmt.lineno))
        for line in range(stmt.lineno, getattr(stmt, "end_lineno", stmt.lineno) + 1):
            statement_line[(module, line)] = stmt.lineno
    # Names this file gives importlib (`import importlib as il`) and import_module
    # (`from importlib import import_module as im`).
    module_aliases, function_aliases = {"importlib"}, set()
    for n in ast.walk(node):
        if isinstance(n, ast.Import):
            module_aliases |= {a.asname for a in n.names if a.name == "importlib" and a.asname}
        elif isinstance(n, ast.ImportFrom) and not n.level and n.module == "importlib":
            function_aliases |= {a.asname for a in n.names if a.name == "import_module" and a.asname and a.asname != "import_module"}
    def plain_name(value, leading_dots=False):
        rest = value.lstrip(".") if leading_dots else value
        if leading_dots and value and not rest:
            return True
        return bool(rest) and rest.isascii() and all(c.isalnum() or c in "._" for c in rest) \
            and not rest.startswith(".") and not rest.endswith(".")
    def dynamic_target(n):
        """The module a dynamic import call imports, as ember-lint resolves it, or None."""
        f = n.func
        if isinstance(f, ast.Attribute):
            name, owner = f.attr, f.value
            owner_ok = (isinstance(owner, ast.Name) and owner.id in module_aliases) or (
                isinstance(owner, ast.Attribute) and owner.attr in module_aliases)
            if name != "import_module" or not owner_ok:
                return None
        elif isinstance(f, ast.Name):
            name = "import_module" if f.id in function_aliases else f.id
            if name not in ("import_module", "__import__"):
                return None
        else:
            return None
        positional = []
        for a in n.args:
            if isinstance(a, ast.Starred):
                break
            positional.append(a)
        keywords = {k.arg: k.value for k in n.keywords if k.arg}
        if not positional and n.args:
            return None  # unpacked arguments first: unknown
        name_arg = positional[0] if positional else keywords.get("name")
        package_arg = (positional[1] if len(positional) > 1 else keywords.get("package")) if name == "import_module" else None
        if not (isinstance(name_arg, ast.Constant) and isinstance(name_arg.value, str)):
            return None
        value = name_arg.value
        if not plain_name(value, leading_dots=name == "import_module"):
            return None
        dots = len(value) - len(value.lstrip("."))
        if not dots:
            return value
        rest = value[dots:]
        if isinstance(package_arg, ast.Name) and package_arg.id == "__package__" or (
                isinstance(package_arg, ast.Attribute) and package_arg.attr == "parent"
                and isinstance(package_arg.value, ast.Name) and package_arg.value.id == "__spec__"):
            parts = module.split(".")
            if not is_package:
                parts = parts[:-1]
            up = dots - 1
            if up > len(parts) - 1 or not parts:
                return None  # above the top-level package: an error, not an edge
            base = ".".join(parts[: len(parts) - up])
            return base + "." + rest if rest else base
        if isinstance(package_arg, ast.Constant) and isinstance(package_arg.value, str) and plain_name(package_arg.value):
            parts = package_arg.value.split(".")
            if dots - 1 >= len(parts):
                return None
            base = ".".join(parts[: len(parts) - (dots - 1)])
            return base + "." + rest if rest else base
        return None
    for n in ast.walk(node):
        if isinstance(n, ast.Import):
            for alias in n.names:
                add(alias.name, n)
        elif isinstance(n, ast.ImportFrom):
            if n.level:
                parts = module.split(".")
                if not is_package:
                    parts = parts[:-1]
                up = n.level - 1
                if up > len(parts) - 1 or not parts:
                    continue  # above the top-level package: an error, not an edge
                base = ".".join(parts[: len(parts) - up])
                base = base + "." + n.module if n.module else base
            else:
                base = n.module
            added_base = False
            for alias in n.names:
                candidate = base + "." + alias.name
                if alias.name != "*" and candidate in modules:
                    add(candidate, n)
                elif not added_base:
                    add(base, n)
                    added_base = True
        elif isinstance(n, ast.Call):
            # `importlib.import_module`, also reached as an attribute (`self.importlib.import_module`).
            target = dynamic_target(n)
            if target:
                add(target, n)

if args.graph_json:
    with open(args.graph_json) as f:
        doc = json.load(f)
else:
    out = subprocess.run([os.path.abspath(args.ember_lint), "--graph", "--no-cache", tree], capture_output=True, text=True, cwd=tree)
    doc = json.loads(out.stdout)
actual = set()
for e in doc["edges"]:
    key = (e["importer"], e["line"])
    line = statement_line.get(key, e["line"])
    actual.add((e["importer"], e["imported"], line))
# Only files ast could parse are compared.
parsed = {m for (m, _, _) in expected}
actual = {e for e in actual if e[0] in parsed}
common = expected & actual
print(f"tree: {tree}: {len(files)} files, {skipped} not parseable by CPython 3.11 (left out)")
print(f"ast oracle: {len(expected)} edges; ember-lint: {len(actual)} edges; identical: {len(common)} "
      f"({100.0 * len(common) / max(1, len(expected | actual)):.3f}% of the union)")
only_ast = sorted(expected - actual)
only_lint = sorted(actual - expected)
print(f"only in ast: {len(only_ast)}")
for e in only_ast[:20]:
    print("   ", e)
print(f"only in ember-lint: {len(only_lint)}")
for e in only_lint[:20]:
    print("   ", e)
sys.exit(1 if only_ast or only_lint else 0)
