import EmberPython
import EmberUtils
import EmberProject
import Foundation
import Testing
@testable import EmberLint

/// The skim path (EmberPython's PythonImportSkimmer) must give exactly the facts of the
/// full-tokenizer path: same imports with positions, dynamic imports, __init__ logic,
/// suppressions and errors. scripts/compare-skim-with-tokenizer.sh checks whole trees (the
/// CPython stdlib) through the binary; these tests check the fixtures and generated edge cases.
@Suite struct SkimEquivalenceTests {
    static func summary(_ result: Result<PythonFileFacts, PythonFileFailure>) -> String {
        switch result {
        case .failure(let f):
            return "failure \(f.offset) \(f.message)"
        case .success(let facts):
            var out = "encoding \(facts.encoding)\n"
            for s in facts.imports {
                let names = s.names.map { $0.map { "\($0.name)@\($0.offset)-\($0.end)" }.joined(separator: ",") } ?? "-"
                out += "import \(s.level) \(s.module) \(s.offset)-\(s.end) [\(names)] tc=\(s.typeChecking) dyn=\(s.dynamic)\n"
            }
            for d in facts.computedDynamicImports { out += "computed \(d.offset)-\(d.end)\n" }
            for l in facts.initLogic { out += "init \(l.offset)-\(l.end) \(l.what)\n" }
            for s in facts.suppressions { out += "suppress \(s.codes) '\(s.reason)' \(s.offset)-\(s.end) \(s.line):\(s.column)->\(s.targetLine)\n" }
            for e in facts.syntaxErrors { out += "error \(e.offset) \(e.message)\n" }
            return out
        }
    }

    /// Compares both paths on one file; returns whether the skimmer handled it itself.
    @discardableResult
    static func expectSame(_ bytes: [UInt8], isInit: Bool, _ label: String) -> Bool {
        let skimmed = TokenPythonImportExtractor(skim: true).extract(bytes, isPackageInit: isInit)
        let full = TokenPythonImportExtractor(skim: false).extract(bytes, isPackageInit: isInit)
        let a = summary(skimmed), b = summary(full)
        #expect(a == b, "\(label): skim\n\(a)\nfull tokenizer\n\(b)")
        guard !isInit, let source = try? PythonSource(bytes: bytes) else { return false }
        return PythonImportSkimmer.skim(text: source.text, filter: TokenPythonImportExtractor.skimFilter) != nil
    }

    static func pythonFiles(under root: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        return walker.compactMap { ($0 as? String).flatMap { $0.hasSuffix(".py") ? root + "/" + $0 : nil } }.sorted()
    }

    @Test func fixturesGiveTheSameFacts() throws {
        var files = SkimEquivalenceTests.pythonFiles(under: packageRoot + "/fixtures/python")
        files += SkimEquivalenceTests.pythonFiles(under: packageRoot + "/fixtures/lint")
        #expect(files.count > 20)
        var skimmed = 0
        for path in files {
            guard let data = try? Data(contentsOf: URL(fileURLWithPath: path)) else { continue }  // a dangling-link fixture
            let bytes = Array(data)
            for isInit in [false, true] where SkimEquivalenceTests.expectSame(bytes, isInit: isInit, path) { skimmed += 1 }
        }
        // The skimmer handles most files itself rather than falling back.
        #expect(skimmed > files.count / 2)
    }

    /// Lines built from fragments that stress the skimmer's decisions: strings of every
    /// kind across lines, numbers the tokenizer rejects, brackets, continuations, header
    /// lines with and without a final ':', dynamic imports and TYPE_CHECKING anywhere.
    static let fragments: [String] = [
        "import a.b", "from . import x", "from .m import (y,\n z)", "if TYPE_CHECKING:", "if typing.TYPE_CHECKING:",
        "if x:", "elif y:", "else:", "try:", "except ImportError:", "finally:", "def f(a=(1, 2)):", "class C(B):",
        "async def g():", "with open(p) as f:", "for i in r:", "while True:", "match x:", "case 1:", "match = 3",
        "importlib.import_module('p.q')", "import_module(name)", "__import__(\"z\")", "x = TYPE_CHECKING",
        "from importlib import import_module as im", "im('a.b')", "import importlib as il", "il.import_module('.x', __package__)",
        "importlib.import_module(name='n.m')",
        "'''doc\nstill doc'''", "\"\"\"a \\\"\"\" b\"\"\"", "r'\\'", "b'x'", "f'{a}'", "rb\"q\"", "u'é'", "'unterminated",
        "\"\"\"never closed", "x = (", ")", "]", "{", "[1,\n 2]", "y = \\\n  3", "\\", "# ember-lint: ignore[EL001] why",
        "# plain comment", "0x", "012", "1if x else y", "1abc", ".5", "x...", "a.b.c", "!=", "!", "$", "`", "é = 1",
        "x: int = 1", "lambda: 0", "d[1:2]", "print(x)", "pass", "return", "@decorator", "0b102", "1_000", "1__0",
        "x = 'a' \\\n 'b'", "\t", "    ", "  ", "\u{0C}", "\r\n", "\r", "\n", "\n", "\n", ";", "import os; x = 1",
        "if x: import y", "else: pass", "class D: pass # c", "def h(): # ember-lint: ignore[EL002] ok",
    ]

    /// Fragments that leave no tokenizer error on their own (so whole files often skim).
    static let cleanFragments: [String] = fragments.filter { f in
        !["'unterminated", "\"\"\"never closed", "x = (", ")", "]", "{", "\\", "0x", "012", "1abc", "!", "$", "`", "é = 1",
          "0b102", "1__0", "\t", "    ", "  ", "\u{0C}", "\r"].contains(f)
    }

    @Test func generatedSourcesGiveTheSameFacts() {
        var rng = SeededGenerator(seed: 5_2026_1126)
        var skimmed = 0
        let cases = 1500
        for index in 0..<cases {
            // Odd cases: anything; even cases: clean fragments and consistent indentation.
            let clean = index % 2 == 0
            let pool = clean ? SkimEquivalenceTests.cleanFragments : SkimEquivalenceTests.fragments
            var text = ""
            for _ in 0..<Int.random(in: 1..<25, using: &rng) {
                let indent = (clean ? ["", "", "    "] : ["", "", "    ", "        ", "\t"]).randomElement(using: &rng)!
                let parts = Int.random(in: 1...3, using: &rng)
                text += indent + (0..<parts).map { _ in pool.randomElement(using: &rng)! }.joined(separator: " ")
                if Int.random(in: 0..<8, using: &rng) != 0 { text += ["\n", "\n", "\r\n"].randomElement(using: &rng)! }
            }
            let isInit = Int.random(in: 0..<6, using: &rng) == 0
            if SkimEquivalenceTests.expectSame(Array(text.utf8), isInit: isInit, "case \(index): \(text.debugDescription)") { skimmed += 1 }
        }
        // Many generated files have errors (the full tokenizer's job); enough must be skimmed.
        #expect(skimmed > cases / 5)
    }

    /// Ordinary valid code: the skimmer must not fall back on it.
    @Test func validCodeIsSkimmedNotFallenBack() {
        let source = """
            \"\"\"Module docstring with 'quotes' and # no comment.\"\"\"
            import os, sys as system
            from .sibling import (a,
                                  b)  # trailing
            if TYPE_CHECKING:
                from typing import Any
            x = {"k": [1, 2.5e-3, 0x1F, 1_000j], 'v': f"{os.sep!r:>{w}}"}
            def f(a, *args, **kw) -> None:
                y = a if a else \\
                    b
                return importlib.import_module("pkg.mod")

            """
        #expect(SkimEquivalenceTests.expectSame(Array(source.utf8), isInit: false, "valid code"))
        let facts = try? TokenPythonImportExtractor(skim: true).extract(Array(source.utf8), isPackageInit: false).get()
        #expect(facts?.imports.map(\.module) == ["os", "sys", "sibling", "typing", "pkg.mod"])
        #expect(facts?.imports.map(\.typeChecking) == [false, false, false, true, false])
    }
}
