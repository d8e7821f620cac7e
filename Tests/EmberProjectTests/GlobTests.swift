import Foundation
import Testing
@testable import EmberProject

@Suite struct GlobTests {
    @Test func wildcardsStayInOneComponentAndDoubleStarsCross() {
        #expect(Glob.matches("*.py", "a.py"))
        #expect(!Glob.matches("*.py", "d/a.py"))
        #expect(Glob.matches("**/a.py", "a.py") && Glob.matches("**/a.py", "x/y/a.py"))
        #expect(Glob.matches("a/**", "a/b/c") && !Glob.matches("a/**", "a"))
        #expect(Glob.matches("a/**/b", "a/b") && Glob.matches("a/**/b", "a/x/y/b"))
        #expect(Glob.matches("m?.py", "m1.py") && !Glob.matches("m?.py", "m/.py"))
        #expect(Glob.matches("[a-c]x", "bx") && !Glob.matches("[!a-c]x", "bx"))
        #expect(Glob.matches("\\*", "*") && !Glob.matches("\\*", "a"))
    }

    @Test func excludePatternsReadLikeRuff() {
        let e = ExcludePatterns(base: "/p", exclude: ["vendor", "tests/fixtures", "*_pb2.py"])
        #expect(e.excludes(relativePath: "a/vendor/x.py"))
        #expect(e.excludes(relativePath: "tests/fixtures/deep/x.py"))
        #expect(!e.excludes(relativePath: "other/tests/fixtures/x.py"))
        #expect(e.excludes(relativePath: "m_pb2.py"))
        // Defaults never leave out a package.
        let d = ExcludePatterns(base: "/p", exclude: nil)
        #expect(d.excludes(name: "build", absolute: "/p/build", isDirectory: true, isPackage: { false }))
        #expect(!d.excludes(name: "build", absolute: "/p/build", isDirectory: true, isPackage: { true }))
    }

    @Test func gitignoreRules() {
        let g = GitIgnoreFile(base: "/r", text: Array("# c\n*.log\n!keep.log\n/top.py\nout/\ndocs/**/gen\n\\#hash\n".utf8))
        func v(_ rel: String, dir: Bool = false) -> Bool? {
            var r = rel, n = String(rel.split(separator: "/").last!)
            return r.withUTF8 { rb in n.withUTF8 { nb in g.verdict(relative: rb, name: nb, isDirectory: dir) } }
        }
        #expect(v("a/b.log") == true)
        #expect(v("keep.log") == false)
        #expect(v("top.py") == true && v("a/top.py") == nil)
        #expect(v("x/out", dir: true) == true && v("x/out") == nil)
        #expect(v("docs/a/b/gen") == true && v("docs/gen") == true)
        #expect(v("#hash") == true)
    }
}

@Suite struct NamingTests {
    @Test func relativeImports() {
        #expect(RelativeImport.resolve("x", level: 1, importer: "a.b", importerIsPackage: false) == "a.x")
        #expect(RelativeImport.resolve("x", level: 1, importer: "a.b", importerIsPackage: true) == "a.b.x")
        #expect(RelativeImport.resolve(nil, level: 2, importer: "a.b.c", importerIsPackage: false) == "a")
        #expect(RelativeImport.resolve("x", level: 3, importer: "a.b", importerIsPackage: false) == nil)
    }

    @Test func aliasPrefixesNameTheFoldersAboveTheRoot() {
        #expect(ModuleNaming.aliasPrefixes(root: "/w/repo/src", anchors: ["/w/repo"]) == ["src"])
        #expect(ModuleNaming.aliasPrefixes(root: "/w/repo/lib/src", anchors: ["/w/repo/lib/src", "/w/repo"]) == ["src", "lib.src"])
        #expect(ModuleNaming.aliasPrefixes(root: "/w/repo", anchors: ["/w/repo"]) == [])
    }

    @Test func aFileIsNamedBelowItsProjectRootWhateverPathIsGiven() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ember-project-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (path, text) in [("pkgs/a/pyproject.toml", ""), ("pkgs/a/src/alpha/core/x.py", ""), ("pkgs/a/tests/test_x.py", ""),
                             ("pkgs/b/setup.py", ""), ("pkgs/b/beta/__init__.py", ""), ("pkgs/b/beta/y.py", "")] {
            let full = dir + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        for start in [dir, dir + "/pkgs/a/src/alpha", dir + "/pkgs/a/src/alpha/core/x.py"] {
            let (files, problems, _) = ProjectDiscovery(paths: [start], loader: nil).walk()
            #expect(problems.isEmpty)
            #expect(files.contains { $0.module == "alpha.core.x" }, "\(start): \(files.map(\.module))")
            #expect(!files.contains { $0.module.hasPrefix("pkgs") })
        }
        let modules = Set(ProjectDiscovery(paths: [dir], loader: nil).walk().files.map(\.module))
        #expect(modules == ["alpha.core.x", "tests.test_x", "beta", "beta.y", "setup"])
    }
}

@Suite struct PathTests {
    @Test func relativePathsClimbWithDotDot() {
        #expect(ProjectPath.relative("/p/src/a.py", from: "/p") == "src/a.py")
        #expect(ProjectPath.relative("/p/src/", from: "/p//") == "src")
        #expect(ProjectPath.relative("/p", from: "/p") == ".")
        #expect(ProjectPath.relative("/q/Sources/x.swift", from: "/p/rules") == "../../q/Sources/x.swift")
        #expect(ProjectPath.relative("/a", from: "/") == "a")
        #expect(ProjectPath.absolute("./src/../lib/", cwd: "/p") == "/p/lib")
    }
}
