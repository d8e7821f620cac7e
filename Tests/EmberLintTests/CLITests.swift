import EmberUtils
import EmberProject
import Foundation
import Testing
@testable import EmberLint

/// A scratch folder for one test, removed afterwards.
func withScratch(_ body: (String) throws -> Void) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ember-lint-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try body(dir)
}

func write(_ text: String, _ path: String) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}

@Suite struct ExitCodeTests {
    @Test func documentedValues() {
        #expect(ToolExit.success.rawValue == 0)
        #expect(ToolExit.failure.rawValue == 1)
        #expect(ToolExit.error.rawValue == 2)
    }

    @Test func cleanTreeExitsZero() throws {
        try withScratch { dir in
            try write("import os\nfrom ember.utils import x\n", dir + "/src/ember/core/a.py")
            try write("x = 1\n", dir + "/src/ember/utils/x.py")
            let r = EmberLintCLI.run(["--no-cache", dir])
            #expect(r.code == .success, "\(r.stdout)")
            #expect(r.stdout.contains("2 files, 2 imports, no violations"))
        }
    }

    @Test func warningsAloneExitZero() throws {
        try withScratch { dir in
            try write("import importlib\nm = importlib.import_module(name)\n", dir + "/src/ember/core/a.py")
            let r = EmberLintCLI.run(["--no-cache", dir])
            #expect(r.code == .success)
            #expect(r.stdout.contains("EL006 warning:"))
        }
    }

    @Test func usageErrorsExitTwo() {
        #expect(EmberLintCLI.run(["--no-cache", "--format", "xml", "."]).code == .error)
        #expect(EmberLintCLI.run(["--no-such-flag"]).code == .error)
        #expect(EmberLintCLI.run(["--jobs", "0"]).code == .error)
        #expect(EmberLintCLI.run(["--rules", "/nonexistent/rules.toml", "."]).code == .error)
        #expect(EmberLintCLI.run(["--baseline", "/nonexistent/baseline.json", "."]).code == .error)
        let help = EmberLintCLI.run(["--help"])
        #expect(help.code == .success && help.stdout.contains("Exit codes"))
    }

    @Test func configErrorExitsTwoNamingFileKeyAndLine() throws {
        try withScratch { dir in
            try write("[tool.ember-lint]\ncycles = true\nlayer = []\n", dir + "/pyproject.toml")
            try write("import numpy\n", dir + "/src/ember/core/a.py")
            let r = EmberLintCLI.run(["--no-cache", dir + "/src"])
            #expect(r.code == .error)
            #expect(r.stderr.contains("pyproject.toml:3: 'tool.ember-lint.layer': unknown key"), "\(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
    }

    /// Reported by users: a valid pyproject.toml whose other tools' tables hold dates or inf
    /// made ember-lint exit 2 ("nothing was checked"), with or without [tool.ember-lint].
    @Test func otherToolsDatesAndInfDoNotStopTheRun() throws {
        let other = "[project]\nname = \"app\"\n\n[tool.foo]\nwhen = 2024-01-01\nx = inf\n"
        for ours in ["", "\n[tool.ember-lint]\ncycles = true\n"] {
            try withScratch { dir in
                try write(other + ours, dir + "/pyproject.toml")
                try write("import os\nfrom ember.utils import x\n", dir + "/src/ember/core/a.py")
                try write("x = 1\n", dir + "/src/ember/utils/x.py")
                let r = EmberLintCLI.run(["--no-cache", dir + "/src"])
                #expect(r.code == .success, "\(ours.isEmpty ? "without" : "with") [tool.ember-lint]: \(r.stdout)\(r.stderr)")
                #expect(r.stdout.contains("2 files, 2 imports, no violations"))
            }
        }
    }

    @Test func invalidPyprojectExitsTwoNamingLineAndColumn() throws {
        try withScratch { dir in
            try write("[project]\nname = \"app\"\n[tool.foo]\nwhen = 2024-01-01\nx = infinity\n", dir + "/pyproject.toml")
            try write("import os\n", dir + "/src/ember/core/a.py")
            let r = EmberLintCLI.run(["--no-cache", dir + "/src"])
            #expect(r.code == .error)
            #expect(r.stderr.contains("pyproject.toml:5:8: not valid TOML: expected the end of the line"), "\(r.stderr)")
        }
    }

    @Test func configuredRulesThirdPartyAndIgnores() throws {
        try withScratch { dir in
            try write("""
                [[layers]]
                name = "core"
                modules = ["app.core"]
                may-import = ["stdlib", "attrs"]
                [[layers]]
                name = "web"
                modules = ["app.web"]
                may-import = ["app.core", "third-party"]
                [[ignore]]
                importer = "app.core.a"
                imported = "app.web"
                reason = "migration in progress"
                """, dir + "/ember-lint.toml")
            try write("import attrs\nimport attrs.validators\nimport requests\nfrom app import web\n", dir + "/app/core/a.py")
            try write("", dir + "/app/__init__.py")
            try write("", dir + "/app/web.py")
            try write("import flask\nimport json\n", dir + "/app/web_x.py")
            let r = EmberLintCLI.run(["--no-cache", dir, "--format", "json"])
            #expect(r.code == .failure)
            let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            let items = doc["diagnostics"] as! [[String: Any]]
            #expect(items.map { $0["imported"] as? String } == ["requests"])
            #expect(items.map { $0["code"] as? String } == ["EL002"])
        }
    }
}

@Suite struct BaselineTests {
    @Test func writeThenCheckReportsOnlyNewFindings() throws {
        try withScratch { dir in
            try write("import numpy\n", dir + "/src/ember/core/a.py")
            let baseline = dir + "/baseline.json"
            let w = EmberLintCLI.run(["--no-cache", dir, "--write-baseline", baseline])
            #expect(w.code == .success && w.stdout.contains("recorded 1 finding"))
            let again = EmberLintCLI.run(["--no-cache", dir, "--baseline", baseline])
            #expect(again.code == .success, "\(again.stdout)")
            #expect(again.stdout.contains("1 in baseline"))
            // A line moved is still the same finding; a new one is reported.
            try write("\n\nimport numpy\nimport pandas\n", dir + "/src/ember/core/a.py")
            let later = EmberLintCLI.run(["--no-cache", dir, "--baseline", baseline])
            #expect(later.code == .failure)
            #expect(later.stdout.contains("imports pandas") && !later.stdout.contains("imports numpy"))
        }
    }
}

@Suite struct WalkerTests {
    @Test func badFilesAreReportedAndOthersStillChecked() throws {
        try withScratch { dir in
            try write("import numpy\n", dir + "/src/ember/core/good.py")
            try FileManager.default.createDirectory(atPath: dir + "/src/ember/core/folder.py", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: dir + "/src/ember/core/loop", withDestinationPath: dir + "/src/ember/core")
            try Data([0xFF, 0xFE, 0x00]).write(to: URL(fileURLWithPath: dir + "/src/ember/core/binary.py"))
            try Data().write(to: URL(fileURLWithPath: dir + "/src/ember/core/empty.py"))
            #expect(mkfifo(dir + "/src/ember/core/pipe.py", 0o644) == 0)
            try FileManager.default.createSymbolicLink(atPath: dir + "/src/ember/core/dangling.py", withDestinationPath: dir + "/nowhere.py")
            let r = EmberLintCLI.run(["--no-cache", dir])
            #expect(r.code == .failure)
            #expect(r.stdout.contains("folder.py:1:1: EL100 is a directory"))
            #expect(r.stdout.contains("loop:1:1: EL100 symlink loop"))
            #expect(r.stdout.contains("binary.py:1:1: EL100 cannot decode"))
            #expect(r.stdout.contains("good.py:1:8: EL002"))
            #expect(!r.stdout.contains("empty.py"))
            #expect(r.stdout.contains("pipe.py:1:1: EL100 not a regular file"))
            #expect(r.stdout.contains("dangling.py:1:1: EL100 dangling symlink"))
            // Named on the command line, a FIFO is refused too (reading it would block).
            // Nothing else to check: exit 2, the reason on stderr.
            let pipe = EmberLintCLI.run(["--no-cache", dir + "/src/ember/core/pipe.py"])
            #expect(pipe.code == .error && pipe.stderr.contains("not a regular file"))
        }
    }

    @Test func loopsThroughSymlinksAndEndlessNestingStopWithAFinding() throws {
        try withScratch { dir in
            // A symlink two levels down back to the top, and one to itself.
            try write("[[layers]]\nname = \"p\"\nmodules = [\"pkg\"]\nmay-import = [\"stdlib\"]\n", dir + "/ember-lint.toml")
            try write("import os\n", dir + "/pkg/sub/deeper/m.py")
            try FileManager.default.createSymbolicLink(atPath: dir + "/pkg/sub/deeper/up", withDestinationPath: dir + "/pkg")
            try FileManager.default.createSymbolicLink(atPath: dir + "/pkg/sub/self", withDestinationPath: dir + "/pkg/sub/self")
            // A symlink to a sibling folder is no loop: its files are found there too.
            try write("import json\n", dir + "/pkg/other/n.py")
            try FileManager.default.createSymbolicLink(atPath: dir + "/pkg/sub/alias", withDestinationPath: dir + "/pkg/other")
            let r = EmberLintCLI.run(["--no-cache", "--format", "json", dir])
            #expect(r.stdout.contains("deeper/up\""), "\(r.stdout)")
            #expect(r.stdout.contains("symlink loop (this folder is already being walked)"))
            #expect(r.stdout.contains("sub/self\""))
            #expect(EmberLintCLI.run(["--no-cache", "--graph", dir]).stdout.contains("alias/n.py"))
            // 300 nested folders: the walk stops at its depth limit and says where.
            var deep = dir + "/nest"
            for _ in 0..<300 { deep += "/d" }
            try write("import os\n", deep + "/m.py")
            let nested = EmberLintCLI.run(["--no-cache", dir + "/nest"])
            // Nothing else there: 0 files checked is exit 2, the problem named on stderr.
            #expect((nested.stdout + nested.stderr).contains("folders nested deeper than 256 levels"), "\(nested.stdout.prefix(300))")
        }
    }
}

@Suite struct CacheTests {
    @Test func unchangedFilesComeFromTheCacheAndChangedOnesAreReanalysed() throws {
        try withScratch { dir in
            let file = dir + "/src/ember/core/a.py"
            try write("import numpy\n", file)
            let cacheDir = dir + "/cache"
            let first = EmberLintCLI.run([dir, "--cache-dir", cacheDir])
            #expect(first.stdout.contains("imports numpy"))
            #expect(FileManager.default.fileExists(atPath: cacheDir + "/analysis.bin"))
            #expect(FileManager.default.fileExists(atPath: cacheDir + "/.gitignore"))
            // Same size, modification time and inode: the cached facts are used (proof: the
            // old import is still reported after an in-place rewrite with the time restored).
            var before = stat()
            stat(file, &before)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
            try handle.write(contentsOf: Data("import scipy\n".utf8))  // as long as "import numpy\n"
            try handle.close()
            var times = [before.st_atim, before.st_mtim]
            #expect(utimensat(AT_FDCWD, file, &times, 0) == 0)
            var inodeFixed = EmberLintCLI.run([dir, "--cache-dir", cacheDir])
            #expect(inodeFixed.stdout.contains("imports numpy"))
            // A new modification time: re-analysed.
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 10)], ofItemAtPath: file)
            inodeFixed = EmberLintCLI.run([dir, "--cache-dir", cacheDir])
            #expect(inodeFixed.stdout.contains("imports scipy"))
            // A damaged cache is ignored.
            try Data([1, 2, 3]).write(to: URL(fileURLWithPath: cacheDir + "/analysis.bin"))
            #expect(EmberLintCLI.run([dir, "--cache-dir", cacheDir]).stdout.contains("imports scipy"))
        }
    }

    @Test func aWarmRunOverUndecodableFilesLeavesTheCacheAsItIs() throws {
        try withScratch { dir in
            try write("import os\n", dir + "/src/ember/core/good.py")
            try Data([0x69, 0x6D, 0x70, 0x6F, 0x72, 0x74, 0x20, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: dir + "/src/ember/core/bad.py"))
            let cacheDir = dir + "/cache"
            let first = EmberLintCLI.run([dir, "--cache-dir", cacheDir, "--format", "json"])
            var written = stat()
            #expect(stat(cacheDir + "/analysis.bin", &written) == 0)
            // The same undecodable bytes give the same finding from the cache, and nothing
            // changed, so the cache file is not replaced (an atomic replace is a new inode).
            let second = EmberLintCLI.run([dir, "--cache-dir", cacheDir, "--format", "json"])
            var after = stat()
            #expect(stat(cacheDir + "/analysis.bin", &after) == 0)
            #expect(after.st_ino == written.st_ino)
            #expect(second.stdout == first.stdout)
            #expect(second.stdout.contains("invalid UTF-8"))
        }
    }

    @Test func aPackageThatBecomesGovernedHasItsInitReadAgain() throws {
        try withScratch { dir in
            // Only governed packages' __init__.py files are read statement by statement, so
            // the cache must not serve a skimmed one once the rules govern its package.
            try write("import os\ndef helper():\n    return os.sep\n", dir + "/app/util/__init__.py")
            try write("import os\n", dir + "/app/core/__init__.py")
            let rules = { (governed: String) in
                "[[layers]]\nname = \"low\"\nmodules = [\"\(governed)\"]\nmay-import = [\"stdlib\"]\n"
            }
            try write(rules("app.core"), dir + "/ember-lint.toml")
            let cacheDir = dir + "/cache"
            let before = EmberLintCLI.run([dir, "--cache-dir", cacheDir])
            #expect(!before.stdout.contains("EL003"), "\(before.stdout)")
            try write(rules("app.util"), dir + "/ember-lint.toml")
            let after = EmberLintCLI.run([dir, "--cache-dir", cacheDir])
            #expect(after.stdout.contains("app/util/__init__.py:2:1: EL003"), "\(after.stdout)")
            let cachedJSON = EmberLintCLI.run([dir, "--cache-dir", cacheDir, "--format", "json"]).stdout
            #expect(cachedJSON == EmberLintCLI.run([dir, "--no-cache", "--format", "json"]).stdout)
        }
    }

    @Test func anyNumberOfWorkersGivesTheSameReport() throws {
        // One worker walks and feeds the others; the cache is loaded by whichever worker
        // starts first. More workers than cores (or than files) must change nothing.
        try withScratch { dir in
            for fixture in ["layered", "namespace", "swift-package", "bad-input"] {
                let path = packageRoot + "/fixtures/lint/" + fixture
                let one = EmberLintCLI.run(["--no-cache", "--jobs", "1", path, "--format", "json"])
                for jobs in ["2", "3", "16"] {
                    #expect(EmberLintCLI.run(["--no-cache", "--jobs", jobs, path, "--format", "json"]).stdout == one.stdout, "\(fixture) --jobs \(jobs)")
                    let cacheDir = dir + "/" + fixture + jobs
                    _ = EmberLintCLI.run(["--cache-dir", cacheDir, "--jobs", jobs, path, "--format", "json"])
                    #expect(EmberLintCLI.run(["--cache-dir", cacheDir, "--jobs", jobs, path, "--format", "json"]).stdout == one.stdout, "\(fixture) cached --jobs \(jobs)")
                }
            }
        }
    }

    @Test func cachedRunMatchesFreshRunOnTheFixtures() throws {
        try withScratch { dir in
            for fixture in ["layered", "namespace", "swift-package"] {
                let path = packageRoot + "/fixtures/lint/" + fixture
                let fresh = EmberLintCLI.run(["--no-cache", path, "--format", "json"])
                _ = EmberLintCLI.run(["--cache-dir", dir + "/" + fixture, path, "--format", "json"])
                let cached = EmberLintCLI.run(["--cache-dir", dir + "/" + fixture, path, "--format", "json"])
                #expect(cached.stdout == fresh.stdout, "\(fixture)")
            }
        }
    }
}

@Suite struct SyntaxCheckTests {
    @Test func grammarErrorsNeedTheFullCheckAndImportsStillCount() {
        let path = packageRoot + "/fixtures/lint/bad-input"
        let quick = EmberLintCLI.run(["--no-cache", path])
        #expect(!quick.stdout.contains("grammar.py:2"))
        #expect(quick.stdout.contains("grammar.py:4:8: EL002 pkg.grammar imports numpy"))
        let full = EmberLintCLI.run(["--no-cache", "--check-syntax", path])
        #expect(full.stdout.contains("grammar.py:2:13: EL101 invalid syntax"), "\(full.stdout)")
        #expect(full.stdout.contains("grammar.py:4:8: EL002 pkg.grammar imports numpy"))
    }

    /// requires-python's oldest version: syntax it cannot parse is EL102 (the target still
    /// parses it), and target-version in [tool.ember-lint] picks the grammar.
    @Test func requiresPythonReportsSyntaxTheOldestVersionCannotRun() throws {
        try withScratch { dir in
            let code = "import os\nd = {\"k\": 1}\ntype Pair[T] = tuple[T, T]\nx = f\"{d[\"k\"]}\"\n"
            try write(code, dir + "/src/ember/core/new.py")
            try write("x = 1\n", dir + "/src/ember/core/old.py")
            try write("[project]\nname = \"app\"\nrequires-python = \">=3.9, <4\"\n\n[tool.ember-lint]\ncycles = true\n", dir + "/pyproject.toml")
            let r = EmberLintCLI.run(["--no-cache", "--check-syntax", dir + "/src"])
            #expect(r.stdout.contains("new.py:3:6: EL102 Python 3.9 cannot parse this (requires-python allows 3.9; 3.14 can): invalid syntax"), "\(r.stdout)")
            #expect(!r.stdout.contains("EL101"), "\(r.stdout)")
            #expect(!r.stdout.contains("old.py"), "\(r.stdout)")
            #expect(r.code == .failure)
            // Without --check-syntax nothing is parsed, nothing is reported.
            let quick = EmberLintCLI.run(["--no-cache", dir + "/src"])
            #expect(!quick.stdout.contains("EL102"), "\(quick.stdout)")
            // A pyproject.toml with requires-python and no [tool.ember-lint] (built-in rules).
            try write("[project]\nname = \"app\"\nrequires-python = \">=3.10\"\n", dir + "/pyproject.toml")
            let unconfigured = EmberLintCLI.run(["--no-cache", "--check-syntax", dir + "/src"])
            #expect(unconfigured.stdout.contains("new.py:3:6: EL102 Python 3.10 cannot parse this"), "\(unconfigured.stdout)\(unconfigured.stderr)")
            // requires-python >= 3.12: the file is fine.
            try write("[project]\nname = \"app\"\nrequires-python = \">=3.12\"\n\n[tool.ember-lint]\ncycles = true\n", dir + "/pyproject.toml")
            let modern = EmberLintCLI.run(["--no-cache", "--check-syntax", dir + "/src"])
            #expect(modern.code == .success, "\(modern.stdout)\(modern.stderr)")
            // target-version 3.11 in the configuration: the file is a syntax error of its own.
            try write("[project]\nrequires-python = \">=3.9\"\n\n[tool.ember-lint]\ntarget-version = \"3.11\"\n", dir + "/pyproject.toml")
            let old = EmberLintCLI.run(["--no-cache", "--check-syntax", dir + "/src"])
            #expect(old.stdout.contains("new.py:3:6: EL101 invalid syntax"), "\(old.stdout)")
            #expect(!old.stdout.contains("EL102"), "\(old.stdout)")
            try write("[tool.ember-lint]\ntarget-version = \"2.7\"\n", dir + "/pyproject.toml")
            let bad = EmberLintCLI.run(["--no-cache", "--check-syntax", dir + "/src"])
            #expect(bad.code == .error)
            #expect(bad.stderr.contains("'tool.ember-lint.target-version': expected a Python version from 3.9 to 3.14"), "\(bad.stderr)")
        }
    }

    /// The issue (#15): valid 3.12 code was EL101 under --check-syntax (the parser read 3.11).
    @Test func checkSyntaxFollowsTheTargetVersion() throws {
        try withScratch { dir in
            try write("d = {\"k\": 1}\nx = f\"{d[\"k\"]}\"\ntype Pair[T] = tuple[T, T]\n", dir + "/src/ember/core/new.py")
            let newest = EmberLintCLI.run(["--no-cache", "--check-syntax", dir])
            #expect(!newest.stdout.contains("EL101"), "\(newest.stdout)")
            #expect(newest.code == .success, "\(newest.stdout)\(newest.stderr)")
            let v312 = EmberLintCLI.run(["--no-cache", "--check-syntax", "--target-version", "3.12", dir])
            #expect(!v312.stdout.contains("EL101"), "\(v312.stdout)")
            let v311 = EmberLintCLI.run(["--no-cache", "--check-syntax", "--target-version", "3.11", dir])
            #expect(v311.stdout.contains("new.py:2:"), "\(v311.stdout)")
            #expect(v311.stdout.contains("EL101"), "\(v311.stdout)")
            #expect(v311.code == .failure)
            let bad = EmberLintCLI.run(["--no-cache", "--check-syntax", "--target-version", "2.7", dir])
            #expect(bad.code == .error)
            #expect(bad.stderr.contains("unknown --target-version '2.7'"), "\(bad.stderr)")
        }
    }
}

@Suite struct DeepNestingTests {
    /// The issue: 10,000 nested `*[` (and the other forms) killed `--check-syntax` with
    /// SIGSEGV and no finding was printed for any file. Each is now an EL101 at its line,
    /// and the other files are still checked.
    @Test func checkSyntaxReportsEveryFileWhateverItsNesting() throws {
        try withScratch { dir in
            let n = 10_000
            let forms = [
                "star_list": String(repeating: "*[", count: n) + "1" + String(repeating: "]", count: n) + ",",
                "star_paren": String(repeating: "*(", count: n) + "1" + String(repeating: ",)", count: n) + ",",
                "set_star": String(repeating: "{*", count: n) + "1" + String(repeating: "}", count: n),
                "dict_unpack": String(repeating: "{**", count: n) + "{}" + String(repeating: "}", count: n),
                "list_comprehension": String(repeating: "[i for i in ", count: n) + "y" + String(repeating: "]", count: n),
                "unary": String(repeating: "-", count: 20_000) + "1",
            ]
            for (name, expression) in forms {
                try write("import os\nx = " + expression + "\n", dir + "/src/ember/core/\(name).py")
            }
            try write("import numpy\n", dir + "/src/ember/core/plain.py")
            for jobs in ["1", "2"] {
                let r = EmberLintCLI.run(["--no-cache", "--check-syntax", "--jobs", jobs, dir])
                #expect(r.code == .failure)
                for name in forms.keys where name != "unary" {
                    #expect(r.stdout.contains("\(name).py:2:") && r.stdout.contains("EL101 too many nested parentheses"), "\(name): \(r.stdout.prefix(2000))")
                }
                // The default target is the newest version, whose CPython nests 6,000 levels.
                #expect(r.stdout.contains("unary.py:2:6005: EL101 too deeply nested (more than 6000 levels)"), "\(r.stdout.prefix(2000))")
                #expect(r.stdout.contains("plain.py:1:8: EL002 ember.core.plain imports numpy"))
            }
        }
    }
}

@Suite struct LayerRuleTests {
    @Test func mayNotImportWinsOverAWildcard() throws {
        try withScratch { dir in
            try write("""
                [[layers]]
                name = "low"
                modules = ["low"]
                may-import = ["*"]
                may-not-import = ["high"]
                """, dir + "/ember-lint.toml")
            try write("import high.api\nimport middle\nimport os\n", dir + "/low/a.py")
            try write("", dir + "/low/__init__.py")
            try write("", dir + "/high/api.py")
            try write("", dir + "/middle.py")
            let r = EmberLintCLI.run(["--no-cache", dir])
            #expect(r.code == .failure)
            #expect(r.stdout.contains("low.a imports high.api; layer 'low' may import: * except high"), "\(r.stdout)")
            #expect(!r.stdout.contains("imports middle") && !r.stdout.contains("imports os"))
        }
    }

    @Test func cyclesCanBeSwitchedOff() throws {
        try withScratch { dir in
            try write("from . import b\n", dir + "/pkg/a.py")
            try write("from . import a\n", dir + "/pkg/b.py")
            try write("", dir + "/pkg/__init__.py")
            try write("[[layers]]\nname = \"pkg\"\nmodules = [\"pkg\"]\n", dir + "/ember-lint.toml")
            let on = EmberLintCLI.run(["--no-cache", dir])
            #expect(on.stdout.contains("EL004 import cycle: pkg.a -> pkg.b -> pkg.a"), "\(on.stdout)")
            try write("cycles = false\n[[layers]]\nname = \"pkg\"\nmodules = [\"pkg\"]\n", dir + "/ember-lint.toml")
            let off = EmberLintCLI.run(["--no-cache", dir])
            #expect(off.code == .success && !off.stdout.contains("EL004"))
        }
    }
}
