import EmberMigrate
import EmberPython
import Foundation
import Testing

/// A golden case: a folder of Python files migrated together.
struct GoldenCase: CustomStringConvertible, Sendable {
    var name: String
    var root: URL
    var files: [String]
    var description: String { name }

    var naming: NamingStyle { name.contains("naming_keep") ? .keep : .snake }

    static var all: [GoldenCase] {
        var out: [GoldenCase] = []
        let programs = MigrateFixture.root.appendingPathComponent("programs")
        for file in MigrateFixture.pythonFiles(under: programs) where !file.contains("/") {
            let stem = String(file.dropLast(3))
            let package = String(stem.prefix { $0 != "_" }) + "pkg"
            let packageFiles = MigrateFixture.pythonFiles(under: programs.appendingPathComponent(package)).map { package + "/" + $0 }
            out.append(GoldenCase(name: stem, root: programs, files: [file] + packageFiles))
        }
        let cases = MigrateFixture.root.appendingPathComponent("cases")
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: cases.path)) ?? []).sorted() {
            let root = cases.appendingPathComponent(name)
            out.append(GoldenCase(name: name, root: root, files: MigrateFixture.pythonFiles(under: root)))
        }
        return out
    }

    var expectedFolder: URL { MigrateFixture.root.appendingPathComponent("expected").appendingPathComponent(name) }

    func migrate() -> MigrationResult {
        var options = MigrationOptions()
        options.naming = naming
        options.workers = 2
        return Migration.run(MigrateFixture.inputs(files, root: root), options: options)
    }
}

func reportText(_ result: MigrationResult, mode: String = "diff") -> String {
    var output = MigrationOutput(result: result, mode: mode)
    output.showTime = false
    return output.reportText()
}

extension MigrateTests {
    @Suite struct GoldenTests {
        @Test(arguments: GoldenCase.all)
        func rewriteAndReportMatchGolden(_ golden: GoldenCase) throws {
            let result = golden.migrate()
            let report = reportText(result)
            let reportURL = golden.expectedFolder.appendingPathComponent("report.txt")
            if MigrateFixture.isRecording {
                try? FileManager.default.removeItem(at: golden.expectedFolder)
                try FileManager.default.createDirectory(at: golden.expectedFolder, withIntermediateDirectories: true)
                try Data(report.utf8).write(to: reportURL)
                for file in result.files where file.status == .changed {
                    let url = golden.expectedFolder.appendingPathComponent(file.path)
                    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try Data(file.rewritten!).write(to: url)
                }
                return
            }
            let expectedReport = try String(contentsOf: reportURL, encoding: .utf8)
            #expect(report == expectedReport, "report differs for \(golden.name); re-record with EMBER_RECORD=1 after checking")
            let expectedFiles = Set(MigrateFixture.pythonFiles(under: golden.expectedFolder))
            let changed = Set(result.files.filter { $0.status == .changed }.map(\.path))
            #expect(changed == expectedFiles, "changed files differ from fixtures/migrate/expected/\(golden.name)")
            for file in result.files where file.status == .changed {
                let expected = try Data(contentsOf: golden.expectedFolder.appendingPathComponent(file.path))
                #expect(Array(expected) == file.rewritten!, "\(golden.name)/\(file.path) differs from its golden")
            }
        }

        /// Every rewritten file parses, and a second run over the result changes nothing.
        @Test(arguments: GoldenCase.all)
        func secondRunChangesNothing(_ golden: GoldenCase) throws {
            let first = golden.migrate()
            let scratch = try MigrateFixture.scratch("idempotent")
            defer { try? FileManager.default.removeItem(at: scratch) }
            for file in first.files {
                let url = scratch.appendingPathComponent(file.path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(file.rewritten ?? file.original).write(to: url)
                if let rewritten = file.rewritten {
                    let tree = PythonParser.parse(try PythonSource(bytes: rewritten))
                    #expect(tree.isValid, "\(golden.name)/\(file.path) does not parse after migration")
                }
            }
            var options = MigrationOptions()
            options.naming = golden.naming
            let second = Migration.run(MigrateFixture.inputs(golden.files, root: scratch), options: options)
            let changedAgain = second.files.filter { $0.status == .changed }.map(\.path)
            #expect(changedAgain.isEmpty, "second run would change \(changedAgain) in \(golden.name)")
            #expect(second.summary.classesConverted == 0)
        }
    }
}

extension MigrateTests {
    @Suite struct CPythonAgreesTests {
        /// Every golden output parses with CPython's own `ast` (the oracle), not only EmberPython.
        @Test func everyGoldenOutputParsesWithCPython() throws {
            guard let python = MigrateFixture.python3() else { Issue.record("python3 not found"); return }
            let expected = MigrateFixture.root.appendingPathComponent("expected")
            let files = MigrateFixture.pythonFiles(under: expected).map { expected.appendingPathComponent($0).path }
            #expect(files.count >= 15)
            let script = """
            import ast, sys
            bad = []
            for path in sys.argv[1:]:
                try:
                    ast.parse(open(path, 'rb').read(), path)
                except SyntaxError as e:
                    bad.append(f"{path}: {e}")
            print("\\n".join(bad))
            """
            let (status, out, err) = try MigrateFixture.run(python, ["-c", script] + files)
            #expect(status == 0, "\(err)")
            #expect(out.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "CPython rejects: \(out)")
        }
    }
}
