"""Invalid programs made from valid ones: one token of a stdlib module deleted, replaced
or preceded by another (a bracket, a keyword, an operator, a line break...), kept when the
running interpreter rejects the result. conformance.py then checks that we reject each at
CPython's line (errors as users make them, beside the test suites' hand-written ones).
  PYTHON scripts/conformance/make-mutants.py OUTDIR [SEED] [COUNT]
  PYTHON scripts/conformance/conformance.py OUTDIR --messages
OUTDIR/meta.json records, per file, CPython's line and message, the source module, the
change and its line."""
import ast, io, json, os, random, sys, tokenize, sysconfig
outdir = sys.argv[1]
random.seed(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
stdlib = sysconfig.get_paths()["stdlib"]
files = []
for root, dirs, fs in os.walk(stdlib):
    if 'site-packages' in root or 'test' in root.split(os.sep): continue
    for f in fs:
        if f.endswith('.py'):
            p = os.path.join(root, f)
            if 2000 < os.path.getsize(p) < 30000: files.append(p)
files.sort()
inserts = ['(', ')', '[', ']', '{', '}', ',', ':', '=', 'if', 'else', 'def', 'lambda', 'return', 'x', '1', '"s"', '.', '+', '**', 'for', 'in', 'not', 'import', 'as', 'with', ';', '\n', '    ', 'yield', '*', 'class', 'async', 'await', ':=', '->', '@']
os.makedirs(outdir, exist_ok=True)
for f in os.listdir(outdir):
    if f.endswith('.py') or f == 'meta.json': os.remove(os.path.join(outdir, f))
made = 0
meta = {}
while made < (int(sys.argv[3]) if len(sys.argv) > 3 else 1500):
    p = random.choice(files)
    src = open(p, encoding='utf-8', errors='replace').read()
    try:
        toks = [t for t in tokenize.generate_tokens(io.StringIO(src).readline) if t.type not in (tokenize.ENDMARKER, tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT)]
    except Exception: continue
    if not toks: continue
    lines = src.splitlines(keepends=True)
    offs = [0]
    for l in lines: offs.append(offs[-1] + len(l))
    t = random.choice(toks)
    a = offs[t.start[0]-1] + t.start[1]; b = offs[t.end[0]-1] + t.end[1]
    kind = random.choice(['delete', 'insert', 'replace'])
    ins = random.choice(inserts)
    if kind == 'delete': new = src[:a] + src[b:]
    elif kind == 'insert': new = src[:a] + ins + ' ' + src[a:]
    else: new = src[:a] + ins + src[b:]
    try:
        ast.parse(new); continue
    except SyntaxError as e:
        line, msg = e.lineno, e.msg
    except Exception: continue
    name = f'm{made:05d}.py'
    open(os.path.join(outdir, name), 'w').write(new)
    meta[name] = (line, msg, p, kind, ins, t.start[0])
    made += 1
json.dump(meta, open(os.path.join(outdir, 'meta.json'), 'w'))
print(made, 'mutants')
