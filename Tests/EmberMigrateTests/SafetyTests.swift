@testable import EmberMigrate
import EmberPython
import EmberUtils
import Foundation
import Testing

func migrateOne(_ source: [UInt8], naming: NamingStyle = .snake, rules: MigrationRules = .builtIn(), unsafe: Bool = false) -> MigrationResult {
    var options = MigrationOptions()
    options.naming = naming
    options.rules = rules
    options.unsafe = unsafe
    return Migration.run([InputFile(path: "m.py", moduleName: "m", isPackageInit: false, bytes: .success(source))], options: options)
}

func migrateOne(_ source: String, naming: NamingStyle = .snake, unsafe: Bool = false) -> MigrationResult {
    migrateOne(Array(source.utf8), naming: naming, unsafe: unsafe)
}

extension MigrateTests {
    @Suite struct SafetyTests {
        @Test func bytesOutsideTheRewriteAreUntouched() throws {
            let head = "# -*- coding: utf-8 -*-\r\n'''Module.'''\r\nimport os\t# tab before comment   \r\nfrom ember.api.operators import Operator\r\n\r\n\r\nX = {'a': \"b\"}   \r\n\r\n\r\n"
            let cls = "class Up(Operator):\r\n\tdef forward(self, *, inputs):\r\n\t\treturn inputs.upper()  # keep\r\n"
            let tail = "\r\n\r\n# trailing comment\t\r\nprint(os.sep, X)   \r\n"
            let result = migrateOne(head + cls + tail)
            let file = try #require(result.files.first)
            #expect(file.status == .changed)
            let out = String(decoding: file.rewritten!, as: UTF8.self)
            // Everything before the import block and after the class is byte-identical.
            #expect(out.hasPrefix("# -*- coding: utf-8 -*-\r\n'''Module.'''\r\nimport os\t# tab before comment   \r\n"))
            #expect(out.hasSuffix(tail))
            #expect(out.contains("X = {'a': \"b\"}   \r\n"))
            #expect(out.contains("@module.operator(\"Up\")\r\ndef up(*, inputs):\r\n\treturn inputs.upper()  # keep\r\n"))
            #expect(!out.contains("\n\n") || !out.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "LF line endings crept into a CRLF file")
        }

        @Test func legacyEncodingAndBOMAreKept() throws {
            var latin1: [UInt8] = Array("# -*- coding: latin-1 -*-\nfrom ember.api.operators import Operator\n\n\nclass Caf".utf8)
            latin1.append(0xE9)
            latin1 += Array("(Operator):\n    def forward(self, *, inputs):\n        return '".utf8) + [0xE9] + Array("' + inputs\n".utf8)
            let result = migrateOne(latin1)
            let file = try #require(result.files.first)
            #expect(file.status == .changed)
            let out = file.rewritten!
            #expect(!out.contains(0xC3), "latin-1 file was written as UTF-8")
            // The legacy class name (in module.operator), the function name and the literal.
            #expect(out.filter { $0 == 0xE9 }.count == 3)
            let source = try PythonSource(bytes: out)
            #expect(source.encoding == "latin-1")

            let bom: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("from ember.api.operators import Operator\nclass A(Operator):\n    def forward(self, *, inputs):\n        return inputs\n".utf8)
            let withBOM = try #require(migrateOne(bom).files.first?.rewritten)
            #expect(Array(withBOM.prefix(3)) == [0xEF, 0xBB, 0xBF])
        }

        @Test func unreadableUndecodableAndUnparsableFilesAreSkippedAndTheRunGoesOn() throws {
            let good = Array("from ember.api.operators import Operator\nclass A(Operator):\n    def forward(self, *, inputs):\n        return inputs\n".utf8)
            let inputs = [
                InputFile(path: "bad_syntax.py", moduleName: "bad_syntax", isPackageInit: false, bytes: .success(Array("def f(:\n".utf8))),
                InputFile(path: "bad_bytes.py", moduleName: "bad_bytes", isPackageInit: false, bytes: .success([0x78, 0x20, 0x3D, 0x20, 0xFF, 0x0A])),
                InputFile(path: "unreadable.py", moduleName: "unreadable", isPackageInit: false, bytes: .failure(InputError("cannot read: Permission denied; check its permissions"))),
                InputFile(path: "good.py", moduleName: "good", isPackageInit: false, bytes: .success(good)),
            ]
            let result = Migration.run(inputs, options: MigrationOptions())
            #expect(result.summary.filesSkipped == 3)
            #expect(result.summary.filesChanged == 1)
            let skipped = result.report.filter { $0.kind == .skipped }.map(\.text)
            #expect(skipped.contains { $0.hasPrefix("bad_syntax.py: skipped: cannot parse (line 1, column") })
            #expect(skipped.contains { $0.hasPrefix("bad_bytes.py: skipped: cannot decode") && $0.contains("invalid UTF-8 byte 0xFF") })
            #expect(skipped.contains { $0 == "unreadable.py: skipped: cannot read: Permission denied; check its permissions" })
            #expect(result.files.filter { $0.status == .skipped }.allSatisfy { $0.rewritten == nil })
            #expect(MigrationOutput(result: result, mode: "check").exitCode == .filesSkipped)
        }

        @Test func aRewriteThatWouldNotParseIsAbandoned() throws {
            // A target name that is a keyword makes the decorator line invalid Python.
            var rules = MigrationRules.builtIn()
            try rules.add(text: "target module ember lambda\n", file: "bad.rules")
            let source = "from ember.api.operators import Operator\nclass A(Operator):\n    def forward(self, *, inputs):\n        return inputs\n"
            let result = migrateOne(Array(source.utf8), rules: rules)
            let file = try #require(result.files.first)
            #expect(file.status == .skipped)
            #expect(file.rewritten == nil)
            #expect(result.report.contains { $0.kind == .abandoned && $0.text.hasPrefix("m.py: abandoned: the rewritten file would not parse (line") })
            #expect(result.summary.classesConverted == 0)
        }

        @Test func writeIsAtomicAndKeepsPermissions() throws {
            let folder = try MigrateFixture.scratch("atomic")
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = folder.appendingPathComponent("x.py").path
            try Data("old\n".utf8).write(to: URL(fileURLWithPath: path))
            chmod(path, 0o640)
            try MigrationFiles.writeAtomically(Array("new\n".utf8), to: path)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "new\n")
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o640)
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["x.py"], "temporary file left behind")
            // A folder that does not exist: nothing is created, the error names the file.
            let nowhere = folder.appendingPathComponent("missing/z.py").path
            do {
                try MigrationFiles.writeAtomically(Array("x\n".utf8), to: nowhere)
                Issue.record("wrote into a folder that does not exist")
            } catch {
                #expect(error.message.hasPrefix("\(nowhere): cannot create a temporary file"))
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["x.py"])
            // A folder that cannot be written (not testable as root): the original stays.
            let locked = folder.appendingPathComponent("locked")
            try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
            let lockedFile = locked.appendingPathComponent("y.py").path
            try Data("keep\n".utf8).write(to: URL(fileURLWithPath: lockedFile))
            chmod(locked.path, 0o500)
            defer { chmod(locked.path, 0o700) }
            if getuid() != 0 {
                #expect(throws: InputError.self) { try MigrationFiles.writeAtomically(Array("lost\n".utf8), to: lockedFile) }
                #expect(try String(contentsOfFile: lockedFile, encoding: .utf8) == "keep\n")
            }
        }

        @Test func localClassesNamedOperatorAreNeverTouched() throws {
            let source = """
            class Operator:
                def forward(self, *, inputs):
                    return inputs


            class EnsembleOperator(Operator):
                def forward(self, *, inputs):
                    return [inputs]


            def f(Operator):
                class Inner(Operator):
                    def forward(self, *, inputs):
                        return inputs
                return Inner

            """
            let result = migrateOne(source)
            #expect(result.files[0].status == .unchanged)
            #expect(result.report.isEmpty)
        }

        @Test func shadowedLegacyNameInAFunctionIsNotRewritten() throws {
            let source = """
            from ember.core.non import Sequential


            def build(Sequential):
                return Sequential(operators=[1, 2])


            top = Sequential(operators=[len])

            """
            // A legacy composition call stays as it is by default: chain() calls its members
            // differently, so the rewrite is unsafe.
            let safe = migrateOne(source)
            #expect(safe.files[0].status == .unchanged)
            #expect(safe.report.contains { $0.kind == .unsafe && $0.line == 8 && $0.message.contains("--unsafe") })
            let out = String(decoding: try #require(migrateOne(source, unsafe: true).files[0].rewritten), as: UTF8.self)
            #expect(out.contains("    return Sequential(operators=[1, 2])\n"))
            #expect(out.contains("top = chain(len)\n"))
            // The scope-blind use count keeps the import (the parameter shadows it): conservative.
            #expect(out.hasPrefix("from ember.core.non import Sequential\nfrom ember_runtime import chain\n"))
        }

        @Test func exitCodesAreDocumentedValues() {
            // The tools' shared table (docs/cli.md): each number one meaning.
            #expect(ToolExit.allCases.map(\.rawValue) == [0, 1, 2, 3, 4, 5, 6])
            #expect(ToolExit.failure.combined(with: .filesSkipped) == .filesSkipped)
            #expect(ToolExit.filesSkipped.combined(with: .error) == .error)
            #expect(ToolExit.success.combined(with: .failure) == .failure)
        }

        @Test func snakeCaseFollowsTheGuide() {
            #expect(snakeCase("SummaryOperator") == "summary_operator")
            #expect(snakeCase("HTTPJudge") == "http_judge")
            #expect(snakeCase("QA2Operator") == "qa2_operator")
            #expect(snakeCase("already_snake") == "already_snake")
        }

        @Test func unifiedDiffMatchesPythonDifflib() throws {
            guard let python = MigrateFixture.python3() else { Issue.record("python3 not found"); return }
            // Fixed pairs with insertions, deletions and changes near each other and far apart.
            let old = (1...40).map { "line \($0)\n" }.joined()
            var newLines = (1...40).map { "line \($0)\n" }
            newLines[2] = "changed 3\n"
            newLines.insert("inserted\n", at: 10)
            newLines.remove(at: 30)
            newLines.append("last without newline")
            let new = newLines.joined()
            let ours = unifiedDiff(old: Array(old.utf8), new: Array(new.utf8), oldName: "a/f.py", newName: "b/f.py")
            let script = """
            import difflib, sys
            old, new = sys.argv[1], sys.argv[2]
            out = difflib.unified_diff(old.splitlines(True), new.splitlines(True), 'a/f.py', 'b/f.py', lineterm='')
            text = ''
            for line in out:
                if line.startswith(('---', '+++', '@@')):
                    text += line.rstrip('\\n') + '\\n'
                else:
                    text += line if line.endswith('\\n') else line + '\\n\\\\ No newline at end of file\\n'
            sys.stdout.write(text)
            """
            let (status, theirs, err) = try MigrateFixture.run(python, ["-c", script, old, new])
            #expect(status == 0, "\(err)")
            #expect(ours == theirs)
        }
    }
}
