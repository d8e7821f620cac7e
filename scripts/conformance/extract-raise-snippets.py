#!/usr/bin/env python3
"""Writes the source strings a CPython test module expects to raise SyntaxError as .py files
into OUTDIR (default module: test/test_fstring.py of the running interpreter), so that
conformance.py compares our rejections with that interpreter's on them:
  self.assertAllRaise(SyntaxError, regex, ["...", ...])   every string of the list
  self.assertRaises(SyntaxError, compile|eval|exec, "...")  and the `with` form around
  compile/eval/exec("...") calls
  check_syntax_error(self, "..."), self._check_error("...", ...) and like helpers
Only string constants are taken (no computed sources).
  ~/.pyenv/versions/3.12.1/bin/python scripts/conformance/extract-raise-snippets.py /tmp/fs312
  ~/.pyenv/versions/3.12.1/bin/python scripts/conformance/conformance.py /tmp/fs312"""
import ast, os, sys, sysconfig

out = sys.argv[1]
names = sys.argv[2:] or ["test_fstring.py"]
stdlib_test = os.path.join(sysconfig.get_paths()["stdlib"], "test")
os.makedirs(out, exist_ok=True)
count = 0


CHECKERS = {"check_syntax_error", "_check_error", "assertSyntaxError", "check_syntax", "_check_syntax_error",
            "assert_syntax_error", "check_invalid", "assertInvalid"}


def is_syntax_error(node):
    return isinstance(node, ast.Name) and node.id in ("SyntaxError", "IndentationError", "TabError")


def strings(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


for name in names:
    path = name if os.path.isabs(name) else os.path.join(stdlib_test, name)
    if not os.path.exists(path):
        print(f"{name}: not in this version's test suite", file=sys.stderr)
        continue
    tree = ast.parse(open(path, encoding="utf-8").read())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            # Helpers that compile a source and expect a SyntaxError:
            # check_syntax_error(self, "..."), self._check_error("...", ...), ...
            fname = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if fname in CHECKERS:
                args = [a for a in node.args if not (isinstance(a, ast.Name) and a.id == "self")]
                if args:
                    found += strings(args[0])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr, args = node.func.attr, node.args
            if attr == "assertAllRaise" and len(args) >= 3 and is_syntax_error(args[0]):
                found += strings(args[2])
            elif attr == "assertRaises" and len(args) >= 3 and is_syntax_error(args[0]) \
                    and isinstance(args[1], ast.Name) and args[1].id in ("compile", "eval", "exec"):
                found += strings(args[2])
        if isinstance(node, ast.With):
            items = node.items
            if any(isinstance(i.context_expr, ast.Call) and isinstance(i.context_expr.func, ast.Attribute)
                   and i.context_expr.func.attr in ("assertRaises", "assertRaisesRegex")
                   and i.context_expr.args and is_syntax_error(i.context_expr.args[0]) for i in items):
                for inner in ast.walk(ast.Module(body=node.body, type_ignores=[])):
                    if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) \
                            and inner.func.id in ("compile", "eval", "exec") and inner.args:
                        found += strings(inner.args[0])
    base = os.path.basename(path)[:-3]
    for k, text in enumerate(found):
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            continue  # lone surrogates: not a file
        with open(os.path.join(out, f"{base}_{k:04d}.py"), "wb") as f:
            f.write(data)
        count += 1
print(f"wrote {count} snippets to {out}")
