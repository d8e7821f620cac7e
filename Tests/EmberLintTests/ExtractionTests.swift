import EmberProject
import EmberUtils
import Foundation
import Testing
@testable import EmberLint

func pythonFacts(_ source: String, isInit: Bool = false) throws -> PythonFileFacts {
    try TokenPythonImportExtractor().extract(Array(source.utf8), isPackageInit: isInit).get()
}

func describe(_ s: PythonImportStatement) -> String {
    var out = String(repeating: ".", count: s.level) + s.module
    if let names = s.names { out += ":" + names.map(\.name).joined(separator: ",") }
    if s.typeChecking { out += " [tc]" }
    if s.dynamic { out += " [dyn]" }
    return out
}

extension PythonFileFailure: CustomStringConvertible { public var description: String { message } }

@Suite struct PythonExtractionTests {
    @Test func importForms() throws {
        let facts = try pythonFacts("""
            import a.b.c, d as e
            from . import x
            from ..p.q import (r as s,
                               t,)
            from m import *
            from ... import up; import last
            """)
        #expect(facts.imports.map(describe) == ["a.b.c", "d", ".:x", "..p.q:r,t", "m:*", "...:up", "last"])
        #expect(facts.syntaxErrors.isEmpty)
    }

    @Test func importsInFunctionsClassesTryAndTypeChecking() throws {
        let facts = try pythonFacts("""
            from typing import TYPE_CHECKING
            import typing
            try:
                import ujson as json
            except ImportError:
                import json
            if TYPE_CHECKING:
                from a import A
                if True:
                    import nested
            else:
                import runtime
            if typing.TYPE_CHECKING: import inline
            class C:
                import in_class
                def f(self):
                    import in_function
            async def g():
                from h import i
            """)
        #expect(facts.imports.map(describe) == [
            "typing:TYPE_CHECKING", "typing", "ujson", "json", "a:A [tc]", "nested [tc]", "runtime", "inline [tc]",
            "in_class", "in_function", "h:i",
        ])
    }

    @Test func dynamicImports() throws {
        let facts = try pythonFacts("""
            import importlib
            a = importlib.import_module("pkg.mod")
            b = importlib.import_module('other', package=None)
            c = importlib.import_module(name)
            d = importlib.import_module(f"x.{y}")
            e = obj.import_module("not.importlib")
            f = __import__("legacy")
            """)
        #expect(facts.imports.map(describe) == ["importlib", "pkg.mod [dyn]", "other [dyn]", "legacy [dyn]"])
        #expect(facts.computedDynamicImports.count == 2)
    }

    /// Calls through a file's aliases of importlib and import_module are followed, names
    /// given by keyword are read, and relative names with a known package are resolved.
    @Test func dynamicImportsThroughAliasesKeywordsAndPackages() throws {
        let source = """
            import importlib as il
            from importlib import import_module as im
            def early():
                return late("p.early")  # bound below
            a = il.import_module("p.a")
            b = im("p.b")
            c = importlib.import_module(".c", __package__)
            d = importlib.import_module(name="..d", package=__spec__.parent)
            e = importlib.import_module(name="p.e")
            f = im("..f", "top.mid.low")
            g = im(".", __package__)
            h = importlib.import_module(".h")
            i = im(name)
            j = importlib.import_module(".j", __name__)
            k = obj.im("not.followed")
            l = im(*args)
            m = __import__(name="p.m")
            from importlib import import_module as late
            """
        for skim in [true, false] {
            let facts = try TokenPythonImportExtractor(skim: skim).extract(Array(source.utf8), isPackageInit: false).get()
            #expect(facts.imports.filter(\.dynamic).map(describe) == [
                "p.early [dyn]", "p.a [dyn]", "p.b [dyn]", ".c [dyn]", "..d [dyn]", "p.e [dyn]", "top.mid.f [dyn]", ". [dyn]", "p.m [dyn]",
            ], "skim \(skim)")
            // `.h` without a package, a computed name, `__name__` as the package, unpacked arguments.
            #expect(facts.computedDynamicImports.count == 4, "skim \(skim)")
        }
        // Resolved like `from .c import`: against the importing module's package.
        let index = PythonModuleIndex(modules: ["top.mid.low", "top.mid.c", "top.d"])
        let facts = try pythonFacts(source)
        let c = try #require(facts.imports.first { $0.module == "c" })
        #expect(index.resolve(c, importer: "top.mid.low", importerIsPackage: false)?.map(\.module) == ["top.mid.c"])
        let d = try #require(facts.imports.first { $0.module == "d" })
        #expect(index.resolve(d, importer: "top.mid.low", importerIsPackage: false)?.map(\.module) == ["top.d"])
    }

    @Test func stringsAndCommentsAreNotImports() throws {
        let facts = try pythonFacts("""
            '''
            import fake
            '''
            x = "from y import z"  # import comment
            """)
        #expect(facts.imports.isEmpty)
    }

    @Test func initLogicDetection() throws {
        let facts = try pythonFacts("""
            \"\"\"Docstring.\"\"\"
            from .a import A
            from typing import TYPE_CHECKING
            __all__ = ["A"] + other.__all__
            __version__ = "1.0"
            Alias = A
            Mapping = dict[str, A]
            try:
                from ._speedups import fast
            except ImportError:
                fast = None
            if TYPE_CHECKING:
                from .b import B
            def f():
                pass
            class K:
                def g(self): pass
            for i in range(3):
                pass
            setup()
            value = compute(1)
            if flag:
                x = 1
            else:
                x = 2
            total = [i for i in range(3)]
            """, isInit: true)
        #expect(facts.initLogic.map(\.what) == [
            "a function definition 'f'", "a class definition 'K'", "a loop", "a call", "a call", "an if statement",
            "an assignment that computes a value",
        ])
        let lines = facts.initLogic.map { facts.lineTable.location(of: $0.offset).line }
        #expect(lines == [14, 16, 18, 20, 21, 22, 26])
    }

    /// `...`, annotations with literal values, and `__version__` from importlib.metadata
    /// are exports, not logic (Ember's api/datasets/__init__.py:13 was reported).
    @Test func initExportsMayUseEllipsisAnnotationsAndTheMetadataVersion() throws {
        let allowed = try pythonFacts("""
            \"\"\"Datasets.\"\"\"
            from importlib.metadata import PackageNotFoundError, version
            import importlib.metadata
            import importlib_metadata as backport
            from importlib import metadata as md
            from importlib.metadata import version as dist_version
            DATASETS: tuple[str, ...] = ("mmlu", "gsm8k")
            Placeholder = ...
            Shape = tuple[int, ...]
            count: int
            default: "Registry | None" = None
            limits: dict[str, int] = {"a": 1, "b": -2}
            ...
            __version__ = importlib.metadata.version("ember-ai")
            __version__: str = md.version(__name__)
            __version__ = backport.version('ember-ai')
            __version__ = dist_version(__package__)
            try:
                __version__ = version("ember-ai")
            except PackageNotFoundError:
                __version__ = "0+unknown"
            """, isInit: true)
        #expect(allowed.initLogic.map(\.what) == [], "\(allowed.initLogic)")
        let flagged = try pythonFacts("""
            from importlib.metadata import version
            from mypkg import release
            A: tuple[str, ...] = make()
            B: int = 1 if x else 2
            C = version("ember-ai")
            __version__ = version(name)
            __version__ = version(f"ember-{x}")
            __version__ = release("ember-ai")
            __version__ = version("a", "b")
            D: f(x)
            """, isInit: true)
        #expect(flagged.initLogic.map(\.what) == [
            "a call", "an assignment that computes a value", "a call", "a call", "a call", "a call", "a call", "a call",
        ])
    }

    @Test func suppressionComments() throws {
        let facts = try pythonFacts("""
            import a  # ember-lint: ignore[EL001, EL002] legacy
            # ember-lint: ignore[EL004]
            import b
            # ember-lint: checks this file (prose, not a directive)
            """)
        #expect(facts.suppressions.map { "\($0.codes) \($0.reason) \($0.line)->\($0.targetLine)" } == [
            "[\"EL001\", \"EL002\"] legacy 1->1", "[\"EL004\"]  2->3",
        ])
    }

    @Test func crlfLatin1AndBom() throws {
        let crlf = try pythonFacts("import a\r\nif x:\r\n    import b\r\n")
        #expect(crlf.imports.map(describe) == ["a", "b"])
        #expect(crlf.lineTable.location(of: crlf.imports[1].offset).line == 3)
        var latin = Array("# -*- coding: latin-1 -*-\nimport caf\n# \u{0}".utf8)
        latin.removeLast(1)
        latin.append(0xE9)
        let facts = try TokenPythonImportExtractor().extract(latin, isPackageInit: false).get()
        #expect(facts.encoding == "latin-1" || facts.encoding == "iso-8859-1")
        #expect(facts.imports.map(describe) == ["caf"])
        let bom = try TokenPythonImportExtractor().extract([0xEF, 0xBB, 0xBF] + Array("import z\n".utf8), isPackageInit: false).get()
        #expect(bom.imports.map(describe) == ["z"])
    }

    @Test func undecodableBytesFailWithOffset() {
        let result = TokenPythonImportExtractor().extract(Array("x = 1\ny = '".utf8) + [0xFF, 0x27, 0x0A], isPackageInit: false)
        guard case .failure(let f) = result else { Issue.record("expected a failure"); return }
        #expect(f.offset == 11)
    }
}

@Suite struct PythonResolutionTests {
    let index = PythonModuleIndex(modules: ["pkg", "pkg.sub", "pkg.sub.mod", "pkg.ns.leaf", "top"])

    func resolve(_ s: PythonImportStatement, _ importer: String, package: Bool = false) -> [String]? {
        index.resolve(s, importer: importer, importerIsPackage: package)?.map(\.module)
    }

    func from(_ level: Int, _ module: String, _ names: [String]) -> PythonImportStatement {
        PythonImportStatement(level: level, module: module, offset: 0, end: 0, names: names.map { ImportedName(name: $0, offset: 0, end: 0) })
    }

    @Test func fromImportPointsAtSubmoduleOrPackage() {
        #expect(resolve(from(0, "pkg.sub", ["mod", "attr", "other"]), "top") == ["pkg.sub.mod", "pkg.sub"])
        #expect(resolve(from(0, "pkg", ["ns"]), "top") == ["pkg.ns"])  // namespace package
        #expect(resolve(from(0, "pkg.sub", ["*"]), "top") == ["pkg.sub"])
    }

    @Test func relativeImportsResolveAgainstThePackage() {
        #expect(resolve(from(1, "", ["mod"]), "pkg.sub.x") == ["pkg.sub.mod"])
        #expect(resolve(from(1, "", ["mod"]), "pkg.sub", package: true) == ["pkg.sub.mod"])
        #expect(resolve(from(2, "sub", ["mod"]), "pkg.sub.x") == ["pkg.sub.mod"])
        #expect(resolve(from(3, "", ["x"]), "pkg.sub.x") == nil)
        #expect(resolve(from(1, "", ["x"]), "top") == nil)
    }
}

@Suite struct SwiftScannerTests {
    func scan(_ source: String) -> SwiftScan {
        let bytes = Array(source.utf8)
        return SwiftImportScanner.scan(bytes, lineTable: LineTable(bytes))
    }

    @Test func importForms() {
        let s = scan("""
            import A
            @testable import B
            import struct C.Thing
            @_exported import D
            public import E; import F
            @_spi(Internal) @preconcurrency import G
            #if canImport(H)
            import H
            #endif
            func f(import: Int) {}
            let x = y.import
            """)
        #expect(s.imports.map(\.module) == ["A", "B", "C", "D", "E", "F", "G", "H"])
        #expect(s.imports[1].attributes == ["testable"])
        #expect(s.imports.map(\.conditional) == [false, false, false, false, false, false, false, true])
    }

    @Test func commentsAndStringsHideImports() {
        let s = scan(##"""
            /* outer /* nested */ import No1 */
            // import No2
            let a = "import No3 \(f("import No4")) done"
            let b = """
                import No5
                """
            let c = #"import "No6" \#(x)"#
            import Yes
            """##)
        #expect(s.imports.map(\.module) == ["Yes"])
        #expect(s.problems.isEmpty)
    }

    @Test func unterminatedCommentIsReported() {
        let s = scan("import A\n/* never closed\nimport B\n")
        #expect(s.imports.map(\.module) == ["A"])
        #expect(s.problems.count == 1)
    }
}

/// Strange input never crashes the scanners: random mixes of import-ish fragments and
/// bytes (fixed seed, so every run sees the same cases).
@Suite struct RobustnessTests {
    static let fragments: [String] = [
        "import ", "from ", " . ", "..", "(", ")", ",", ":", "\n", "\r\n", "    ", "\t", "#", "'", "\"", "\"\"\"", "\\",
        "if TYPE_CHECKING:", "try:", "except ImportError:", "def f():", "class C:", "importlib.import_module(", "x",
        "@testable ", "#if canImport(X)", "#endif", "/*", "*/", "//", "#\"", "\"#", "\\(", "ember-lint: ignore[EL001] r",
        "\u{FEFF}", "é", "\u{0}",
    ]

    @Test func randomInputNeverCrashes() {
        var rng = SeededGenerator(seed: 20261126)
        for _ in 0..<400 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0..<60, using: &rng) {
                if Int.random(in: 0..<5, using: &rng) == 0 {
                    bytes.append(UInt8.random(in: 0...255, using: &rng))
                } else {
                    bytes.append(contentsOf: Array(RobustnessTests.fragments.randomElement(using: &rng)!.utf8))
                }
            }
            let result = TokenPythonImportExtractor().extract(bytes, isPackageInit: Bool.random(using: &rng))
            if case .success(let facts) = result {
                for s in facts.imports { #expect(s.offset >= 0 && s.end <= bytes.count + 3 && s.offset <= s.end) }
            }
            let scan = SwiftImportScanner.scan(bytes, lineTable: LineTable(bytes))
            for i in scan.imports { #expect(i.offset >= 0 && i.end <= bytes.count && i.offset < i.end) }
        }
    }
}

/// Python's own `ast` as the oracle for import extraction and resolution on the fixture
/// trees (scripts/compare-imports-with-ast.py; needs python3, as CI has).
@Suite struct AstOracleTests {
    @Test(arguments: ["fixtures/lint/layered/src", "fixtures/lint/namespace/src"])
    func edgesMatchPythonsAst(_ tree: String) throws {
        let root = packageRoot + "/" + tree
        // The tree's own rules (a --rules file whose layers name modules the tree lacks is a
        // configuration error: it would check nothing).
        let rules = FileManager.default.temporaryDirectory.appendingPathComponent("ember-lint-rules-\(UUID().uuidString).toml")
        try "[[layers]]\nname = \"core\"\nmodules = [\"ember.core\"]\nmay-import = [\"stdlib\"]\n".write(to: rules, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: rules) }
        let graph = EmberLintCLI.run(["--no-cache", "--graph", "--rules", rules.path, root])
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("ember-lint-graph-\(UUID().uuidString).json")
        try graph.stdout.write(to: json, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: json) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", packageRoot + "/scripts/compare-imports-with-ast.py", root, "--graph-json", json.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.contains("only in ast: 0") && output.contains("only in ember-lint: 0"), "\(output)")
    }
}

@Suite struct StringOrderTests {
    @Test func bytewiseOrderIsTheOrderOfStringComparison() {
        // Paths and dotted names of random ASCII pieces (prefixes of each other included),
        // then a set with non-ASCII names, which takes the `String <` fallback.
        var generator = SeededGenerator(seed: 20261126)
        let pieces = ["a", "b", "_", ".", "/", "A", "z", "0", "9", "-", "init", "__init__", "py", ".py"]
        for _ in 0..<200 {
            let strings = (0..<Int.random(in: 0...40, using: &generator)).map { _ in
                (0..<Int.random(in: 0...6, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            }
            #expect(StringOrder.permutation(strings).map { strings[$0] } == strings.sorted())
        }
        let mixed = ["b.py", "é.py", "a/ü.py", "a.py", "Z.py", "a/u.py", ""]
        #expect(StringOrder.sorted(mixed) == mixed.sorted())
    }
}

@Suite struct RendererTextTests {
    @Test func sarifURIsPercentEncodeWhatAPathMayNotHold() {
        #expect(Renderer.sarifURI("./src/a b/é.py") == "src/a%20b/%C3%A9.py")
        #expect(Renderer.sarifURI("pkg/mod_1.py") == "pkg/mod_1.py")
        #expect(Renderer.sarifURI("odd/100%#?.py") == "odd/100%25%23%3F.py")
    }

    @Test func githubEscapesEachLineBreakByteAndSeparator() {
        #expect(Renderer.escapeData("a\r\nb%c") == "a%0D%0Ab%25c")
        #expect(Renderer.escapeProperty("x:1,y") == "x%3A1%2Cy")
    }

    @Test func secondsHaveThreeDecimals() {
        #expect(Renderer.seconds(0) == "0.000")
        #expect(Renderer.seconds(0.0714) == "0.071")
        #expect(Renderer.seconds(1.5) == "1.500")
        #expect(Renderer.seconds(12.3456) == "12.346")
    }

    @Test func parentFoldersAsNSStringGaveThem() {
        #expect(ProjectPath.parent("a/b/c.toml") == "a/b")
        #expect(ProjectPath.parent("/a") == "/")
        #expect(ProjectPath.parent("c.toml") == "")
        #expect(ProjectPath.parent("a/b/") == "a")
        #expect(ProjectPath.parent("/") == "/")
    }
}

/// ModuleTable and the index's resolution on bytes against the plain definitions on
/// `String` (Set membership, "base.name" made as a string), on random module trees whose
/// names include non-ASCII ones, canonically equivalent spellings (U+212A KELVIN SIGN is
/// "K"; "é" composed and decomposed) and dotted names that share prefixes.
@Suite struct ModuleTableTests {
    static let parts = ["a", "b", "K", "\u{212A}", "caf\u{E9}", "cafe\u{301}", "pkg", "__init__", "x1", "_", "os", "json", "sub"]

    static func randomName(_ rng: inout SeededGenerator) -> String {
        (0..<Int.random(in: 1...3, using: &rng)).map { _ in parts.randomElement(using: &rng)! }.joined(separator: ".")
    }

    @Test func lookupsAgreeWithStringSets() {
        var rng = SeededGenerator(seed: 2026_1126_3)
        for _ in 0..<200 {
            let names = Set((0..<Int.random(in: 0...12, using: &rng)).map { _ in Self.randomName(&rng) })
            let table = ModuleTable(names)
            #expect(table.names == names.sorted())
            for _ in 0..<30 {
                let base = Self.randomName(&rng), name = Self.parts.randomElement(using: &rng)!
                let whole = base + "." + name
                let expectedWhole = table.names.firstIndex(of: whole).map(Int32.init) ?? -1
                let got = withUTF8Bytes(base) { b in withUTF8Bytes(name) { table.number(b, $0) } }
                #expect(got == expectedWhole, "\(base) . \(name) in \(table.names)")
                #expect(table.number(of: base) == (table.names.firstIndex(of: base).map(Int32.init) ?? -1), "\(base) in \(table.names)")
            }
        }
    }

    @Test func resolutionAgreesWithTheStringDefinition() {
        var rng = SeededGenerator(seed: 2026_1126_4)
        for _ in 0..<200 {
            let modules = Set((0..<Int.random(in: 1...10, using: &rng)).map { _ in Self.randomName(&rng) })
            let index = PythonModuleIndex(modules: modules)
            // The definition: every module and its parents; "x.y" when that is one of them.
            var all = modules
            for m in modules {
                var parts = m.split(separator: ".", omittingEmptySubsequences: false)
                while parts.count > 1 { parts.removeLast(); all.insert(parts.joined(separator: ".")) }
            }
            let tops = Set(all.map { String($0.split(separator: ".", omittingEmptySubsequences: false)[0]) })
            for _ in 0..<20 {
                let module = Self.randomName(&rng)
                let names = (0..<Int.random(in: 0...3, using: &rng)).map { _ in Bool.random(using: &rng) ? "*" : Self.parts.randomElement(using: &rng)! }
                let statement = PythonImportStatement(level: 0, module: module, offset: 0, end: 0,
                                                      names: Bool.random(using: &rng) ? nil : names.map { ImportedName(name: $0, offset: 0, end: 0) })
                var expected: [String] = []
                if let names = statement.names {
                    var addedBase = false
                    for name in names {
                        if name.name != "*", all.contains(module + "." + name.name) { expected.append(module + "." + name.name) }
                        else if !addedBase { expected.append(module); addedBase = true }
                    }
                    if names.isEmpty { expected.append(module) }
                } else {
                    expected.append(module)
                }
                var got: [String] = []
                _ = index.forEachTarget(statement, importer: "z", importerIsPackage: false) { target, number, _, _ in
                    got.append(target)
                    #expect(number == index.table.number(of: target))
                    let top = String(target.split(separator: ".", omittingEmptySubsequences: false)[0])
                    let kind: ImportTargetKind = tops.contains(top) ? .internal : (StandardLibraries.python.contains(top) ? .stdlib : .thirdParty)
                    #expect(index.classify(target, number: number) == kind, "\(target) in \(all)")
                }
                #expect(got == expected, "\(statement) in \(all)")
            }
        }
    }
}
