#!/usr/bin/env python3
"""Writes the deep-nesting fixtures of EmberPython's tests (run once; the files are kept):
  fixtures/python/invalid/deep_*.py   10,000 nested brackets of the forms that once crashed
                                      the parser (CPython: "too many nested parentheses");
                                      scripts/conformance/record-goldens.py records their .err
  fixtures/python/grammar/deep_*.py   the deepest forms CPython 3.11-3.13 all accept
                                      (1,200 unary minus, ...); record-goldens.py records .ast
  fixtures/python/fuzz/*.py           programs from fuzz-nesting crash inputs (nesting-recipe-to-python.sh)
                                      and nestings deeper than any CPython accepts; ParserTests
                                      parses each on the main thread and on a 512 KB thread"""
import os
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
N = 10_000

def write(rel, text):
    path = os.path.join(ROOT, "fixtures/python", rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)

# The crashing forms: each nests through a path without the old depth check.
invalid = {
    "deep_star_list": "x = " + "*[" * N + "1" + "]" * N + ",\n",
    "deep_star_paren": "x = " + "*(" * N + "1" + ",)" * N + ",\n",
    "deep_set_star": "x = " + "{*" * N + "1" + "}" * N + "\n",
    "deep_dict_unpack": "x = " + "{**" * N + "{}" + "}" * N + "\n",
    "deep_list_comprehension": "x = " + "[i for i in " * N + "y" + "]" * N + "\n",
    # Found by fuzz-nesting (x[*x[*...): a subscript's bracket was not a level either.
    "deep_subscript_star": "x = " + "x[*" * N + "1" + "]" * N + "\n",
    "deep_call_star": "x = " + "f(*" * N + "1" + ")" * N + "\n",
}
for name, text in invalid.items():
    write(f"invalid/{name}.py", "import os\n" + text)

grammar = {
    "deep_unary": "y = " + "-" * 1200 + "1\n" + "z = " + "~+" * 600 + "1\n",
    "deep_not": "y = " + "not " * 1200 + "x\n",
    "deep_conditional": "y = " + "a if b else " * 1200 + "c\n",
    "deep_power": "y = " + "2 ** -" * 600 + "2\n",
    "deep_lambda": "y = " + "lambda: " * 1200 + "1\n",
    "deep_chain": "y = x" + ".a()[0]" * 400 + " + 1" * 1200 + "\n",
    "deep_brackets": "y = " + "[*(" * 100 + "1" + ",)]" * 100 + "\n" + "z = " + "{**{1: f(x[" * 50 + "1" + "])}}" * 50 + "\n",
}
for name, text in grammar.items():
    write(f"grammar/{name}.py", text)

# Deeper than CPython goes (it gives RecursionError or MemoryError, not a SyntaxError):
# a "too deeply nested" diagnostic on the line where the limit is passed.
fuzz = {
    "too_deep_unary": "import os\n\ny = " + "-" * 5000 + "1\n",
    "too_deep_chain": "import os\ny = (\n" + "    1 +\n" * 5000 + "    1)\n",
    "too_deep_lambda": "y = " + "lambda: " * 4000 + "1\n",
    "too_deep_blocks": "".join(" " * i + "if x:\n" for i in range(150)) + " " * 150 + "pass\n",
}
for name, text in fuzz.items():
    write(f"fuzz/{name}.py", text)
print("written")
