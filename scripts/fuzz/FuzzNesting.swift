// Grammar-aware libFuzzer target for EmberPython's nesting bounds: the input is not Python
// but a short recipe (see `Recipe`) that builds a program with deep and wide nestings of
// every bracket and operator form (unary operators, await, lambda, starred items,
// comprehensions, f-strings in both modes, subscripts, calls, dict/set displays, match
// patterns, blocks), up to 30,000 levels. Each program is tokenized, skimmed and parsed
// (every target version, 3.9 to 3.14) on the main thread and on a 512 KB and a 160 KB thread,
// and with small and default depth limits. A crash, or a tree deeper than the limit that
// has no "too deeply nested" diagnostic, is a finding. Built by scripts/fuzz/build.sh,
// run by scripts/fuzz/run-nesting.sh.
#if canImport(Glibc)
import Glibc
#endif

/// One nesting form: text before and after the inner part, and what it needs around it.
struct NestForm {
    var open: String
    var close: String
    var needsAsync = false
}

/// Expression forms that wrap an inner expression.
let expressionForms: [NestForm] = [
    NestForm(open: "(", close: ")"),
    NestForm(open: "[", close: "]"),
    NestForm(open: "{", close: "}"),
    NestForm(open: "(", close: ",)"),
    NestForm(open: "[*", close: "]"),
    NestForm(open: "*[", close: "]"),
    NestForm(open: "*(", close: ",)"),
    NestForm(open: "{*", close: "}"),
    NestForm(open: "{**", close: "}"),
    NestForm(open: "{1: ", close: "}"),
    NestForm(open: "{", close: ": 1}"),
    NestForm(open: "-", close: ""),
    NestForm(open: "+", close: ""),
    NestForm(open: "~", close: ""),
    NestForm(open: "not ", close: ""),
    NestForm(open: "await ", close: "", needsAsync: true),
    NestForm(open: "await (", close: ")", needsAsync: true),
    NestForm(open: "lambda: ", close: ""),
    NestForm(open: "lambda x=", close: ": x"),
    NestForm(open: "lambda *a, b=", close: ", **k: b"),
    NestForm(open: "a if ", close: " else b"),
    NestForm(open: "a if b else ", close: ""),
    NestForm(open: "", close: " if a else b"),
    NestForm(open: "2 ** ", close: ""),
    NestForm(open: "2 ** -", close: ""),
    NestForm(open: "a + ", close: ""),
    NestForm(open: "", close: " + a"),
    NestForm(open: "a < ", close: " < b"),
    NestForm(open: "a and ", close: " or b"),
    NestForm(open: "x[", close: "]"),
    NestForm(open: "x[1:", close: "]"),
    NestForm(open: "x[::", close: "]"),
    NestForm(open: "x[*", close: "]"),
    NestForm(open: "f(", close: ")"),
    NestForm(open: "f(*", close: ")"),
    NestForm(open: "f(**", close: ")"),
    NestForm(open: "f(x=", close: ")"),
    NestForm(open: "f(a, ", close: ", *b, c=d, **e)"),
    NestForm(open: "(", close: ")()"),
    NestForm(open: "(", close: ").a"),
    NestForm(open: "(", close: ")[0]"),
    NestForm(open: "[i for i in ", close: "]"),
    NestForm(open: "(i for i in ", close: ")"),
    NestForm(open: "{i for i in ", close: "}"),
    NestForm(open: "{i: i for i in ", close: "}"),
    NestForm(open: "[i for i in x if ", close: "]"),
    NestForm(open: "[", close: " for i in x]"),
    NestForm(open: "[i async for i in ", close: "]", needsAsync: true),
    NestForm(open: "(a := ", close: ")"),
    NestForm(open: "f'{", close: "}'"),
    NestForm(open: "f\"{", close: "}\""),
    NestForm(open: "f'''{", close: "}'''"),
    NestForm(open: "f'{x:{", close: "}}'"),
    NestForm(open: "f'{", close: "!r:>{w}}'"),
    NestForm(open: "(yield ", close: ")"),
    NestForm(open: "(yield from ", close: ")"),
]

/// Suffix chains (read in loops by the parser): appended after the inner part.
let chainSuffixes = [".a", "()", "[0]", "(x)", ".b()", " + 1", " * 2", " | c", " == d", " or e", " and f", " if g else h"]

/// Statement forms that open a block (each level indents by one space).
let blockForms = [
    "if x:", "while x:", "for i in x:", "with x as y:", "def f():", "async def f():", "class C:", "try:",
    "if x:\n{I}pass\n{O}elif y:", "if x:\n{I}pass\n{O}else:", "try:\n{I}pass\n{O}except E as e:",
    "try:\n{I}pass\n{O}finally:", "with (a as b, c as d):", "match x:\n{I}case [a, *b]:", "@d\n{O}def f():",
    "async with x:", "async for i in x:",
]

/// Pattern forms for `case` (a class pattern, sequence, mapping, or, as).
let patternForms: [NestForm] = [
    NestForm(open: "[", close: "]"),
    NestForm(open: "(", close: ",)"),
    NestForm(open: "[1, ", close: ", *rest]"),
    NestForm(open: "C(", close: ")"),
    NestForm(open: "C(x=", close: ")"),
    NestForm(open: "a.b(", close: ")"),
    NestForm(open: "{1: ", close: "}"),
    NestForm(open: "{'k': ", close: ", **rest}"),
    NestForm(open: "(", close: " | 1)"),
    NestForm(open: "(", close: " as x)"),
    NestForm(open: "[", close: ", -1 + 2j]"),
]

/// Target forms (left of `=`, after `for`, in `with ... as`).
let targetForms: [NestForm] = [
    NestForm(open: "(", close: ",)"),
    NestForm(open: "[", close: "]"),
    NestForm(open: "*", close: ", a"),
    NestForm(open: "(", close: ")"),
    NestForm(open: "[a, *", close: "]"),
]

/// Reads the fuzzer's bytes as a recipe, one byte at a time (0 once they run out).
struct Recipe {
    var bytes: [UInt8]
    var at = 0
    mutating func byte() -> Int {
        defer { at += 1 }
        return at < bytes.count ? Int(bytes[at]) : 0
    }
    /// A count, mostly small, sometimes up to 30,000 (the deep end is where limits are).
    mutating func count() -> Int {
        let b = byte()
        switch b >> 6 {
        case 0: return b & 63
        case 1: return 64 + (b & 63) * 4
        case 2: return 250 + (b & 63) * 50
        default: return 3000 + (b & 63) * 430
        }
    }
}

/// The program a recipe describes. Every loop here is iterative: building a 30,000-level
/// program must not itself recurse.
func program(_ recipe: inout Recipe) -> String {
    var out = ""
    let statements = 1 + recipe.byte() % 3
    for _ in 0..<statements {
        let kind = recipe.byte() % 6
        switch kind {
        case 0, 1:
            // An expression nesting: a cycle of up to 4 forms, repeated `depth` times.
            let cycle = 1 + recipe.byte() % 4
            let forms = (0..<cycle).map { _ in expressionForms[recipe.byte() % expressionForms.count] }
            let depth = recipe.count()
            let width = recipe.byte() % 4
            let chain = recipe.byte() % 3 == 0 ? recipe.count() : 0
            let suffix = chainSuffixes[recipe.byte() % chainSuffixes.count]
            let context = recipe.byte() % 8
            let async = forms.contains { $0.needsAsync } || context == 7
            var expression = ""
            var closes: [String] = []
            closes.reserveCapacity(depth)
            for level in 0..<depth {
                let form = forms[level % cycle]
                expression += form.open
                closes.append(form.close)
            }
            expression += "x"
            // Siblings beside the innermost part: wide as well as deep.
            for _ in 0..<width { expression += ", y" }
            for _ in 0..<chain { expression += suffix }
            for close in closes.reversed() { expression += close }
            let line: String
            switch context {
            case 0: line = "z = " + expression
            case 1: line = expression
            case 2: line = "z: int = " + expression
            case 3: line = "z += " + expression
            case 4: line = "print(" + expression + ")"
            case 5: line = "@" + expression + "\ndef g(): pass"
            case 6: line = "z = [" + expression + "]"
            default: line = "return " + expression
            }
            if async {
                out += "async def h():\n    " + line.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n    ") + "\n"
            } else if line.hasPrefix("return") {
                out += "def h():\n    " + line + "\n"
            } else {
                out += line + "\n"
            }
        case 2:
            // Nested blocks.
            let depth = recipe.count() % 400
            let form = blockForms[recipe.byte() % blockForms.count]
            var indent = ""
            for _ in 0..<depth {
                let outer = indent
                indent += " "
                out += outer + form.replacingOccurrencesSimple("{I}", indent).replacingOccurrencesSimple("{O}", outer) + "\n"
            }
            out += indent + "pass\n"
        case 3:
            // A match statement with a deep pattern.
            let cycle = 1 + recipe.byte() % 3
            let forms = (0..<cycle).map { _ in patternForms[recipe.byte() % patternForms.count] }
            let depth = recipe.count()
            var pattern = ""
            var closes: [String] = []
            for level in 0..<depth {
                pattern += forms[level % cycle].open
                closes.append(forms[level % cycle].close)
            }
            pattern += recipe.byte() % 2 == 0 ? "x" : "1"
            for close in closes.reversed() { pattern += close }
            out += "match v:\n    case " + pattern + ":\n        pass\n"
        case 4:
            // A deep target.
            let form = targetForms[recipe.byte() % targetForms.count]
            let depth = recipe.count()
            var target = ""
            for _ in 0..<depth { target += form.open }
            target += "a"
            for _ in 0..<depth { target += form.close }
            switch recipe.byte() % 3 {
            case 0: out += target + " = v\n"
            case 1: out += "for " + target + " in v: pass\n"
            default: out += "with v as " + target + ": pass\n"
            }
        default:
            // An elif chain, or decorators, or a long chain of statements on one line.
            let n = recipe.count()
            switch recipe.byte() % 3 {
            case 0:
                out += "if a:\n    pass\n"
                for _ in 0..<n { out += "elif b:\n    pass\n" }
            case 1:
                for _ in 0..<n { out += "@d\n" }
                out += "def f(): pass\n"
            default:
                out += "x = 1"
                for _ in 0..<n { out += "; x = 1" }
                out += "\n"
            }
        }
    }
    return out
}

extension String {
    func replacingOccurrencesSimple(_ target: String, _ replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        var result = ""
        var rest = Substring(self)
        while let r = rest.range(of: target) {
            result += rest[..<r.lowerBound]
            result += replacement
            rest = rest[r.upperBound...]
        }
        return result + rest
    }
}

extension Substring {
    func range(of target: String) -> Range<Index>? {
        var start = startIndex
        while start < endIndex {
            if self[start...].hasPrefix(target) { return start..<index(start, offsetBy: target.count) }
            start = index(after: start)
        }
        return nil
    }
}

/// Tree height below the module (levels), computed without recursion.
func treeDepth(_ tree: PythonSyntaxTree) -> Int {
    var deepest = 0
    var stack: [(PythonNodeID, Int)] = [(tree.root, 0)]
    while let (id, level) = stack.popLast() {
        deepest = max(deepest, level)
        for c in tree.children(of: id) { stack.append((c, level + 1)) }
    }
    return deepest
}

func check(_ source: PythonSource, maxDepth: Int, version: PythonVersion) {
    let tree = PythonParser.parse(source, options: .init(maxDepth: maxDepth, targetVersion: version))
    let text = source.text
    for node in tree.nodes {
        precondition(node.start >= 0 && node.start <= node.end && node.end <= text.count, "node span out of range")
    }
    for d in tree.diagnostics { precondition(d.offset >= 0 && d.offset <= text.count, "diagnostic offset out of range") }
    if tree.isValid {
        // A valid tree is never deeper than the limit (tools walk trees recursively).
        precondition(treeDepth(tree) <= maxDepth, "valid tree deeper than maxDepth \(maxDepth)")
    }
}

final class Job: @unchecked Sendable {
    let source: PythonSource
    init(_ source: PythonSource) { self.source = source }
    func run() {
        for version in PythonVersion.all {  // every target version's grammar
            check(source, maxDepth: PythonParser.Options().maxDepth, version: version)
        }
        check(source, maxDepth: 40, version: .v3_11)
    }
}

/// Runs `job` on a new thread with `stack` bytes of stack and waits for it.
func onThread(stack: Int, _ job: Job) {
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    defer { pthread_attr_destroy(&attr) }
    pthread_attr_setstacksize(&attr, stack)
    var thread = pthread_t()
    let rc = pthread_create(&thread, &attr, { raw in
        Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue().run()
        return nil
    }, Unmanaged.passRetained(job).toOpaque())
    precondition(rc == 0, "pthread_create")
    pthread_join(thread, nil)
}

// ember-lint's filter (TokenPythonImportExtractor.skimFilter, in EmberLint, which this harness
// does not build): keep the two equal.
let skimFilter = PythonImportSkimmer.Filter(
    lineStarters: ["if", "for", "def", "try", "from", "elif", "else", "with", "case", "while", "class", "async",
                   "match", "import", "except", "finally"],
    namesAnywhere: ["import_module", "__import__", "TYPE_CHECKING"],
    commentMarker: "ember-lint",
    headerWords: ["if", "for", "def", "try", "elif", "else", "with", "case", "while", "class", "async",
                  "match", "except", "finally"],
    structureNeedsAnywhereName: true)

/// EMBER_FUZZ_PRINT set: each program goes to stdout (scripts/fuzz/nesting-recipe-to-python.sh).
let printPrograms = getenv("EMBER_FUZZ_PRINT") != nil

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNesting(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var recipe = Recipe(bytes: Array(UnsafeBufferPointer(start: data, count: size)))
    let code = program(&recipe)
    if printPrograms {
        var bytes = Array(code.utf8)
        _ = write(1, &bytes, bytes.count)
    }
    guard let source = try? PythonSource(utf8: code) else { return 0 }
    for version in PythonVersion.all {
        let result = PythonTokenizer.tokenize(source, options: .init(targetVersion: version))
        precondition(result.tokens.last?.kind == .endmarker, "no ENDMARKER")
    }
    _ = PythonImportSkimmer.skim(text: source.text, filter: skimFilter)
    let job = Job(source)
    job.run()                              // the main thread (8 MB)
    onThread(stack: 512 * 1024, job)       // a secondary thread's usual size on macOS
    onThread(stack: 160 * 1024, job)       // smaller still: the guard must stop in time
    return 0
}
