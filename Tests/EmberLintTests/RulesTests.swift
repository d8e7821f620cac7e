import EmberProject
import Foundation
import Testing
@testable import EmberLint
import EmberUtils

/// The package root, found from this file's path (Tests/EmberLintTests/...).
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

func readText(_ relative: String) throws -> String {
    try String(contentsOfFile: packageRoot + "/" + relative, encoding: .utf8)
}

@Suite struct EmbeddedRulesTests {
    /// The binary carries rules/ compiled in; scripts/generate-embedded-rules.py must be rerun after an edit.
    @Test func embeddedRulesMatchRulesFolder() throws {
        #expect(EmbeddedRules.emberLayersTOML == (try readText("rules/ember-layers.toml")))
        #expect(EmbeddedRules.swiftPackageTOML == (try readText("rules/swift-package.toml")))
        #expect(EmbeddedRules.pythonStdlibModulesText == (try readText("rules/python-stdlib-modules.txt")))
        #expect(EmbeddedRules.swiftStdlibModulesText == (try readText("rules/swift-stdlib-modules.txt")))
    }

    @Test func shippedRuleFilesParseCleanly() throws {
        for name in ["ember-layers.toml", "swift-package.toml"] {
            let parsed = RuleSetParser.parse(fileText: try readText("rules/" + name), file: name, isPyproject: false)
            #expect(parsed?.1 == [])
        }
    }

    @Test func defaultRulesAreTheGuidesLayers() {
        let rules = RuleSetParser.builtInDefault()
        #expect(rules.layers.map(\.name) == ["utils", "core", "execution", "providers", "api"])
        #expect(rules.layers.map { $0.mayImport.map(\.description) } == [
            ["stdlib"], ["stdlib", "ember.utils"], ["stdlib", "ember.utils", "ember.core"],
            ["stdlib", "ember.utils", "ember.core"], ["stdlib", "ember.*"],
        ])
        #expect(rules.typeChecking == .counted)
        #expect(rules.initExportsOnly && rules.reportCycles)
    }

    @Test func stdlibListIsTheUnionOfVersions() {
        let stdlib = StandardLibraries.python
        // 3.9-only (distutils, imp), 3.13-only (_colorize) and everyday modules.
        for name in ["os", "sys", "typing", "importlib", "distutils", "imp", "asynchat", "_colorize", "tomllib"] {
            #expect(stdlib.contains(name), "\(name)")
        }
        for name in ["numpy", "ember", "test", "__main__"] { #expect(!stdlib.contains(name), "\(name)") }
        #expect(StandardLibraries.swift.contains("Synchronization") && !StandardLibraries.swift.contains("Foundation"))
    }
}

@Suite struct ModulePatternTests {
    @Test func patternsMatchModuleAndDescendants() {
        let p = ModulePattern("ember.core")
        #expect(p.matches("ember.core") && p.matches("ember.core.config"))
        #expect(!p.matches("ember.corex") && !p.matches("ember") && !p.matches("ember.api"))
        let star = ModulePattern("ember.*")
        #expect(star.matches("ember.core") && star.matches("ember.api.models") && !star.matches("ember"))
        let glob = ModulePattern("Ember*")
        #expect(glob.matches("Ember") && glob.matches("EmberUtils") && !glob.matches("ember"))
        #expect(ModulePattern("ember-*").matches("ember-lint"))
        #expect(ModulePattern("a.*.c").matches("a.b.c.d") && !ModulePattern("a.*.c").matches("a.b.d"))
    }
}

/// The configuration's view of EmberUtils' TOML reader (its own tests: Tests/EmberUtilsTests).
@Suite struct TOMLReaderTests {
    @Test func readsTablesArraysAndStringsWithLines() throws {
        let doc = try TOML.parse("""
            # comment
            a = "x\\ty" # trailing
            [tool.ember-lint]
            cycles = false
            n = 1_000
            list = [
              "one",  # c
              'two',
            ]
            [[tool.ember-lint.layers]]
            name = "core"
            inline = { k = true }
            [[tool.ember-lint.layers]]
            name = \"\"\"multi
            line\"\"\"
            """)
        guard case .string(let a)? = doc["a"]?.kind else { Issue.record("a"); return }
        #expect(a == "x\ty")
        guard case .table(let tool)? = doc["tool"]?.kind, case .table(let el)? = tool["ember-lint"]?.kind else { Issue.record("tool"); return }
        #expect(el.entry("cycles")?.line == 4)
        guard case .integer(1000)? = el["n"]?.kind else { Issue.record("n"); return }
        guard case .array(let list)? = el["list"]?.kind else { Issue.record("list"); return }
        #expect(list.map(\.line) == [7, 8])
        guard case .array(let layers)? = el["layers"]?.kind else { Issue.record("layers"); return }
        #expect(layers.count == 2 && layers[0].line == 10 && layers[1].line == 13)
        guard case .table(let second) = layers[1].kind, case .string(let name)? = second["name"]?.kind else { Issue.record("second"); return }
        #expect(name == "multi\nline")
    }

    @Test func errorsNameTheLine() {
        let cases: [(String, Int, String)] = [
            ("a = 1\nb = \n", 2, "expected a value"),
            ("a = 1\na = 2\n", 2, "already defined"),
            ("[x]\n[x]\n", 2, "already defined"),
            ("a = [1,\n2\n", 1, "never closed"),
            ("a = \"open\n", 1, "not closed"),
            ("a = 1979-02-30\n", 1, "does not exist"),
            ("a = 1 b = 2\n", 1, "end of the line"),
        ]
        for (text, line, fragment) in cases {
            do {
                _ = try TOML.parse(text)
                Issue.record("no error for \(text)")
            } catch {
                #expect(error.line == line, "\(text)")
                #expect(error.message.contains(fragment), "\(error.message)")
            }
        }
    }
}

@Suite struct ConfigTests {
    @Test func unknownKeysAndBadValuesAreAllReportedWithFileKeyAndLine() {
        let text = """
            [project]
            name = "x"

            [tool.ember-lint]
            cycles = "yes"
            colour = true
            type-checking-imports = "sometimes"

            [[tool.ember-lint.layers]]
            name = "core"
            modules = ["ember..core"]
            may-import = ["stdlib", 3]
            color = 1

            [[tool.ember-lint.ignore]]
            importer = "ember.core.a"
            imported = "ember.api"
            """
        let (_, errors) = RuleSetParser.parse(fileText: text, file: "pyproject.toml", isPyproject: true)!
        let summary = errors.map { "\($0.line) \($0.key)" }
        #expect(summary == [
            "5 tool.ember-lint.cycles",
            "6 tool.ember-lint.colour",
            "7 tool.ember-lint.type-checking-imports",
            "11 tool.ember-lint.layers.modules",
            "12 tool.ember-lint.layers.may-import",
            "13 tool.ember-lint.layers.color",
            "15 tool.ember-lint.ignore.reason",
        ])
        #expect(errors.allSatisfy { $0.file == "pyproject.toml" })
        #expect(errors[1].description == "pyproject.toml:6: 'tool.ember-lint.colour': unknown key (known: cycles, exclude, extend-exclude, ignore, init-exports-only, layers, respect-gitignore, source-roots, target-version, type-checking-imports)")
    }

    @Test func pyprojectWithoutSectionIsNotAConfig() {
        #expect(RuleSetParser.parse(fileText: "[project]\nname = 'x'\n", file: "pyproject.toml", isPyproject: true) == nil)
    }

    @Test func tomlSyntaxErrorIsAConfigError() {
        let (_, errors) = RuleSetParser.parse(fileText: "a = 1\n[oops\n", file: "ember-lint.toml", isPyproject: false)!
        #expect(errors.count == 1 && errors[0].line == 2 && errors[0].column == 6 && errors[0].file == "ember-lint.toml")
        #expect(errors.first?.description.hasPrefix("ember-lint.toml:2:6: not valid TOML: expected ']'") == true, "\(errors)")
    }

    /// Reported by users: another tool's table with TOML dates or inf made ember-lint exit 2.
    static let otherToolTable = """
        [project]
        name = "x"

        [tool.foo]
        when = 2024-01-01
        at = 1979-05-27T07:32:00Z
        local = 1979-05-27 07:32:00.5
        alarm = 07:32:00
        x = inf
        y = -nan
        big = 0xDEAD_BEEF
        """

    @Test func otherToolsTablesMayHoldAnyTOMLWithoutOurTable() {
        #expect(RuleSetParser.parse(fileText: Self.otherToolTable, file: "pyproject.toml", isPyproject: true) == nil)
    }

    @Test func otherToolsTablesMayHoldAnyTOMLBesideOurTable() throws {
        let text = Self.otherToolTable + "\n[tool.ember-lint]\ncycles = false\n[[tool.ember-lint.layers]]\nname = \"core\"\nmodules = [\"app.core\"]\n"
        let parsed = try #require(RuleSetParser.parse(fileText: text, file: "pyproject.toml", isPyproject: true))
        #expect(parsed.1 == [])
        #expect(parsed.0.layers.map(\.name) == ["core"] && !parsed.0.reportCycles)
    }

    @Test func ourTableIsStillValidated() throws {
        let text = Self.otherToolTable + "\n[tool.ember-lint]\ncycles = 2024-01-01\n"
        let parsed = try #require(RuleSetParser.parse(fileText: text, file: "pyproject.toml", isPyproject: true))
        #expect(parsed.1.map(\.description) == ["pyproject.toml:13: 'tool.ember-lint.cycles': expected true or false, found a local date"], "\(parsed.1)")
    }

    @Test func invalidTOMLAnywhereNamesLineAndColumn() throws {
        let text = Self.otherToolTable + "\nz = 2024-13-01\n"
        let parsed = try #require(RuleSetParser.parse(fileText: text, file: "pyproject.toml", isPyproject: true))
        #expect(parsed.1.count == 1 && parsed.1[0].line == 12 && parsed.1[0].column == 5, "\(parsed.1)")
        #expect(parsed.1[0].description.contains("pyproject.toml:12:5: not valid TOML"), "\(parsed.1)")
    }

    @Test func discoveryWalksUpFromTheFirstPath() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ember-lint-discovery-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        let deep = dir.appendingPathComponent("a/b/c")
        try FileManager.default.createDirectory(at: deep, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "[project]\n".write(to: dir.appendingPathComponent("a/b/pyproject.toml"), atomically: true, encoding: .utf8)
        try "[[layers]]\nname = \"x\"\nmodules = [\"x\"]\n".write(to: dir.appendingPathComponent("a/ember-lint.toml"), atomically: true, encoding: .utf8)
        let (rules, errors) = ConfigDiscovery.load(rulesFile: nil, firstPath: deep.path)
        #expect(errors.isEmpty)
        #expect(rules.layers.map(\.name) == ["x"])
        #expect(rules.origin.hasSuffix("a/ember-lint.toml"))
    }
}

@Suite struct OwnPackageTests {
    /// The same check .ci/run makes: this package's Sources/ follow DESIGN section 2.
    @Test func ownSourcesFollowTheSwiftPackageRules() {
        let r = EmberLintCLI.run(["--no-cache", "--rules", packageRoot + "/rules/swift-package.toml", packageRoot + "/Sources"])
        #expect(r.code == .success, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("no violations"))
    }
}

@Suite struct ConfigRobustnessTests {
    static let fragments = ["[", "]", "[[", "]]", "layers", "name", "=", "\"", "'", "\"\"\"", "'''", "{", "}", ",", "\n",
                            "\r\n", "#", " ", "true", "1_0", "-", ".", "\\", "\\u12", "modules", "may-import", "é", "[tool.ember-lint]"]

    /// Any byte soup gives rules or errors with a line inside the text, never a crash.
    @Test func randomConfigTextNeverCrashes() {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<500 {
            var text = ""
            for _ in 0..<Int.random(in: 0..<40, using: &rng) { text += ConfigRobustnessTests.fragments.randomElement(using: &rng)! }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
            for isPyproject in [false, true] {
                guard let (_, errors) = RuleSetParser.parse(fileText: text, file: "x.toml", isPyproject: isPyproject) else { continue }
                for e in errors { #expect(e.line >= 1 && e.line <= lines + 1, "\(e) in \(text.debugDescription)") }
            }
        }
    }
}
