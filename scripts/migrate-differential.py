#!/usr/bin/env python3
"""Differential execution of legacy Ember programs before and after ember-migrate.

usage: migrate-differential.py --ember-migrate BIN [--runtime FILE] [--legacy-root DIR]
                               [--python PY] [--keep DIR] [--format text|json]
                               [--before-only] PROGRAMS_DIR [NAMES...]

1. Copies PROGRAMS_DIR to a work folder (a temporary one, or DIR with --keep).
2. "before": runs every program (each top-level *.py of the folder, or the NAMES given,
   as file names, stems or the part before the first "_", e.g. p07) with the legacy package on PYTHONPATH, all in one
   interpreter (scripts/migrate-run-programs.py: each program as __main__ with captured
   stdout, its own modules re-imported afresh), recording stdout, exit status and the
   type name of an uncaught exception.
3. Runs `BIN --write WORK` once over the whole copy.
4. Places the runtime: `--runtime FILE` is copied to WORK/ember_runtime.py; otherwise
   `BIN --emit-runtime WORK/ember_runtime.py` writes it.
5. "after": runs the programs again the same way.
6. Compares stdout, exit status and exception type per program; also checks that
   `BIN --check WORK` then reports nothing to change (exit 0) and that every file the
   migration changed parses with `ast` under the given python and, when present, under
   python3.12 (PATH or pyenv).

--legacy-root: the legacy package to put on PYTHONPATH (default: the stand-in,
fixtures/migrate/legacy-ember).  Any other root is taken to be the REAL legacy package
(e.g. /tmp/corpus/ember-legacy-d10ac755/src, with --python from a venv that has its
third-party dependencies: scripts/migrate-legacy-venv.sh); its LMModule then gets the
stand-in's offline model service (see migrate-run-programs.py --offline-lm).
--before-only: stop after step 2 (and print the outcomes): to check programs or the
stand-in without a migration tool.  With --compare-root DIR [--compare-python PY], the
before-run is also done with that legacy root and compared (e.g. the stand-in against
the real package): exit 1 when a program disagrees.

Exit status: 0 all programs agree (and the check and parse steps passed); 1 some
program differs, or --check/parse failed; 2 harness error (missing tool, runner crash,
runtime not available, bad arguments).
"""
import argparse
import difflib
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
STANDIN = os.path.join(REPO, "fixtures", "migrate", "legacy-ember")
RUNNER = os.path.join(HERE, "migrate-run-programs.py")
OFFLINE_LM = os.path.join(STANDIN, "ember", "core", "registry", "model", "base", "services", "model_service.py")
RUNTIME_NAME = "ember_runtime.py"


class HarnessError(Exception):
    pass


def is_standin(root):
    return os.path.realpath(root) == os.path.realpath(STANDIN)


def discover(folder, names):
    mains = sorted(f for f in os.listdir(folder)
                   if f.endswith(".py") and f != RUNTIME_NAME and os.path.isfile(os.path.join(folder, f)))
    if not names:
        return mains
    chosen = []
    for name in names:
        match = [m for m in mains if name in (m, m[:-3], m.split("_")[0])]
        if not match:
            raise HarnessError(f"no program named {name!r} in {folder}")
        chosen.extend(m for m in match if m not in chosen)
    return chosen


def run_programs(python, legacy_root, work, programs):
    env = dict(os.environ)
    env.update({"PYTHONPATH": os.path.abspath(legacy_root), "PYTHONHASHSEED": "0",
                "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"})
    fd, out = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    command = [python, RUNNER, "--out", out]
    if not is_standin(legacy_root):
        command += ["--offline-lm", OFFLINE_LM]
    try:
        done = subprocess.run(command + programs, cwd=work, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise HarnessError(f"program runner failed (exit {done.returncode}): {done.stderr[-2000:]}")
        with open(out, encoding="utf-8") as f:
            return json.load(f)
    finally:
        os.unlink(out)


def tool(bin_path, args):
    try:
        return subprocess.run([bin_path] + args, capture_output=True, text=True)
    except OSError as error:
        raise HarnessError(f"cannot run {bin_path}: {error}")


def python312():
    """A working python3.12 (pyenv's versions, then PATH; pyenv shims may not run), or None."""
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = sorted(glob.glob(os.path.join(root, "versions", "3.12*", "bin", "python3.12")), reverse=True)
    if shutil.which("python3.12"):
        candidates.append(shutil.which("python3.12"))
    for candidate in candidates:
        try:
            done = subprocess.run([candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 12)"],
                                  capture_output=True)
        except OSError:
            continue
        if done.returncode == 0:
            return candidate
    return None


PARSE_SCRIPT = r"""
import ast, json, sys, tokenize
bad = {}
for path in sys.argv[1:]:
    try:
        with tokenize.open(path) as f:
            ast.parse(f.read(), filename=path)
    except (SyntaxError, UnicodeDecodeError, ValueError) as e:
        bad[path] = f"{type(e).__name__}: {e}"
print(json.dumps(bad))
"""


def parse_check(python, work, files):
    if not files:
        return {}
    done = subprocess.run([python, "-c", PARSE_SCRIPT] + files, cwd=work, capture_output=True, text=True)
    if done.returncode != 0:
        raise HarnessError(f"{python}: parse check failed to run: {done.stderr[-1000:]}")
    return json.loads(done.stdout)


def python_version(python):
    done = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                          capture_output=True, text=True)
    return done.stdout.strip() or "?"


def snapshot(folder):
    """Bytes of every file under folder, by relative path."""
    files = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, folder)] = f.read()
    return files


def compare(before, after, programs):
    results = []
    for program in programs:
        b, a = before[program], after.get(program)
        entry = {"program": program, "before": {k: b[k] for k in ("status", "exception")},
                 "after": {k: a[k] for k in ("status", "exception")} if a else None, "differences": []}
        if a is None:
            entry["differences"].append("not run after migration")
        else:
            if b["output"] != a["output"]:
                entry["differences"].append("stdout")
                entry["stdout_diff"] = "".join(difflib.unified_diff(
                    b["output"].splitlines(True), a["output"].splitlines(True), "before", "after", n=1))
            if b["status"] != a["status"]:
                entry["differences"].append("exit status")
            if b["exception"] != a["exception"]:
                entry["differences"].append("exception type")
            if entry["differences"] and a.get("traceback"):
                entry["after_traceback"] = a["traceback"][-1500:]
        entry["verdict"] = "different" if entry["differences"] else "same"
        results.append(entry)
    return results


def text_report(report):
    lines = []
    for entry in report["programs"]:
        b = entry["before"]
        outcome = f"exit {b['status']}" + (f", {b['exception']}" if b["exception"] else "")
        if entry["verdict"] == "same":
            lines.append(f"same       {entry['program']}  ({outcome})")
        else:
            lines.append(f"DIFFERENT  {entry['program']}: {', '.join(entry['differences'])}  (before: {outcome}; "
                         f"after: exit {entry['after']['status'] if entry['after'] else '-'}"
                         f"{', ' + entry['after']['exception'] if entry['after'] and entry['after']['exception'] else ''})")
            for line in entry.get("stdout_diff", "").splitlines()[:40]:
                lines.append("    " + line)
            if entry.get("after_traceback"):
                lines.append("    after, last traceback lines:")
                for line in entry["after_traceback"].strip().splitlines()[-4:]:
                    lines.append("      " + line)
    s = report["summary"]
    lines.append(f"{s['programs']} programs: {s['same']} same, {s['different']} different")
    for step in ("write", "check", "parse"):
        if step in report:
            lines.append(f"{step}: {report[step]['verdict']}" + (f" ({report[step]['detail']})" if report[step].get("detail") else ""))
    lines.append("result: " + report["result"])
    return "\n".join(lines)


def before_only_report(before, programs, other=None):
    entries = []
    for program in programs:
        b = before[program]
        entry = {"program": program, "status": b["status"], "exception": b["exception"], "output": b["output"]}
        if other is not None:
            o = other[program]
            entry["agrees"] = (o["output"], o["status"], o["exception"]) == (b["output"], b["status"], b["exception"])
            if not entry["agrees"]:
                entry["diff"] = "".join(difflib.unified_diff(
                    o["output"].splitlines(True), b["output"].splitlines(True), "compare-root", "legacy-root", n=1))
                entry["compare"] = {"status": o["status"], "exception": o["exception"]}
        entries.append(entry)
    return entries


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ember-migrate", dest="bin")
    parser.add_argument("--runtime")
    parser.add_argument("--legacy-root", default=STANDIN)
    parser.add_argument("--compare-root")
    parser.add_argument("--compare-python")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--keep")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.add_argument("--before-only", action="store_true")
    parser.add_argument("programs_dir")
    parser.add_argument("names", nargs="*")
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        return run(args)
    except HarnessError as error:
        if args.format == "json":
            print(json.dumps({"result": "harness error", "error": str(error)}))
        else:
            print(f"harness error: {error}", file=sys.stderr)
        return 2


def run(args):
    if not os.path.isdir(args.programs_dir):
        raise HarnessError(f"not a folder: {args.programs_dir}")
    if not args.before_only and not args.bin:
        raise HarnessError("--ember-migrate BIN is required (or --before-only)")
    if args.bin and not (os.path.isfile(args.bin) and os.access(args.bin, os.X_OK)):
        raise HarnessError(f"not an executable: {args.bin}")
    if args.runtime and not os.path.isfile(args.runtime):
        raise HarnessError(f"no runtime file: {args.runtime}")
    if not os.path.isdir(os.path.join(args.legacy_root, "ember")):
        raise HarnessError(f"no ember package in legacy root {args.legacy_root}")
    if args.keep:
        if os.path.exists(args.keep) and os.listdir(args.keep):
            raise HarnessError(f"--keep folder is not empty: {args.keep}")
        parent = args.keep
        os.makedirs(parent, exist_ok=True)
    else:
        parent = tempfile.mkdtemp(prefix="migrate-differential-")
    work = os.path.join(parent, "programs")
    try:
        shutil.copytree(args.programs_dir, work, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        programs = discover(work, args.names)
        if not programs:
            raise HarnessError("no programs")
        before = run_programs(args.python, args.legacy_root, work, programs)
        if args.before_only:
            other = run_programs(args.compare_python or args.python, args.compare_root, work,
                                 programs) if args.compare_root else None
            entries = before_only_report(before, programs, other)
            if args.format == "json":
                print(json.dumps({"programs": entries}, indent=1))
            else:
                for e in entries:
                    tail = ""
                    if other is not None:
                        tail = "  agrees" if e["agrees"] else f"  DISAGREES (compare-root: exit {e['compare']['status']}, {e['compare']['exception']})"
                    print(f"{e['program']}: exit {e['status']}" + (f", {e['exception']}" if e["exception"] else "") + tail)
                    for line in e.get("diff", "").splitlines()[:40]:
                        print("    " + line)
                if other is not None:
                    agree = sum(e["agrees"] for e in entries)
                    print(f"{agree} of {len(entries)} programs agree")
            if other is not None and not all(e["agrees"] for e in entries):
                return 1
            return 0

        original = snapshot(work)
        report = {"work": work}
        written = tool(args.bin, ["--write", work])
        report["write"] = {"exit": written.returncode, "verdict": "ok" if written.returncode in (0, 3) else "failed",
                           "detail": f"exit {written.returncode}", "stderr_tail": written.stderr[-3000:]}
        if written.returncode not in (0, 3):
            raise HarnessError(f"{args.bin} --write failed (exit {written.returncode}): {written.stderr[-1500:]}")
        changed = sorted(p for p, data in snapshot(work).items() if p.endswith(".py") and original.get(p) != data)

        runtime_target = os.path.join(work, RUNTIME_NAME)
        if args.runtime:
            shutil.copyfile(args.runtime, runtime_target)
        else:
            emitted = tool(args.bin, ["--emit-runtime", runtime_target])
            if emitted.returncode != 0 or not os.path.isfile(runtime_target):
                raise HarnessError(f"{args.bin} --emit-runtime failed (exit {emitted.returncode}): "
                                   f"{emitted.stderr[-800:]} (pass --runtime FILE instead)")

        after = run_programs(args.python, args.legacy_root, work, programs)
        report["programs"] = compare(before, after, programs)

        checked = tool(args.bin, ["--check", work])
        report["check"] = {"exit": checked.returncode, "verdict": "ok" if checked.returncode == 0 else "failed",
                           "detail": "nothing to change" if checked.returncode == 0 else
                           f"exit {checked.returncode}: {(checked.stdout + checked.stderr)[-600:]}"}

        parse_failures = {}
        versions = []
        pythons = [args.python]
        extra = python312()
        if extra and python_version(extra) != python_version(args.python):
            pythons.append(extra)
        for py in pythons:
            version = python_version(py)
            versions.append(version)
            for path, error in parse_check(py, work, changed).items():
                parse_failures.setdefault(path, {})[version] = error
        report["parse"] = {"verdict": "ok" if not parse_failures else "failed", "files": len(changed),
                           "pythons": versions, "failures": parse_failures,
                           "detail": f"{len(changed)} changed files, python {', '.join(versions)}"
                           + (f"; {len(parse_failures)} do not parse" if parse_failures else "")}
        same = sum(1 for e in report["programs"] if e["verdict"] == "same")
        report["summary"] = {"programs": len(programs), "same": same, "different": len(programs) - same,
                             "changed_files": len(changed)}
        failed = report["summary"]["different"] or report["check"]["verdict"] != "ok" or parse_failures
        report["result"] = "failed" if failed else "passed"
        if args.format == "json":
            print(json.dumps(report, indent=1))
        else:
            print(text_report(report))
        return 1 if failed else 0
    finally:
        if not args.keep:
            shutil.rmtree(parent, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
