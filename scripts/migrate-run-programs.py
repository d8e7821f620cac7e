#!/usr/bin/env python3
"""Runs Python programs in one interpreter and prints their outputs as JSON.

usage: migrate-run-programs.py PROGRAM...   (run from the programs' folder)

Each program runs as __main__ (runpy) with its own namespace and captured stdout; the
result maps each path to {"status": 0 or 1, "output": text}. One process for all programs
keeps ember-migrate's differential tests light on a shared machine.
"""
import contextlib
import io
import json
import os
import runpy
import sys
import traceback

sys.path.insert(0, os.getcwd())
results = {}
for path in sys.argv[1:]:
    buffer = io.StringIO()
    status = 0
    with contextlib.redirect_stdout(buffer):
        try:
            runpy.run_path(path, run_name="__main__")
        except SystemExit as e:
            status = 0 if e.code in (None, 0) else 1
        except BaseException:
            status = 1
            buffer.write(traceback.format_exc())
    # Modules the program imported from its folder are fresh for the next program.
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None) or ""
        if file.startswith(os.getcwd() + os.sep):
            del sys.modules[name]
    results[path] = {"status": status, "output": buffer.getvalue()}
json.dump(results, sys.stdout)
