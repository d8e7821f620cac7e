#!/usr/bin/env python3
"""Writes random legacy Ember programs for ember-migrate's differential test.

usage: migrate-random-programs.py SEED COUNT FOLDER

Each program defines a few legacy operator classes in shapes drawn at random (behaviour
method, __init__ configuration, class attributes, dataclass fields, docstrings, comments,
@jit, unsafe shapes that must be adapted), builds them with keyword and positional
arguments, composes some with Sequential / ChainOperator / EnsembleOperator and prints
deterministic results. The test runs each program before and after migration and
compares the output. The same SEED always gives the same programs.
"""
import random
import sys

IMPORTS = [
    ("from ember.core.registry.operator.base.operator_base import Operator\n", "Operator"),
    ("from ember.api.operators import Operator\n", "Operator"),
    ("import ember.core.registry.operator.base.operator_base as ob\n", "ob.Operator"),
    ("from ember.core.registry.operator import Operator as LegacyOp\n", "LegacyOp"),
]


def literal(rng):
    return rng.choice(["1", "2", "3", "'a'", "'bc'", "[1, 2]", "(4, 5)", "None", "True", "0.5"])


def make_class(rng, index, base, uses_jit):
    name = rng.choice(["Echo", "Shape", "Mix", "Tag", "Score", "Fold"]) + f"Op{index}"
    style = rng.choice(["forward", "forward", "_execute", "__call__"])
    lines = []
    if uses_jit and rng.random() < 0.3:
        lines.append("@jit")
    lines.append(f"class {name}({base}):")
    if rng.random() < 0.5:
        lines.append(f'    """Operator {index}: docstring kept."""')
        lines.append("")
    config = []  # (attribute, parameter)
    unsafe = rng.random() < 0.25
    has_init = rng.random() < 0.6
    if rng.random() < 0.4:
        lines.append(f"    factor = {rng.randint(2, 5)}  # class attribute")
        config.append(("factor", None))
    if not has_init and rng.random() < 0.5:
        lines.append("    field: str = '-'")
        config.append(("field", None))
    params = []
    positional = False
    if has_init:
        count = rng.randint(0, 3)
        positional = rng.random() < 0.4
        sig = ["self"] if positional else ["self", "*"]
        for k in range(count):
            p = f"p{k}"
            default = literal(rng) if rng.random() < 0.7 else None
            if positional and default is None and any(d is not None for _, d in params):
                default = literal(rng)
            params.append((p, default))
            sig.append(p if default is None else f"{p}={default}")
        if sig == ["self", "*"]:
            sig = ["self"]
        lines.append(f"    def __init__({', '.join(sig)}):")
        if rng.random() < 0.5:
            lines.append("        super().__init__()")
        stored = False
        for p, _ in params:
            attr = p if rng.random() < 0.7 else f"stored_{p}"
            lines.append(f"        self.{attr} = {p}")
            config.append((attr, p))
            stored = True
        if unsafe and rng.random() < 0.3:
            lines.append("        self.calls = 0")
            stored = True
        if not stored:
            lines.append("        pass")
        lines.append("")
    if style == "_execute":
        lines.append("    def _execute(self, input_data):")
        value = "input_data"
    else:
        lines.append(f"    def {style}(self, *, inputs):")
        value = "inputs"
    lines.append("        # behaviour")
    terms = [f"repr({value})"] + [f"repr(self.{a})" for a, _ in config]
    if config and rng.random() < 0.3:
        # a read of self inside a nested function
        a = config[0][0]
        lines.append(f"        late = lambda: self.{a}")
        terms.append("repr(late())")
    if unsafe:
        kind = rng.choice(["mutate", "helper", "self"])
        if kind == "mutate":
            lines.append("        self.last = " + value)
        elif kind == "helper":
            terms.append("self.helper()")
        else:
            terms.append("type(self).__name__")
    lines.append(f"        return '{name}(' + ', '.join([{', '.join(terms)}]) + ')'")
    if unsafe and "self.helper()" in terms:
        lines.append("")
        lines.append("    def helper(self):")
        lines.append("        return 'helped'")
    return name, style, params, (has_init, positional), config, "\n".join(lines) + "\n"


def construct(rng, name, params, init, config):
    has_init, positional = init
    args = []
    if has_init:
        # Positional arguments first (when __init__ takes them), then keywords.
        by_position = positional and rng.random() < 0.5
        for p, default in params:
            if by_position and (default is None or rng.random() < 0.7):
                args.append(literal(rng))
                continue
            by_position = False
            if default is None or rng.random() < 0.5:
                args.append(f"{p}={literal(rng)}")
    else:
        if any(a == "field" for a, _ in config) and rng.random() < 0.7:
            args.append(f"field={literal(rng)}")
    return f"{name}({', '.join(args)})"


def program(rng, number):
    import_line, base = rng.choice(IMPORTS)
    uses_jit = rng.random() < 0.4
    out = [f'"""Random legacy program {number}."""\n', import_line]
    out.append("from ember.core import non\n")
    out.append("from ember.api.operators import ChainOperator, EnsembleOperator\n")
    if uses_jit:
        out.append("from ember.xcs import jit\n")
    out.append("\n\n")
    classes = []
    for i in range(rng.randint(1, 4)):
        cls = make_class(rng, i, base, uses_jit)
        classes.append(cls)
        out.append(cls[-1] + "\n\n")
    body = ["def main():"]
    for i, (name, style, params, has_init, config, _) in enumerate(classes):
        body.append(f"    op{i} = {construct(rng, name, params, has_init, config)}")
        for value in ["'x'", "[1, 2]"]:
            call = f"op{i}({value})" if style == "_execute" else f"op{i}(inputs={value})"
            body.append(f"    print({call})")
        if rng.random() < 0.3:
            direct = f"({value})" if style == "_execute" else f"(inputs={value})"
            body.append(f"    print({construct(rng, name, params, has_init, config)}{direct})")
    keyword = [i for i, c in enumerate(classes) if c[1] != "_execute"]
    positional = [i for i, c in enumerate(classes) if c[1] == "_execute"]
    if keyword and rng.random() < 0.6:
        members = ", ".join(f"op{i}" for i in keyword)
        body.append(f"    print(non.Sequential(operators=[{members}])(inputs='s'))")
        body.append(f"    print(EnsembleOperator(operators=[{members}], aggregator=len)(inputs='e'))")
    if positional and rng.random() < 0.6:
        members = ", ".join(f"op{i}" for i in positional)
        body.append(f"    print(ChainOperator([{members}])('c'))")
    out.append("\n".join(body) + "\n\n\nif __name__ == '__main__':\n    main()\n")
    return "".join(out)


def main():
    seed, count, folder = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = random.Random(seed)
    for n in range(count):
        with open(f"{folder}/r{n:03d}.py", "w", encoding="utf-8") as f:
            f.write(program(rng, n))


main()
