// How deep EmberPython's parser goes on each nesting form, on a thread with a given
// stack: the largest n for which `make(n)` parses without "too deeply nested", found by
// bisection, first with the stack as the only bound (maxDepth out of the way: stack bytes
// per level), then with the default maxDepth. Built and run by scripts/parser-depth/run.sh.
#if canImport(Glibc)
import Glibc
#endif

struct Form {
    var name: String
    var make: (Int) -> String
}

let forms: [Form] = [
    Form(name: "unary -") { "y = " + String(repeating: "-", count: $0) + "1\n" },
    Form(name: "not") { "y = " + String(repeating: "not ", count: $0) + "1\n" },
    Form(name: "await") { "async def f():\n    y = " + String(repeating: "await (", count: $0) + "1" + String(repeating: ")", count: $0) + "\n" },
    Form(name: "lambda") { "y = " + String(repeating: "lambda: ", count: $0) + "1\n" },
    Form(name: "if-else") { "y = " + String(repeating: "1 if 1 else ", count: $0) + "1\n" },
    Form(name: "**") { "y = " + String(repeating: "2**", count: $0) + "1\n" },
    Form(name: "+ chain") { "y = " + String(repeating: "2+", count: $0) + "1\n" },
    Form(name: "x.a chain") { "y = x" + String(repeating: ".a", count: $0) + "\n" },
    Form(name: "f() chain") { "y = f" + String(repeating: "()", count: $0) + "\n" },
    Form(name: "(") { "y = " + String(repeating: "(", count: $0) + "1" + String(repeating: ")", count: $0) + "\n" },
    Form(name: "[") { "y = " + String(repeating: "[", count: $0) + String(repeating: "]", count: $0) + "\n" },
    Form(name: "*[") { "y = " + String(repeating: "*[", count: $0) + "1" + String(repeating: "]", count: $0) + ",\n" },
    Form(name: "*(") { "y = " + String(repeating: "*(", count: $0) + "1" + String(repeating: ",)", count: $0) + ",\n" },
    Form(name: "{*") { "y = " + String(repeating: "{*", count: $0) + "1" + String(repeating: "}", count: $0) + "\n" },
    Form(name: "{**") { "y = " + String(repeating: "{**", count: $0) + "{}" + String(repeating: "}", count: $0) + "\n" },
    Form(name: "[i for i in") { "y = " + String(repeating: "[i for i in ", count: $0) + "x" + String(repeating: "]", count: $0) + "\n" },
    Form(name: "f(") { "y = " + String(repeating: "f(", count: $0) + "1" + String(repeating: ")", count: $0) + "\n" },
    Form(name: "x[") { "y = " + String(repeating: "x[", count: $0) + "1" + String(repeating: "]", count: $0) + "\n" },
    Form(name: "{1:") { "y = " + String(repeating: "{1:", count: $0) + "1" + String(repeating: "}", count: $0) + "\n" },
    Form(name: "f'{ (3.12)") { "y = " + String(repeating: "f'{", count: $0) + "1" + String(repeating: "}'", count: $0) + "\n" },
    Form(name: "elif") { "if x:\n    pass\n" + String(repeating: "elif x:\n    pass\n", count: $0) },
    Form(name: "case [") { "match x:\n    case " + String(repeating: "[", count: $0) + "1" + String(repeating: "]", count: $0) + ":\n        pass\n" },
    Form(name: "case C(") { "match x:\n    case " + String(repeating: "C(", count: $0) + "1" + String(repeating: ")", count: $0) + ":\n        pass\n" },
]

/// Parses on a new thread with `stack` bytes of stack; the first diagnostic, or nil.
func parseOnThread(_ code: String, stack: Int, maxDepth: Int, pep701: Bool) -> String? {
    final class Box: @unchecked Sendable { var code = ""; var maxDepth = 0; var pep701 = false; var message: String?? = nil }
    let box = Box()
    box.code = code
    box.maxDepth = maxDepth
    box.pep701 = pep701
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    pthread_attr_setstacksize(&attr, stack)
    var thread = pthread_t()
    let unmanaged = Unmanaged.passRetained(box)
    let rc = pthread_create(&thread, &attr, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        let source = try! PythonSource(utf8: box.code)
        // The tokenizer's own limits (200 brackets, 150 nested f-strings) are left out:
        // what is measured is how deep the parser itself can go.
        var tokens = PythonTokenizer.tokenize(source, options: .init(splitFStrings: box.pep701))
        tokens.diagnostics.removeAll { $0.message == "too many nested parentheses" || $0.message == "too many nested f-strings" }
        let tree = PythonParser.parse(source, tokens: tokens, options: .init(maxDepth: box.maxDepth, pep701FStrings: box.pep701))
        box.message = .some(tree.diagnostics.first?.message)
        return nil
    }, unmanaged.toOpaque())
    precondition(rc == 0)
    pthread_join(thread, nil)
    return box.message!
}

@main struct MeasureDepth {
    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)
        let stacks = [512 * 1024, 8 * 1024 * 1024]
        print("form          stack   stack only: levels (bytes/level)   with the default maxDepth (tokenizer limits left out)")
        for form in forms {
            let pep701 = form.name.contains("3.12")
            for stack in stacks {
                func ok(_ n: Int, _ maxDepth: Int) -> Bool {
                    let m = parseOnThread(form.make(n), stack: stack, maxDepth: maxDepth, pep701: pep701)
                    if let m, !m.hasPrefix("too deeply nested") && !m.hasPrefix("f-string: too deeply nested") {
                        fatalError("\(form.name) n=\(n): unexpected \(m)")
                    }
                    return m == nil
                }
                func largest(_ maxDepth: Int, cap: Int) -> Int {
                    if ok(cap, maxDepth) { return cap }
                    var lo = 0, hi = cap
                    while lo + 1 < hi {
                        let mid = (lo + hi) / 2
                        if ok(mid, maxDepth) { lo = mid } else { hi = mid }
                    }
                    return lo
                }
                let cap = form.name.hasPrefix("f'") ? 149 : 200_000  // the tokenizer reads at most 149 nested f-strings
                let stackOnly = largest(1 << 30, cap: cap)
                let perLevel = stackOnly >= cap ? "no stack" : String((stack - 64 * 1024) / max(stackOnly, 1))
                let withDefault = largest(PythonParser.Options().maxDepth, cap: min(cap, 20_000))
                let label = form.name + String(repeating: " ", count: max(0, 13 - form.name.count))
                print("\(label) \(String(stack / 1024).leftPadded(5)) KB  \(String(stackOnly).leftPadded(7)) (\(perLevel))\(String(repeating: " ", count: max(1, 22 - perLevel.count)))\(withDefault)")
            }
        }
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { String(repeating: " ", count: max(0, n - count)) + self }
}
