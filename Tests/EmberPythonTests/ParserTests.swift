import EmberPython
import EmberUtils
import Foundation
import Testing

private func parse(_ code: String) throws -> PythonSyntaxTree {
    PythonParser.parse(try PythonSource(utf8: code), options: .init(targetVersion: .v3_11))
}

private func fixtureNames(_ folder: String) -> [String] {
    let dir = Fixture.root.appendingPathComponent(folder).path
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".py") }.sorted()
}

@Suite struct ParserTests {
    /// Each grammar fixture's tree equals CPython's `ast.parse` (goldens recorded by
    /// scripts/conformance/record-goldens.py).
    @Test(arguments: fixtureNames("grammar"))
    func grammarFixtureMatchesCPython(_ name: String) throws {
        let bytes = try Fixture.bytes("grammar/" + name)
        let tree = PythonParser.parse(try PythonSource(bytes: bytes), options: .init(targetVersion: .v3_11))
        #expect(tree.diagnostics.isEmpty, "\(tree.diagnostics)")
        let golden = try String(contentsOf: Fixture.root.appendingPathComponent("grammar/" + name.dropLast(3) + ".ast"), encoding: .utf8)
        let expected = golden.split(separator: "\n").map(String.init)
        let got = tree.canonicalDump()
        #expect(got.count == expected.count)
        for (k, (a, b)) in zip(expected, got).enumerated() where a != b {
            Issue.record("\(name) node \(k): CPython \(a), ours \(b)")
            break
        }
    }

    /// Each invalid fixture is rejected at CPython's line with CPython's message.
    @Test(arguments: fixtureNames("invalid"))
    func invalidFixtureRejectedLikeCPython(_ name: String) throws {
        let source = try PythonSource(bytes: try Fixture.bytes("invalid/" + name))
        let tree = PythonParser.parse(source, options: .init(targetVersion: .v3_11))
        let golden = try String(contentsOf: Fixture.root.appendingPathComponent("invalid/" + name.dropLast(3) + ".err"), encoding: .utf8)
            .trimmingCharacters(in: .newlines)
        guard let first = tree.diagnostics.first else {
            Issue.record("\(name): accepted")
            return
        }
        #expect("\(source.lineTable.location(of: first.offset).line): \(first.message)" == golden)
    }

    @Test func spansFollowCPython() throws {
        let tree = try parse("x = (a).b + (c)\n")
        #expect(tree.canonicalDump() == [
            "Assign 1:0-1:15", "Name 1:0-1:1", "BinOp 1:4-1:15", "Attribute 1:4-1:9", "Name 1:5-1:6", "Name 1:13-1:14",
        ])
    }

    @Test func pep695TypeParametersAndAliases() throws {
        let code = "type Pair[T] = tuple[T, T]\ndef first[T: int, *Ts, **P](x: T) -> T: return x\nclass Box[T]: pass\n"
        let tree = PythonParser.parse(try PythonSource(utf8: code), options: .init(targetVersion: .v3_12))
        #expect(tree.diagnostics.isEmpty)
        // Before 3.12, CPython does not read type parameters (fixtures/python/versions/3.11 has the messages).
        #expect(try parse(code).diagnostics.first?.message == "invalid syntax")
        let kinds = tree.children(of: tree.root).map { tree[$0].kind }
        #expect(kinds == [.typeAlias, .functionDef, .classDef])
        let function = tree.children(of: tree.root)[1]
        let params = tree.children(of: function, role: .typeParam).map { tree[$0].kind }
        #expect(params == [.typeVar, .typeVarTuple, .paramSpec])
        #expect(tree.children(of: tree.children(of: function, role: .typeParam)[0], role: .bound).count == 1)
        // `type` stays a name elsewhere.
        #expect(try parse("type = 1\ntype(x)\n").diagnostics.isEmpty)
    }

    @Test func softKeywordsStayNames() throws {
        let tree = try parse("match = 1\nmatch.x = 2\nmatch(x)\ncase = 3\n_ = 4\n")
        #expect(tree.diagnostics.isEmpty)
        #expect(tree.children(of: tree.root).count == 5)
    }

    @Test func deepNestingIsADiagnosticNotACrash() throws {
        let depth = 100_000
        let tooDeep = "too deeply nested (more than 3000 levels)"  // 3.11's maxDepth (parse() targets 3.11)
        let cases: [(String, String)] = [
            (String(repeating: "(", count: depth) + "1" + String(repeating: ")", count: depth), "too many nested parentheses"),
            (String(repeating: "[", count: depth), "too many nested parentheses"),
            ("x = " + String(repeating: "-", count: depth) + "1", tooDeep),
            ("x = " + String(repeating: "not ", count: depth) + "1", tooDeep),
            ("f = " + String(repeating: "lambda: ", count: depth) + "1", tooDeep),
            ("x = " + String(repeating: "a if b else ", count: depth) + "c", tooDeep),
            ("x = " + String(repeating: "a ** ", count: depth) + "c", tooDeep),
            ("x = f'{" + String(repeating: "(", count: depth) + "}'", "f-string: expecting '}'"),
        ]
        for (code, message) in cases {
            let tree = try parse(code + "\n")
            // Lambdas recurse: a debug build's thread stack may end before the level limit.
            let got = tree.diagnostics.first?.message ?? ""
            #expect(got == message || (message == tooDeep && code.hasPrefix("f =") && got.hasPrefix("too deeply nested")), "\(code.prefix(20))")
        }
        // Within the limits everything parses: 200 brackets (CPython's limit), 2,900 unary operators.
        #expect(try parse(String(repeating: "(", count: 200) + "1" + String(repeating: ")", count: 200) + "\n").diagnostics.isEmpty)
        #expect(try parse("x = " + String(repeating: "-", count: 2900) + "1\n").diagnostics.isEmpty)
    }

    @Test func deepIndentationIsADiagnostic() throws {
        var code = ""
        for level in 0..<120 { code += String(repeating: " ", count: level) + "if x:\n" }
        code += String(repeating: " ", count: 120) + "pass\n"
        let tree = try parse(code)
        #expect(tree.diagnostics.first?.message == "too many levels of indentation" || tree.diagnostics.first?.message == "too many nested parentheses")
    }

    /// The first diagnostic is the error CPython reports, even when it is not the earliest
    /// (a NUL byte anywhere); the others follow earliest first (the unclosed bracket, found at
    /// the end of the text, among them at its own offset).
    @Test func diagnosticsAfterTheFirstAreEarliestFirst() throws {
        let source = try PythonSource(bytes: Array("x = (1 $ 2\ny = $\nz = 1\0\n".utf8))
        for diagnostics in [PythonTokenizer.tokenize(source).diagnostics, PythonParser.parse(source).diagnostics] {
            #expect(diagnostics.first?.message == "source code cannot contain null bytes")
            let rest = diagnostics.dropFirst().map(\.offset)
            #expect(rest.count == 3, "\(diagnostics)")
            #expect(rest == rest.sorted(), "\(diagnostics)")
            #expect(diagnostics.dropFirst().first?.message.hasPrefix("'(' was never closed") == true, "\(diagnostics)")
        }
    }

    /// CPython stores identifiers in NFKC (`ｗｉｄｔｈ` is `width`, `µ` is `μ`): the full dump
    /// writes them so when given a normalization (the fixtures are ASCII, so this is
    /// checked here; CPython 3.11's `ast.parse` gives these names).
    @Test func fullDumpNormalizesIdentifiers() throws {
        let tree = try parse("ｗｉｄｔｈ = µ.ﬁle\n")
        let normalized = tree.fullDump(target: .v3_11, normalizingIdentifiers: { $0.precomposedStringWithCompatibilityMapping })
        #expect(normalized.contains("2 targets Name 1:0-1:15 id=width ctx=Store"), "\(normalized)")
        #expect(normalized.contains("2 value Attribute 1:18-1:26 attr=file ctx=Load"), "\(normalized)")
        #expect(normalized.contains("3 value Name 1:18-1:20 id=\u{3BC} ctx=Load"), "\(normalized)")
        let raw = tree.fullDump(target: .v3_11)
        #expect(raw.contains("2 targets Name 1:0-1:15 id=ｗｉｄｔｈ ctx=Store"), "\(raw)")
    }

    @Test func partialTreeKeepsStatementsBeforeTheError() throws {
        let tree = try parse("import os\nclass A:\n    pass\nx = = 1\n")
        #expect(tree.diagnostics.first?.message == "invalid syntax")
        #expect(tree.children(of: tree.root).map { tree[$0].kind } == [.import, .classDef])
    }

    @Test func visitorFindsClassesFunctionsCallsAttributesImports() throws {
        let code = """
            from ember.core import Operator as Op, chain
            import ember.api.models as models
            from .. import sibling

            @decorate
            class Summarizer(Op, metaclass=Meta):
                def forward(self, x):
                    return self.model.call(x, temperature=0.2)

            result = ChainOperator([a, b])(x)

            """
        let tree = try parse(code)
        #expect(tree.isValid)
        struct Finder: PythonSyntaxVisitor {
            var found: [String] = []
            mutating func visit(_ node: PythonNodeID, in tree: PythonSyntaxTree) -> Bool {
                let n = tree[node]
                switch n.kind {
                case .classDef, .functionDef, .attribute:
                    found.append("\(n.kind.astName) \(tree.identifier(of: node) ?? "?")")
                case .call:
                    found.append("Call \(tree.text(of: tree.children(of: node, role: .function)[0]))")
                case .importFrom:
                    let names = tree.children(of: node, role: .alias).map { "\(tree.identifier(of: $0) ?? "?") as \(tree.asName(of: $0) ?? "-")" }
                    found.append("ImportFrom level \(n.aux) \(tree.identifier(of: node) ?? "-"): \(names.joined(separator: ", "))")
                case .import:
                    found.append("Import " + tree.children(of: node).map { "\(tree.identifier(of: $0) ?? "?") as \(tree.asName(of: $0) ?? "-")" }.joined())
                default: break
                }
                return true
            }
        }
        var finder = Finder()
        tree.walk(&finder)
        #expect(finder.found == [
            "ImportFrom level 0 ember.core: Operator as Op, chain as -",
            "Import ember.api.models as models",
            "ImportFrom level 2 -: sibling as -",
            "ClassDef Summarizer",
            "FunctionDef forward",
            "Call self.model.call",
            "Attribute call", "Attribute model",
            "Call ChainOperator([a, b])", "Call ChainOperator",
        ])
        let classNode = tree.children(of: tree.root)[3]
        #expect(tree.children(of: classNode, role: .base).map { tree.text(of: $0) } == ["Op"])
        #expect(tree.children(of: classNode, role: .decorator).map { tree.text(of: $0) } == ["decorate"])
        #expect(tree.location(of: classNode).start == (line: 6, column: 0))
    }

    @Test func sourceEditsReplaceByteRanges() throws {
        let source = try PythonSource(utf8: "x = ChainOperator([a, b])  # keep\r\n")
        let tree = PythonParser.parse(source, options: .init(targetVersion: .v3_11))
        var call: PythonNodeID = -1
        struct FindCall: PythonSyntaxVisitor {
            var call: PythonNodeID = -1
            mutating func visit(_ node: PythonNodeID, in tree: PythonSyntaxTree) -> Bool {
                if tree[node].kind == .call && call < 0 { call = node }
                return true
            }
        }
        var finder = FindCall()
        tree.walk(&finder)
        call = finder.call
        let n = tree[call]
        let out = try source.applying([SourceEdit(range: n.start..<n.end, replacement: "chain(a, b)")])
        #expect(String(decoding: out, as: UTF8.self) == "x = chain(a, b)  # keep\r\n")
        #expect(throws: SourceEditError.self) {
            try SourceEdit.apply([SourceEdit(range: 0..<5, replacement: ""), SourceEdit(range: 3..<6, replacement: "")], to: source.text)
        }
        #expect(throws: SourceEditError.self) {
            try SourceEdit.apply([SourceEdit(range: 0..<500, replacement: "")], to: source.text)
        }
        // Insertions at one offset keep their order.
        let inserted = try SourceEdit.apply([SourceEdit(range: 0..<0, replacement: "a"), SourceEdit(range: 0..<0, replacement: "b")], to: [0x78])
        #expect(inserted == Array("abx".utf8))
    }

    @Test func editsKeepTheFileEncoding() throws {
        let source = try PythonSource(bytes: try Fixture.bytes("latin1_cookie.py"))
        let tree = PythonParser.parse(source, options: .init(targetVersion: .v3_11))
        #expect(tree.isValid)
        let assign = tree.children(of: tree.root)[0]
        let target = tree.children(of: assign, role: .target)[0]
        let n = tree[target]
        let out = try source.applying([SourceEdit(range: n.start..<n.end, replacement: "nom")])
        #expect(out == Array("# -*- coding: latin-1 -*-\nnom = \"caf".utf8) + [0xE9] + Array("\"\n".utf8))
    }

    @Test func splitFStringTokens() throws {
        #expect(try tokenStrings("f'a{x!r:>{w}}b'\n", splitFStrings: true) == [
            "FSTRING_START f'", "FSTRING_MIDDLE a", "OP {", "NAME x", "OP !", "NAME r", "OP :", "FSTRING_MIDDLE >",
            "OP {", "NAME w", "OP }", "FSTRING_MIDDLE", "OP }", "FSTRING_MIDDLE b", "FSTRING_END '", "NEWLINE \n", "ENDMARKER",
        ])
        #expect(try tokenStrings("f'{x}'\n") == ["STRING f'{x}'", "NEWLINE \n", "ENDMARKER"])
    }

    @Test func fStringFieldsAreParsed() throws {
        let tree = try parse("f'{a.b(c)} and {d!r:{e}}'\n")
        struct Names: PythonSyntaxVisitor {
            var names: [String] = []
            mutating func visit(_ node: PythonNodeID, in tree: PythonSyntaxTree) -> Bool {
                if tree[node].kind == .name { names.append(tree.text(of: node)) }
                return true
            }
        }
        var v = Names()
        tree.walk(&v)
        #expect(v.names == ["a", "c", "d", "e"])
        // Identifiers inside f-strings come from the node spans.
        struct Idents: PythonSyntaxVisitor {
            var found: [String] = []
            mutating func visit(_ node: PythonNodeID, in tree: PythonSyntaxTree) -> Bool {
                if [.name, .attribute, .keyword].contains(tree[node].kind) { found.append(tree.identifier(of: node) ?? "nil") }
                return true
            }
        }
        var ids = Idents()
        try parse("f'{obj.attr(k = 1)}'\n").walk(&ids)
        #expect(ids.found == ["attr", "obj", "k"])
        #expect(try parse("f'{a b}'\n").diagnostics.first?.message == "f-string: invalid syntax. Perhaps you forgot a comma?")
    }

    @Test func hugeLineParses() throws {
        // A 1 MB single line (the 50 MB case is measured with the release dump tool).
        let code = "x = [" + String(repeating: "1, ", count: 350_000) + "]\n"
        let tree = try parse(code)
        #expect(tree.isValid)
        #expect(tree.nodes.count > 350_000)
    }

    @Test func randomInputNeverBreaksTheTree() throws {
        var rng = SeededGenerator(seed: 7)
        let pieces = ["def ", "class ", "f(", ")", "[", "]", "{", "}", ":", "\n", "    ", "x", "1", "'s'", "f'{y}'", ",",
                      "=", "lambda", "if ", "else ", "for ", "in ", "match ", "case ", "*", "**", "@", "->", "\\\n", "#c"]
        for _ in 0..<1500 {
            let count = Int.random(in: 0..<30, using: &rng)
            let code = (0..<count).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &rng)] }.joined()
            let tree = try parse(code)
            for node in tree.nodes {
                #expect(node.start >= 0 && node.start <= node.end && node.end <= code.utf8.count)
            }
            #expect(tree.diagnostics.allSatisfy { $0.offset >= 0 && $0.offset <= code.utf8.count })
        }
    }
}

@Suite struct KeywordTests {
    /// The parser's keyword classification agrees with Python's hard keyword list.
    @Test func everyHardKeywordIsClassified() throws {
        let hard = ["False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
                    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
                    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
                    "with", "yield"]
        for word in hard {
            // A keyword cannot be assigned to; a near-miss name can.
            #expect(!(try parse("\(word) = 1\n").isValid), "\(word)")
            #expect(try parse("\(word)x = 1\n").isValid, "\(word)x")
        }
        for soft in ["match", "case", "type", "_"] {
            #expect(try parse("\(soft) = 1\n").isValid, "\(soft)")
        }
    }
}

@Suite struct PEP701Tests {
    private func parse312(_ code: String) throws -> PythonSyntaxTree {
        PythonParser.parse(try PythonSource(utf8: code), options: .init(pep701FStrings: true))
    }

    @Test func sameQuotesNestedFStringsAndComments() throws {
        let code = "n = f\"{d[\"key\"]} and {f\"{inner!r:>{w}}\"} {x=}\"\nm = f\"\"\"{\n  a # comment\n}\"\"\"\n"
        let tree = try parse312(code)
        #expect(tree.isValid, "\(tree.diagnostics)")
        // CPython 3.12.1's own tree (a spec spans from its ':'; 3.12 leaves an empty Constant
        // after the spec's field).
        #expect(tree.canonicalDump() == [
            "Assign 1:0-1:46", "Name 1:0-1:1", "JoinedStr 1:4-1:46",
            "FormattedValue 1:6-1:16", "Subscript 1:7-1:15", "Name 1:7-1:8", "Constant 1:9-1:14",
            "Constant 1:16-1:21",
            "FormattedValue 1:21-1:40", "JoinedStr 1:22-1:39", "FormattedValue 1:24-1:38", "Name 1:25-1:30",
            "JoinedStr 1:32-1:37", "Constant 1:33-1:34", "FormattedValue 1:34-1:37", "Name 1:35-1:36", "Constant 1:37-1:37",
            "Constant 1:40-1:44", "FormattedValue 1:41-1:45", "Name 1:42-1:43",
            "Assign 2:0-4:4", "Name 2:0-2:1", "JoinedStr 2:4-4:4", "FormattedValue 2:8-4:1", "Name 3:2-3:3",
        ])
        // The same text is not Python 3.11: the default mode rejects it as CPython 3.11 does.
        #expect(!PythonParser.parse(try PythonSource(utf8: code), options: .init(targetVersion: .v3_11)).isValid)
    }

    @Test func splitModeErrors() throws {
        #expect(try parse312("x = f'{a'\n").diagnostics.first?.message == "f-string: expecting '}'")
        #expect(try parse312("x = f'{}'\n").diagnostics.first?.message == "f-string: valid expression required before '}'")
        #expect(try parse312("x = f'{a!x}'\n").diagnostics.first?.message == "f-string: invalid conversion character 'x': expected 's', 'r', or 'a'")
        #expect(try parse312("x = f'abc\n").diagnostics.first?.message == "unterminated f-string literal (detected at line 1)")
        #expect(try parse312("x = b'a' f'{b}'\n").diagnostics.first?.message == "cannot mix bytes and nonbytes literals")
    }

    @Test func plainCodeParsesTheSameInBothModes() throws {
        let code = try String(contentsOf: Fixture.root.appendingPathComponent("grammar/expressions.py"), encoding: .utf8)
        let a = PythonParser.parse(try PythonSource(utf8: code), options: .init(targetVersion: .v3_11))
        let b = try parse312(code)
        #expect(a.isValid && b.isValid)
        // Same statements and non-f-string nodes; only f-string part spans differ.
        #expect(a.children(of: a.root).map { a[$0].kind } == b.children(of: b.root).map { b[$0].kind })
    }
}
