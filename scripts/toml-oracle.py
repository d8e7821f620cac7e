#!/usr/bin/env python3
"""Checks EmberUtils' TOML reader against CPython's tomllib.

  toml-oracle.py check [DIR...]        every .toml under DIR (default fixtures/toml) through
                                       tomllib and through toml-dump; report the agreement
  toml-oracle.py check --record [DIR...]   also write what tomllib says next to each document:
                                       NAME.json (canonical JSON) or NAME.error (the message);
                                       Tests/EmberUtilsTests compares the Swift reader with these
  toml-oracle.py generate --seed S --count N --out DIR
                                       N random documents: about half valid by construction,
                                       half mutated from valid ones (tomllib decides which are
                                       valid; both kinds are written)
  toml-oracle.py fuzz --seed S --count N   generate into a temporary folder and check there

Agreement means: a document tomllib accepts gives the same canonical JSON from both; a document
tomllib rejects (TOMLDecodeError, or not UTF-8) is rejected by toml-dump. One difference is by
design and counted apart: an integer outside the 64-bit range, which tomllib keeps as a big
integer and TOML 1.0 says must be an error; such documents are expected to be rejected.

Canonical JSON (as TOML.canonicalJSON writes it): json.dumps(sort_keys=True, ensure_ascii=False,
separators=(",", ":")) with floats as Python's repr (NaN, Infinity, -Infinity, -0.0) and
date/times as {"$toml:offset-datetime": "YYYY-MM-DDTHH:MM:SS.ffffff+HH:MM"},
{"$toml:local-datetime": ...}, {"$toml:local-date": "YYYY-MM-DD"}, {"$toml:local-time": "HH:MM:SS.ffffff"}.

toml-dump: --dump PATH, or $TOML_DUMP, or built with `swift build --product toml-dump`
(with --scratch-path $TOML_SCRATCH when that is set).
"""
import argparse
import datetime
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import tomllib

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
INT64 = (-(2 ** 63), 2 ** 63 - 1)


class OutOfRange(Exception):
    pass


def canon(value):
    if isinstance(value, dict):
        return {k: canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canon(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not INT64[0] <= value <= INT64[1]:
            raise OutOfRange(value)
        return value
    if isinstance(value, datetime.datetime):
        text = value.strftime("%Y-%m-%dT%H:%M:%S") + ".%06d" % value.microsecond
        text = "%04d" % value.year + text[text.index("-"):]
        if value.tzinfo is None:
            return {"$toml:local-datetime": text}
        minutes = int(value.utcoffset().total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        return {"$toml:offset-datetime": text + "%s%02d:%02d" % (sign, abs(minutes) // 60, abs(minutes) % 60)}
    if isinstance(value, datetime.date):
        return {"$toml:local-date": "%04d-%02d-%02d" % (value.year, value.month, value.day)}
    if isinstance(value, datetime.time):
        return {"$toml:local-time": "%02d:%02d:%02d.%06d" % (value.hour, value.minute, value.second, value.microsecond)}
    return value


def canonical_json(doc):
    return json.dumps(canon(doc), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def tomllib_verdict(data):
    """('json', TEXT) | ('error', MESSAGE) | ('range', MESSAGE) for a document's bytes."""
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        return "error", f"not UTF-8: {e}"
    except tomllib.TOMLDecodeError as e:
        return "error", str(e)
    except RecursionError:
        return "error", "nesting too deep for tomllib (RecursionError)"
    try:
        return "json", canonical_json(doc)
    except OutOfRange as e:
        return "range", f"tomllib accepts the integer {e.args[0]}, outside the 64-bit range; TOML 1.0 requires an error"


def toml_dump_path(args):
    if args.dump:
        return args.dump
    if os.environ.get("TOML_DUMP"):
        return os.environ["TOML_DUMP"]
    cmd = ["swift", "build", "--product", "toml-dump"]
    if os.environ.get("TOML_SCRATCH"):
        cmd += ["--scratch-path", os.environ["TOML_SCRATCH"]]
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run(cmd + ["--show-bin-path"], cwd=ROOT, check=True, capture_output=True, text=True)
    return os.path.join(out.stdout.strip(), "toml-dump")


def run_dump(dump, paths):
    """{path: ('json', TEXT) | ('error', LINE)} from toml-dump --batch."""
    result = {}
    for start in range(0, len(paths), 500):
        chunk = paths[start:start + 500]
        out = subprocess.run([dump, "--batch"] + chunk, check=True, capture_output=True).stdout.decode("utf-8")
        for line in out.split("\n"):
            if not line:
                continue
            path, text = line.split("\t", 1)
            result[path] = ("error", text) if text.startswith("error ") else ("json", text)
    return result


def toml_files(dirs):
    out = []
    for d in dirs:
        for base, _, files in os.walk(d):
            out += [os.path.join(base, f) for f in files if f.endswith(".toml")]
    return sorted(out)


def check(dirs, dump, record=False, quiet=False):
    paths = toml_files(dirs)
    ours = run_dump(dump, paths)
    counts = {"documents": len(paths), "accepted": 0, "rejected": 0, "range": 0, "agree": 0,
              "same-error-line": 0}
    failures = []
    for path in paths:
        with open(path, "rb") as f:
            kind, text = tomllib_verdict(f.read())
        mine_kind, mine = ours[path]
        stem = path[:-len(".toml")]
        if record:
            for ext in (".json", ".error"):
                if os.path.exists(stem + ext):
                    os.remove(stem + ext)
            with open(stem + (".json" if kind == "json" else ".error"), "w", encoding="utf-8") as f:
                f.write(text + "\n")
        if kind == "json":
            counts["accepted"] += 1
            ok = mine_kind == "json" and mine == text
        else:
            counts["rejected" if kind == "error" else "range"] += 1
            ok = mine_kind == "error"
            m = re.search(r"\(at line (\d+),", text)
            n = re.match(r"error (\d+):", mine) if mine_kind == "error" else None
            if m and n and m.group(1) == n.group(1):
                counts["same-error-line"] += 1
        if ok:
            counts["agree"] += 1
        else:
            failures.append((path, kind, text, mine))
    if not quiet or failures:
        for path, kind, text, mine in failures[:20]:
            print(f"DIFFERS {os.path.relpath(path, ROOT)}\n  tomllib: {kind}: {text[:300]}\n  ours:    {mine[:300]}")
        print(f"{counts['documents']} documents: {counts['accepted']} accepted by tomllib, "
              f"{counts['rejected']} rejected, {counts['range']} with an integer outside 64 bits "
              f"(rejected by design); {counts['agree']} agree, {len(failures)} differ; "
              f"{counts['same-error-line']} of the rejections name the same line as tomllib")
    return counts, failures


# MARK: random documents

BARE = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_-"


class Gen:
    def __init__(self, rng):
        self.r = rng

    def chance(self, p):
        return self.r.random() < p

    def key(self):
        r = self.r
        c = r.random()
        if c < 0.75:
            return "".join(r.choice(BARE) for _ in range(r.randint(1, 8)))
        if c < 0.9:
            return '"' + self.basic_body(r.randint(0, 6)) + '"'
        return "'" + "".join(r.choice("ab c.=é#[]\"x") for _ in range(r.randint(0, 6))) + "'"

    def basic_body(self, n):
        r = self.r
        parts = []
        for _ in range(n):
            c = r.random()
            if c < 0.6:
                parts.append(r.choice("abcxyz 0123.=#[]{}'é中😀"))
            elif c < 0.8:
                parts.append(r.choice(["\\n", "\\t", "\\\\", '\\"', "\\b", "\\f", "\\r"]))
            elif c < 0.9:
                parts.append("\\u%04X" % r.choice([0x41, 0xE9, 0x4E2D, 0xD7FF, 0xE000, 0xFFFD, 0x7F, 0x1F]))
            else:
                parts.append("\\U%08x" % r.choice([0x1F600, 0x10FFFF, 0x41, 0x10000]))
        return "".join(parts)

    def string(self):
        r = self.r
        c = r.random()
        if c < 0.4:
            return '"' + self.basic_body(r.randint(0, 10)) + '"'
        if c < 0.6:
            return "'" + "".join(r.choice("abc \\\"é\tx#") for _ in range(r.randint(0, 10))) + "'"
        if c < 0.8:
            body = []
            for _ in range(r.randint(0, 5)):
                body.append(self.basic_body(r.randint(0, 5)))
                body.append(r.choice(["\n", "\\\n   ", "\\  \n\n  ", '"', '""', " "]))
            return self.multiline('"', "".join(body), ['"""', '"""\n'])
        body = "".join(r.choice(["a", "b", "\n", "'", "''", '"', "\\", " ", "é", "\t"]) for _ in range(r.randint(0, 12)))
        return self.multiline("'", body, ["'''", "'''\n"])

    def multiline(self, q, body, starts):
        """A multi-line string: no run of three delimiters inside, and up to two right
        before the closing three only when the body does not end with one already."""
        while q * 3 in body:
            body = body.replace(q * 3, q * 2 + "x")
        if body.endswith("\\") and q == '"':
            body += "x"
        end = q * 3 if body.endswith(q) else self.r.choice([q * 3, q * 4, q * 5])
        return self.r.choice(starts) + body + end

    def digits(self, alphabet, n):
        r = self.r
        s = r.choice(alphabet)
        for _ in range(n - 1):
            if self.chance(0.15):
                s += "_"
            s += r.choice(alphabet)
        return s

    def integer(self):
        r = self.r
        c = r.random()
        if c < 0.5:
            return r.choice(["", "+", "-"]) + r.choice(["0", self.digits("123456789", 1) + self.digits("0123456789", r.randint(1, 18))[1:] if True else ""])
        if c < 0.65:
            return "0x" + self.digits("0123456789abcdefABCDEF", r.randint(1, 15))
        if c < 0.8:
            return "0o" + self.digits("01234567", r.randint(1, 20))
        if c < 0.9:
            return "0b" + self.digits("01", r.randint(1, 62))
        return r.choice(["9223372036854775807", "-9223372036854775808", "0x7FFFFFFFFFFFFFFF", "0o777777777777777777777",
                         "1_000", "-0", "+0", "0"])

    def float(self):
        r = self.r
        c = r.random()
        if c < 0.15:
            return r.choice(["inf", "+inf", "-inf", "nan", "+nan", "-nan", "-0.0", "+0.0", "0.0", "1e400", "-1e400", "1e-400",
                             "5e-324", "1.7976931348623157e308", "0e0", "0.1", "1E+2", "6.626e-34"])
        if c < 0.3:
            return repr(r.uniform(-1e6, 1e6))
        if c < 0.45:
            return repr(r.random() * 10 ** r.randint(-30, 30)).replace("e+", r.choice(["e+", "e", "E+", "E"])).replace("e-", r.choice(["e-", "E-"]))
        sign = r.choice(["", "+", "-"])
        whole = r.choice(["0", self.digits("123456789", 1) + self.digits("0123456789", r.randint(1, 8))])
        frac = "." + self.digits("0123456789", r.randint(1, 12)) if self.chance(0.8) else ""
        exp = r.choice(["e", "E"]) + r.choice(["", "+", "-"]) + self.digits("0123456789", r.randint(1, 3)) if (not frac or self.chance(0.3)) else ""
        return sign + whole + frac + exp

    def datetime(self):
        r = self.r
        y = r.choice(["1979", "2024", "0001", "9999", "2000", "1900", "2023"])
        m = "%02d" % r.randint(1, 12)
        d = "%02d" % r.randint(1, 28 if self.chance(0.8) else 31)
        date = f"{y}-{m}-{d}"
        time = "%02d:%02d:%02d" % (r.randint(0, 23), r.randint(0, 59), r.randint(0, 59))
        if self.chance(0.4):
            time += "." + "".join(r.choice("0123456789") for _ in range(r.randint(1, 12)))
        c = r.random()
        if c < 0.25:
            return date
        if c < 0.4:
            return time
        dt = date + r.choice(["T", "t", " "]) + time
        if c < 0.6:
            return dt
        off = r.choice(["Z", "z", "+00:00", "-00:00", "+05:30", "-08:00", "+23:59", "-23:59"])
        return dt + off

    def scalar(self):
        c = self.r.random()
        if c < 0.35:
            return self.string()
        if c < 0.55:
            return self.integer()
        if c < 0.7:
            return self.float()
        if c < 0.8:
            return self.r.choice(["true", "false"])
        return self.datetime()

    def value(self, depth=0):
        c = self.r.random()
        if depth < 3 and c < 0.12:
            return self.array(depth + 1)
        if depth < 3 and c < 0.2:
            return self.inline(depth + 1)
        return self.scalar()

    def ws(self):
        return self.r.choice(["", " ", "  ", "\t"])

    def array(self, depth):
        r = self.r
        items = [self.value(depth) for _ in range(r.randint(0, 4))]
        if not items:
            return "[" + r.choice(["", " ", "\n", " # c\n"]) + "]"
        out = "["
        for n, item in enumerate(items):
            out += r.choice(["", " ", "\n  ", " # comment\n  "]) + item + self.ws()
            if n < len(items) - 1 or self.chance(0.3):
                out += ","
        return out + r.choice(["", "\n", " # end\n"]) + "]"

    def inline(self, depth):
        r = self.r
        keys = set()
        parts = []
        for _ in range(r.randint(0, 4)):
            k = self.key()
            if k in keys:
                continue
            keys.add(k)
            if self.chance(0.2):
                sub = self.key()
                parts.append(f"{k}.{sub}{self.ws()}={self.ws()}{self.value(depth)}")
                continue
            parts.append(f"{k}{self.ws()}={self.ws()}{self.value(depth)}")
        return "{" + self.ws() + ("," + self.ws()).join(parts) + self.ws() + "}"

    def table_entries(self, depth):
        """A random tree: {key: ('value', text) | ('table', entries) | ('tables', [entries])}."""
        r = self.r
        entries = {}
        for _ in range(r.randint(2, 8) if depth == 0 else r.randint(0, 5)):
            k = self.key()
            if k in entries:
                continue
            c = r.random()
            if depth < 3 and c < 0.2:
                entries[k] = ("table", self.table_entries(depth + 1))
            elif depth < 3 and c < 0.27:
                entries[k] = ("tables", [self.table_entries(depth + 1) for _ in range(r.randint(1, 3))])
            else:
                entries[k] = ("value", self.value())
        return entries

    def emit(self, path, entries, lines, header):
        """Key/values of `entries` under the current header; sub-tables as dotted keys,
        [headers] (before or after this table's own header) or [[arrays of tables]]."""
        r = self.r
        later = []
        early = []
        if header:
            lines.append(header)
        for k, (kind, v) in entries.items():
            if kind == "value":
                lines.append(f"{self.ws()}{k}{self.ws()}={self.ws()}{v}" + self.r.choice(["", "", " # note"]))
            elif kind == "table" and all(kk == "value" for kk, _ in v.values()) and self.chance(0.4):
                for kk, (_, vv) in v.items():
                    lines.append(f"{k}{self.ws()}.{self.ws()}{kk} = {vv}")
                if not v:
                    lines.append(f"{k} = {{}}")
            elif kind == "table":
                (early if self.chance(0.2) and header else later).append((k, kind, v))
            else:
                later.append((k, kind, v))
        for k, kind, v in later + early:
            p = path + [k]
            if kind == "table":
                hidden = not any(kk == "value" for kk, _ in v.values()) and self.chance(0.5)
                self.emit(p, v, lines, None if hidden else "[" + self.ws() + ".".join(p) + self.ws() + "]")
            else:
                for item in v:
                    self.emit(p, item, lines, "[[" + ".".join(p) + "]]" + self.r.choice(["", " # aot"]))
        if header is None and not path:
            return
        if not entries and header is None:
            lines.append("[" + ".".join(path) + "]")

    def document(self):
        r = self.r
        lines = []
        if self.chance(0.3):
            lines.append("# generated document")
        self.emit([], self.table_entries(0), lines, None)
        out = []
        for line in lines:
            out.append(line)
            if self.chance(0.1):
                out.append(r.choice(["", "   ", "# comment", "\t# tab comment"]))
        eol = "\r\n" if self.chance(0.1) else "\n"
        text = eol.join(out)
        if self.chance(0.8):
            text += eol
        return text

    def mutate(self, text):
        r = self.r
        data = text.encode("utf-8")
        for _ in range(r.randint(1, 3)):
            c = r.random()
            pos = r.randint(0, len(data)) if data else 0
            if c < 0.3 and data:
                data = data[:pos] + data[pos + 1:]
            elif c < 0.6:
                ins = r.choice(["=", '"', "'", "[", "]", "{", "}", ",", ".", "#", "\n", " ", "\\", "_", "0", "e", "+", "-",
                                ":", "T", "Z", "\t", "\r", "\x00", "\x7f", "\x1f", "é", "\ufeff", "x", "1", "[[", "]]", '"""', "'''"])
                data = data[:pos] + ins.encode("utf-8") + data[pos:]
            elif c < 0.7:
                lines = data.split(b"\n")
                i = r.randrange(len(lines))
                lines.insert(r.randint(0, len(lines)), lines[i])
                data = b"\n".join(lines)
            elif c < 0.8:
                lines = data.split(b"\n")
                i, j = r.randrange(len(lines)), r.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
                data = b"\n".join(lines)
            elif c < 0.88:
                data = data[:pos]
            elif c < 0.94 and data:
                data = data[:pos] + bytes([r.choice([0x80, 0xC0, 0xE0, 0xED, 0xF5, 0xFF])]) + data[pos + 1:]
            elif data:
                data = data[:pos] + bytes([r.choice(b"=[]{}\"',.#\n xe0")]) + data[pos + 1:]
        return data


def generate(seed, count, out_dir):
    rng = random.Random(seed)
    g = Gen(rng)
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for n in range(count):
        text = g.document()
        data = text.encode("utf-8") if n % 2 == 0 else g.mutate(text)
        path = os.path.join(out_dir, "gen-%d-%04d.toml" % (seed, n))
        with open(path, "wb") as f:
            f.write(data)
        paths.append(path)
    return paths


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("dirs", nargs="*")
    c.add_argument("--record", action="store_true")
    c.add_argument("--dump")
    g = sub.add_parser("generate")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--count", type=int, default=300)
    g.add_argument("--out", required=True)
    f = sub.add_parser("fuzz")
    f.add_argument("--seed", type=int, default=1)
    f.add_argument("--count", type=int, default=2000)
    f.add_argument("--dump")
    args = ap.parse_args()
    if args.cmd == "generate":
        paths = generate(args.seed, args.count, args.out)
        print(f"wrote {len(paths)} documents to {args.out}")
        return 0
    dump = toml_dump_path(args)
    if args.cmd == "check":
        dirs = args.dirs or [os.path.join(ROOT, "fixtures", "toml")]
        _, failures = check(dirs, dump, record=args.record)
        return 1 if failures else 0
    with tempfile.TemporaryDirectory() as tmp:
        generate(args.seed, args.count, tmp)
        _, failures = check([tmp], dump)
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
