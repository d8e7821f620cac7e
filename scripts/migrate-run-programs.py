#!/usr/bin/env python3
"""Runs Python programs in one interpreter and reports each one's outcome as JSON.

usage: migrate-run-programs.py [--out FILE] [--offline-lm FILE] PROGRAM...
       (run from the programs' folder, with the legacy package on PYTHONPATH)

Each program runs as __main__ (runpy), as `python PROGRAM` would: sys.argv is
[PROGRAM], sys.path[0] is the program's folder, stdout is captured.  After each
program, every module loaded from inside the programs' folder is dropped from
sys.modules, so the next program imports its own modules afresh (the legacy package
and the standard library stay loaded: one process for all programs keeps
ember-migrate's differential runs light on a shared machine).

The result maps each PROGRAM to
  {"status": exit status (0; the SystemExit code; 1 for an uncaught exception),
   "output": captured stdout,
   "exception": type name of the uncaught exception, or null,
   "traceback": its traceback text, or null (paths and lines: not for comparing),
   "stderr": the last 4000 characters written to stderr}
on stdout, or in FILE with --out (safer when programs write to the real stdout).

--offline-lm FILE: for running against the REAL legacy package: load FILE (the
stand-in's ember/core/registry/model/base/services/model_service.py, which imports
nothing from ember) and make the legacy
ember.core.registry.model.model_module.lm.get_default_model_service return its
offline ModelService, so LMModule answers by the stand-in's documented rule instead of
discovering providers over the network.
"""
import contextlib
import importlib.util
import io
import json
import os
import runpy
import sys
import traceback


def install_offline_lm(path):
    spec = importlib.util.spec_from_file_location("_standin_offline_model_service", path)
    service = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(service)
    import ember.core.registry.model.model_module.lm as lm

    lm.get_default_model_service = lambda: service.ModelService()


def exit_status(code):
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    return 1


def run_one(path, root):
    stdout, stderr = io.StringIO(), io.StringIO()
    status, exception, trace = 0, None, None
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = [path]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                runpy.run_path(path, run_name="__main__")
            except SystemExit as e:
                status = exit_status(e.code)
            except BaseException as e:  # noqa: B036 - the program's uncaught exception
                status, exception, trace = 1, type(e).__name__, traceback.format_exc()
    finally:
        sys.argv = saved_argv
        sys.path[:] = saved_path
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None) or ""
            if file.startswith(root + os.sep):
                del sys.modules[name]
    return {"status": status, "output": stdout.getvalue(), "exception": exception,
            "traceback": trace, "stderr": stderr.getvalue()[-4000:]}


def main(argv):
    out, offline, programs = None, None, []
    args = iter(argv)
    for arg in args:
        if arg == "--out":
            out = next(args)
        elif arg == "--offline-lm":
            offline = next(args)
        else:
            programs.append(arg)
    root = os.getcwd()
    sys.path.insert(0, root)
    if offline:
        install_offline_lm(offline)
    results = {path: run_one(path, root) for path in programs}
    if out:
        with open(out, "w", encoding="utf-8") as f:
            json.dump(results, f)
    else:
        json.dump(results, sys.__stdout__)


if __name__ == "__main__":
    main(sys.argv[1:])
