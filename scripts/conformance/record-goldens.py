#!/usr/bin/env python3
"""Records CPython's answers for the EmberPython unit-test fixtures (run when fixtures change):
  fixtures/python/grammar/X.py -> X.ast  canonical ast.parse dump (as conformance.py)
  fixtures/python/invalid/X.py -> X.err  "LINE: MESSAGE" of CPython's SyntaxError
CPython 3.11's ValueError for null bytes is recorded with 3.12's SyntaxError wording."""
import ast, glob, os, sys
sys.path.insert(0, os.path.dirname(__file__))
from conformance import canonical_ast, rejection

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for path in sorted(glob.glob(os.path.join(ROOT, "fixtures/python/grammar/*.py"))):
    with open(path, "rb") as f:
        tree = ast.parse(f.read())
    with open(path[:-3] + ".ast", "w") as f:
        f.write("\n".join(canonical_ast(tree)) + "\n")
for path in sorted(glob.glob(os.path.join(ROOT, "fixtures/python/invalid/*.py"))):
    with open(path, "rb") as f:
        data = f.read()
    verdict = rejection(data, path)
    if verdict is None:
        raise SystemExit(f"{path}: CPython accepts it; not an invalid fixture")
    line, msg = verdict
    with open(path[:-3] + ".err", "w") as f:
        f.write(f"{line}: {msg}\n")
print("recorded")
