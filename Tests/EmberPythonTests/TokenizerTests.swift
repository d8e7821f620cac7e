import EmberPython
import EmberUtils
import Testing

@Suite struct TokenizerTests {
    @Test func simpleStatement() throws {
        #expect(try tokenStrings("x = 1\n") == ["NAME x", "OP =", "NUMBER 1", "NEWLINE \n", "ENDMARKER"])
    }

    @Test func indentDedentAndBlankLines() throws {
        let code = "if a:\n    b\n\n    # c\n  # d\nelse:\n    pass\n"
        #expect(try tokenStrings(code) == [
            "NAME if", "NAME a", "OP :", "NEWLINE \n",
            "INDENT     ", "NAME b", "NEWLINE \n",
            "NL \n",
            "COMMENT # c", "NL \n",
            "COMMENT # d", "NL \n",
            "DEDENT", "NAME else", "OP :", "NEWLINE \n",
            "INDENT     ", "NAME pass", "NEWLINE \n",
            "DEDENT", "ENDMARKER",
        ])
    }

    @Test func newlineInsideBracketsIsNL() throws {
        #expect(try tokenStrings("f(a,\n  b)  # x\n") == [
            "NAME f", "OP (", "NAME a", "OP ,", "NL \n", "NAME b", "OP )", "COMMENT # x", "NEWLINE \n", "ENDMARKER",
        ])
    }

    @Test func backslashContinuationIsTrivia() throws {
        #expect(try tokenStrings("x = 1 + \\\n    2\n") == [
            "NAME x", "OP =", "NUMBER 1", "OP +", "NUMBER 2", "NEWLINE \n", "ENDMARKER",
        ])
    }

    @Test func crlfNewlines() throws {
        #expect(try tokenStrings("a\r\n\r\nb\r\n") == ["NAME a", "NEWLINE \r\n", "NL \r\n", "NAME b", "NEWLINE \r\n", "ENDMARKER"])
    }

    @Test func implicitNewlineAtEOF() throws {
        #expect(try tokenStrings("x") == ["NAME x", "NEWLINE", "ENDMARKER"])
        #expect(try tokenStrings("# only a comment") == ["COMMENT # only a comment", "NL", "ENDMARKER"])
        #expect(try tokenStrings("if x:\n  y") == ["NAME if", "NAME x", "OP :", "NEWLINE \n", "INDENT   ", "NAME y", "NEWLINE", "DEDENT", "ENDMARKER"])
    }

    @Test(arguments: [
        "0", "00", "0_0", "123", "1_000_000", "0x1F", "0X_ff", "0o17", "0b1010", "0b_1", "1.5", "1.", ".5", "1e10",
        "1E+5", "1.5e-3", "1_0.0_1e1_0", "3j", "1.5J", "1e3j", ".5j",
    ])
    func numberForms(_ literal: String) throws {
        #expect(try tokenStrings(literal + "\n") == ["NUMBER \(literal)", "NEWLINE \n", "ENDMARKER"])
    }

    @Test func numberFollowedByKeywordAndAttribute() throws {
        #expect(try tokenStrings("1if x else 2\n").prefix(2) == ["NUMBER 1", "NAME if"])
        #expect(try tokenStrings("1..real\n").prefix(3) == ["NUMBER 1.", "OP .", "NAME real"])
        #expect(try diagnostics("1abc\n") == ["invalid decimal literal"])
        #expect(try diagnostics("0x\n") == ["invalid hexadecimal literal"])
    }

    @Test(arguments: [
        "'a'", "\"b\"", "'''t\nq'''", "\"\"\"d\"\"\"", "r'\\d'", "b'x'", "rb'x'", "BR'x'", "Rb\"x\"", "u'x'", "f'{x}'",
        "fR'{x!r:>{w}}'", "'it\\'s'", "'a\\\nb'", "f\"{'nested'}\"",
    ])
    func stringForms(_ literal: String) throws {
        #expect(try tokenStrings(literal + "\n") == ["STRING \(literal)", "NEWLINE \n", "ENDMARKER"])
    }

    @Test func nonPrefixNameBeforeQuote() throws {
        #expect(try tokenStrings("ur'x'\n").prefix(2) == ["NAME ur", "STRING 'x'"])
    }

    @Test func operatorsLongestMatch() throws {
        let ops = ["**=", "//=", ">>=", "<<=", "->", ":=", "...", "!=", "==", "<=", ">=", "**", "//", "@=", "->", "~"]
        let code = ops.joined(separator: " ") + "\n"
        #expect(try tokenStrings(code).dropLast(2) == ops.map { "OP \($0)" }[...])
    }

    @Test func unicodeNames() throws {
        #expect(try tokenStrings("café = ñ\n").prefix(3) == ["NAME café", "OP =", "NAME ñ"])
    }

    @Test func formFeedResetsIndentation() throws {
        #expect(try tokenStrings("if x:\n  \u{0C}y\n").contains("INDENT   \u{0C}") == false)
    }

    // MARK: errors, in CPython's words

    @Test func unterminatedString() throws {
        #expect(try diagnostics("x = 'abc\ny = 2\n") == ["unterminated string literal (detected at line 1)"])
        let tokens = try tokenStrings("x = 'abc\n")
        #expect(tokens.prefix(5) == ["NAME x", "OP =", "ERRORTOKEN  ", "ERRORTOKEN '", "NAME abc"])
    }

    @Test func unterminatedTripleQuotedString() throws {
        #expect(try diagnostics("x = '''abc\n\n") == ["unterminated triple-quoted string literal (detected at line 2)"])
    }

    @Test func unindentMismatch() throws {
        #expect(try diagnostics("if x:\n    a\n  b\n") == ["unindent does not match any outer indentation level"])
    }

    @Test func inconsistentTabs() throws {
        #expect(try diagnostics("if x:\n        a\n\tb\n") == ["inconsistent use of tabs and spaces in indentation"])
    }

    @Test func brackets() throws {
        #expect(try diagnostics("f(a\n") == ["'(' was never closed"])
        #expect(try diagnostics("a)\n") == ["unmatched ')'"])
        #expect(try diagnostics("(a]\n") == ["closing parenthesis ']' does not match opening parenthesis '('"])
    }

    @Test func invalidCharacters() throws {
        #expect(try diagnostics("x = 1 € 2\n") == ["invalid character '€' (U+20AC)"])
        #expect(try diagnostics("x = 1\u{A0}\n") == ["invalid non-printable character U+00A0"])
        #expect(try diagnostics("x = $\n") == ["invalid syntax"])
        #expect(try diagnostics("x = 1\0\n") == ["source code cannot contain null bytes"])
    }

    @Test func continuationErrors() throws {
        #expect(try diagnostics("x = 1 \\ 2\n") == ["unexpected character after line continuation character"])
        #expect(try diagnostics("x = \\\n") == ["unexpected EOF while parsing"])
    }

    @Test func diagnosticsAreBounded() throws {
        let result = PythonTokenizer.tokenize(text: Array(String(repeating: "$ ", count: 5000).utf8))
        #expect(result.diagnostics.count == 1000)
        #expect(isLossless(Array(String(repeating: "$ ", count: 5000).utf8), result.tokens))
    }

    @Test func nulBytesAndInvalidUTF8() throws {
        #expect(try diagnostics("a\0b\n").first == "source code cannot contain null bytes")
        // Invalid UTF-8 never reaches the tokenizer through PythonSource; directly it is an error token.
        let result = PythonTokenizer.tokenize(text: [0x78, 0x20, 0xFF, 0x0A])
        #expect(result.tokens.map(\.kind) == [.name, .errorToken, .errorToken, .newline, .endmarker])  // the space too, as tokenize.py
        #expect(result.diagnostics.first?.message == "invalid non-printable character U+FFFD")
    }

    // MARK: lossless

    @Test func fixturesRoundTrip() throws {
        #expect(!Fixture.allNames.isEmpty)
        for name in Fixture.allNames {
            let source = try PythonSource(bytes: try Fixture.bytes(name))
            let result = PythonTokenizer.tokenize(source)
            #expect(isLossless(source.text, result.tokens), "\(name)")
        }
    }

    @Test func randomBytesNeverBreakLosslessness() throws {
        var rng = SeededGenerator(seed: 42)
        let alphabet = Array("ab1_.'\"\\#()[]{}:=+-*/<>!\n\r\t \u{0C}fxrbj0e".utf8) + [0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0x00]
        for _ in 0..<2000 {
            let count = Int.random(in: 0..<80, using: &rng)
            let bytes = (0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }
            let result = PythonTokenizer.tokenize(text: bytes)
            #expect(isLossless(bytes, result.tokens), "\(bytes)")
            #expect(result.tokens.last?.kind == .endmarker)
        }
    }
}

/// Fuzzing findings (scripts/fuzz/run.sh): tokens in order, gaps only trivia, in every version.
@Suite struct TokenOrderFindingsTests {
    @Test(arguments: [
        "f\"\"\"{\"\"\"",  // a triple f-string's field closed by the f-string's quotes: they are its FSTRING_END
        "x = f\"\"\"{rb\"\"\"\n",
        "f\"\"\"{x:\"\"\"\n",
        "f'{'",
        "f'{x:'\n",
        "t\"\"\"{\"\"\"",
    ])
    func tokensStayOrderedInEveryVersion(_ code: String) throws {
        let source = try PythonSource(utf8: code)
        for version in PythonVersion.all {
            let result = PythonTokenizer.tokenize(source, options: .init(targetVersion: version))
            var at = 0
            for t in result.tokens {
                #expect(t.start >= at && t.end >= t.start && t.end <= source.text.count, "\(version) \(code.debugDescription): \(t)")
                for b in source.text[min(at, t.start)..<t.start] {
                    #expect(b == 0x20 || b == 0x09 || b == 0x0C || b == 0x5C || b == 0x0A || b == 0x0D, "\(version): non-trivia gap")
                }
                at = max(at, t.end)
            }
            #expect(result.tokens.last?.kind == .endmarker)
            #expect(!PythonParser.parse(source, tokens: result, options: .init(targetVersion: version)).isValid)
        }
    }
}

/// A last line of only whitespace (or a form feed) without a newline: 3.11's tokenize gives
/// it no token, 3.12's an NL '' (both checked against CPython by scripts/conformance).
@Suite struct WhitespaceLastLineTests {
    @Test(arguments: ["x = 1\n   ", "x = 1\n\u{0C}", "x = 1\n \t "])
    func whitespaceOnlyLastLine(_ code: String) throws {
        #expect(try tokenStrings(code, splitFStrings: false) == ["NAME x", "OP =", "NUMBER 1", "NEWLINE \n", "ENDMARKER"])
        #expect(try tokenStrings(code, splitFStrings: true) == ["NAME x", "OP =", "NUMBER 1", "NEWLINE \n", "NL", "ENDMARKER"])
    }
}
