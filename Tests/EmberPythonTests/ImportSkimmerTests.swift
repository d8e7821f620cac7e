import EmberPython
import Testing

/// PythonImportSkimmer on its own: which lines become tokens, and when it gives up.
@Suite struct ImportSkimmerTests {
    static let filter = PythonImportSkimmer.Filter(
        lineStarters: ["import", "from", "if", "def", "class"], namesAnywhere: ["import_module", "TYPE_CHECKING"],
        commentMarker: "ember-lint", headerWords: ["if", "def", "class"])

    func skim(_ code: String) -> [String]? {
        let text = Array(code.utf8)
        return PythonImportSkimmer.skim(text: text, filter: ImportSkimmerTests.filter)?.map { t in
            let s = String(decoding: text[t.start..<t.end], as: UTF8.self)
            return s.isEmpty ? t.kind.cpythonName : "\(t.kind.cpythonName) \(s)"
        }
    }

    func fullTokens(_ code: String) -> [String] {
        let text = Array(code.utf8)
        return PythonTokenizer.tokenize(text: text, options: .init(targetVersion: .v3_11)).tokens.map { t in
            let s = String(decoding: text[t.start..<t.end], as: UTF8.self)
            return s.isEmpty ? t.kind.cpythonName : "\(t.kind.cpythonName) \(s)"
        }
    }

    @Test func keepsImportLinesAndDropsTheRest() {
        let code = "x = 'import y'  # import z\nimport a.b\ny = f(1,\n  2)\nfrom . import (c,\n  d)\n"
        #expect(skim(code) == ["NAME import", "NAME a", "OP .", "NAME b", "NEWLINE \n",
                               "NAME from", "OP .", "NAME import", "OP (", "NAME c", "OP ,", "NAME d", "OP )", "NEWLINE \n",
                               "ENDMARKER"])
    }

    @Test func keptLinesAreTheTokenizersOwnTokens() {
        let code = "if TYPE_CHECKING:\n    from typing import Any  # ember-lint: ignore[EL001] ok\nv = importlib.import_module('m')\n"
        let kept = skim(code) ?? []
        let full = fullTokens(code).filter { $0 != "NL \n" }
        // A subsequence of the full stream, here every token.
        #expect(kept == full)
    }

    @Test func headersShrinkToKeywordAndColon() {
        #expect(skim("def f(a,\n      b=(1, 2)) -> int:  # note\n    return a\n")
            == ["NAME def", "OP :", "NEWLINE \n", "INDENT     ", "DEDENT", "ENDMARKER"])
        // Not a header (the suite is inline): the whole line is tokenized.
        #expect(skim("if x: import y\n") == ["NAME if", "NAME x", "OP :", "NAME import", "NAME y", "NEWLINE \n", "ENDMARKER"])
    }

    @Test func onlyMarkedCommentsAreKept() {
        #expect(skim("# plain\nx = 1  # ember-lint: ignore[EL002] why\n")
            == ["COMMENT # ember-lint: ignore[EL002] why", "ENDMARKER"])
    }

    @Test func anythingTheTokenizerReportsMeansNil() {
        for bad in ["x = 'open\n", "s = \"\"\"never closed\n", "x = (1,\n", "x = 012\n", "a ! b\n", "y = $\n", "x = 1]\n",
                    "def f():\n        a\n    b\n", "x = \\"] {
            #expect(skim(bad) == nil, "\(bad.debugDescription)")
            #expect(!PythonTokenizer.tokenize(text: Array(bad.utf8), options: .init(targetVersion: .v3_11)).diagnostics.isEmpty, "\(bad.debugDescription)")
        }
    }

    @Test func stringsAndNumbersDoNotConfuseLineEnds() {
        let code = "a = '''\nimport fake\n''' + \"#\" + r'\\'' + 1_000 + .5 + x...\nimport real\n"
        #expect(skim(code) == ["NAME import", "NAME real", "NEWLINE \n", "ENDMARKER"])
    }

    @Test func structureOnlyWhereAnAnywhereNameOccurs() {
        var filter = ImportSkimmerTests.filter
        filter = PythonImportSkimmer.Filter(lineStarters: filter.lineStarters, namesAnywhere: filter.namesAnywhere,
                                            commentMarker: filter.commentMarker, headerWords: filter.headerWords,
                                            structureNeedsAnywhereName: true)
        func skim(_ code: String) -> [String]? {
            let text = Array(code.utf8)
            return PythonImportSkimmer.skim(text: text, filter: filter)?.map { "\($0.kind.cpythonName)" }
        }
        // No TYPE_CHECKING or import_module anywhere: imports only (the final DEDENT is the tokenizer's).
        #expect(skim("def f():\n    import a\n") == ["NAME", "NAME", "NEWLINE", "DEDENT", "ENDMARKER"])
        // The name in a comment is enough to keep the structure.
        #expect(skim("def f():  # TYPE_CHECKING\n    import a\n")
            == ["NAME", "OP", "NEWLINE", "INDENT", "NAME", "NAME", "NEWLINE", "DEDENT", "ENDMARKER"])
        // Bad indentation is still found.
        #expect(skim("def f():\n        a\n    b\n") == nil)
    }
}
