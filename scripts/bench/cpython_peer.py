#!/usr/bin/env python3
"""Peer for scripts/bench/python.sh: CPython's tokenize or ast.parse over a file list."""
import ast, sys, tokenize
mode, listing = sys.argv[1], sys.argv[2]
for path in open(listing).read().split("\n"):
    if not path:
        continue
    try:
        with open(path, "rb") as f:
            if mode == "tokenize":
                for _ in tokenize.tokenize(f.readline):
                    pass
            else:
                ast.parse(f.read())
    except (SyntaxError, ValueError, tokenize.TokenError):
        pass
