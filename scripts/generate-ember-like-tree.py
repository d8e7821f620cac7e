#!/usr/bin/env python3
"""Writes a deterministic Ember-like Python tree for benchmarks: src/ember/{utils,core,
execution,providers,api}/..., about LINES lines (default 30,000), imports that follow the
guide's layers (plus a few that break them, so every tool has work to report), and a
pyproject.toml configuring ember-lint, tach and import-linter with equivalent layer rules.
Usage: python3 scripts/generate-ember-like-tree.py OUT_DIR [LINES]
"""
import os
import random
import sys

out = sys.argv[1]
target_lines = int(sys.argv[2]) if len(sys.argv) > 2 else 30000
rng = random.Random(20261126)
layers = ["utils", "core", "execution", "providers", "api"]
allowed = {
    "utils": [],
    "core": ["utils"],
    "execution": ["utils", "core"],
    "providers": ["utils", "core"],
    "api": ["utils", "core", "execution", "providers"],
}
stdlib = ["os", "re", "json", "typing", "dataclasses", "functools", "itertools", "collections", "logging", "pathlib"]
per_module = 100
count = target_lines // per_module
modules = {layer: [] for layer in layers}
for i in range(count):
    layer = layers[i % len(layers)]
    sub = f"sub{(i // 25) % 4}"
    modules[layer].append(f"ember.{layer}.{sub}.m{i:04d}")

def path_of(module):
    return os.path.join(out, "src", *module.split(".")) + ".py"

total = 0
for layer in layers:
    for module in modules[layer]:
        lines = ['"""Generated module %s."""' % module]
        for name in rng.sample(stdlib, 3):
            lines.append(f"import {name}")
        for other in rng.sample(allowed[layer], min(2, len(allowed[layer]))):
            target = rng.choice(modules[other])
            pkg, leaf = target.rsplit(".", 1)
            lines.append(f"from {pkg} import {leaf}")
        if rng.random() < 0.02 and layer != "api":
            lines.append(f"from ember.api.sub0 import {modules['api'][0].rsplit('.', 1)[1]}  # a layer violation")
        lines.append("")
        while len(lines) < per_module - 6:
            n = len(lines)
            lines += [
                f"def function_{n}(value, factor={n}):",
                f"    '''Scales value by factor.'''",
                f"    result = [value * factor for _ in range(3)]",
                f"    return sum(result) + len(str(value))",
                "",
            ]
        lines += [
            "class Component:",
            "    def run(self, payload):",
            "        from ember.utils import sub0  # a lazy import",
            "        return payload",
            "",
        ]
        os.makedirs(os.path.dirname(path_of(module)), exist_ok=True)
        with open(path_of(module), "w") as f:
            f.write("\n".join(lines) + "\n")
        total += len(lines)

for dirpath, dirnames, filenames in os.walk(os.path.join(out, "src", "ember")):
    with open(os.path.join(dirpath, "__init__.py"), "w") as f:
        f.write("")

layer_rules = "\n".join(
    f'[[tool.ember-lint.layers]]\nname = "{l}"\nmodules = ["ember.{l}"]\nmay-import = {["stdlib"] + ["ember." + a for a in allowed[l]]}\n'.replace("'", '"')
    for l in layers)
with open(os.path.join(out, "pyproject.toml"), "w") as f:
    f.write(f"""[project]
name = "ember-like"
version = "0"

[tool.ember-lint]
source-roots = ["src"]

{layer_rules}
[tool.importlinter]
root_package = "ember"

[[tool.importlinter.contracts]]
name = "Ember layers"
type = "layers"
layers = ["ember.api", "ember.execution | ember.providers", "ember.core", "ember.utils"]
""")
with open(os.path.join(out, "tach.toml"), "w") as f:
    f.write('source_roots = ["src"]\nexact = false\nforbid_circular_dependencies = false\n\n')
    for l in layers:
        deps = ", ".join(f'"ember.{a}"' for a in allowed[l])
        f.write(f'[[modules]]\npath = "ember.{l}"\ndepends_on = [{deps}]\n\n')
print(f"{sum(len(m) for m in modules.values())} modules, {total} lines in {out}")
