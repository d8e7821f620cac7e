#!/usr/bin/env python3
"""Records one CPython version's answers for fixtures/python/versions/3.N (run with that
version's interpreter, e.g. `~/.pyenv/versions/3.12.1/bin/python scripts/conformance/record-version-goldens.py`):
  versions/3.N/valid/X.py   -> X.tokens  "KIND L:C-L:C" per token of tokenize (ENCODING dropped)
                            -> X.ast     canonical ast.parse dump, f-string parts included
                            -> X.full    the full tree (conformance.full_ast: every node and
                                         field value, as PythonSyntaxTree.fullDump)
  versions/3.N/invalid/X.py -> X.err     "LINE: MESSAGE" of ast.parse's SyntaxError
A fixture is refused when the interpreter does not agree it is valid (or invalid)."""
import ast, glob, os, sys, tokenize, warnings
sys.path.insert(0, os.path.dirname(__file__))
from conformance import canonical_ast, full_ast, rejection

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
version = f"{sys.version_info[0]}.{sys.version_info[1]}"
base = os.path.join(ROOT, "fixtures/python/versions", version)
warnings.simplefilter("ignore")
count = 0
for path in sorted(glob.glob(os.path.join(base, "valid/*.py"))):
    with open(path, "rb") as f:
        data = f.read()
    if not data.isascii():
        raise SystemExit(f"{path}: keep fixtures ASCII (token columns are characters)")
    tree = compile(data, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    with open(path[:-3] + ".ast", "w") as f:
        f.write("\n".join(canonical_ast(tree)) + "\n")
    with open(path[:-3] + ".full", "w") as f:
        f.write("\n".join(full_ast(tree)) + "\n")
    with open(path, "rb") as f:
        toks = [t for t in tokenize.tokenize(f.readline) if t.type != tokenize.ENCODING]
    with open(path[:-3] + ".tokens", "w") as f:
        for t in toks:
            f.write(f"{tokenize.tok_name[t.type]} {t.start[0]}:{t.start[1]}-{t.end[0]}:{t.end[1]}\n")
    count += 1
for path in sorted(glob.glob(os.path.join(base, "invalid/*.py"))):
    with open(path, "rb") as f:
        data = f.read()
    verdict = rejection(data, path)
    if verdict is None:
        raise SystemExit(f"{path}: Python {version} accepts it; not an invalid fixture")
    line, msg = verdict
    with open(path[:-3] + ".err", "w") as f:
        f.write(f"{line}: {msg}\n")
    count += 1
print(f"Python {version}: {count} fixtures recorded in {base}")
