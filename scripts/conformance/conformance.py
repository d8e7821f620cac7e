#!/usr/bin/env python3
"""Compare EmberPython with CPython (the oracle) over a tree of .py files.

Usage: PYTHON scripts/conformance/conformance.py [TREE ...] [--dump BIN] [--report FILE] [--no-ast]
                                               [--target-version 3.N]
Default TREE: the running interpreter's stdlib (sysconfig "stdlib"), excluding site-packages.
The oracle is the running interpreter: run the script with python3.12 to compare with 3.12
(`~/.pyenv/versions/3.12.1/bin/python scripts/conformance/conformance.py`). The target
version given to ember-python-dump defaults to the interpreter's own.
BIN defaults to .build/release/ember-python-dump, else .build/debug/ember-python-dump.

Reports four figures:
  tokens     identical token streams vs tokenize.tokenize (files CPython can tokenize)
  ast        identical full trees vs ast.parse (files CPython can parse): every node, helper
             nodes included, with every field value and position (full_ast below, and
             PythonSyntaxTree.fullDump); --positions-only compares the older form, kind and
             position of each statement and expression
  roundtrip  byte-exact reconstruction of the text from tokens + trivia (all files)
  rejects    files CPython rejects that we reject at the same line

Position conventions (why the script converts):
  * EmberPython reports UTF-8 byte offsets into the decoded text. tokenize reports
    (line, column) with columns in *characters* and lines split on "\\n" only; the script
    maps our offsets the same way. ast reports columns in UTF-8 bytes with universal
    newlines; the script maps our offsets that way for trees.
  * When a file does not end with a newline, tokenize puts its implicit NEWLINE ''
    / DEDENT / ENDMARKER on a line after the last one; we put them at the end of the
    text. That trailing run of empty tokens is compared by type only.
  * The ENCODING token is not produced (the encoding is PythonSource.encoding).
"""
import argparse, ast, io, json, os, re, subprocess, sys, sysconfig, tokenize, bisect

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def collect(trees):
    files = []
    for tree in trees:
        if os.path.isfile(tree):
            files.append(tree)
            continue
        for d, ds, fs in os.walk(tree):
            ds[:] = sorted(x for x in ds if x != "site-packages")
            files += [os.path.join(d, f) for f in sorted(fs) if f.endswith(".py")]
    return files


def run_dump(binary, mode, files, extra=()):
    listing = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"ember-conformance-{os.getpid()}.list")
    with open(listing, "w") as f:
        f.write("\n".join(files) + "\n")
    out = subprocess.run([binary, mode, *extra, "@" + listing], capture_output=True, check=True).stdout
    os.unlink(listing)
    result = {}
    for line in out.splitlines():
        obj = json.loads(line)
        result[obj["file"]] = obj
    return result


def decoded_text(path):
    with open(path, "rb") as f:
        raw = f.read()
    enc, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    return raw.decode(enc)  # utf-8-sig strips the BOM, as PythonSource.text does


class CharMapper:
    """Byte offset -> (line, column in characters), lines split on \\n (tokenize.py)."""
    def __init__(self, data: bytes):
        self.data = data
        self.ascii = data.isascii()
        starts = [0]
        i = data.find(b"\n")
        while i >= 0:
            starts.append(i + 1)
            i = data.find(b"\n", i + 1)
        self.starts = starts

    def __call__(self, off):
        i = bisect.bisect_right(self.starts, off) - 1
        s = self.starts[i]
        if self.ascii:
            return (i + 1, off - s)
        return (i + 1, len(self.data[s:off].decode("utf-8", errors="replace")))

    def end(self, start, off):
        """tokenize.py ends a token that ends with a line break on that same line."""
        if off > start and self.data[off - 1] == 0x0A:
            line, col = self(off - 1)
            return (line, col + 1)
        return self(off)


class ByteMapper:
    """Byte offset -> (line, byte column), universal newlines (ast / LineTable)."""
    def __init__(self, data: bytes):
        starts = [0]
        i, n = 0, len(data)
        while i < n:
            b = data[i]
            if b == 0x0A:
                starts.append(i + 1)
            elif b == 0x0D:
                if i + 1 < n and data[i + 1] == 0x0A:
                    i += 1
                starts.append(i + 1)
            i += 1
        self.starts = starts

    def __call__(self, off):
        i = bisect.bisect_right(self.starts, off) - 1
        return (i + 1, off - self.starts[i])


def trailing_empty(toks):
    k = len(toks)
    # (3.12's tokenize adds an NL '' after a last line of only whitespace, ending one column on.)
    while k > 0 and toks[k - 1][1] == "" and toks[k - 1][0] in ("NEWLINE", "NL", "DEDENT", "ENDMARKER"):
        k -= 1
    return k


def oracle_tokens(path):
    with open(path, "rb") as f:
        toks = list(tokenize.tokenize(f.readline))
    return [(tokenize.tok_name[t.type], t.string, t.start, t.end) for t in toks if t.type != tokenize.ENCODING]


def our_token(cmap, data, k, s, e):
    text = data[s:e].decode("utf-8", errors="replace")
    if k == "FSTRING_MIDDLE" and (text.endswith("{{") or text.endswith("}}")):
        # 3.12's tokenize gives a middle ending in a doubled brace one brace of text and
        # ends it one character early; ours holds both braces (it stays lossless).
        return (k, text[:-1], cmap(s), cmap.end(s, e - 1))
    if k == "FSTRING_MIDDLE":
        # A middle ending in a line break ends at the next line's start in 3.12's tokenize
        # (other tokens ending in one end on their own line).
        return (k, text, cmap(s), cmap(e))
    return (k, text, cmap(s), cmap.end(s, e))


def compare_tokens(path, ours, data, ends_with_newline):
    theirs = oracle_tokens(path)
    cmap = CharMapper(data)
    mine = [our_token(cmap, data, k, s, e) for k, s, e in ours["tokens"]]
    if not ends_with_newline:
        kt, km = trailing_empty(theirs), trailing_empty(mine)
        theirs = theirs[:kt] + [(t[0], "", "EOF", "EOF") for t in theirs[kt:]]
        mine = mine[:km] + [(t[0], "", "EOF", "EOF") for t in mine[km:]]
    if theirs == mine:
        return None
    for i, (a, b) in enumerate(zip(theirs, mine)):
        if a != b:
            return f"token {i}: cpython {a} ours {b}"
    return f"length: cpython {len(theirs)} ours {len(mine)}; first extra: {(theirs + mine)[min(len(theirs), len(mine))]}"


def rejection(data, path):
    """CPython's verdict on invalid source: (line, message) of its SyntaxError, or None
    when it parses. A NUL byte (3.11's ValueError, 3.12's SyntaxError) is recorded with
    3.12's wording at line 1."""
    try:
        compile(data, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        return None
    except SyntaxError as e:
        if "null bytes" in e.msg:
            return 1, "source code cannot contain null bytes"
        return e.lineno, e.msg
    except ValueError:
        return 1, "source code cannot contain null bytes"


def canonical_ast(tree, skip_fstring_parts=False):
    """Node type and (lineno, col, end_lineno, end_col) for every stmt and expr, pre-order.
    skip_fstring_parts drops JoinedStr, FormattedValue and the literal Constants directly in
    a JoinedStr (for --pep701, where those spans follow 3.12)."""
    out = []
    # Without recursion: trees nest as deep as CPython allows (about 3,000 levels).
    stack = [(tree, None)]
    while stack:
        node, parent = stack.pop()
        skip = skip_fstring_parts and (isinstance(node, (ast.JoinedStr, ast.FormattedValue))
                                       or isinstance(node, ast.Constant) and isinstance(parent, ast.JoinedStr))
        if isinstance(node, (ast.stmt, ast.expr)) and not skip:
            out.append(f"{type(node).__name__} {node.lineno}:{node.col_offset}-{node.end_lineno}:{node.end_col_offset}")
        stack.extend((child, node) for child in reversed(list(ast.iter_child_nodes(node))))
    return out


_SCALAR_NODES = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)


# Identifier fields that may be None (the others are child nodes when None).
_NULLABLE_SCALARS = ("module", "asname", "name", "arg", "rest", "kind")
_VALUE_NODES = tuple(getattr(ast, n) for n in ("Constant", "MatchSingleton") if hasattr(ast, n))


def _escaped(chars):
    return "".join(chr(c) if 0x20 <= c < 0x7F and c not in (0x22, 0x5C) else f"\\u{{{c:x}}}" for c in chars)


def constant_text(v):
    """A constant's value as PythonSyntaxTree.fullDump writes it."""
    if v is None or v is True or v is False:
        return repr(v)
    if v is Ellipsis:
        return "Ellipsis"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "f:" + repr(v)
    if isinstance(v, complex):
        return "j:" + repr(v.imag)
    if isinstance(v, str):
        return 's:"' + _escaped(map(ord, v)) + '"'
    if isinstance(v, bytes):
        return 'b:"' + _escaped(v) + '"'
    return "?" + repr(v)


def _scalar(v):
    if isinstance(v, _SCALAR_NODES):
        return type(v).__name__
    if isinstance(v, list):
        return "[" + ",".join(_scalar(x) for x in v) + "]"
    return str(v)


def strip_positions(lines):
    """Full-tree lines without their positions (to tell field differences from position ones)."""
    return [" ".join(w for w in line.split(" ") if not _POSITION.fullmatch(w)) for line in lines]


_POSITION = re.compile(r"\d+:\d+-\d+:\d+")


def full_ast(tree):
    """The whole tree, one line per node, pre-order in `_fields` order:
    "DEPTH FIELD Kind [L:C-L:C] [name=value ...]" (see PythonSyntaxTree.fullDump)."""
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    out = []
    stack = [(tree, 0, "-")]
    while stack:
        node, depth, field = stack.pop()
        if node is None:
            out.append(f"{depth} {field} None")
            continue
        line = f"{depth} {field} {type(node).__name__}"
        if "lineno" in node._attributes and getattr(node, "lineno", None) is not None:
            line += f" {node.lineno}:{node.col_offset}-{node.end_lineno}:{node.end_col_offset}"
        kids = []
        for name in node._fields:
            if name in ("type_comment", "type_ignores"):
                continue
            v = getattr(node, name, None)
            if isinstance(v, _SCALAR_NODES) or (isinstance(v, list) and v and isinstance(v[0], (str, ast.cmpop))):
                line += f" {name}={_scalar(v)}"
            elif isinstance(v, ast.AST):
                kids.append((v, depth + 1, name))
            elif isinstance(v, list):
                kids += [(x, depth + 1, name) for x in v]
            elif v is None and not (name in _NULLABLE_SCALARS or isinstance(node, _VALUE_NODES)):
                continue  # an absent child node
            elif name in ("value", "str"):  # Constant, MatchSingleton; Interpolation (3.14)
                line += f" {name}={constant_text(v)}"
            elif name == "kind":  # Constant: 'u' or None
                line += f" kind={v!r}"
            else:
                line += f" {name}={v}"
        out.append(line)
        stack.extend(reversed(kids))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trees", nargs="*")
    ap.add_argument("--dump")
    ap.add_argument("--report", default=None)
    ap.add_argument("--no-ast", action="store_true")
    ap.add_argument("--messages", action="store_true",
                    help="list rejections at CPython's line whose message differs (counted either way)")
    ap.add_argument("--pep701", action="store_true",
                    help="parse with 3.12 f-strings under a 3.11 oracle; compare trees without f-string parts (tokens not compared)")
    ap.add_argument("--skip-fstring-parts", action="store_true",
                    help="leave f-string parts (JoinedStr, FormattedValue, literals) out of the trees compared")
    ap.add_argument("--fstring-parts", action="store_true", help=argparse.SUPPRESS)  # the default now
    ap.add_argument("--positions-only", action="store_true",
                    help="compare the older tree form: kind and position of each statement and expression")
    ap.add_argument("--target-version", default=f"{sys.version_info[0]}.{sys.version_info[1]}",
                    help="the version ember-python-dump reads (default: the running interpreter's)")
    args = ap.parse_args()
    minor = int(args.target_version.split(".")[1])
    oracle_splits = sys.version_info >= (3, 12)
    # Trees without f-string parts when our spans follow 3.12 (ours) and the oracle's 3.11,
    # or both follow 3.12 (the tree dump leaves f-string parts out in that mode).
    # Whole trees, f-string parts included, when oracle and target agree on the f-string
    # form; without its parts otherwise (--pep701: our 3.12 spans against 3.11's).
    skip_fstring_parts = args.pep701 or args.skip_fstring_parts or (minor >= 12) != oracle_splits
    compare_token_streams = not args.pep701 and (minor >= 12) == oracle_splits
    trees = args.trees or [sysconfig.get_paths()["stdlib"]]
    binary = args.dump
    if not binary:
        for cand in ("release", "debug"):
            c = os.path.join(ROOT, ".build", cand, "ember-python-dump")
            if os.path.exists(c):
                binary = c
                break
    files = collect(trees)
    print(f"{len(files)} files, dump tool {binary}", file=sys.stderr)
    target = ("--target-version", "3.12" if args.pep701 else args.target_version)
    print(f"oracle: Python {sys.version.split()[0]}; target version {target[1]}", file=sys.stderr)
    tok_dump = run_dump(binary, "tokens", files, target)
    # Full trees (every node and field) unless f-string parts must be left out, which only
    # the older positions-only form can do.
    positions_only = args.positions_only or skip_fstring_parts
    extra = () if not positions_only else ("--positions-only",) + (() if skip_fstring_parts or minor < 12 else ("--fstring-parts",))
    ast_dump = {} if args.no_ast else run_dump(binary, "ast", files, target + extra)

    stats = dict(tok_ok=0, tok_total=0, ast_ok=0, ast_total=0, fields_ok=0, rt_ok=0, rt_total=0, rej_ok=0, rej_total=0, rej_msg=0)
    problems = []
    for path in files:
        ours = tok_dump.get(path)
        try:
            text = decoded_text(path)
        except (SyntaxError, UnicodeDecodeError, LookupError) as e:
            stats["rej_total"] += 1
            if ours and "decodeError" in ours:
                stats["rej_ok"] += 1
            else:
                problems.append((path, "rejects", f"CPython cannot decode ({e}); we accepted"))
            continue
        data = text.encode("utf-8")
        if ours is None or "decodeError" in ours:
            problems.append((path, "decode", f"we failed to decode: {ours}"))
            stats["tok_total"] += 1; stats["rt_total"] += 1
            continue
        stats["rt_total"] += 1
        if ours["roundtrip"]:
            stats["rt_ok"] += 1
        else:
            problems.append((path, "roundtrip", "tokens + trivia != text"))
        # 1. tokens
        try:
            oracle_tokens(path)
            can_tokenize = True
        except Exception:
            can_tokenize = False
        if can_tokenize and compare_token_streams:
            stats["tok_total"] += 1
            diff = compare_tokens(path, ours, data, text.endswith("\n"))
            if diff is None:
                stats["tok_ok"] += 1
            else:
                problems.append((path, "tokens", diff))
        # 2. trees and 4. rejections
        try:
            tree = ast.parse(text, filename=path)
            error_line, error_msg = None, None
        except SyntaxError as e:
            tree, error_line, error_msg = None, e.lineno, e.msg
        except ValueError as e:  # e.g. null bytes
            tree, error_line, error_msg = None, 1, "source code cannot contain null bytes"
        except (RecursionError, MemoryError):  # nested deeper than this CPython goes
            tree, error_line, error_msg = None, "deep", "too deeply nested"
        if tree is None:
            stats["rej_total"] += 1
            entry = ast_dump.get(path)
            diags = entry.get("parseDiagnostics", []) if entry else ours.get("diagnostics", [])
            bmap = ByteMapper(data)
            lines = [bmap(d[1])[0] for d in diags]
            if lines and (lines[0] == error_line or error_line in (None, 1) and "null bytes" in diags[0][0]
                          or error_line == "deep" and diags[0][0].startswith(("too deeply nested", "too many nested"))):
                stats["rej_ok"] += 1
                # The message too (informational: the line is the requirement); ours may add
                # CPython's "(detected at line N)" or "(<file>, line N)" suffix differently.
                if diags[0][0].split(" (detected at line")[0] == error_msg.split(" (detected at line")[0]:
                    stats["rej_msg"] += 1
                elif args.messages:
                    problems.append((path, "message", f"CPython: {error_msg!r}; ours: {diags[0][0]!r}"))
            else:
                problems.append((path, "rejects", f"CPython: line {error_line}; ours: {list(zip(lines, [d[0] for d in diags]))[:3]}"))
            continue
        if args.no_ast:
            continue
        stats["ast_total"] += 1
        mine = ast_dump.get(path, {})
        expected = canonical_ast(tree, skip_fstring_parts=skip_fstring_parts) if positions_only else full_ast(tree)
        got = mine.get("ast")
        if got == expected:
            stats["ast_ok"] += 1
            stats["fields_ok"] += 1
        else:
            same_fields = got is not None and not positions_only and strip_positions(got) == strip_positions(expected)
            stats["fields_ok"] += same_fields
            detail = "no tree" if got is None else next(
                (f"node {i}: cpython {a!r} ours {b!r}" for i, (a, b) in enumerate(zip(expected, got)) if a != b),
                f"length cpython {len(expected)} ours {len(got)}")
            if mine.get("parseDiagnostics"):
                detail += f"; our diagnostics {mine['parseDiagnostics'][:2]}"
            if same_fields:
                detail += " (every field identical; positions differ)"
            problems.append((path, "ast", detail))

    def pct(a, b):
        return f"{a}/{b} = {100.0 * a / b:.2f}%" if b else "n/a"
    summary = [
        f"tokens identical:   {pct(stats['tok_ok'], stats['tok_total'])}",
        f"ASTs identical:     {pct(stats['ast_ok'], stats['ast_total'])}" if not args.no_ast else "ASTs: skipped",
        *([f"  without positions: {pct(stats['fields_ok'], stats['ast_total'])}"] if not args.no_ast and not positions_only else []),
        f"byte round trip:    {pct(stats['rt_ok'], stats['rt_total'])}",
        f"rejected same line: {pct(stats['rej_ok'], stats['rej_total'])}",
        f"  same message too: {pct(stats['rej_msg'], stats['rej_total'])}",
    ]
    report = "\n".join(summary) + "\n\n" + "\n".join(f"{k:9} {p}: {d}" for p, k, d in problems) + "\n"
    if args.report:
        with open(args.report, "w") as f:
            f.write(report)
    print("\n".join(summary))
    for p, k, d in problems[:40]:
        print(f"{k:9} {p}: {d}")
    if len(problems) > 40:
        print(f"... {len(problems) - 40} more (use --report FILE)")
    sys.exit(0 if not problems else 1)


if __name__ == "__main__":
    main()
