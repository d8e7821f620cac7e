#!/usr/bin/env python3
"""Whole-process timings of several commands run in alternation, for a noisy machine.

hyperfine runs all of one command's runs, then the next command's; on a shared VM whose
speed drifts over seconds, that drift lands on one command more than the other. Here
the commands take turns (the order flips every round), so drift hits them alike, and the
ratio of medians is the figure to read. Output goes to /dev/null, as with hyperfine -N.

Usage: scripts/alternate-runs.py RUNS 'COMMAND 1' 'COMMAND 2' ...   (run in the tree's folder)
Example (docs/ember-lint.md, Speed):
  cd /tmp/lintscratch/trees/stdlib && scripts/alternate-runs.py 20 \\
      'ember-lint --no-cache .' 'env -C ../stdlib-tach-every-module tach check'
"""
import os
import shlex
import statistics
import sys
import time


def run_once(argv, devnull):
    start = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ,
                          file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    os.waitpid(pid, 0)
    return time.perf_counter() - start


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    runs = int(sys.argv[1])
    commands = [shlex.split(c) for c in sys.argv[2:]]
    devnull = os.open(os.devnull, os.O_WRONLY)
    times = [[] for _ in commands]
    for argv in commands:  # warm-up: page cache, dentries
        for _ in range(2):
            run_once(argv, devnull)
    for round_ in range(runs):
        order = range(len(commands)) if round_ % 2 == 0 else reversed(range(len(commands)))
        for k in order:
            times[k].append(run_once(commands[k], devnull))
    medians = [statistics.median(t) for t in times]
    for k, argv in enumerate(commands):
        print(f"{medians[k] * 1000:9.1f} ms  (x{medians[k] / medians[0]:6.2f} the first)  {' '.join(argv)}")


if __name__ == "__main__":
    main()
