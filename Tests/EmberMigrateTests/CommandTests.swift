@testable import EmberMigrate
import Foundation
import Testing

extension MigrateTests {
    @Suite struct RulesTests {
        @Test func compiledRulesEqualTheRulesFolder() throws {
            let rules = try String(contentsOf: MigrateFixture.packageRoot.appendingPathComponent("rules/migrate/legacy.rules"), encoding: .utf8)
            let runtime = try String(contentsOf: MigrateFixture.packageRoot.appendingPathComponent("python/ember_runtime.py"), encoding: .utf8)
            #expect(DefaultMigrationRules.text == rules, "compiled rules differ from rules/migrate/legacy.rules; run: python3 scripts/generate-migrate-rules.py")
            #expect(DefaultMigrationRules.runtimeModule == runtime, "compiled runtime differs from python/ember_runtime.py; run: python3 scripts/generate-migrate-rules.py")
        }

        @Test func builtInRulesKnowTheLegacyShapes() {
            let rules = MigrationRules.builtIn()
            #expect(rules.symbols[QualifiedName(module: "ember.core.registry.operator.base.operator_base", name: "Operator")] == .operatorBase)
            #expect(rules.symbols[QualifiedName(module: "ember.core.non", name: "Sequential")] == .chain)
            #expect(rules.symbols[QualifiedName(module: "ember.api.operators", name: "EnsembleOperator")] == .ensemble)
            #expect(rules.isLegacyModule("ember.core.operators_v2.protocols"))
            #expect(!rules.isLegacyModule("ember.api"))
            #expect(rules.behaviourMethods == ["forward", "_execute", "__call__"])
        }

        @Test func badRulesNameFileAndLine() {
            var rules = MigrationRules()
            #expect(throws: MigrationRulesError.self) { try rules.add(text: "# ok\noperator-base only.two\n", file: "x.rules") }
            do {
                try rules.add(text: "\n\nfrobnicate a b\n", file: "x.rules")
                Issue.record("accepted an unknown entry")
            } catch {
                #expect(error.description.hasPrefix("x.rules:3: unknown entry 'frobnicate'"))
            }
            do {
                try rules.add(text: "target module ember not-a-name\n", file: "y.rules")
                Issue.record("accepted a bad target name")
            } catch {
                #expect(error.description == "y.rules:1: 'not-a-name' is not a Python name")
            }
        }

        @Test func configurableTargetNames() throws {
            var rules = MigrationRules.builtIn()
            try rules.add(text: "target module my.runtime api.module\n", file: "t.rules")
            let source = "from ember.api.operators import Operator\n\n\nclass A(Operator):\n    def forward(self, *, inputs):\n        return inputs\n"
            let out = String(decoding: try #require(migrateOne(Array(source.utf8), rules: rules).files[0].rewritten), as: UTF8.self)
            #expect(out == "from my.runtime import api\n\n\n@api.module.operator(\"A\")\ndef a(*, inputs):\n    return inputs\n")
            // [tool.ember-migrate] runtime-module points every target at another module.
            var moved = MigrationRules.builtIn()
            moved.setRuntimeModule("mypkg._ember")
            let other = String(decoding: try #require(migrateOne(Array(source.utf8), rules: moved).files[0].rewritten), as: UTF8.self)
            #expect(other.hasPrefix("from mypkg._ember import module\n"))
        }
    }
}

/// The command as users run it: exit codes, modes, formats, --emit-adapter.
extension MigrateTests {
    @Suite struct CommandTests {
        let binary = MigrateFixture.binary()

        func tree() throws -> URL {
            let folder = try MigrateFixture.scratch("cli")
            try Data("from ember.api.operators import Operator\n\n\nclass Up(Operator):\n    def forward(self, *, inputs):\n        return inputs.upper()\n\n\nop = Up()\n".utf8)
                .write(to: folder.appendingPathComponent("ops.py"))
            try Data("x = 1\n".utf8).write(to: folder.appendingPathComponent("plain.py"))
            return folder
        }

        @Test func exitCodesForEachOutcome() throws {
            #expect(FileManager.default.isExecutableFile(atPath: binary), "build ember-migrate first (swift build)")
            let folder = try tree()
            defer { try? FileManager.default.removeItem(at: folder) }
            // 2: usage
            #expect(try MigrateFixture.run(binary, ["--naming", "camel", folder.path]).0 == 2)
            #expect(try MigrateFixture.run(binary, ["--no-such-flag", folder.path]).0 == 2)
            #expect(try MigrateFixture.run(binary, ["--write", "--check", folder.path]).0 == 2)
            #expect(try MigrateFixture.run(binary, []).0 == 2)
            #expect(try MigrateFixture.run(binary, ["--help"]).0 == 0)
            #expect(try MigrateFixture.run(binary, [folder.appendingPathComponent("missing").path]).0 == 2)
            let badRules = folder.appendingPathComponent("bad.rules")
            try Data("nonsense here\n".utf8).write(to: badRules)
            let (rulesStatus, _, rulesErr) = try MigrateFixture.run(binary, ["--rules", badRules.path, folder.path])
            #expect(rulesStatus == 2)
            #expect(rulesErr.contains("bad.rules:1: unknown entry 'nonsense'"))
            try FileManager.default.removeItem(at: badRules)
            // 1: --check found changes; the tree is untouched.
            let before = try Data(contentsOf: folder.appendingPathComponent("ops.py"))
            let (checkStatus, checkOut, checkErr) = try MigrateFixture.run(binary, ["--check", folder.path])
            #expect(checkStatus == 1)
            #expect(checkOut.isEmpty)
            #expect(checkErr.contains("would change: \(folder.path)/ops.py"))
            #expect(try Data(contentsOf: folder.appendingPathComponent("ops.py")) == before)
            // 0: --diff prints the diff and changes nothing.
            let (diffStatus, diff, _) = try MigrateFixture.run(binary, [folder.path])
            #expect(diffStatus == 0)
            #expect(diff.contains("+def up(*, inputs):"))
            #expect(try Data(contentsOf: folder.appendingPathComponent("ops.py")) == before)
            // 0: --write, then --check finds nothing.
            #expect(try MigrateFixture.run(binary, ["--write", folder.path]).0 == 0)
            #expect(try Data(contentsOf: folder.appendingPathComponent("ops.py")) != before)
            #expect(try MigrateFixture.run(binary, ["--check", folder.path]).0 == 0)
            // 6: a file that cannot be parsed (the tools' table: files skipped).
            try Data("def broken(:\n".utf8).write(to: folder.appendingPathComponent("broken.py"))
            let (skipStatus, _, skipErr) = try MigrateFixture.run(binary, ["--check", folder.path])
            #expect(skipStatus == 6)
            #expect(skipErr.contains("broken.py: skipped: cannot parse (line 1, column"))
        }

        /// Deep nesting never crashes the run (the passes recurse once per tree level): up to
        /// the limit the file is migrated on a worker stack of its own, also with --jobs 1
        /// (the calling thread's 8 MB once overflowed at about 700 levels in a debug build);
        /// beyond it the file is skipped with the reason, and the others are still done.
        @Test func deepNestingIsReadOrSkippedNeverACrash() throws {
            let folder = try tree()
            defer { try? FileManager.default.removeItem(at: folder) }
            let header = "from ember.api.operators import Operator\n"
            try Data((header + "x = " + String(repeating: "-", count: 990) + "1\n").utf8).write(to: folder.appendingPathComponent("deep.py"))
            for jobs in ["1", "2"] {
                let (status, _, err) = try MigrateFixture.run(binary, ["--check", "--jobs", jobs, folder.path])
                #expect(status == 1, "\(err)")
                #expect(!err.contains("deep.py: skipped"), "\(err)")
            }
            try Data((header + "x = " + String(repeating: "not ", count: 1_200) + "1\n").utf8).write(to: folder.appendingPathComponent("deeper.py"))
            let (status, _, err) = try MigrateFixture.run(binary, ["--check", "--jobs", "1", folder.path])
            #expect(status == 6, "\(err)")
            #expect(err.contains("deeper.py: skipped: nested more than 1000 levels deep"), "\(err)")
            #expect(err.contains("would change: \(folder.path)/ops.py"), "\(err)")
        }

        /// Files are read with the target version's grammar (#15): 3.12 code by default,
        /// skipped with its line under an older target.
        @Test func targetVersionChoosesTheGrammar() throws {
            let folder = try tree()
            defer { try? FileManager.default.removeItem(at: folder) }
            // Relevant (it imports the legacy API), so it is parsed.
            try Data("from ember.api.operators import Operator\nx = f\"{d[\"k\"]}\"\n".utf8).write(to: folder.appendingPathComponent("modern.py"))
            let (newest, _, newestErr) = try MigrateFixture.run(binary, ["--check", folder.path])
            #expect(newest == 1, "\(newestErr)")
            #expect(!newestErr.contains("modern.py: skipped"), "\(newestErr)")
            let (old, _, oldErr) = try MigrateFixture.run(binary, ["--check", "--target-version", "3.11", folder.path])
            #expect(old == 6)
            #expect(oldErr.contains("modern.py: skipped: cannot parse (line 2, column"), "\(oldErr)")
            let (bad, _, badErr) = try MigrateFixture.run(binary, ["--target-version", "3.8", folder.path])
            #expect(bad == 2)
            #expect(badErr.contains("--target-version must be a Python version from 3.9 to 3.14 (such as 3.12), not '3.8'"), "\(badErr)")
            // target-version in [tool.ember-migrate]; the command line wins over it.
            try Data("[tool.ember-migrate]\ntarget-version = \"3.11\"\n".utf8).write(to: folder.appendingPathComponent("pyproject.toml"))
            let (configured, _, configuredErr) = try MigrateFixture.run(binary, ["--check", folder.path])
            #expect(configured == 6)
            #expect(configuredErr.contains("modern.py: skipped: cannot parse (line 2, column"), "\(configuredErr)")
            let (overridden, _, overriddenErr) = try MigrateFixture.run(binary, ["--check", "--target-version", "3.12", folder.path])
            #expect(overridden == 1, "\(overriddenErr)")
            try Data("[tool.ember-migrate]\ntarget-version = \"2.7\"\n".utf8).write(to: folder.appendingPathComponent("pyproject.toml"))
            let (wrong, _, wrongErr) = try MigrateFixture.run(binary, ["--check", folder.path])
            #expect(wrong == 2)
            #expect(wrongErr.contains("tool.ember-migrate.target-version: expected a Python version from 3.9 to 3.14 such as \"3.12\", found \"2.7\""), "\(wrongErr)")
        }

        @Test func folderWalkSkipsHiddenCacheAndLinkedFolders() throws {
            let folder = try tree()
            defer { try? FileManager.default.removeItem(at: folder) }
            for hidden in [".venv", "__pycache__"] {
                try FileManager.default.createDirectory(at: folder.appendingPathComponent(hidden), withIntermediateDirectories: true)
                try Data("def broken(:\n".utf8).write(to: folder.appendingPathComponent(hidden + "/bad.py"))
            }
            try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("loop").path, withDestinationPath: folder.path)
            let found = try MigrationFiles.discover([folder.path])
            #expect(found.inputs.map { URL(fileURLWithPath: $0.path).lastPathComponent } == ["ops.py", "plain.py"])
            // The loop is reported, not followed.
            #expect(found.problems.contains { $0.path.hasSuffix("/loop") && $0.reason.contains("symlink loop") })
        }

        /// The project model's discovery: .gitignore respected, a package named `build` kept,
        /// a mistyped path refused.
        @Test func discoveryRespectsGitignoreAndKeepsPackagesNamedLikeBuildFolders() throws {
            let folder = try tree()
            defer { try? FileManager.default.removeItem(at: folder) }
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(".git"), withIntermediateDirectories: true)
            try Data("ignored/\n".utf8).write(to: folder.appendingPathComponent(".gitignore"))
            for path in ["ignored/x.py", "tool/build/__init__.py", "tool/__init__.py", "build/lib/y.py"] {
                let url = folder.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data("x = 1\n".utf8).write(to: url)
            }
            let found = try MigrationFiles.discover([folder.path])
            let names = found.inputs.map { String($0.path.dropFirst(folder.path.count + 1)) }
            #expect(names == ["ops.py", "plain.py", "tool/__init__.py", "tool/build/__init__.py"], "\(names)")
            #expect(found.inputs.first { $0.path.hasSuffix("tool/build/__init__.py") }?.moduleName == "tool.build")
            let (status, _, err) = try MigrateFixture.run(binary, ["--check", folder.path + "/scr"])
            #expect(status == 2 && err.contains("no such file or directory"))
        }

        @Test func jsonFormatCarriesSummaryAndReport() throws {
            let folder = try tree()
            defer { try? FileManager.default.removeItem(at: folder) }
            let (status, out, _) = try MigrateFixture.run(binary, ["--format", "json", "--check", folder.path])
            #expect(status == 1)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
            let summary = try #require(object["summary"] as? [String: Any])
            #expect(summary["filesScanned"] as? Int == 2)
            #expect(summary["filesChanged"] as? Int == 1)
            #expect(summary["classesConverted"] as? Int == 1)
            #expect(object["exitCode"] as? Int == 1)
            let report = try #require(object["report"] as? [[String: Any]])
            #expect(report.contains { ($0["kind"] as? String) == "converted" && ($0["line"] as? Int) == 4 })
        }

        @Test func planListsLegacyReferencesUntilNoneRemain() throws {
            let folder = try tree()
            defer { try? FileManager.default.removeItem(at: folder) }
            let (_, plan, _) = try MigrateFixture.run(binary, ["--plan", folder.path])
            #expect(plan.contains("ops.py:1: from ember.api.operators import Operator"))
            #expect(plan.contains("plan: 0 legacy module files in the run, 1 reference to legacy modules"))
            _ = try MigrateFixture.run(binary, ["--write", folder.path])
            let (_, after, _) = try MigrateFixture.run(binary, ["--plan", folder.path])
            #expect(after.contains("0 references to legacy modules; nothing refers to the legacy modules any more"))
        }

        /// [tool.ember-migrate]: found above the path, only its own table checked, errors with
        /// file, line, column and the closest key; excludes, rule selection, --isolated.
        @Test func configurationIsFoundValidatedAndApplied() throws {
            let folder = try tree()
            defer { try? FileManager.default.removeItem(at: folder) }
            let pyproject = folder.appendingPathComponent("pyproject.toml")
            // Another tool's table may hold any TOML 1.0 (dates, inf); a typo in ours is exit 2.
            try Data("[tool.other]\nwhen = 2024-01-01\nx = inf\n\n[tool.ember-migrate]\nnamin = \"keep\"\n".utf8).write(to: pyproject)
            let (status, _, err) = try MigrateFixture.run(binary, ["--check", folder.path])
            #expect(status == 2)
            #expect(err.contains("pyproject.toml:6:1: tool.ember-migrate.namin: unknown key (did you mean 'naming'?"), "\(err)")
            try Data("[tool.ember-migrate]\nnaming = 42\n".utf8).write(to: pyproject)
            let (badValue, _, badErr) = try MigrateFixture.run(binary, ["--check", folder.path])
            #expect(badValue == 2)
            #expect(badErr.contains("pyproject.toml:2:1: tool.ember-migrate.naming: expected a string, found integer"), "\(badErr)")
            // --isolated ignores it.
            #expect(try MigrateFixture.run(binary, ["--check", "--isolated", folder.path]).0 == 1)
            // naming and exclude apply; excluding every file is a usage error, not a silent pass.
            try Data("[tool.other]\nwhen = 2024-01-01\n[tool.ember-migrate]\nnaming = \"keep\"\n".utf8).write(to: pyproject)
            let (_, diff, _) = try MigrateFixture.run(binary, [folder.path])
            #expect(diff.contains("+def Up(*, inputs):"))
            try Data("[tool.ember-migrate]\nexclude = [\"*.py\"]\n".utf8).write(to: pyproject)
            let (none, _, noneErr) = try MigrateFixture.run(binary, ["--check", folder.path])
            #expect(none == 2)
            #expect(noneErr.contains("no .py files to migrate"))
            try Data("[tool.ember-migrate]\nextend-exclude = [\"ops.py\"]\n".utf8).write(to: pyproject)
            #expect(try MigrateFixture.run(binary, ["--check", folder.path]).0 == 0)
            // Rule selection: without EM101 nothing is converted; an unknown code is exit 2.
            try FileManager.default.removeItem(at: pyproject)
            let (_, _, ignored) = try MigrateFixture.run(binary, ["--check", "--ignore", "EM101", "--ignore", "EM102", folder.path])
            #expect(ignored.contains("0 classes converted, 0 adapted, 1 kept"), "\(ignored)")
            let (unknown, _, unknownErr) = try MigrateFixture.run(binary, ["--check", "--select", "EM999", folder.path])
            #expect(unknown == 2)
            #expect(unknownErr.contains("'EM999' names no rule"))
        }

        /// The temporary file of an interrupted --write is reported, then removed by the next --write.
        @Test func leftoverTemporaryFilesAreRemovedByTheNextWrite() throws {
            let folder = try tree()
            defer { try? FileManager.default.removeItem(at: folder) }
            let leftover = folder.appendingPathComponent(".ops.py.ember-migrate-Ab12Cd")
            try Data("half".utf8).write(to: leftover)
            let (_, _, checkErr) = try MigrateFixture.run(binary, ["--check", folder.path])
            #expect(checkErr.contains("is the temporary file of an interrupted --write"))
            #expect(FileManager.default.fileExists(atPath: leftover.path))
            let (status, _, writeErr) = try MigrateFixture.run(binary, ["--write", folder.path])
            #expect(status == 0)
            #expect(writeErr.contains("removed \(leftover.path)"))
            #expect(!FileManager.default.fileExists(atPath: leftover.path))
        }

        /// --plan names the project's files outside the run that import a renamed class.
        @Test func planListsImportersOutsideTheRun() throws {
            let project = try MigrateFixture.scratch("project")
            defer { try? FileManager.default.removeItem(at: project) }
            let src = project.appendingPathComponent("pkg")
            try FileManager.default.createDirectory(at: src, withIntermediateDirectories: true)
            try Data("[project]\nname = \"p\"\n".utf8).write(to: project.appendingPathComponent("pyproject.toml"))
            try Data("".utf8).write(to: src.appendingPathComponent("__init__.py"))
            try Data("from ember.api.operators import Operator\n\n\nclass Up(Operator):\n    def forward(self, *, inputs):\n        return inputs\n".utf8)
                .write(to: src.appendingPathComponent("ops.py"))
            try Data("from pkg.ops import Up\n\nprint(Up())\n".utf8).write(to: project.appendingPathComponent("main.py"))
            let (_, plan, _) = try MigrateFixture.run(binary, ["--plan", src.path], cwd: project)
            #expect(plan.contains("main.py:1: outside the run: imports pkg.ops.Up, now up"), "\(plan)")
        }

        @Test func emitRuntimeWritesTheRuntimeItsCodeImports() throws {
            let folder = try MigrateFixture.scratch("runtime")
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = folder.appendingPathComponent("ember_runtime.py").path
            let (status, _, _) = try MigrateFixture.run(binary, ["--emit-runtime", path])
            #expect(status == 0)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text == runtimeModuleText(rules: .builtIn()))
            #expect(text.contains("\nLEGACY_EXCEPTION_MODULES = (\"ember.core.exceptions\",)\n"))
            // --emit-adapter is the old name: the runtime holds migrate_operator_to_module.
            let adapter = folder.appendingPathComponent("adapter.py").path
            _ = try MigrateFixture.run(binary, ["--emit-adapter", adapter])
            #expect(try String(contentsOfFile: adapter, encoding: .utf8) == text)
            guard let python = MigrateFixture.python3() else { return }
            let script = """
            import functools, sys
            sys.path.insert(0, sys.argv[1])
            from ember_runtime import migrate_operator_to_module, module
            class Op:
                def __init__(self, k=1): self.k = k
                def __call__(self, *, inputs): return inputs * self.k
            m = migrate_operator_to_module(Op)
            @module.operator("Twice")
            def twice(*, inputs):
                return inputs * 2
            print(m(inputs=2), functools.partial(m, k=3)(inputs=2), migrate_operator_to_module(Op(k=5))(inputs=2), type(twice()).__name__)
            """
            let (pyStatus, out, err) = try MigrateFixture.run(python, ["-c", script, folder.path])
            #expect(pyStatus == 0, "\(err)")
            #expect(out == "2 6 10 Twice\n")
        }
    }
}
