#!/usr/bin/env python3
"""Writes random legacy Ember programs for ember-migrate's differential runs.

usage: migrate-random-programs.py SEED COUNT FOLDER

Each program r000.py ... is written in the style of real legacy Ember code and runs
with the legacy stand-in (fixtures/migrate/legacy-ember) as well as with the real
legacy package.  It defines input/output models and a specification, then a few
operator classes drawn from these shapes:

  stored     __init__ storing keyword parameters (defaults, some required); forward may
             also have a local named like one of the attributes
  computed   __init__ computing attributes (lists, conditional defaults, derived text)
  fields     annotated class attributes and no __init__ (constructed without arguments;
             keyword construction attempted and its TypeError printed)
  helper     helper method / staticmethod / classmethod called from forward
  composite  sub-operators built in __init__ (instances of earlier classes) and called
  subclass   inherits an earlier operator: overrides forward (super().forward or the
             base's helpers), with or without its own specification
  failing    forward raises for some inputs; the caller catches OperatorExecutionError
  nested     defined in a holder class body or in a factory function
  jit        @jit on the class (structural strategy: raw dict results)

and exercises them with dict, model and keyword inputs, reads of instance state from
outside, direct forward(inputs=...) calls, an isinstance/issubclass registry of the
classes rebuilt by name, non.Sequential pipelines (with an operator mapping the output
model back to the input model), EnsembleOperator over program-defined LMs and
MostCommonAnswerSelectorOperator.  Every program prints deterministic text and exits 0.
The same SEED always gives the same programs.
"""
import random
import sys

OPERATOR_IMPORTS = [
    ("from ember.core.registry.operator.base.operator_base import Operator\n", "Operator"),
    ("from ember.api.operators import Operator\n", "Operator"),
    ("import ember.core.registry.operator.base.operator_base as ob\n", "ob.Operator"),
    ("from ember.core.registry.operator import Operator as LegacyOp\n", "LegacyOp"),
]
SPEC_IMPORTS = [
    "from ember.core.registry.specification.specification import Specification\n",
    "from ember.api.operators import Specification\n",
]
MODEL_IMPORTS = [
    "from ember.core.types.ember_model import EmberModel\n",
    "from ember.api.operators import EmberModel\n",
    "from ember.core.types import EmberModel\n",
]
NON_IMPORTS = ["from ember.core import non\n", "from ember.api import non\n"]
WORDS = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa"]
NAMES = ["Echo", "Shape", "Mix", "Tag", "Score", "Fold", "Trim", "Pad", "Count", "Join"]
SHAPES = ["stored", "computed", "fields", "helper", "composite", "subclass", "failing", "nested", "jit"]


class Writer:
    def __init__(self):
        self.lines = []

    def add(self, text="", indent=0):
        for line in text.split("\n"):
            self.lines.append(("    " * indent + line) if line else "")

    def text(self):
        return "\n".join(self.lines) + "\n"


def word(rng):
    return rng.choice(WORDS)


class Program:
    def __init__(self, rng, number):
        self.rng = rng
        self.number = number
        self.text_field = rng.choice(["text", "query", "prompt", "content"])
        self.int_field = rng.choice(["n", "count", "level", "size"])
        self.classes = []  # dicts: name, shape, params, holder, creator, ...
        self.uses_jit = False
        self.base_import, self.base = rng.choice(OPERATOR_IMPORTS)

    # -- operator classes -------------------------------------------------------------
    def expr_result(self, extra):
        """A forward body's return of a dict for the output model."""
        tf, nf = self.text_field, self.int_field
        return f'{{"result": {extra} + ":" + inputs.{tf}, "score": inputs.{nf} * 2 + len({extra})}}'

    def make_class(self, index):
        rng = self.rng
        shape = rng.choice(SHAPES)
        earlier = [c for c in self.classes if c["shape"] not in ("nested", "jit")]
        if shape in ("composite", "subclass") and not earlier:
            shape = "stored"
        name = rng.choice(NAMES) + f"Op{index}"
        info = {"name": name, "shape": shape, "params": [], "required": [], "holder": None, "factory": None,
                "attrs": [], "has_spec": True, "errors_for": None}
        w = Writer()
        spec_line = "specification: ClassVar[Specification] = SPEC"
        tf, nf = self.text_field, self.int_field
        if shape == "jit":
            self.uses_jit = True
            w.add("@jit")
        base = self.base
        if shape == "subclass":
            parent = rng.choice(earlier)
            base = parent["name"]
            info["parent"] = parent
            info["params"] = list(parent["params"])
            info["required"] = list(parent["required"])
            info["attrs"] = list(parent["attrs"])
        if shape == "nested":
            if rng.random() < 0.5:
                info["holder"] = f"Holder{index}"
                w.add(f"class {info['holder']}:")
                w.add(f'"""Namespace class holding {name}."""', 1)
                w.add("", 0)
                body_indent = 1
            else:
                info["factory"] = f"make_op{index}"
                suffix = word(rng)
                info["factory_arg"] = suffix
                w.add(f"def {info['factory']}(suffix: str):")
                w.add(f'"""Defines {name} in a function, closing over suffix."""', 1)
                body_indent = 1
        else:
            body_indent = 0
        i = body_indent
        generic = "" if base != self.base else "[In, Out]"
        w.add(f"class {name}({base}{generic}):", i)
        w.add(f'"""Random operator {index} ({shape})."""', i + 1)
        w.add("", i + 1)
        if shape == "subclass" and rng.random() < 0.5:
            info["has_spec"] = False  # found on the base through normal lookup
        else:
            w.add(spec_line, i + 1)
        if shape == "fields":
            value = word(rng)
            w.add(f'label: str = "{value}"', i + 1)
            w.add(f"weight: int = {rng.randint(1, 4)}", i + 1)
            w.add("LIMIT: ClassVar[int] = 3", i + 1)
            info["attrs"] = ["label", "weight"]
            w.add("", i + 1)
            w.add("def forward(self, *, inputs: In) -> Out:", i + 1)
            w.add(f"return {self.expr_result('self.label * min(self.weight, self.LIMIT)')}", i + 2)
        elif shape in ("stored", "jit", "failing", "nested"):
            count = rng.randint(1, 3)
            params = []
            for k in range(count):
                p = rng.choice(["prefix", "suffix", "tag", "mode", "sep"]) + str(k)
                required = rng.random() < 0.3
                params.append((p, None if required else f'"{word(rng)}"'))
            sig = ", ".join(p if d is None else f"{p}: str = {d}" for p, d in params)
            w.add("", i + 1)
            w.add(f"def __init__(self, *, {sig}) -> None:", i + 1)
            if rng.random() < 0.3:
                w.add("super().__init__()", i + 2)
            for p, _ in params:
                w.add(f"self.{p} = {p}", i + 2)
            info["params"] = params
            info["required"] = [p for p, d in params if d is None]
            info["attrs"] = [p for p, _ in params]
            joined = " + ".join(f"self.{p}" for p, _ in params)
            if shape == "nested" and info["factory"]:
                joined += " + suffix"
            w.add("", i + 1)
            if shape == "jit":
                w.add("def forward(self, *, inputs) -> Out:", i + 1)
                w.add(f'text = inputs["{tf}"] if isinstance(inputs, dict) else inputs.{tf}', i + 2)
                w.add(f"return {{\"result\": {joined} + \":\" + str(text), \"score\": len(str(text))}}", i + 2)
            else:
                w.add("def forward(self, *, inputs: In) -> Out:", i + 1)
                if shape == "failing":
                    info["errors_for"] = rng.choice(["negative", "empty"])
                    error = rng.choice(["ValueError", "KeyError", "RuntimeError"])
                    if info["errors_for"] == "negative":
                        w.add(f"if inputs.{nf} < 0:", i + 2)
                    else:
                        w.add(f"if not inputs.{tf}:", i + 2)
                    w.add(f'raise {error}("{name} refuses " + repr(inputs.{tf}))', i + 3)
                if shape == "stored" and rng.random() < 0.35:
                    # A local named like an attribute: self.x and x are two values.
                    shadow = params[0][0]
                    w.add(f"{shadow} = str(inputs.{tf})[:1]", i + 2)
                    joined += f" + {shadow}"
                w.add(f"return {self.expr_result(joined)}", i + 2)
        elif shape == "computed":
            w.add("", i + 1)
            w.add("def __init__(self, *, base: str = \"x\", repeat: int = 2, upper: bool = False) -> None:", i + 1)
            w.add("self.base = base.upper() if upper else base", i + 2)
            w.add("self.parts = [self.base] * repeat", i + 2)
            w.add("if repeat > 2:", i + 2)
            w.add('self.joiner = "+"', i + 3)
            w.add("else:", i + 2)
            w.add('self.joiner = "-"', i + 3)
            w.add("self.total = len(self.joiner.join(self.parts))", i + 2)
            info["params"] = [("base", '"x"'), ("repeat", "2"), ("upper", "False")]
            info["attrs"] = ["base", "parts", "joiner", "total"]
            w.add("", i + 1)
            w.add("def forward(self, *, inputs: In) -> Out:", i + 1)
            w.add(f"return {self.expr_result('self.joiner.join(self.parts)')}", i + 2)
        elif shape == "helper":
            w.add("", i + 1)
            w.add('def __init__(self, *, sep: str = "/") -> None:', i + 1)
            w.add("self.sep = sep", i + 2)
            info["params"] = [("sep", '"/"')]
            info["attrs"] = ["sep"]
            w.add("", i + 1)
            w.add("@staticmethod", i + 1)
            w.add("def _clip(text: str) -> str:", i + 1)
            w.add("return text[:5]", i + 2)
            w.add("", i + 1)
            w.add("@classmethod", i + 1)
            w.add("def _tag(cls) -> str:", i + 1)
            w.add("return cls.__name__.lower()", i + 2)
            w.add("", i + 1)
            w.add("def _decorate(self, text: str) -> str:", i + 1)
            w.add("return self.sep.join([self._tag(), self._clip(text)])", i + 2)
            w.add("", i + 1)
            w.add("def forward(self, *, inputs: In) -> Out:", i + 1)
            w.add(f"return {self.expr_result(f'self._decorate(inputs.{tf})')}", i + 2)
        elif shape == "composite":
            subs = rng.sample(earlier, min(len(earlier), rng.randint(1, 2)))
            info["subs"] = subs
            w.add("", i + 1)
            w.add("def __init__(self, *, rounds: int = 1) -> None:", i + 1)
            w.add("self.rounds = rounds", i + 2)
            w.add(f"self.stages = [{', '.join(self.construct(s) for s in subs)}]", i + 2)
            info["params"] = [("rounds", "1")]
            info["attrs"] = ["rounds"]
            w.add("", i + 1)
            w.add("def forward(self, *, inputs: In) -> Out:", i + 1)
            w.add("pieces = []", i + 2)
            w.add("for stage in self.stages * self.rounds:", i + 2)
            w.add("pieces.append(stage(inputs=inputs).result)", i + 3)
            w.add(f'return {{"result": "|".join(pieces), "score": len(pieces) + inputs.{nf}}}', i + 2)
        elif shape == "subclass":
            parent = info["parent"]
            w.add("", i + 1)
            w.add("def forward(self, *, inputs: In) -> Out:", i + 1)
            if rng.random() < 0.6:
                w.add("base = super().forward(inputs=inputs)", i + 2)
                w.add('return {"result": str(base["result"]).upper(), "score": base["score"] + 1}', i + 2)
            else:
                w.add(f'return {{"result": "sub:" + inputs.{tf}, "score": inputs.{nf} - 1}}', i + 2)
            info["jit_parent"] = parent["shape"] == "jit"
        if shape == "nested" and info["factory"]:
            w.add("", 1)
            w.add(f"return {name}", 1)
        info["source"] = w.text()
        return info

    def ref(self, info):
        """How the class is reached from module level."""
        if info["holder"]:
            return f"{info['holder']}.{info['name']}"
        if info["factory"]:
            return f"{info['factory']}({info['factory_arg']!r})"
        return info["name"]

    def construct(self, info, vary=False):
        rng = self.rng
        args = []
        for p, default in info["params"]:
            if default is None or (vary and rng.random() < 0.6):
                if default is None or default.startswith('"'):
                    args.append(f'{p}="{word(rng)}"')
                elif default in ("True", "False"):
                    args.append(f"{p}={rng.choice(['True', 'False'])}")
                else:
                    args.append(f"{p}={rng.randint(1, 4)}")
        return f"{self.ref(info)}({', '.join(args)})"

    # -- the program ---------------------------------------------------------------------
    def build(self):
        rng = self.rng
        for index in range(rng.randint(2, 5)):
            self.classes.append(self.make_class(index))
        w = Writer()
        w.add(f'"""Random legacy program {self.number}."""')
        w.add("")
        w.add("from typing import ClassVar, Dict, List, Type")
        w.add("")
        head = self.base_import + rng.choice(SPEC_IMPORTS) + rng.choice(MODEL_IMPORTS) + rng.choice(NON_IMPORTS)
        head += "from ember.core.exceptions import OperatorExecutionError\n"
        head += "from ember.core.registry.operator.core.ensemble import EnsembleOperator\n"
        head += "from ember.core.registry.operator.core.most_common import MostCommonAnswerSelectorOperator\n"
        if self.uses_jit:
            head += rng.choice(["from ember.xcs import jit\n", "from ember.api.xcs import jit\n"])
        w.add(head.rstrip("\n"))
        tf, nf = self.text_field, self.int_field
        w.add("")
        w.add("")
        w.add("class In(EmberModel):")
        w.add('"""Inputs of every operator here."""', 1)
        w.add("", 1)
        w.add(f"{tf}: str", 1)
        w.add(f"{nf}: int = 1", 1)
        w.add("")
        w.add("")
        w.add("class Out(EmberModel):")
        w.add("result: str", 1)
        w.add("score: int", 1)
        w.add("")
        w.add("")
        w.add("SPEC = Specification(input_model=In, structured_output=Out)")
        w.add("")
        w.add("")
        w.add(f"class Rewrap({self.base}[Out, In]):")
        w.add('"""Maps an output back to an input, so operators can be chained."""', 1)
        w.add("", 1)
        w.add("specification: ClassVar[Specification] = Specification(input_model=Out, structured_output=In)", 1)
        w.add("", 1)
        w.add("def forward(self, *, inputs: Out) -> In:", 1)
        w.add(f'return {{"{tf}": inputs.result[:12], "{nf}": inputs.score % 7}}', 2)
        w.add("")
        w.add("")
        w.add("def canned_lm(*, prompt: str) -> str:")
        w.add('return ["yes", "no", "yes"][len(prompt) % 3]', 1)
        for info in self.classes:
            w.add("")
            w.add("")
            w.add(info["source"].rstrip("\n"))
        w.add("")
        w.add("")
        w.add("def describe(error: Exception) -> str:")
        w.add('return type(error).__name__ + " | " + str(getattr(error, "message", error)).split(" [")[0][:70]', 1)
        w.add("")
        w.add("")
        w.add("def main() -> None:")
        body = []
        values = [f'"{word(rng)}"', '""', f'"{word(rng)} {word(rng)}"']
        for k, info in enumerate(self.classes):
            op = f"op{k}"
            body.append(f"{op} = {self.construct(info, vary=True)}")
            for attr in info["attrs"][:2]:
                body.append(f"print({op!r}, {attr!r}, repr({op}.{attr}))")
            jit_like = info["shape"] == "jit" or info.get("jit_parent")
            calls = []
            text = rng.choice(values)
            num = rng.choice([-1, 0, 3])
            calls.append(f"{op}(inputs={{{tf!r}: {text}, {nf!r}: {num}}})")
            calls.append(f"{op}(inputs=In({tf}={text}, {nf}={num + 1}))")
            if not jit_like:
                calls.append(f"{op}({tf}={text})")
            for call in calls:
                body.append("try:")
                body.append(f"    result = {call}")
                body.append("    print(type(result).__name__, result)")
                body.append("except OperatorExecutionError as error:")
                body.append("    print('error', describe(error), type(error.__cause__).__name__)")
            if not jit_like and rng.random() < 0.5:
                body.append("try:")
                body.append(f"    print({op}.forward(inputs=In({tf}={text}, {nf}=2)))")
                body.append("except Exception as error:")
                body.append("    print('forward raised', type(error).__name__)")
            if info["shape"] == "fields" and rng.random() < 0.7:
                body.append("try:")
                body.append(f"    {self.ref(info)}(label='given')")
                body.append("except TypeError as error:")
                body.append("    print('TypeError', str(error).splitlines()[0])")
            if info["shape"] == "stored" and info["required"] and rng.random() < 0.5:
                body.append("try:")
                body.append(f"    {self.ref(info)}()")
                body.append("except TypeError as error:")
                body.append("    print('TypeError', str(error).splitlines()[0])")
        # registry of classes rebuilt by name, with isinstance checks
        plain = [c for c in self.classes if not c["factory"]]
        if plain and rng.random() < 0.7:
            entries = ", ".join(f'"{c["name"].lower()}": {self.ref(c)}' for c in plain)
            body.append(f"registry: Dict[str, Type] = {{{entries}}}")
            body.append("for key in sorted(registry):")
            body.append("    cls = registry[key]")
            body.append(f"    print(key, issubclass(cls, {self.base}), cls.__name__)")
            for k, info in enumerate(self.classes):
                if not info["factory"] and rng.random() < 0.5:
                    body.append(f"print(isinstance(op{k}, {self.base}), isinstance(op{k}, {self.ref(info)}), "
                                f"type(op{k}).__name__)")
                    break
            info = rng.choice(plain)
            if not info["required"]:
                body.append(f'rebuilt = registry["{info["name"].lower()}"]()')
                body.append("print(type(rebuilt).__name__, rebuilt == rebuilt)")
        chainable = [k for k, c in enumerate(self.classes) if c["shape"] != "jit" and not c.get("jit_parent")]
        if len(chainable) >= 2 and rng.random() < 0.7:
            a, b = rng.sample(chainable, 2)
            body.append(f"pipeline = non.Sequential(operators=[op{a}, Rewrap(), op{b}])")
            body.append("try:")
            body.append(f"    print(pipeline(inputs={{{tf!r}: {values[0]}, {nf!r}: 2}}))")
            body.append("except OperatorExecutionError as error:")
            body.append("    print('pipeline error', describe(error))")
        if rng.random() < 0.5:
            count = rng.randint(1, 3)
            body.append(f"ensemble = EnsembleOperator(lm_modules=[canned_lm] * {count})")
            body.append(f"votes = ensemble(inputs={{\"query\": {values[2]}}})")
            body.append("print(votes.responses, MostCommonAnswerSelectorOperator()(responses=votes.responses).final_answer)")
        for line in body:
            w.add(line, 1)
        w.add("")
        w.add("")
        w.add('if __name__ == "__main__":')
        w.add("main()", 1)
        return w.text()


def main():
    seed, count, folder = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = random.Random(seed)
    for n in range(count):
        with open(f"{folder}/r{n:03d}.py", "w", encoding="utf-8") as f:
            f.write(Program(rng, n).build())


main()
