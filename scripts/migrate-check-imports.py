#!/usr/bin/env python3
"""Imports that resolved before a migration and fail after it.

usage: migrate-check-imports.py BEFORE_DIR AFTER_DIR

For every `from X import Y` (relative ones made absolute) in the files of a tree, where
X is a module of the tree (any folder chain of identifiers, so both `ember.core` and
`src.ember.core` count), checks that Y is bound at X's top level (def, class,
assignment, import, for/with/except target, or a submodule of the tree). A module with
a star import or a module-level __getattr__ resolves everything. Prints each import
(file, module, name) that resolves in BEFORE_DIR and not in AFTER_DIR; exits 1 if
there is one. The files are compared by their path relative to the tree.
"""
import ast
import os
import sys


def python_files(root):
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        for f in files:
            if f.endswith(".py"):
                yield os.path.relpath(os.path.join(folder, f), root)


def module_names(rel):
    """Every dotted name a file can be imported as: its path from any folder above it."""
    parts = rel[:-3].split(os.sep)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    out = []
    for k in range(len(parts)):
        tail = parts[k:]
        if tail and all(p.isidentifier() for p in tail):
            out.append(".".join(tail))
    return out


def top_level_bindings(tree):
    names = set()
    open_ended = False

    def targets(node):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for e in node.elts:
                targets(e)
        elif isinstance(node, ast.Starred):
            targets(node.value)

    def visit(body):
        nonlocal open_ended
        for s in body:
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(s.name)
                if isinstance(s, ast.FunctionDef) and s.name == "__getattr__":
                    open_ended = True
            elif isinstance(s, ast.Import):
                for a in s.names:
                    names.add(a.asname or a.name.split(".")[0])
            elif isinstance(s, ast.ImportFrom):
                for a in s.names:
                    if a.name == "*":
                        open_ended = True
                    else:
                        names.add(a.asname or a.name)
            elif isinstance(s, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                for t in (s.targets if isinstance(s, ast.Assign) else [s.target]):
                    targets(t)
            elif isinstance(s, (ast.For, ast.AsyncFor)):
                targets(s.target)
                visit(s.body)
                visit(s.orelse)
            elif isinstance(s, (ast.With, ast.AsyncWith)):
                for item in s.items:
                    if item.optional_vars is not None:
                        targets(item.optional_vars)
                visit(s.body)
            elif isinstance(s, ast.If):
                visit(s.body)
                visit(s.orelse)
            elif isinstance(s, ast.Try) or type(s).__name__ == "TryStar":
                visit(s.body)
                visit(s.orelse)
                visit(s.finalbody)
                for h in s.handlers:
                    if h.name:
                        names.add(h.name)
                    visit(h.body)
            elif isinstance(s, ast.While):
                visit(s.body)
                visit(s.orelse)

    visit(tree.body)
    return names, open_ended


def index(root):
    modules = {}
    trees = {}
    for rel in python_files(root):
        try:
            with open(os.path.join(root, rel), "rb") as f:
                tree = ast.parse(f.read())
        except (SyntaxError, ValueError):
            continue
        trees[rel] = tree
        bindings = top_level_bindings(tree)
        for name in module_names(rel):
            modules.setdefault(name, (rel, bindings))
    return modules, trees


def imports(rel, tree):
    names = module_names(rel)
    package = names[0] if names else ""
    is_init = rel.endswith("__init__.py")
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        module = node.module or ""
        if node.level:
            base = package.split(".") if package else []
            if not is_init and base:
                base = base[:-1]
            base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
            module = ".".join(base + ([module] if module else []))
        for a in node.names:
            if a.name != "*":
                yield module, a.name


def resolves(modules, module, name):
    if module + "." + name in modules:
        return True
    entry = modules.get(module)
    if entry is None:
        return None  # not a module of the tree
    _, (bindings, open_ended) = entry
    return open_ended or name in bindings


def main():
    before_root, after_root = sys.argv[1], sys.argv[2]
    before_modules, before_trees = index(before_root)
    after_modules, after_trees = index(after_root)
    broken = []
    checked = 0
    for rel, tree in sorted(after_trees.items()):
        old_tree = before_trees.get(rel)
        if old_tree is None:
            continue
        old_ok = {(m, n) for m, n in imports(rel, old_tree) if resolves(before_modules, m, n)}
        for m, n in imports(rel, tree):
            result = resolves(after_modules, m, n)
            if result is None:
                continue
            checked += 1
            if not result and (m, n) not in old_ok:
                continue  # did not resolve before either
            if not result:
                broken.append((rel, m, n))
    for rel, m, n in broken:
        print(f"{rel}: from {m} import {n} resolved before the migration and fails after it")
    print(f"{checked} imports of the tree's own modules checked, {len(broken)} broken by the migration")
    sys.exit(1 if broken else 0)


main()
