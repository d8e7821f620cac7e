#!/usr/bin/env python3
"""Writes every doctest example of a CPython test module (default: test/test_syntax.py)
as its own .py file into OUTDIR, so conformance.py can compare rejections and trees on
hundreds of small, mostly invalid, programs:
  scripts/conformance/extract-doctest-snippets.py /tmp/syntax-snippets
  scripts/conformance/conformance.py /tmp/syntax-snippets"""
import ast, doctest, os, sys, sysconfig

out = sys.argv[1]
source = sys.argv[2] if len(sys.argv) > 2 else os.path.join(sysconfig.get_paths()["stdlib"], "test", "test_syntax.py")
os.makedirs(out, exist_ok=True)
module = ast.parse(open(source, encoding="utf-8").read())
docstrings = [ast.get_docstring(module, clean=False) or ""]
docstrings += [ast.get_docstring(n, clean=False) or "" for n in ast.walk(module)
               if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))]
parser = doctest.DocTestParser()
examples = []
for doc in docstrings:
    try:
        examples += parser.get_examples(doc)
    except ValueError:
        pass
count = 0
for k, example in enumerate(examples):
    with open(os.path.join(out, f"{os.path.basename(source)[:-3]}_{k:04d}.py"), "w", encoding="utf-8") as f:
        f.write(example.source)
    count += 1
print(f"wrote {count} snippets to {out}")
