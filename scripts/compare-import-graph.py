#!/usr/bin/env python3
"""Import-graph conformance: ember-lint's resolved edges against grimp's.

For a tree, builds grimp's graph of the tree's top-level packages
(grimp.build_graph(*packages, include_external_packages=True), details from
get_import_details) and ember-lint's (`ember-lint --graph`), and compares the edge sets
(importer, imported, line) and (importer, imported).

To compare like with like, ember-lint's edges are reduced to grimp's view:
- importers outside grimp's packages (top-level single-file modules such as os.py) are
  dropped, since grimp can only be given packages;
- an imported module outside those packages is squashed to its top-level name, as grimp
  records external packages.
The remaining differences are classified:
- namespace: a module under a folder without __init__.py (PEP 420). ember-lint knows
  them; grimp leaves them out (grimp issue 298). Intended.
- dynamic: importlib.import_module("literal") / __import__("literal"), which ember-lint
  counts as an edge and grimp does not see. Intended.
- other: anything else, listed in full.

Setup: pip install grimp. Usage:
    python3 scripts/compare-import-graph.py TREE [PACKAGE ...] [--exclude PKG ...]
    (default packages: every folder of TREE with an __init__.py)
Exit status 0 when there are no unexplained ("other") differences.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import time

import grimp

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

parser = argparse.ArgumentParser()
parser.add_argument("tree")
parser.add_argument("packages", nargs="*")
parser.add_argument("--exclude", nargs="*", default=[])
parser.add_argument("--ember-lint", default=os.path.join(ROOT, ".build", "release", "ember-lint"))
parser.add_argument("--show", type=int, default=15, help="differences listed per class")
args = parser.parse_args()
tree = os.path.abspath(args.tree)
packages = args.packages or sorted(
    d for d in os.listdir(tree)
    if os.path.isfile(os.path.join(tree, d, "__init__.py")) and d.isidentifier())
packages = [p for p in packages if p not in args.exclude]
package_set = set(packages)

# --- grimp ---
sys.path.insert(0, tree)
t0 = time.time()
graph = grimp.build_graph(*packages, include_external_packages=True, cache_dir=None)
grimp_seconds = time.time() - t0
grimp_edges = set()
for importer in graph.modules:
    if importer.split(".")[0] not in package_set:
        continue
    for imported in graph.find_modules_directly_imported_by(importer):
        for detail in graph.get_import_details(importer=importer, imported=imported):
            grimp_edges.add((importer, imported, detail["line_number"]))

# --- ember-lint ---
rules = os.path.join(tree, "ember-lint.toml")
cmd = [args.ember_lint, "--graph", tree]
t0 = time.time()
out = subprocess.run(cmd, capture_output=True, text=True, cwd=tree)
lint_seconds = time.time() - t0
doc = json.loads(out.stdout)
lint_edges = set()
dynamic = set()
namespace_modules = set()
for e in doc["edges"]:
    importer, imported = e["importer"], e["imported"]
    if importer.split(".")[0] not in package_set:
        continue
    if imported.split(".")[0] not in package_set:
        imported = imported.split(".")[0]
    key = (importer, imported, e["line"])
    lint_edges.add(key)
    if e["dynamic"]:
        dynamic.add(key)


def in_namespace_package(module):
    """True when some package folder on the module's path has no __init__.py."""
    parts = module.split(".")
    for i in range(1, len(parts) + 1):
        folder = os.path.join(tree, *parts[:i])
        if os.path.isdir(folder) and not os.path.isfile(os.path.join(folder, "__init__.py")):
            return True
    return False


only_lint = lint_edges - grimp_edges
only_grimp = grimp_edges - lint_edges
classes = collections.defaultdict(list)
# The same import seen at another line: in a multi-line `from x import (a,\n b)` grimp
# gives the statement's first line, ember-lint the line of the imported name. Intended.
grimp_lines = collections.defaultdict(set)
for a, b, line in only_grimp:
    grimp_lines[(a, b)].add(line)
moved = set()
for e in sorted(only_lint):
    earlier = [l for l in grimp_lines.get((e[0], e[1]), ()) if l < e[2]]
    if earlier and e not in dynamic:
        classes["same import, line of the name (multi-line statement)"].append(e)
        moved.add(e)
        moved.add((e[0], e[1], max(earlier)))
only_lint -= moved
only_grimp -= moved
for e in sorted(only_lint):
    if e in dynamic:
        classes["only ember-lint: dynamic"].append(e)
    elif in_namespace_package(e[0]) or in_namespace_package(e[1]):
        classes["only ember-lint: namespace"].append(e)
    else:
        classes["only ember-lint: other"].append(e)
for e in sorted(only_grimp):
    classes["only grimp: namespace" if in_namespace_package(e[0]) or in_namespace_package(e[1]) else "only grimp: other"].append(e)

pairs = lambda edges: {(a, b) for a, b, _ in edges}
common = lint_edges & grimp_edges
print(f"tree: {tree} ({len(packages)} packages)")
print(f"grimp {grimp.__version__ if hasattr(grimp, '__version__') else ''}: {len(grimp_edges)} edges (importer, imported, line), "
      f"{len(pairs(grimp_edges))} module pairs, built in {grimp_seconds:.2f} s")
print(f"ember-lint: {len(lint_edges)} edges, {len(pairs(lint_edges))} module pairs, in {lint_seconds:.2f} s")
union = lint_edges | grimp_edges
print(f"identical edges: {len(common)} of {len(union)} ({100.0 * len(common) / max(1, len(union)):.2f}%); "
      f"module pairs identical: {len(pairs(lint_edges) & pairs(grimp_edges))} of {len(pairs(lint_edges) | pairs(grimp_edges))}")
for name in sorted(classes):
    items = classes[name]
    print(f"{name}: {len(items)}")
    for e in items[: args.show]:
        print(f"    {e[0]} -> {e[1]} (line {e[2]})")
unexplained = len(classes.get("only ember-lint: other", [])) + len(classes.get("only grimp: other", []))
sys.exit(1 if unexplained else 0)
