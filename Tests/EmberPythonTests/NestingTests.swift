import EmberPython
import Foundation
import Testing

/// Runs `body` on a new thread with `stackSize` bytes of stack (the 512 KB of a secondary
/// thread on macOS, say) and waits for it.
final class ThreadResult<T>: @unchecked Sendable {
    var value: T?
    let done = DispatchSemaphore(value: 0)
}

func onThread<T: Sendable>(stackSize: Int, _ body: @escaping @Sendable () -> T) -> T {
    let box = ThreadResult<T>()
    let thread = Thread {
        box.value = body()
        box.done.signal()
    }
    thread.stackSize = stackSize
    thread.start()
    box.done.wait()
    return box.value!
}

/// The first diagnostic of a parse as "LINE: MESSAGE", or "" when there is none.
func firstProblem(_ code: String, pep701: Bool = false, maxDepth: Int? = nil) -> String {
    guard let source = try? PythonSource(utf8: code) else { return "undecodable" }
    var options = PythonParser.Options(pep701FStrings: pep701)
    if let maxDepth { options.maxDepth = maxDepth }
    let tree = PythonParser.parse(source, options: options)
    guard let d = tree.diagnostics.first else { return "" }
    return "\(source.lineTable.location(of: d.offset).line): \(d.message)"
}

@Suite struct NestingTests {
    static let n = 10_000

    /// The issue's forms: each nested through a path the depth check was not on, and
    /// 10,000 levels overflowed the stack. Now CPython's answer, on any thread.
    static let issueForms: [String] = [
        "x = " + String(repeating: "*[", count: n) + "1" + String(repeating: "]", count: n) + ",\n",
        "x = " + String(repeating: "*(", count: n) + "1" + String(repeating: ",)", count: n) + ",\n",
        "x = " + String(repeating: "{*", count: n) + "1" + String(repeating: "}", count: n) + "\n",
        "x = " + String(repeating: "{**", count: n) + "{}" + String(repeating: "}", count: n) + "\n",
        "x = " + String(repeating: "[i for i in ", count: n) + "y" + String(repeating: "]", count: n) + "\n",
        // Found by fuzz-nesting: a subscript's bracket was not a level either.
        "x = " + String(repeating: "x[*", count: n) + "1" + String(repeating: "]", count: n) + "\n",
    ]

    @Test(arguments: issueForms.indices)
    func issueFormsAreCPythonsDiagnostic(_ k: Int) {
        let code = "import os\n" + NestingTests.issueForms[k]
        #expect(firstProblem(code) == "2: too many nested parentheses")
        #expect(firstProblem(code, pep701: true) == "2: too many nested parentheses")
        // On a 512 KB thread a debug build may run out of stack before the 201st bracket:
        // then the parser says so itself, on the same line.
        let small = onThread(stackSize: 512 << 10) { firstProblem(code) }
        #expect(small == "2: too many nested parentheses" || small.hasPrefix("2: too deeply nested"), "\(small)")
    }

    /// What CPython 3.11, 3.12 and 3.13 all parse (checked with each: `ast.parse` accepts
    /// about 2,985 unary operators in 3.11) parses here too, on the main thread and on a
    /// 512 KB thread, where these forms take no stack per level.
    @Test func cpythonsDeepFormsParseOnSmallStacks() {
        let forms = [
            "y = " + String(repeating: "-", count: 1200) + "1\n",
            "y = " + String(repeating: "-", count: 2900) + "1\n",
            "y = " + String(repeating: "~+", count: 1200) + "1\n",
            "y = " + String(repeating: "not ", count: 2900) + "x\n",
            "y = " + String(repeating: "a if b else ", count: 2900) + "c\n",
            "y = " + String(repeating: "2 ** -", count: 1400) + "2\n",
            "y = x" + String(repeating: ".a()[0]", count: 400) + String(repeating: " + 1", count: 1500) + "\n",
        ]
        for code in forms {
            #expect(firstProblem(code) == "", "\(code.prefix(12))")
            #expect(onThread(stackSize: 512 << 10) { firstProblem(code) } == "", "\(code.prefix(12)) on 512 KB")
        }
        // 200 brackets, CPython's limit, of the forms that once crashed, on the main thread.
        let brackets = "y = " + String(repeating: "[*(", count: 100) + "1" + String(repeating: ",)]", count: 100) + "\n"
        #expect(firstProblem(brackets) == "")
        #expect(firstProblem("y = " + String(repeating: "lambda: ", count: 2900) + "1\n") == "")
    }

    /// Deeper than the limit: "too deeply nested" at the line where the limit is passed,
    /// also for chains the parser reads in a loop (the tree would be that deep).
    @Test func tooDeepIsADiagnosticOnItsLine() {
        let unary = "import os\n\ny = " + String(repeating: "-", count: 5000) + "1\n"
        #expect(firstProblem(unary) == "3: too deeply nested (more than 3000 levels)")
        #expect(onThread(stackSize: 512 << 10) { firstProblem(unary) } == "3: too deeply nested (more than 3000 levels)")
        let chain = "import os\nx = 1\ny = (\n" + String(repeating: "    1 +\n", count: 5000) + "    1)\n"
        #expect(firstProblem(chain) == "4: too deeply nested (more than 3000 levels)")
        let attributes = "z = 0\ny = x" + String(repeating: ".a", count: 4000) + "\n"
        #expect(firstProblem(attributes) == "2: too deeply nested (more than 3000 levels)")
        // A small limit applies to every form, and a valid tree is never deeper than it.
        #expect(firstProblem("y = " + String(repeating: "1 + ", count: 60) + "1\n", maxDepth: 50) == "1: too deeply nested (more than 50 levels)")
        #expect(firstProblem("y = " + String(repeating: "1 + ", count: 40) + "1\n", maxDepth: 50) == "")
        #expect(firstProblem("y = " + String(repeating: "(", count: 60) + "1" + String(repeating: ")", count: 60) + "\n", maxDepth: 50)
                .hasPrefix("1: too deeply nested"))
        // Lambdas recurse: however small the stack, the answer is a diagnostic.
        let lambdas = "y = " + String(repeating: "lambda: ", count: 100_000) + "1\n"
        for stack in [160 << 10, 512 << 10] {
            #expect(onThread(stackSize: stack) { firstProblem(lambdas) }.hasPrefix("1: too deeply nested"))
        }
    }

    /// Each version's limits are its CPython's (measured with `compile()`): 3.13 compiles
    /// 5,000 unary operators and 9,000-link chains, 3.11 and 3.12 stop near 3,000, 3.9
    /// compiles 5,000 unary operators, 3.10 does not.
    @Test func limitsFollowTheTargetVersion() throws {
        @Sendable func problem(_ code: String, _ version: PythonVersion) throws -> String {
            let source = try PythonSource(utf8: code)
            let tree = PythonParser.parse(source, options: .init(targetVersion: version))
            return tree.diagnostics.first.map { "\(source.lineTable.location(of: $0.offset).line): \($0.message)" } ?? ""
        }
        let unary = "x = 1\ny = " + String(repeating: "-", count: 5000) + "1\n"
        #expect(try problem(unary, .v3_13) == "")
        #expect(try problem(unary, .v3_14) == "")
        #expect(try problem(unary, .v3_9) == "")
        for version in [PythonVersion.v3_10, .v3_11, .v3_12] {
            #expect(try problem(unary, version) == "2: too deeply nested (more than 3000 levels)", "\(version)")
        }
        // 3.13 stops near 6,000 nested levels (its parser stack).
        let deeper = "y = " + String(repeating: "-", count: 6500) + "1\n"
        #expect(try problem(deeper, .v3_13) == "1: too deeply nested (more than 6000 levels)")
        // A lambda and a `**` take two of 3.13's parser levels (it stops at 2,983 of them).
        for form in ["lambda: ", "2**"] {
            let fine = "y = " + String(repeating: form, count: 2900) + "1\n"
            let tooDeep = "y = " + String(repeating: form, count: 3100) + "1\n"
            #expect(onThread(stackSize: 256 << 20) { (try? problem(fine, .v3_13)) ?? "?" } == "", "\(form)")
            #expect(onThread(stackSize: 256 << 20) { (try? problem(tooDeep, .v3_13)) ?? "?" } == "1: too deeply nested (more than 6000 levels)", "\(form)")
        }
        // Chains read in a loop: the tree's depth, 10,000 levels from 3.13.
        let chain = "y = a" + String(repeating: ".b", count: 9000) + "\n"
        #expect(try problem(chain, .v3_13) == "")
        #expect(try problem(chain, .v3_12) == "1: too deeply nested (more than 3000 levels)")
        #expect(try problem("y = a" + String(repeating: ".b", count: 10_500) + "\n", .v3_13) == "1: too deeply nested (more than 10000 levels)")
        // A maxDepth given limits the tree as well.
        let small = PythonParser.parse(try PythonSource(utf8: chain), options: .init(maxDepth: 50, targetVersion: .v3_13))
        #expect(small.diagnostics.first?.message == "too deeply nested (more than 50 levels)")
    }

    /// f-strings in the 3.12 form nest through the tokenizer too: CPython 3.12's limit.
    @Test func nestedFStrings() {
        @Sendable func nested(_ n: Int) -> String { "y = " + String(repeating: "f'{", count: n) + "1" + String(repeating: "}'", count: n) + "\n" }
        #expect(firstProblem(nested(149), pep701: true) == "")
        #expect(firstProblem(nested(150), pep701: true) == "1: too many nested f-strings")
        #expect(firstProblem(nested(20_000), pep701: true) == "1: too many nested f-strings")
        #expect(onThread(stackSize: 512 << 10) { firstProblem(nested(20_000), pep701: true) } != "")
        let specs = "y = f'{x" + String(repeating: ":{x", count: 20_000) + String(repeating: "}", count: 20_000) + "}'\n"
        #expect(firstProblem(specs, pep701: true) != "")
        #expect(firstProblem(specs) != "")
    }

    /// fixtures/python/fuzz/*.py, and the invalid fixtures from fuzz-nesting finds and the
    /// issue (invalid/fuzz_nesting_*.py, invalid/deep_*.py; their goldens hold CPython's
    /// message, checked by ParserTests).
    static var fuzzFixtures: [String] {
        func names(_ folder: String, _ prefixes: [String]) -> [String] {
            let dir = Fixture.root.appendingPathComponent(folder).path
            return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
                .filter { name in name.hasSuffix(".py") && (prefixes.isEmpty || prefixes.contains { name.hasPrefix($0) }) }
                .map { folder + "/" + $0 }
        }
        return (names("fuzz", []) + names("invalid", ["fuzz_nesting_", "deep_"])).sorted()
    }

    /// Programs from fuzz-nesting (scripts/fuzz/) and nestings deeper than CPython goes: a
    /// diagnostic, never a crash, on the main thread and on small threads, in both modes.
    @Test(arguments: fuzzFixtures)
    func fuzzFixturesParse(_ name: String) throws {
        let bytes = try Fixture.bytes(name)
        let source = try PythonSource(bytes: bytes)
        for pep701 in [false, true] {
            let tree = PythonParser.parse(source, options: .init(pep701FStrings: pep701))
            #expect(!tree.isValid, "\(name)")
            for stack in [160 << 10, 512 << 10] {
                let valid = onThread(stackSize: stack) { PythonParser.parse(source, options: .init(pep701FStrings: pep701)).isValid }
                #expect(!valid, "\(name)")
            }
        }
    }
}
