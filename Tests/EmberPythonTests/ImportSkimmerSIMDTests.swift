@testable import EmberPython
import EmberUtils
import Testing

/// The skimmer's SIMD paths (the stop map built 64 bytes at a time, the anywhere-name
/// probes, 16-byte scans of indentation, names, comments and short strings, lines chained
/// without returning to `skimRun`) against what the full tokenizer says, at every block
/// edge. `expectedSkim` derives the skimmer's documented output from the tokenizer's stream.
@Suite struct ImportSkimmerSIMDTests {
    static let starters = ["if", "for", "def", "try", "from", "elif", "else", "with", "case", "while", "class", "async",
                           "match", "import", "except", "finally"]
    static let anywhere = ["import_module", "__import__", "TYPE_CHECKING"]
    /// ember-lint's filter (TokenPythonImportExtractor.skimFilter).
    static let filter = PythonImportSkimmer.Filter(
        lineStarters: starters, namesAnywhere: anywhere, commentMarker: "ember-lint",
        headerWords: starters.filter { $0 != "import" && $0 != "from" }, structureNeedsAnywhereName: true)
    /// The same words, keeping block structure everywhere (no chaining over header lines).
    static let structureFilter = PythonImportSkimmer.Filter(
        lineStarters: starters, namesAnywhere: anywhere, commentMarker: "ember-lint",
        headerWords: starters.filter { $0 != "import" && $0 != "from" }, structureNeedsAnywhereName: false)
    /// Four anywhere-names and a two-byte one: no SIMD probes (the memchr search instead).
    static let memchrFilter = PythonImportSkimmer.Filter(
        lineStarters: ["import", "from", "x"], namesAnywhere: anywhere + ["fn", "load"], commentMarker: "ember-lint",
        headerWords: [], structureNeedsAnywhereName: true)

    /// What the skimmer must return for `text`, from the full tokenizer's tokens (see
    /// PythonImportSkimmer's documentation): nil when the tokenizer reports anything.
    static func expectedSkim(_ text: [UInt8], _ filter: PythonImportSkimmer.Filter) -> [PythonToken]? {
        let full = PythonTokenizer.tokenize(text: text, options: .init(targetVersion: .v3_11))
        guard full.diagnostics.isEmpty else { return nil }
        func string(_ t: PythonToken) -> String { String(decoding: text[t.start..<t.end], as: UTF8.self) }
        let marker = Array(filter.commentMarker.utf8)
        func marked(_ t: PythonToken) -> Bool {
            !marker.isEmpty && t.end - t.start >= marker.count
                && (t.start...(t.end - marker.count)).contains { s in Array(text[s..<(s + marker.count)]) == marker }
        }
        let names = filter.namesAnywhere.map { Array($0.utf8) }
        let occurs = names.contains { w in
            text.count >= w.count && (0...(text.count - w.count)).contains { Array(text[$0..<($0 + w.count)]) == w }
        }
        let keepStructure = occurs || !filter.structureNeedsAnywhereName
        var out: [PythonToken] = []
        var line: [PythonToken] = []  // the current logical line's tokens, comments and NLs included
        func endLine() {
            defer { line = [] }
            let code = line.filter { $0.kind != .comment && $0.kind != .nl }
            let comments = line.filter { $0.kind == .comment && marked($0) }
            guard let first = code.first else { out += comments; return }
            let hasName = code.contains { $0.kind == .name && filter.namesAnywhere.contains(string($0)) }
            let starts = first.kind == .name && filter.lineStarters.contains(string(first))
            guard starts || hasName else { out += comments; return }
            let lastCode = code.last { $0.kind != .newline }
            if starts && !hasName && filter.headerWords.contains(string(first)), let lastCode, lastCode.kind == .op, string(lastCode) == ":" {
                // A block header: the word, (marked comments,) ':' and NEWLINE; nothing
                // without block structure.
                guard keepStructure else { out += comments; return }
                out.append(first)
                out += comments
                out.append(lastCode)
                if let newline = code.last, newline.kind == .newline, newline.end > newline.start { out.append(newline) }
                return
            }
            out += line.filter { $0.kind != .nl && ($0.kind != .comment || marked($0)) }
        }
        for t in full.tokens {
            switch t.kind {
            case .indent, .dedent:
                // Without block structure only the tokenizer's closing DEDENTs (at the end).
                if keepStructure || (t.kind == .dedent && t.start == text.count) { out.append(t) }
            case .endmarker:
                if !line.isEmpty { endLine() }
                out.append(t)
            case .comment, .nl:
                if line.isEmpty, t.kind == .comment { out += marked(t) ? [t] : [] } else if !line.isEmpty { line.append(t) }
            case .newline:
                line.append(t)
                // The empty NEWLINE of a last line without a line break comes from the
                // tokenizer's end, kept whatever the line.
                if t.start == t.end {
                    line.removeLast()
                    endLine()
                    out.append(t)
                } else {
                    endLine()
                }
            default:
                line.append(t)
            }
        }
        return out
    }

    static func describe(_ tokens: [PythonToken]?, _ text: [UInt8]) -> String {
        guard let tokens else { return "nil" }
        return tokens.map { "\($0.kind.cpythonName)@\($0.start)-\($0.end) \(String(decoding: text[$0.start..<$0.end], as: UTF8.self).debugDescription)" }
            .joined(separator: "\n")
    }

    static func expectAgrees(_ code: String, _ filter: PythonImportSkimmer.Filter = filter, _ label: String = "",
                             sourceLocation: SourceLocation = #_sourceLocation) {
        let text = Array(code.utf8)
        let skimmed = PythonImportSkimmer.skim(text: text, filter: filter)
        let expected = expectedSkim(text, filter)
        #expect(skimmed == expected, "\(label) \(code.debugDescription)\nskim:\n\(describe(skimmed, text))\nexpected:\n\(describe(expected, text))",
                sourceLocation: sourceLocation)
    }

    @Test func oracleAgreesWithHandWrittenExpectations() {
        // The oracle itself, on cases ImportSkimmerTests spells out.
        let text = Array("x = 'import y'  # import z\nimport a.b\ny = f(1,\n  2)\n".utf8)
        let expected = Self.expectedSkim(text, Self.structureFilter)?.map { String(decoding: text[$0.start..<$0.end], as: UTF8.self) }
        #expect(expected == ["import", "a", ".", "b", "\n", ""])
        let header = Array("def f(a,\n      b=(1, 2)) -> int:  # ember-lint\n    return a\n".utf8)
        #expect(Self.expectedSkim(header, Self.structureFilter)?.map(\.kind) == [.name, .comment, .op, .newline, .indent, .dedent, .endmarker])
        #expect(Self.expectedSkim(header, Self.filter)?.map(\.kind) == [.comment, .dedent, .endmarker])
        #expect(Self.expectedSkim(Array("x = (\n".utf8), Self.filter) == nil)
    }

    /// Every byte value against `skimIsPlain`, at every offset of two blocks, with the text
    /// ending at and inside blocks.
    @Test func stopMapHoldsExactlyTheBytesThatMatter() {
        let tolerated: Set<UInt8> = [0x09, 0x0C, 0x25, 0x26, 0x2F, 0x7C, 0x7E]
        for count in [1, 15, 16, 17, 63, 64, 65, 100, 128, 129, 200] {
            for b in 0...255 {
                let byte = UInt8(b)
                for at in Set([0, 15, 16, 31, 32, 63, 64, 127, 128, count - 1]) where at < count {
                    for next in [UInt8(0x20), 0x35, 0x2E] {  // what follows matters to a '.'
                        var text = [UInt8](repeating: 0x61, count: count)
                        text[at] = byte
                        if at + 1 < count { text[at + 1] = next }
                        text.withUnsafeBufferPointer { p in
                            let maps = SkimMaps(count: count)
                            defer { maps.deallocate() }
                            _ = maps.build(p, Self.filter.compiled)
                            for i in 0..<(maps.words * 64) {
                                let bit = (maps.stops[i >> 6] >> UInt64(i & 63)) & 1 == 1
                                let want: Bool
                                if i >= count {
                                    want = i == maps.words * 64 - 1  // the end marker
                                } else if p[i] == 0x2E {
                                    want = i + 1 < count && (p[i + 1] == 0x2E || p[i + 1] &- 0x30 < 10 || p[i + 1] == 0x2F)
                                } else {
                                    want = !skimIsPlain(p[i]) || tolerated.contains(p[i])
                                }
                                if bit != want {
                                    Issue.record("byte \(b) at \(at) of \(count), next \(next): bit \(i) is \(bit)")
                                    return
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The SIMD probes find exactly the offsets the memchr search finds.
    @Test func anywhereProbesFindWhatMemchrFinds() {
        var rng = SeededGenerator(seed: 2026_1126_1)
        let pieces = ["import_module", "__import__", "TYPE_CHECKING", "import_modul", "_import__", "TYPE_CHECKIN", "m", "_", "K", "Y",
                      "import", "__", " ", "x", "\n", "é", "TYPE_CHECKING_", "importlib.import_module", "______import__"]
        let compiled = Self.filter.compiled
        #expect(compiled.anywhereProbes != nil)
        for _ in 0..<400 {
            var text: [UInt8] = []
            let target = Int.random(in: 0..<300, using: &rng)
            while text.count < target { text += Array(pieces.randomElement(using: &rng)!.utf8) }
            text.withUnsafeBufferPointer { p in
                let maps = SkimMaps(count: p.count)
                defer { maps.deallocate() }
                let simd = maps.build(p, compiled)
                #expect(simd == compiled.anywhereOccurrences(p), "\(String(decoding: text, as: UTF8.self).debugDescription)")
            }
        }
    }

    /// A byte that matters at each edge of a 16- and 64-byte block (and just after it): a
    /// name runs up to it, so the line's stops are found in the map at that offset.
    @Test func specialBytesAtBlockEdges() {
        let specials = ["(1)", "[x]", "{y}", ".5", "...", "x.y", "'s'", "\"t\"", "'a\\'b'", "'\\\\'", "# ember-lint: c", "# plain", "\\\n  + 2",
                        "!= 3", "1_000", "0x1F", "x1", "é", "`", "$", "?", "'open", "\"\"\"doc\nmore\"\"\"", "'''x'''", "import_module(m)",
                        "\t", "\u{0C}", "%", "&", "/", "|", "~", "\r\n", "\r"]
        for special in specials {
            for at in [0, 1, 14, 15, 16, 17, 30, 31, 32, 33, 62, 63, 64, 65, 126, 127, 128] {
                // `at` bytes before the special byte on the line: a long name, or spaces.
                let name = at == 0 ? "" : "v" + String(repeating: "a", count: at - 1)
                Self.expectAgrees("\(name)\(special) = 0\nz = 1\n", Self.filter, "name \(at)")
                Self.expectAgrees("x = \(String(repeating: " ", count: at))\(special)\n", Self.filter, "spaces \(at)")
                // The same as the text's very end, and after an import line (kept lines).
                Self.expectAgrees("import os\n\(name)\(special)", Self.filter, "end \(at)")
                Self.expectAgrees("if TYPE_CHECKING:\n    \(name)\(special)\n", Self.structureFilter, "structure \(at)")
            }
        }
    }

    @Test func textsEndingInsideAndAtBlocks() {
        for count in 0...140 {
            // A valid text of exactly `count` bytes, with and without a final line break.
            var line = "x = f(a)"
            while line.utf8.count < count { line += "b" }
            let text = String(line.prefix(count))
            Self.expectAgrees(text)
            Self.expectAgrees(text + "\n")
            Self.expectAgrees("import a\n" + text)
            Self.expectAgrees("s = '" + text)  // unterminated
        }
    }

    @Test func longLinesAndIndentation() {
        let long = "result = compute(" + (0..<40).map { "arg\($0)" }.joined(separator: ", ") + ")"
        Self.expectAgrees(long + "\n" + long + "\nimport os\n")
        for width in [1, 7, 8, 15, 16, 17, 31, 32, 33, 64, 65] {
            let pad = String(repeating: " ", count: width)
            Self.expectAgrees("def f():\n\(pad)x = 1\n\(pad)y = (2,\n\(pad)  3)\n\(pad)import z\nw = 0\n")
            Self.expectAgrees("def f():\n\(pad)x = 1\n\(pad)\tz = 2\n")  // inconsistent: nil
            Self.expectAgrees("if a:\n\(pad)b = 1\n\n\(pad)# ember-lint: note\n\(pad)c = 2\n  d = 3\n")  // bad dedent: nil
            Self.expectAgrees("class C:\n\(pad)def m(self):\n\(pad)\(pad)return 1\n\(pad)if x: pass\nimport q\n", Self.structureFilter)
        }
    }

    @Test func lineBreaksOfEveryKind() {
        for br in ["\n", "\r\n", "\r"] {
            Self.expectAgrees(["x = 1", "y = f(2,", "  3)", "s = 'a\\", "b'", "import os", "if x:", "    pass", "# ember-lint", ""].joined(separator: br))
            Self.expectAgrees("a = (1,\(br)\(br)  2)\(br)b = \\\(br)  3\(br)")
            Self.expectAgrees("x = 1 \\\(br)\(br)y = 2\(br)")
        }
    }

    @Test func chainedLinesHandOverTheRightLine() {
        // Plain lines, then one the skip cannot take: that one (not the first) is tokenized.
        Self.expectAgrees("a = 1\nb = 2\nc = 3 ! 4\nd = 5\n")
        Self.expectAgrees("a = 1\nb = 2\nc = é\nimport d\n")
        Self.expectAgrees("a = 1\n\n# c\nif x: import y\nz = 2\n")
        Self.expectAgrees("def f():\n    a = 1\n    if b:\n        c = 2\n    return c\nimport os\n")
        Self.expectAgrees("for i in r:\n    x = 1\nelse: y = 2\nwhile z: pass\n")  // headers without ':' at the end
        Self.expectAgrees("a = 1\nb = 012\n")  // the number's diagnostic: nil
        Self.expectAgrees("a = 1\n  b = 2\n")  // unexpected indent: nil
        // Stops in the blank and comment lines between chained lines are not the next line's.
        Self.expectAgrees("a = 1\n# it's (a) \"comment\"\n\nb = 2\nc = 3\n")
        Self.expectAgrees("a = 1\n\n\nb = f(\n1)\n")
        Self.expectAgrees("a = 1\r\nb = (2,\r\n 3)\r\n\r\nc = 4\r\n")
        Self.expectAgrees("a = 1\n    \n\t\nb = 2\n")
    }

    /// Generated Python-like lines: fragments that stress every path, at random offsets.
    @Test func generatedLinesAgreeWithTheTokenizer() {
        let fragments = [
            "import a.b", "from . import (x,\n y)", "if TYPE_CHECKING:", "if x:", "elif y:", "else:", "try:", "except E:", "def f(a=(1, 2)):",
            "class C(B):", "with open(p) as f:", "for i in r:", "match = 3", "case _:", "x = importlib.import_module('m')", "__import__(n)",
            "'''doc\nline'''", "\"\"\"a \\\"\"\" b\"\"\"", "r'\\''", "b'x'", "f'{a}'", "'it''s'", "\"q\\\\\"", "'unterminated", "x = (", ")", "]",
            "[1,\n 2]", "y = \\\n  3", "# ember-lint: ignore[EL001] why", "# plain", "0x", "012", "1if x else y", ".5", "x...", "a.b.c", "!=",
            "é = 1", "u'é'", "x: int = 1", "d[1:2]", "print(x)", "pass", "return", "@decorator", "1_000", "x1 = y2", "a.b(c.d(1.5e3j))",
            "s = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'", "t = \"\\n\\t\\\\\"", "{\"k\": [1, 2]}", "\t",
            "                ", "\r\n", "\r", "\n", "\n", ";", "if x: import y", "class D: pass # c", "def h(): # ember-lint: ok",
        ]
        var rng = SeededGenerator(seed: 2026_1126_2)
        var skimmed = 0
        for index in 0..<1500 {
            var text = ""
            for _ in 0..<Int.random(in: 1..<30, using: &rng) {
                let indent = ["", "", "", "    ", "        ", String(repeating: " ", count: Int.random(in: 0..<40, using: &rng))]
                    .randomElement(using: &rng)!
                let parts = (0..<Int.random(in: 1...3, using: &rng)).map { _ in fragments.randomElement(using: &rng)! }
                let pad = String(repeating: "n", count: Int.random(in: 0..<20, using: &rng))
                text += indent + (Bool.random(using: &rng) ? pad + " = " : "") + parts.joined(separator: " ")
                if Int.random(in: 0..<10, using: &rng) != 0 { text += ["\n", "\n", "\n", "\r\n"].randomElement(using: &rng)! }
            }
            let filter = [Self.filter, Self.filter, Self.structureFilter, Self.memchrFilter][index % 4]
            Self.expectAgrees(text, filter, "case \(index)")
            if PythonImportSkimmer.skim(text: Array(text.utf8), filter: filter) != nil { skimmed += 1 }
        }
        #expect(skimmed > 100)  // enough texts without a tokenizer error
    }
}
