#!/usr/bin/env python3
"""Plain-Python peer for `ember-bench import` timing: json.load a hyperfine file, then
store one row per command with its times as a BLOB of little-endian float64 (the
ember-bench layout) in one sqlite3 transaction. Usage:
    python3 scripts/bench/import_peer.py FILE.json STORE.sqlite
"""
import array
import json
import sqlite3
import sys


def main():
    path, store = sys.argv[1], sys.argv[2]
    with open(path) as f:
        doc = json.load(f)
    db = sqlite3.connect(store)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS results(run INTEGER, name TEXT, samples BLOB)")
    run = (db.execute("SELECT coalesce(max(run), 0) + 1 FROM results").fetchone())[0]
    with db:
        db.executemany(
            "INSERT INTO results VALUES (?, ?, ?)",
            ((run, "hyperfine/" + r["command"], array.array("d", (t * 1e9 for t in r["times"])).tobytes())
             for r in doc["results"]),
        )
    db.close()


if __name__ == "__main__":
    main()
