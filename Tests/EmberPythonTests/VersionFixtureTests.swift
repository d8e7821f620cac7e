import EmberPython
import EmberUtils
import Foundation
import Testing

/// fixtures/python/versions/3.N: each version's own answers, recorded from that CPython by
/// scripts/conformance/record-version-goldens.py (tokens, trees, rejections).
private func versionFixtures(_ kind: String) -> [String] {
    let root = Fixture.root.appendingPathComponent("versions").path
    var out: [String] = []
    for version in ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted() {
        let dir = root + "/" + version + "/" + kind
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() where name.hasSuffix(".py") {
            out.append("\(version)/\(kind)/\(name)")
        }
    }
    return out
}

private func target(of fixture: String) throws -> PythonVersion {
    try #require(PythonVersion(String(fixture.prefix { $0 != "/" })), "\(fixture): no such version")
}

private func golden(_ fixture: String, _ ext: String) throws -> [String] {
    let url = Fixture.root.appendingPathComponent("versions/" + fixture.dropLast(3) + ext)
    return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
}

/// "KIND L:C-L:C" as tokenize.py says it (lines split on LF; the fixtures are ASCII, so
/// byte columns are character columns).
private func tokenizeStyle(_ source: PythonSource, _ tokens: [PythonToken]) -> [String] {
    let text = source.text
    var lineStarts = [0]
    for (k, b) in text.enumerated() where b == 0x0A { lineStarts.append(k + 1) }
    func position(_ offset: Int) -> String {
        var line = 0
        while line + 1 < lineStarts.count && lineStarts[line + 1] <= offset { line += 1 }
        return "\(line + 1):\(offset - lineStarts[line])"
    }
    func end(_ start: Int, _ end: Int) -> String {
        // tokenize.py ends a token that ends with a line break on that line.
        if end > start && text[end - 1] == 0x0A {
            let p = position(end - 1).split(separator: ":")
            return "\(p[0]):\(Int(p[1])! + 1)"
        }
        return position(end)
    }
    return tokens.map { t in
        var e = t.end
        if t.kind == .fstringMiddle && t.end - t.start >= 2 && (text[t.end - 1] == 0x7B || text[t.end - 1] == 0x7D) && text[t.end - 2] == text[t.end - 1] {
            e -= 1  // tokenize's middle ending in a doubled brace ends one brace early
        }
        return "\(t.kind.cpythonName) \(position(t.start))-\(end(t.start, e))"
    }
}

@Suite struct VersionFixtureTests {
    @Test(arguments: versionFixtures("valid"))
    func validFixtureMatchesItsVersion(_ fixture: String) throws {
        let version = try target(of: fixture)
        let source = try PythonSource(bytes: try Fixture.bytes("versions/" + fixture))
        let tokens = PythonTokenizer.tokenize(source, options: .init(targetVersion: version))
        #expect(tokens.diagnostics.isEmpty, "\(tokens.diagnostics)")
        let expectedTokens = try golden(fixture, ".tokens")
        let gotTokens = tokenizeStyle(source, tokens.tokens)
        #expect(gotTokens.count == expectedTokens.count, "\(fixture): \(gotTokens.count) tokens, CPython \(expectedTokens.count)")
        for (k, (a, b)) in zip(expectedTokens, gotTokens).enumerated() where a != b {
            Issue.record("\(fixture) token \(k): CPython \(a), ours \(b)")
            break
        }
        let tree = PythonParser.parse(source, tokens: tokens, options: .init(targetVersion: version))
        #expect(tree.isValid, "\(fixture): \(tree.diagnostics)")
        let expected = try golden(fixture, ".ast")
        // Whole trees, f-string parts included; 3.14's hand-written goldens leave them out
        // (see fixtures/python/versions/3.14/README.md).
        let got = tree.canonicalDump(skippingFStringParts: version >= .v3_14)
        #expect(got.count == expected.count, "\(fixture): \(got.count) nodes, CPython \(expected.count)")
        for (k, (a, b)) in zip(expected, got).enumerated() where a != b {
            Issue.record("\(fixture) node \(k): CPython \(a), ours \(b)")
            break
        }
        // The full tree: every node and field value (3.14's goldens are checked by hand, see
        // fixtures/python/versions/3.14/README.md).
        let expectedFull = try golden(fixture, ".full")
        let gotFull = tree.fullDump(target: version, normalizingIdentifiers: { $0.precomposedStringWithCompatibilityMapping })
        #expect(gotFull.count == expectedFull.count, "\(fixture): \(gotFull.count) lines in the full tree, CPython \(expectedFull.count)")
        for (k, (a, b)) in zip(expectedFull, gotFull).enumerated() where a != b {
            Issue.record("\(fixture) full tree line \(k): CPython \(a), ours \(b)")
            break
        }
    }

    @Test(arguments: versionFixtures("invalid"))
    func invalidFixtureRejectedLikeItsVersion(_ fixture: String) throws {
        let version = try target(of: fixture)
        let source = try PythonSource(bytes: try Fixture.bytes("versions/" + fixture))
        let tree = PythonParser.parse(source, options: .init(targetVersion: version))
        let expected = try #require(try golden(fixture, ".err").first)
        let first = try #require(tree.diagnostics.first, "\(fixture): accepted; CPython \(expected)")
        let got = "\(source.lineTable.location(of: first.offset).line): \(first.message)"
        if expected.hasSuffix(": source code cannot contain null bytes") {
            // CPython gives this one no line (the recorder writes 1); ours is the NUL's.
            #expect(first.message == "source code cannot contain null bytes", "\(fixture): \(got)")
            return
        }
        // CPython's line always; its message too.
        #expect(got.prefix { $0 != ":" } == expected.prefix { $0 != ":" }, "\(fixture): CPython \(expected), ours \(got)")
        #expect(got == expected)
    }

    /// PEP 750 (3.14): a t-string is a TemplateStr of Constants and Interpolations (fields in
    /// a format spec stay FormattedValues of a JoinedStr); before 3.14, `t"..."` is a name
    /// followed by a string.
    @Test func templateStringsAreTemplateStrNodes() throws {
        let source = try PythonSource(utf8: "x = t\"a{b!r:>{w}}c\"\n")
        let tree = PythonParser.parse(source, options: .init(targetVersion: .v3_14))
        #expect(tree.isValid, "\(tree.diagnostics)")
        let kinds = tree.canonicalDump().map { String($0.prefix { $0 != " " }) }
        #expect(kinds == ["Assign", "Name", "TemplateStr", "Constant", "Interpolation", "Name", "JoinedStr", "Constant",
                          "FormattedValue", "Name", "Constant"])
        // Interpolation.str is the text in the braces up to '!', ':' or '=' (PEP 750, the
        // 3.14 docs of string.templatelib); written from the PEP, not recorded from CPython.
        let full = tree.fullDump(target: .v3_14)
        #expect(full.contains("3 values Interpolation 1:7-1:17 str=s:\"b\" conversion=114"), "\(full)")
        let old = PythonParser.parse(source, options: .init(targetVersion: .v3_13))
        #expect(old.diagnostics.first?.message == "invalid syntax")
        let f = PythonParser.parse(try PythonSource(utf8: "x = f\"a{b}\"\n"), options: .init(targetVersion: .v3_14))
        #expect(f.canonicalDump().map { String($0.prefix { $0 != " " }) } == ["Assign", "Name", "JoinedStr", "Constant", "FormattedValue", "Name"])
    }
}

@Suite struct PythonVersionTests {
    @Test func versionNames() {
        #expect(PythonVersion("3.12") == .v3_12)
        #expect(PythonVersion("py313") == .v3_13)
        #expect(PythonVersion("python3.9") == .v3_9)
        #expect(PythonVersion("3.8") == nil)
        #expect(PythonVersion("3.15") == nil)
        #expect(PythonVersion("3.x") == nil)
        #expect(PythonVersion.all.map(\.description) == ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14"])
    }

    @Test func oldestVersionRequiresPythonAllows() {
        let cases: [(String, PythonVersion?)] = [
            (">=3.10", .v3_10), (">= 3.11, <4", .v3_11), ("~=3.12", .v3_12), ("==3.13.*", .v3_13), (">3.9", .v3_9),
            (">=3.8", .v3_9), (">=2.7, !=3.0.*", .v3_9), ("<4", nil), (">=4", nil), ("banana", nil), (">=3.10,>=3.12", .v3_12),
        ]
        for (spec, expected) in cases {
            #expect(PythonVersion.oldestAllowed(byRequiresPython: spec) == expected, "\(spec)")
        }
    }
}
