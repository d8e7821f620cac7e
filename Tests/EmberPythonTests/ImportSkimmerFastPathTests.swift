import EmberPython
import Testing

/// The skimmer's shortcuts (first-word table, anywhere-name occurrences, plain integers,
/// comment marker search, indentation at an unchanged level) give what the slow paths give.
@Suite struct ImportSkimmerFastPathTests {
    static let starters = ["if", "for", "def", "try", "from", "elif", "else", "with", "case", "while", "class", "async",
                           "match", "import", "except", "finally"]
    static let filter = PythonImportSkimmer.Filter(
        lineStarters: starters, namesAnywhere: ["import_module", "__import__", "TYPE_CHECKING"], commentMarker: "ember-lint",
        headerWords: starters.filter { $0 != "import" && $0 != "from" }, structureNeedsAnywhereName: true)

    func skim(_ code: String) -> [String]? {
        let text = Array(code.utf8)
        return PythonImportSkimmer.skim(text: text, filter: Self.filter)?.map { t in
            let s = String(decoding: text[t.start..<t.end], as: UTF8.self)
            return s.isEmpty ? t.kind.cpythonName : "\(t.kind.cpythonName) \(s)"
        }
    }

    @Test func firstWordsAreMatchedExactly() {
        // Near misses of the starters, and "check", whose (length, first, last) hash is a starter's.
        for word in ["im", "impor", "imports", "form", "fro", "iff", "i", "classy", "clas", "check", "matches", "Import", "IF", "x1"] {
            #expect(skim("\(word) = 1\n") == ["ENDMARKER"], "\(word)")
        }
        for word in Self.starters where word != "import" && word != "from" {
            // Not a block header (no final ':'): the whole line is kept.
            #expect(skim("\(word) = 1\n") == ["NAME \(word)", "OP =", "NUMBER 1", "NEWLINE \n", "ENDMARKER"], "\(word)")
        }
        #expect(skim("import os\n") == ["NAME import", "NAME os", "NEWLINE \n", "ENDMARKER"])
    }

    @Test func anywhereNamesAreFoundOnlyAsNames() {
        // In a string, a comment or a longer name the bytes are no name: nothing is kept.
        for code in ["x = 'import_module'\n", "x = 1  # __import__\n", "my_import_module_x = 2\n", "TYPE_CHECKINGS = 0\n",
                     "s = \"\"\"\nTYPE_CHECKING\n\"\"\"\n"] {
            #expect(skim(code) == ["ENDMARKER"], "\(code.debugDescription)")
        }
        // As a name, on a line after plain ones, its whole line is kept.
        #expect(skim("a = 1\nb = (2,\n     3)\nm = importlib.import_module(name)\nc = 4\n")
            == ["NAME m", "OP =", "NAME importlib", "OP .", "NAME import_module", "OP (", "NAME name", "OP )", "NEWLINE \n", "ENDMARKER"])
        #expect(skim("x = [\n    __import__('m'),\n]\n")
            == ["NAME x", "OP =", "OP [", "NAME __import__", "OP (", "STRING 'm'", "OP )", "OP ,", "OP ]", "NEWLINE \n", "ENDMARKER"])
    }

    @Test func plainIntegersAndOtherNumbers() {
        for code in ["x = 0\n", "x = 10\n", "x = 00\n", "x = 0_0\n", "x = 1_000\n", "x = 0x1F\n", "x = 1.5e3j\n", "x = .5\n",
                     "x = 1if y else 2\n", "x = [1,2]\n", "x = y[0]\n"] {
            #expect(skim(code) == ["ENDMARKER"], "\(code.debugDescription)")
        }
        for bad in ["x = 01\n", "x = 1abc\n", "x = 0b2\n", "x = 1_\n", "x = 5x\n"] {
            #expect(skim(bad) == nil, "\(bad.debugDescription)")
            #expect(!PythonTokenizer.tokenize(text: Array(bad.utf8), options: .init(targetVersion: .v3_11)).diagnostics.isEmpty, "\(bad.debugDescription)")
        }
    }

    @Test func commentMarkerAnywhereInTheComment() {
        #expect(skim("#ember-lint\n") == ["COMMENT #ember-lint", "ENDMARKER"])
        #expect(skim("x = 1  # note xember-lint: ok\n") == ["COMMENT # note xember-lint: ok", "ENDMARKER"])
        #expect(skim("x = 1  # ember-lin\n# ember lint\n# -ember-lin-t\n") == ["ENDMARKER"])
        #expect(skim("x = 1  # ember-lint")?.first == "COMMENT # ember-lint")  // at the text's very end
    }

    @Test func indentationIsCheckedAtEveryLevel() {
        // Deep and unchanged levels (eight spaces at a time), tabs, and a return to level 0.
        let good = "def f():\n" + "        x = 1\n" + "        y = 2\n" + "        if y:\n" + "                    z = 3\n" + "x = 0\n"
        #expect(skim(good) == ["ENDMARKER"])
        // The tokenizer's closing DEDENTs stay, as documented.
        #expect(skim("def f():\n\tx = 1\n\ty = 2\n") == ["DEDENT", "ENDMARKER"])
        for bad in ["def f():\n        a = 1\n    b = 2\n", "if x:\n\ta = 1\n        b = 2\n", "def f():\n    a = 1\n\tb = 2\n"] {
            #expect(skim(bad) == nil, "\(bad.debugDescription)")
            #expect(!PythonTokenizer.tokenize(text: Array(bad.utf8), options: .init(targetVersion: .v3_11)).diagnostics.isEmpty, "\(bad.debugDescription)")
        }
    }

    @Test func shortStringsEndWhereTheTokenizerEndsThem() {
        for code in ["x = 'a\\'b'\n", "x = \"a\\\\\"\n", "x = r'\\''\n", "x = f'{a}\"'\n", "x = 'a\\\nb'\n", "x = \"it's\"\n"] {
            #expect(skim(code) == ["ENDMARKER"], "\(code.debugDescription)")
        }
        for bad in ["x = 'a\\\\'b'\n", "x = 'abc\n", "x = \"a\\\"\n"] {
            #expect(skim(bad) == nil, "\(bad.debugDescription)")
            #expect(!PythonTokenizer.tokenize(text: Array(bad.utf8), options: .init(targetVersion: .v3_11)).diagnostics.isEmpty, "\(bad.debugDescription)")
        }
    }
}
